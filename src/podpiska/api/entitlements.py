"""The host product's read: what an organization may export right now."""

from datetime import datetime

from podpiska.billing.warnings import expiry_warning
from podpiska.catalog.models import FIELDS_BY_SET, FieldSet
from podpiska.subscriptions.quota import period_usage


def entitlements(organization, at: datetime) -> dict:
    """What the organization may export right now: the answer of the host-product API."""
    spec, limit, used = period_usage(organization, at)
    warning = expiry_warning(organization, at)
    return {
        "organization_id": organization.pk,
        "inn": organization.inn,
        "tariff": {"code": spec.tariff_code, "name": spec.tariff_name},
        "paid": spec.subscription is not None,
        "field_set": spec.field_set,
        "fields": list(FIELDS_BY_SET[FieldSet(spec.field_set)]),
        "limit": limit,
        "used": used,
        "remaining": max(limit - used, 0),
        # In the organization's time zone, so the period reads as its calendar says.
        "period_starts_at": spec.starts_at.astimezone(organization.tz),
        "period_ends_at": spec.ends_at.astimezone(organization.tz),
        "warning": {
            "state": warning.state,
            "last_day": warning.last_day,
            "pay_by_bank_transfer": warning.pay_by_bank_transfer,
        },
    }
