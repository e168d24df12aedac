"""A generated company directory: deterministic, realistic, with valid requisites.

The same seed gives the same companies. Faker (ru_RU) supplies the word pools; the
companies are drawn from them with one `random.Random`, which keeps 50 000 companies
within a few seconds. INN, OGRN/OGRNIP and KPP carry correct check digits and are
unique: the serial part of each number is a bijection of the company's index.
"""

import itertools
import random
from collections.abc import Iterator

from django.db import connection, transaction
from faker import Faker
from faker.providers.person.ru_RU import Provider as PersonProvider

from podpiska.core.requisites import inn_check_digits, ogrn_check_digit
from podpiska.demo.models import Company, CompanyStatus, LegalForm
from podpiska.demo.reference import OKVED, REGIONS

DEFAULT_COUNT = 50_000
DEFAULT_SEED = 2026
BATCH_SIZE = 2_000
MAX_COUNT = 99_999  # the serial part of an INN has 5 digits

FORMS = (LegalForm.OOO, LegalForm.AO, LegalForm.PAO, LegalForm.IP)
FORM_CUM_WEIGHTS = tuple(itertools.accumulate((70, 7, 1, 22)))

ROOTS = (
    "Техно", "Строй", "Агро", "Мед", "Инвест", "Торг", "Лог", "Энерго", "Пром", "Снаб",
    "Транс", "Газ", "Нефть", "Лес", "Хим", "Металл", "Электро", "Авто", "Софт", "Дата",
    "Инфо", "Эко", "Гидро", "Тепло", "Агрохим", "Фарм", "Вет", "Дор", "Мебель", "Текс",
)
ENDINGS = (
    "строй", "сервис", "торг", "пром", "снаб", "комплект", "маш", "лайн", "систем", "трейд",
    "групп", "логистик", "проект", "инвест", "монтаж", "ресурс", "техника", "мир", "дом",
)
WORDS = (
    "Вектор", "Гранит", "Меридиан", "Альянс", "Орион", "Магистраль", "Импульс", "Спектр",
    "Ромашка", "Берёзка", "Сокол", "Радуга", "Созвездие", "Гарант", "Эталон", "Фаворит",
    "Прогресс", "Авангард", "Кристалл", "Лидер", "Монолит", "Атлант", "Вершина", "Исток",
    "Партнёр", "Стандарт", "Олимп", "Рубин", "Аврора", "Горизонт", "Надежда", "Престиж",
)
ADJECTIVES = (
    "Северная", "Южная", "Восточная", "Западная", "Первая", "Новая", "Большая", "Сибирская",
    "Уральская", "Волжская", "Балтийская", "Донская", "Центральная", "Городская", "Народная",
)
NOUNS = (
    "звезда", "линия", "компания", "мануфактура", "артель", "столица", "гавань", "марка",
    "мастерская", "кузница", "ярмарка", "перспектива",
)
TAILS = ("", "", "", "", "-М", "-Плюс", "-Центр", "-Юг", "-Север", " Групп", "-Регион", "-2000")

TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"),
    strict=True,
))
MAIL_HOSTS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru")


def translit(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch if ch.isascii() and ch.isalnum() else "") for ch in text.lower())


def search_key(text: str) -> str:
    """What search compares: lower case, «ё» read as «е»."""
    return text.lower().replace("ё", "е")


class _Pools:
    """Word pools drawn once per generation, so each company costs no Faker calls."""

    def __init__(self, seed: int):
        faker = Faker("ru_RU")
        faker.seed_instance(seed)
        self.streets = sorted({faker.street_name() for _ in range(3_000)})
        self.male = (PersonProvider.last_names_male, PersonProvider.first_names_male, PersonProvider.middle_names_male)
        self.female = (PersonProvider.last_names_female, PersonProvider.first_names_female, PersonProvider.middle_names_female)
        self.region_weights = list(itertools.accumulate(region.weight for region in REGIONS))
        self.okveds = sorted(OKVED)


def _person(rng: random.Random, pools: _Pools) -> str:
    last, first, middle = pools.male if rng.random() < 0.62 else pools.female
    return f"{rng.choice(last)} {rng.choice(first)} {rng.choice(middle)}"


def _brand(rng: random.Random, pools: _Pools) -> str:
    kind = rng.random()
    if kind < 0.4:
        return rng.choice(ROOTS) + rng.choice(ENDINGS) + rng.choice(TAILS)
    if kind < 0.7:
        return rng.choice(WORDS) + rng.choice(TAILS)
    if kind < 0.85:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    surname = rng.choice(pools.male[0])
    return rng.choice((f"{surname} и партнёры", f"Торговый дом {surname}", f"{surname} и сыновья"))


def _permuted(index: int, modulus: int) -> int:
    """A bijection of 0..modulus-1 that makes consecutive serials look unrelated."""
    return (index * 7919 + 12345) % modulus


def _address(rng: random.Random, region, pools: _Pools) -> str:
    tail = 6 - len(region.postcode_prefix)
    postcode = region.postcode_prefix + f"{rng.randrange(10**tail):0{tail}d}"
    city = rng.choice(region.cities)
    place = city if city == region.name else f"{region.name}, {city}"
    house = f"д. {rng.randint(1, 150)}"
    if rng.random() < 0.25:
        house += f", стр. {rng.randint(1, 9)}"
    office = f", оф. {rng.randint(1, 450)}" if rng.random() < 0.6 else ""
    return f"{postcode}, {place}, {rng.choice(pools.streets)}, {house}{office}"


def _phone(rng: random.Random, region) -> str:
    if rng.random() < 0.3:
        code = rng.choice(("900", "903", "905", "915", "916", "926", "950", "977", "985", "999"))
    else:
        code = region.phone_code
    n = rng.randint(0, 9_999_999)
    return f"+7 ({code}) {n // 10_000:03d}-{n // 100 % 100:02d}-{n % 100:02d}"


def _company(index: int, rng: random.Random, pools: _Pools) -> dict:
    region = rng.choices(REGIONS, cum_weights=pools.region_weights)[0]
    form = rng.choices(FORMS, cum_weights=FORM_CUM_WEIGHTS)[0]
    inspection = f"{rng.randint(1, 46):02d}"
    tax_office = region.code + inspection
    year = f"{rng.randint(2, 25):02d}"
    director = _person(rng, pools)
    liquidated = rng.random() < 0.12
    if form == LegalForm.IP:
        name = f"ИП {director}"
        inn = inn_check_digits(tax_office + f"{_permuted(index, 1_000_000):06d}")
        ogrn = ogrn_check_digit("3" + year + tax_office + f"{_permuted(index, 10_000_000):07d}")
        kpp = ""
        domain = translit(director.split()[0])
        employees = rng.randint(0, 15)
        revenue = int(rng.lognormvariate(14.5, 1.2)) // 1000 * 1000
    else:
        brand = _brand(rng, pools)
        name = f"{form} «{brand}»"
        inn = inn_check_digits(tax_office + f"{_permuted(index, 100_000):05d}")
        ogrn = ogrn_check_digit(rng.choice("15") + year + tax_office + f"{_permuted(index, 100_000):05d}")
        kpp = tax_office + "01001"
        domain = translit(brand).replace(" ", "-")
        big = form != LegalForm.OOO
        employees = int(rng.lognormvariate(5.5 if big else 2.4, 1.2)) + 1
        revenue = int(rng.lognormvariate(20 if big else 16.5, 1.6)) // 1000 * 1000

    phones = [_phone(rng, region) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
    emails, sites = [], []
    if rng.random() < 0.88:
        if form == LegalForm.IP:
            emails.append(f"{domain}{rng.randint(1, 999)}@{rng.choice(MAIL_HOSTS)}")
        else:
            emails.append(f"{rng.choice(('info', 'office', 'sales', 'mail'))}@{domain}.ru")
            if rng.random() < 0.3:
                emails.append(f"buh@{domain}.ru")
    if rng.random() < (0.25 if form == LegalForm.IP else 0.7):
        sites.append(f"https://{domain}.ru")
    has_figures = rng.random() < 0.95
    return dict(
        name=name,
        search_name=search_key(name),
        legal_form=form.value,
        inn=inn,
        ogrn=ogrn,
        kpp=kpp,
        region_code=region.code,
        okved_code=rng.choice(pools.okveds),
        status=(CompanyStatus.LIQUIDATED if liquidated else CompanyStatus.ACTIVE).value,
        address=_address(rng, region, pools),
        phones=", ".join(phones),
        emails=", ".join(emails),
        sites=", ".join(sites),
        revenue=revenue if has_figures else None,
        employees=employees if has_figures else None,
        director=director,
    )


def generate_rows(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Iterator[dict]:
    """Field values of the companies, the same ones for the same seed."""
    if not 0 < count <= MAX_COUNT:
        raise ValueError(f"count must be between 1 and {MAX_COUNT}")
    rng = random.Random(seed)
    pools = _Pools(seed)
    for index in range(count):
        yield _company(index, rng, pools)


def generate_companies(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Iterator[Company]:
    """Unsaved companies, the same ones for the same seed."""
    for row in generate_rows(count, seed):
        yield Company(**row)


def load_directory(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> int:
    """Fill the directory once; a repeated call with the directory in place does nothing.

    Returns how many companies were created. Rows skip the ORM (bulk_create compiles
    every value and would double the time): COPY on PostgreSQL, one prepared INSERT
    per batch elsewhere.
    """
    if Company.objects.count() == count:
        return 0
    columns = [f.column for f in Company._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(Company._meta.db_table)
    column_list = ", ".join(quote(c) for c in columns)
    rows = ([row[c] for c in columns] for row in generate_rows(count, seed))
    with transaction.atomic(), connection.cursor() as cursor:
        # A directory of another size (or a half-loaded one) is replaced whole.
        Company.objects.all().delete()
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({column_list}) VALUES ({', '.join(['%s'] * len(columns))})"
            while batch := list(itertools.islice(rows, BATCH_SIZE)):
                cursor.executemany(sql, batch)
    return count
