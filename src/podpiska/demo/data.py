"""Demo data (SPEC §2 catalog and the DESIGN.md logins). Every loader is idempotent."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from podpiska.accounts.models import Membership, Organization, User
from podpiska.accounts.staff_groups import BILLING, SUPPORT, setup_staff_groups
from podpiska.catalog.models import FieldSet, LimitReset, Tariff
from podpiska.core import clock
from podpiska.demo.directory.credentials import ensure_credentials
from podpiska.demo.directory.generator import load_directory
from podpiska.subscriptions.models import QuotaPeriod, Subscription
from podpiska.subscriptions.timeline import add_months, local_midnight, period_end

PASSWORD = "demo"

CATALOG = [
    dict(code="free", name="Бесплатный", rank=0, price=0, export_limit=20, first_period_limit=50,
         limit_reset=LimitReset.MONTH, field_set=FieldSet.BASIC, is_free=True),
    dict(code="100", name="Компас 100", rank=10, price=52_800_00, export_limit=3_000,
         limit_reset=LimitReset.TERM, field_set=FieldSet.BASIC),
    dict(code="200", name="Компас 200", rank=20, price=134_400_00, export_limit=10_000,
         limit_reset=LimitReset.TERM, field_set=FieldSet.BASIC),
    dict(code="400", name="Компас 400", rank=40, price=321_600_00, export_limit=50_000,
         limit_reset=LimitReset.TERM, field_set=FieldSet.EXTENDED),
    dict(code="max", name="Компас Максимум", rank=90, price=720_000_00, export_limit=150_000,
         limit_reset=LimitReset.TERM, field_set=FieldSet.EXTENDED),
]


@dataclass(frozen=True)
class DemoOrg:
    email: str
    full_name: str
    name: str
    short_name: str
    inn: str
    kpp: str
    ogrn: str
    address: str


# Requisites are valid (check digits) but made up.
ORGS = [
    DemoOrg("paid@demo.local", "Анна Смирнова", "Общество с ограниченной ответственностью «Ромашка»",
            "ООО «Ромашка»", "7707083893", "770701001", "1027700132195",
            "125009, г. Москва, ул. Тверская, д. 7, оф. 12"),
    DemoOrg("max@demo.local", "Игорь Волков", "Акционерное общество «Северный ветер»",
            "АО «Северный ветер»", "7810050010", "781001001", "1037821021699",
            "196084, г. Санкт-Петербург, Московский пр., д. 97"),
    DemoOrg("expired@demo.local", "Ольга Лебедева", "Общество с ограниченной ответственностью «Техносфера»",
            "ООО «Техносфера»", "5402113155", "540201001", "1025401016453",
            "630099, г. Новосибирск, ул. Ленина, д. 21"),
    DemoOrg("free@demo.local", "Павел Орлов", "Индивидуальный предприниматель Орлов Павел Андреевич",
            "ИП Орлов П. А.", "500100732259", "", "304500116000157",
            "141400, Московская обл., г. Химки, ул. Московская, д. 3, кв. 14"),
]


def load_catalog() -> dict[str, Tariff]:
    tariffs = {}
    for row in CATALOG:
        tariff, _ = Tariff.objects.update_or_create(code=row["code"], defaults=row)
        tariffs[tariff.code] = tariff
    return tariffs


def _user(email: str, full_name: str, **extra) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, PASSWORD, full_name=full_name, **extra)
    return user


def _organization(spec: DemoOrg) -> Organization:
    org, _ = Organization.objects.get_or_create(
        inn=spec.inn,
        defaults=dict(
            name=spec.name, short_name=spec.short_name, kpp=spec.kpp, ogrn=spec.ogrn,
            legal_address=spec.address, email=spec.email,
        ),
    )
    return org


def _subscription(org: Organization, tariff: Tariff, starts_at, used: int = 0) -> Subscription:
    existing = Subscription.objects.filter(organization=org).first()
    if existing:
        return existing
    ends_at = period_end(starts_at, tariff.term_months, org.tz)
    sub = Subscription.objects.create(
        organization=org, tariff=tariff, starts_at=starts_at, ends_at=ends_at,
        created_at=starts_at, **tariff.terms(),
    )
    if used:
        QuotaPeriod.objects.create(
            organization=org, subscription=sub, starts_at=sub.starts_at, ends_at=sub.ends_at,
            limit=sub.total_limit, used=used, field_set=sub.field_set,
        )
    return sub


@transaction.atomic
def load_accounts(tariffs: dict[str, Tariff]) -> None:
    now = clock.now()
    orgs = {}
    for spec in ORGS:
        user = _user(spec.email, spec.full_name)
        org = _organization(spec)
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "owner"})
        orgs[spec.email] = org
    tz = orgs["paid@demo.local"].tz
    today = now.astimezone(tz).date()

    # Компас 200 that ends in 10 days (its last day is today + 9), with exports used.
    paid_end = local_midnight(today + timedelta(days=10), tz)
    _subscription(orgs["paid@demo.local"], tariffs["200"],
                  local_midnight(add_months(paid_end.date(), -12), tz), used=8_740)
    # The maximum tariff, two months in.
    _subscription(orgs["max@demo.local"], tariffs["max"],
                  local_midnight(add_months(today, -2), tz), used=41_200)
    # Компас 100 that ended last month.
    expired_end = local_midnight(add_months(today, -1), tz)
    _subscription(orgs["expired@demo.local"], tariffs["100"],
                  local_midnight(add_months(expired_end.date(), -12), tz), used=2_950)

    # The paid user also works in a second organization, as a member only.
    Membership.objects.get_or_create(
        user=User.objects.get(email="paid@demo.local"), organization=orgs["free@demo.local"],
        defaults={"role": "member"},
    )
    _user("staff@demo.local", "Мария Сотрудникова", is_staff=True, is_superuser=True)
    load_staff()


def load_staff() -> None:
    """Staff in each back-office group, not superusers: they see what the group allows."""
    groups = setup_staff_groups()
    _user("billing@demo.local", "Ольга Бухгалтерова", is_staff=True).groups.add(groups[BILLING])
    _user("support@demo.local", "Павел Поддержкин", is_staff=True).groups.add(groups[SUPPORT])


def load_all() -> None:
    tariffs = load_catalog()
    load_accounts(tariffs)
    load_directory(settings.DIRECTORY_COMPANIES)
    ensure_credentials()
