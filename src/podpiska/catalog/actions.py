"""State changes of the catalog: individual offers and tariffs, each audited."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from podpiska.audit.changes import ALL, audited_create, audited_update
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.core import clock, limits
from podpiska.core.money import format_amount, group_thousands, ru_plural


def addon_name(exports: int) -> str:
    """The add-on offer's title as customers and staff read it: «+20 000 выгрузок»."""
    return f"+{group_thousands(exports)} {ru_plural(exports, 'выгрузка', 'выгрузки', 'выгрузок')}"


class CatalogError(Exception):
    """Refused change; the message is for the staff user."""


# A term is whole months; the longest one sold is three years.
TERM_MONTHS_MAX = 36


def check_term_months(term_months) -> None:
    """A term of 0 months would sell a subscription that ends the day it starts."""
    if not isinstance(term_months, int) or not 1 <= term_months <= TERM_MONTHS_MAX:
        raise CatalogError(_("Срок — от 1 до %(max)s месяцев.") % {"max": TERM_MONTHS_MAX})


def check_offer_price(price) -> None:
    """An offer is paid for: at 0 ₽ its invoice could never be paid."""
    if price is None or price <= 0:
        raise CatalogError(_("Цена предложения должна быть больше нуля."))


def offer_bounds_problem(*, price: int | None, counts: tuple, valid_until: date, today: date) -> str:
    """What is beyond `core.limits` in an offer's price, export counts or validity; "" if
    nothing. For make_offer and the answer to a limit request alike."""
    if price is not None and price > limits.MAX_AMOUNT:
        return _("Цена не больше %(max)s ₽.") % {"max": format_amount(limits.MAX_AMOUNT, " ")}
    if any(count and count > limits.MAX_COUNT for count in counts):
        return _("Число выгрузок не больше %(max)s.") % {"max": group_thousands(limits.MAX_COUNT, " ")}
    if valid_until > today + limits.MAX_OFFER_VALIDITY:
        return _("Предложение действует не дольше %(days)s дней: до %(day)s.") % {
            "days": limits.MAX_OFFER_VALIDITY.days,
            "day": f"{today + limits.MAX_OFFER_VALIDITY:%d.%m.%Y}",
        }
    return ""


@transaction.atomic
def make_offer(
    *,
    organization,
    staff_user,
    valid_until: date,
    tariff: Tariff | None = None,
    terms: dict | None = None,
    addon_exports: int = 0,
    price: int | None = None,
    comment: str = "",
    limit_request=None,
) -> IndividualOffer:
    """A tariff (optionally at a special price), custom terms, or an add-on; with
    `limit_request`, the add-on that answers a customer's request for more exports."""
    today = clock.now().astimezone(organization.tz).date()
    if valid_until < today:
        raise CatalogError(_("Дата окончания предложения уже прошла."))
    terms_limit = (terms or {}).get("export_limit")
    problem = offer_bounds_problem(
        price=(terms or {}).get("price", price), counts=(addon_exports, terms_limit),
        valid_until=valid_until, today=today,
    )
    if problem:
        raise CatalogError(problem)
    if addon_exports or limit_request is not None:
        if addon_exports <= 0 or not price or price <= 0:
            raise CatalogError(_("Для докупки выгрузок укажите их число и цену больше нуля."))
        fields = dict(kind=IndividualOffer.Kind.ADDON, tariff_name=addon_name(addon_exports),
                      price=price, export_limit=0, addon_exports=addon_exports)
    elif tariff is not None and terms:
        # Custom terms sit on a base tariff: it gives the rank for later upgrades.
        if (terms.get("price") or 0) <= 0 or (terms.get("export_limit") or 0) <= 0:
            raise CatalogError(_("Укажите цену и лимит выгрузки больше нуля."))
        check_term_months(terms.get("term_months", tariff.term_months))
        fields = dict(kind=IndividualOffer.Kind.CUSTOM, tariff=tariff, **{**tariff.terms(), **terms})
    elif tariff is not None:
        fields = dict(kind=IndividualOffer.Kind.TARIFF, tariff=tariff, **tariff.terms())
        if price is not None:
            fields["price"] = price
        check_offer_price(fields["price"])
    elif terms:
        raise CatalogError(_("Для индивидуальных условий выберите базовый тариф."))
    else:
        raise CatalogError(_("Выберите тариф, условия или докупку выгрузок."))
    return audited_create(
        IndividualOffer, "catalog.offer_created", staff_user,
        organization=organization, valid_until=valid_until, created_by=staff_user,
        created_at=clock.now(), comment=comment, limit_request=limit_request, **fields,
    )


@transaction.atomic
def withdraw_offer(offer: IndividualOffer, *, staff_user) -> IndividualOffer:
    offer = IndividualOffer.objects.select_for_update().get(pk=offer.pk)
    if offer.status != IndividualOffer.Status.OPEN:
        raise CatalogError(_("Предложение уже не действует."))
    audited_update(offer, "catalog.offer_withdrawn", staff_user, recorded=ALL,
                   status=IndividualOffer.Status.WITHDRAWN)
    return offer


@transaction.atomic
def archive_tariff(tariff: Tariff, *, successor: Tariff | None, staff_user) -> Tariff:
    """Stop selling a tariff; renewals of it go to the successor. Bought terms stay."""
    if successor is not None and (successor.pk == tariff.pk or not successor.on_sale):
        raise CatalogError(_("Преемником может быть только другой тариф, который продаётся."))
    audited_update(tariff, "catalog.tariff_archived", staff_user, recorded=ALL,
                   is_archived=True, successor=successor)
    return tariff


TARIFF_FIELDS = (
    "code", "name", "rank", "price", "term_months", "export_limit", "first_period_limit",
    "limit_reset", "field_set", "description",
)


def check_tariff_terms(tariff: Tariff, data: dict) -> None:
    """Raise CatalogError when `data` would make `tariff` unsellable; forms show it inline."""
    price = data.get("price", tariff.price)
    if price is None or price < 0:
        raise CatalogError(_("Цена не может быть отрицательной."))
    if price == 0 and not tariff.is_free:
        raise CatalogError(_("Платный тариф не может стоить 0 ₽."))
    if not tariff.is_free and not data.get("export_limit", tariff.export_limit):
        raise CatalogError(_("Лимит выгрузки платного тарифа должен быть больше нуля."))
    check_term_months(data.get("term_months", tariff.term_months))
    if price > limits.MAX_AMOUNT:
        raise CatalogError(_("Цена не больше %(max)s ₽.") % {"max": format_amount(limits.MAX_AMOUNT, " ")})
    counts = (data.get("export_limit", tariff.export_limit), data.get("first_period_limit"))
    if any(count and count > limits.MAX_COUNT for count in counts):
        raise CatalogError(
            _("Лимит выгрузки не больше %(max)s.") % {"max": group_thousands(limits.MAX_COUNT, " ")}
        )


@transaction.atomic
def save_tariff(tariff: Tariff, *, staff_user, data: dict) -> Tariff:
    """Create a tariff (unsaved instance) or edit one; audited.

    Editing changes only future purchases: subscriptions and orders keep the terms
    copied when they were made (SPEC §2). Archiving is `archive_tariff`. Saving
    unchanged terms changes nothing and records nothing.
    """
    creating = tariff.pk is None
    if not creating:
        tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    check_tariff_terms(tariff, data)
    values = {name: data[name] for name in TARIFF_FIELDS if name in data}
    if creating:
        return audited_create(tariff, "catalog.tariff_created", staff_user, **values)
    audited_update(tariff, "catalog.tariff_changed", staff_user, recorded=ALL, **values)
    return tariff
