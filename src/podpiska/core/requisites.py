"""Validators of Russian requisites (SPEC §6) with messages in Russian.

Each `validate_*` returns the normalised value or raises `RequisiteError(field, message)`.
`check_requisites` validates several at once and returns every error by field, so a form
or a CLI can say everything that is wrong in one go. Check-digit rules: REFERENCE.md.
python-stdnum is not used for OGRNIP: it omits the final `mod 10` of the check digit.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
ACCOUNT_WEIGHTS = (7, 1, 3)
KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")

FIELD_LABELS = {
    "inn": gettext_lazy("ИНН"),
    "kpp": gettext_lazy("КПП"),
    "ogrn": gettext_lazy("ОГРН"),
    "bik": gettext_lazy("БИК"),
    "account": gettext_lazy("Расчётный счёт"),
    "corr_account": gettext_lazy("Корреспондентский счёт"),
}


@dataclass
class RequisiteError(Exception):
    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def _digits(field: str, value: str, lengths: tuple[int, ...]) -> str:
    value = (value or "").strip()
    label = FIELD_LABELS[field]
    if not value:
        raise RequisiteError(field, _("%(label)s: укажите значение") % {"label": label})
    if not value.isdigit() or not value.isascii():
        raise RequisiteError(field, _("%(label)s должен состоять только из цифр") % {"label": label})
    if len(value) not in lengths:
        expected = _(" или ").join(str(n) for n in lengths)
        raise RequisiteError(
            field,
            _("%(label)s должен содержать %(expected)s цифр, а не %(actual)s")
            % {"label": label, "expected": expected, "actual": len(value)},
        )
    return value


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def validate_inn(value: str) -> str:
    inn = _digits("inn", value, (10, 12))
    if len(inn) == 10:
        ok = _weighted(inn[:9], INN10_WEIGHTS) == int(inn[9])
    else:
        ok = _weighted(inn[:10], INN12_WEIGHTS_11) == int(inn[10]) and _weighted(
            inn[:11], INN12_WEIGHTS_12
        ) == int(inn[11])
    if not ok:
        raise RequisiteError("inn", _("ИНН: неверная контрольная цифра — проверьте, нет ли опечатки"))
    return inn


def validate_kpp(value: str) -> str:
    kpp = (value or "").strip().upper()
    if not kpp:
        raise RequisiteError("kpp", _("КПП: укажите значение"))
    if not KPP_RE.match(kpp):
        raise RequisiteError(
            "kpp", _("КПП должен состоять из 9 символов: 4 цифры, 2 цифры или латинские буквы A–Z, 3 цифры")
        )
    return kpp


def validate_ogrn(value: str) -> str:
    """OGRN (13 digits) of a legal entity or OGRNIP (15 digits) of an entrepreneur."""
    ogrn = _digits("ogrn", value, (13, 15))
    if len(ogrn) == 13:
        check = int(ogrn[:12]) % 11 % 10
        label = _("ОГРН")
    else:
        check = int(ogrn[:14]) % 13 % 10
        label = _("ОГРНИП")
    if check != int(ogrn[-1]):
        raise RequisiteError(
            "ogrn", _("%(label)s: неверная контрольная цифра — проверьте, нет ли опечатки") % {"label": label}
        )
    return ogrn


def validate_bik(value: str) -> str:
    return _digits("bik", value, (9,))


def _account_key_ok(prefix: str, account: str) -> bool:
    digits = prefix + account
    total = sum(int(d) * ACCOUNT_WEIGHTS[i % 3] % 10 for i, d in enumerate(digits))
    return total % 10 == 0


def validate_account(value: str, bik: str) -> str:
    """Settlement account at the bank with this BIK (key on BIK digits 7–9)."""
    account = _digits("account", value, (20,))
    if not _account_key_ok(bik[-3:], account):
        raise RequisiteError(
            "account", _("Расчётный счёт не соответствует БИК банка: неверный контрольный ключ")
        )
    return account


def validate_corr_account(value: str, bik: str) -> str:
    """Correspondent account of the bank with this BIK (key on "0" + BIK digits 5–6)."""
    account = _digits("corr_account", value, (20,))
    if not account.startswith("301"):
        raise RequisiteError("corr_account", _("Корреспондентский счёт должен начинаться с 301"))
    if not _account_key_ok("0" + bik[4:6], account):
        raise RequisiteError(
            "corr_account", _("Корреспондентский счёт не соответствует БИК банка: неверный контрольный ключ")
        )
    return account


def validate_kpp_for_inn(kpp: str, inn: str) -> str:
    """A legal entity (10-digit INN) has a KPP; an entrepreneur (12 digits) has none."""
    if len(inn) == 12:
        if kpp.strip():
            raise RequisiteError("kpp", _("КПП указывается только для юридических лиц, у ИП его нет"))
        return ""
    return validate_kpp(kpp)


def validate_ogrn_for_inn(ogrn: str, inn: str) -> str:
    ogrn = validate_ogrn(ogrn)
    if len(inn) == 10 and len(ogrn) != 13:
        raise RequisiteError("ogrn", _("У юридического лица ОГРН из 13 цифр"))
    if len(inn) == 12 and len(ogrn) != 15:
        raise RequisiteError("ogrn", _("У индивидуального предпринимателя ОГРНИП из 15 цифр"))
    return ogrn


def check_requisites(
    *,
    inn: str | None = None,
    kpp: str | None = None,
    ogrn: str | None = None,
    bik: str | None = None,
    account: str | None = None,
    corr_account: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Validate what is given; return (normalised values, errors by field)."""
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}

    def run(field, func, *args):
        try:
            clean[field] = func(*args)
        except RequisiteError as exc:
            errors[exc.field] = exc.message

    if inn is not None:
        run("inn", validate_inn, inn)
    if kpp is not None:
        run("kpp", validate_kpp, kpp)
    if ogrn is not None:
        run("ogrn", validate_ogrn, ogrn)
    if bik is not None:
        run("bik", validate_bik, bik)
    if account is not None:
        if bik is None:
            errors["account"] = _("Расчётный счёт проверяется вместе с БИК: укажите БИК")
        elif "bik" in clean:
            run("account", validate_account, account, clean["bik"])
    if corr_account is not None:
        if bik is None:
            errors["corr_account"] = _("Корреспондентский счёт проверяется вместе с БИК: укажите БИК")
        elif "bik" in clean:
            run("corr_account", validate_corr_account, corr_account, clean["bik"])
    return clean, errors


def inn_check_digits(first: str) -> str:
    """Complete a 9- or 10-digit prefix to a valid INN (for demo data and tests)."""
    if len(first) == 9:
        return first + str(_weighted(first, INN10_WEIGHTS))
    d11 = str(_weighted(first, INN12_WEIGHTS_11))
    d12 = str(_weighted(first + d11, INN12_WEIGHTS_12))
    return first + d11 + d12


def ogrn_check_digit(first: str) -> str:
    """Complete a 12-digit (OGRN) or 14-digit (OGRNIP) prefix with its check digit."""
    if len(first) == 12:
        return first + str(int(first) % 11 % 10)
    return first + str(int(first) % 13 % 10)
