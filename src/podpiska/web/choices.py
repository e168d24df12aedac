"""One purchase option as the windows show it: a Variant of `available_actions` or an
individual offer, in the same shape, so the renew, upgrade, resume, catalog and offer
windows share one template and one checkout.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from podpiska.billing.models import OrderKind
from podpiska.catalog.models import FIELDS_BY_SET, FieldSet, IndividualOffer, Tariff
from podpiska.core.money import vat_inside
from podpiska.subscriptions.availability import Actions
from podpiska.subscriptions.timeline import last_day

FIELD_LABELS = {
    "name": _("наименование"),
    "inn": _("ИНН"),
    "ogrn": _("ОГРН"),
    "kpp": _("КПП"),
    "address": _("адрес"),
    "region": _("регион"),
    "okved": _("ОКВЭД"),
    "status": _("статус"),
    "phones": _("телефоны"),
    "emails": _("e-mail"),
    "sites": _("сайты"),
    "revenue": _("выручка"),
    "employees": _("численность сотрудников"),
    "director": _("руководитель"),
}

TITLES = {
    OrderKind.RENEW: _("Продление подписки"),
    OrderKind.UPGRADE: _("Улучшение подписки"),
    OrderKind.SWITCH: _("Смена тарифа"),
    OrderKind.RESUME: _("Возобновление подписки"),
    OrderKind.DEFAULT_OFFER: _("Подключение тарифа"),
    OrderKind.OFFER: _("Индивидуальное предложение"),
    OrderKind.ADDON: _("Дополнительные выгрузки"),
}

def field_names(field_set: str) -> list[str]:
    return [str(FIELD_LABELS[name]) for name in FIELDS_BY_SET[FieldSet(field_set)]]


@dataclass(frozen=True)
class Choice:
    kind: str
    name: str
    price: int
    export_limit: int
    field_set: str
    starts_on: date | None
    last_day: date | None
    reason: str = ""
    tariff: Tariff | None = None
    offer: IndividualOffer | None = None
    addon_exports: int = 0

    @property
    def title(self) -> str:
        return str(TITLES[self.kind])

    @property
    def vat_rate(self) -> int | None:
        return settings.PODPISKA_SELLER["vat_rate"]

    @property
    def vat(self) -> int:
        return vat_inside(self.price, self.vat_rate)

    @property
    def fields(self) -> list[str]:
        return field_names(self.field_set)

    @property
    def field_set_label(self) -> str:
        return str(FieldSet(self.field_set).label)

    @property
    def query(self) -> str:
        """What identifies this choice in the checkout URL."""
        if self.offer is not None:
            return f"offer={self.offer.pk}"
        return f"tariff={self.tariff.code}"


def from_variant(variant) -> Choice:
    return Choice(
        kind=variant.kind,
        name=variant.tariff.name,
        price=variant.price,
        export_limit=variant.export_limit,
        field_set=variant.field_set,
        starts_on=variant.term.starts_on,
        last_day=variant.term.last_day,
        reason=variant.reason,
        tariff=variant.tariff,
    )


def from_offer(organization, offer: IndividualOffer, actions: Actions) -> Choice:
    """An offer as a choice: an add-on raises the term in force; a tariff offer runs the
    term a purchase would run now (`actions.timeline.term`, as every variant)."""
    tz = organization.tz
    if offer.kind == IndividualOffer.Kind.ADDON:
        current = actions.current
        return Choice(
            kind=OrderKind.ADDON,
            name=offer.tariff_name,
            price=offer.price,
            export_limit=offer.addon_exports,
            field_set=current.field_set if current else offer.field_set,
            starts_on=None,
            last_day=last_day(current.ends_at, tz) if current else None,
            reason=offer.comment,
            offer=offer,
            addon_exports=offer.addon_exports,
        )
    term = actions.timeline.term(offer.term_months)
    return Choice(
        kind=OrderKind.OFFER,
        name=offer.tariff_name,
        price=offer.price,
        export_limit=offer.export_limit,
        field_set=offer.field_set,
        starts_on=term.starts_on,
        last_day=term.last_day,
        reason=offer.comment,
        tariff=offer.tariff,
        offer=offer,
    )


def find_choice(
    organization,
    actions: Actions,
    kind: str,
    *,
    tariff_code: str = "",
    offer_id: str = "",
) -> Choice | None:
    """The option the organization may buy now, or None if it is not offered (any more).
    `actions`: what `available_actions` answered in this request (the menu's)."""
    variant = actions.variant_of(kind, tariff_code)
    if variant is not None:
        return from_variant(variant)
    if kind in (OrderKind.OFFER, OrderKind.ADDON) and offer_id.isdigit():
        offer = next((o for o in actions.offers if o.pk == int(offer_id)), None)
        return from_offer(organization, offer, actions) if offer else None
    return None
