"""State changes of the timeline: each one transaction with its audit record."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max

from podpiska.accounts.models import Organization
from podpiska.audit.log import record_many
from podpiska.core import bulk, clock
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import term_after


@dataclass(frozen=True, slots=True)
class PaidTerm:
    """A confirmed purchase of a term: for whom, which tariff, at which terms, by which order."""

    organization_id: int
    tariff_id: int
    terms: dict
    order_id: int | None = None


@transaction.atomic
def start_subscriptions(purchases: list[PaidTerm], *, confirmed_at: datetime, actor=None) -> list[dict]:
    """Create the subscriptions confirmed purchases buy, each at its computed start.

    Each runs for the `term_after` its organization's latest paid subscription; two
    purchases of one organization in the list follow each other. The organizations are
    locked (in id order), so concurrent purchases queue up instead of
    overlapping. Returns the rows written, with their ids, in the order given.
    """
    if not purchases:
        return []
    organization_ids = sorted({purchase.organization_id for purchase in purchases})
    zones: dict[int, str] = {}
    latest: dict[int, datetime] = {}
    zones.update(
        Organization.objects.select_for_update()
        .filter(pk__any_of=organization_ids)
        .order_by("pk")
        .values_list("pk", "timezone")
    )
    latest.update(
        Subscription.objects.filter(organization_id__any_of=organization_ids)
        .order_by()
        .values("organization_id")
        .annotate(end=Max("ends_at"))
        .values_list("organization_id", "end")
    )
    created_at = clock.now()
    rows = []
    for purchase in purchases:
        organization_id = purchase.organization_id
        term = term_after(
            latest.get(organization_id), purchase.terms["term_months"], confirmed_at,
            ZoneInfo(zones[organization_id]),
        )
        latest[organization_id] = term.ends_at
        rows.append(
            {
                "organization_id": organization_id,
                "tariff_id": purchase.tariff_id,
                "order_id": purchase.order_id,
                "starts_at": term.starts_at,
                "ends_at": term.ends_at,
                "created_at": created_at,
                **purchase.terms,
            }
        )
    ids = bulk.insert(Subscription, rows)
    record_many("subscription.created", Subscription, ids, actor=actor)
    return [{**row, "id": pk} for pk, row in zip(ids, rows, strict=True)]
