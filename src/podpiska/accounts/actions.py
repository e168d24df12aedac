"""State changes of organizations and users."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from podpiska.accounts.models import Organization, User
from podpiska.audit.changes import ALL, audited_update
from podpiska.core import clock
from podpiska.core.requisites import (
    RequisiteError,
    validate_inn,
    validate_kpp_for_inn,
    validate_ogrn_for_inn,
)

INN_TAKEN = gettext_noop("Организация с таким ИНН уже зарегистрирована")

REQUIRED_TEXT = {
    "name": gettext_lazy("Полное наименование"),
    "short_name": gettext_lazy("Краткое наименование"),
    "address": gettext_lazy("Юридический адрес"),
}


class RequisitesInvalid(Exception):
    """Every invalid field with its message in Russian; nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def clean_requisites(data: dict, *, organization: Organization | None = None) -> dict:
    """Validate requisites as a whole (KPP and OGRN depend on the kind of INN)."""
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for field, label in REQUIRED_TEXT.items():
        value = " ".join(str(data.get(field) or "").split())
        if not value:
            errors[field] = _("%(label)s: укажите значение") % {"label": label}
        clean[field] = value
    try:
        clean["inn"] = validate_inn(str(data.get("inn") or ""))
    except RequisiteError as exc:
        errors[exc.field] = exc.message
    if "inn" in clean:
        for field, func in (("kpp", validate_kpp_for_inn), ("ogrn", validate_ogrn_for_inn)):
            try:
                clean[field] = func(str(data.get(field) or ""), clean["inn"])
            except RequisiteError as exc:
                errors[exc.field] = exc.message
        taken = Organization.objects.filter(inn=clean["inn"])
        if organization is not None:
            taken = taken.exclude(pk=organization.pk)
        if taken.exists():
            errors["inn"] = _(INN_TAKEN)
    email = str(data.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("E-mail для документов: неверный адрес")
    clean["email"] = email
    if errors:
        raise RequisitesInvalid(errors)
    return clean


@transaction.atomic
def update_requisites(organization: Organization, data: dict, *, actor) -> Organization:
    """Save corrected requisites (all or nothing), with the audit record."""
    clean = clean_requisites(data, organization=organization)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    changes = dict(
        name=clean["name"], short_name=clean["short_name"], inn=clean["inn"], kpp=clean["kpp"],
        ogrn=clean["ogrn"], legal_address=clean["address"], email=clean["email"],
    )
    if all(getattr(organization, field) == value for field, value in changes.items()):
        # Confirmed unchanged at checkout (the usual case): no savepoint to pay for.
        return organization
    try:
        with transaction.atomic():
            audited_update(organization, "organization.requisites_updated", actor, recorded=ALL, **changes)
    except IntegrityError:
        # Another organization took this INN between the check above and this save
        # (two owners saving at once): the unique constraint decides, with the same
        # message as the check.
        raise RequisitesInvalid({"inn": _(INN_TAKEN)}) from None
    return organization


@transaction.atomic
def set_reminders_enabled(user, enabled: bool, *, actor) -> None:
    """«Получать напоминания о продлении» on or off, with the audit record."""
    user = User.objects.select_for_update().get(pk=user.pk)
    audited_update(user, "user.reminders_changed", actor, reminders_enabled=enabled)


# «Подписка закончилась» hidden by the customer comes back after this many days.
LAPSED_NOTICE_HIDDEN_DAYS = 30


@transaction.atomic
def hide_lapsed_notice(organization: Organization, *, actor) -> Organization:
    """Hide the notice that paid coverage ended for LAPSED_NOTICE_HIDDEN_DAYS from
    today, with the audit record; hiding it again the same day changes nothing."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    today = clock.now().astimezone(organization.tz).date()
    until = today + timedelta(days=LAPSED_NOTICE_HIDDEN_DAYS)
    audited_update(organization, "organization.lapsed_notice_hidden", actor,
                   lapsed_notice_hidden_until=until)
    return organization


@transaction.atomic
def set_language(user, language: str, *, actor) -> None:
    """The interface language the person picked (the footer's switcher), with the audit record."""
    supported = {code for code, _label in User._meta.get_field("language").choices}
    if language not in supported:
        raise ValueError(f"unsupported language {language!r}")
    user = User.objects.select_for_update().get(pk=user.pk)
    audited_update(user, "user.language_changed", actor, language=language)
