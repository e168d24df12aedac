"""Refunds asked with an Idempotency-Key: given back once, also when retried at once.

Without a key a refund is bounded (never more than the export spent and was not
refunded yet); with one, a retry after a lost answer gets the first answer back.
"""

from datetime import datetime

from django.db import IntegrityError
from django.utils.translation import gettext as _

from podpiska.api.models import RefundRequest
from podpiska.subscriptions import quota
from podpiska.subscriptions.idempotency import at_most_once


def _reused(existing: RefundRequest) -> quota.QuotaRequestError:
    return quota.QuotaRequestError(
        "idempotency_key_reused",
        _("Этот Idempotency-Key уже использован для другого возврата (выгрузка %(export)s, строк: %(rows)d).")
        % {"export": existing.export_id, "rows": existing.rows},
    )


def refund_once(
    organization, *, export_id: int, rows: int, idempotency_key: str, actor_label: str, at: datetime
) -> dict:
    """`quota.refund` at most once per key; returns the answer body."""

    def act() -> dict:
        result = quota.refund(
            organization, export_id=export_id, rows=rows, actor_label=actor_label, at=at
        )
        RefundRequest.objects.create(
            organization=organization, idempotency_key=idempotency_key, export=result.export,
            rows=rows, response_body=result.body, created_at=at,
        )
        return result.body

    return at_most_once(
        RefundRequest, {"organization": organization, "idempotency_key": idempotency_key},
        {"export_id": export_id, "rows": rows},
        act=act,
        replay=lambda existing: existing.response_body,
        refuse=_reused,
        # A refund is looked up first: a retry must not even try to give back again.
        look_first=True,
        # A concurrent request with this key committed first: its refund stands and
        # ours was rolled back (or found nothing left to give back).
        lost_race=(IntegrityError, quota.QuotaRequestError),
    )
