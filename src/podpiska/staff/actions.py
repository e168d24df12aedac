"""Staff actions that have no home in a customer-facing domain module yet.

Each is one transaction with its audit record, like every other action.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from podpiska.audit.log import record, snapshot
from podpiska.catalog.models import Tariff
from podpiska.core import clock
from podpiska.support.models import RequestStatus, SupportRequest


class StaffActionRefused(Exception):
    """The message is for the staff user."""


@transaction.atomic
def answer_support_request(request: SupportRequest, *, staff_user, status: str, answer: str) -> SupportRequest:
    """Set a support request's status and answer; «отвечено» needs an answer."""
    if status not in RequestStatus.values:
        raise StaffActionRefused("Неизвестный статус обращения.")
    answer = (answer or "").strip()
    if status == RequestStatus.ANSWERED and not answer:
        raise StaffActionRefused("Чтобы отметить обращение отвеченным, напишите ответ.")
    request = SupportRequest.objects.select_for_update().get(pk=request.pk)
    before = snapshot(request)
    if (request.status, request.answer) == (status, answer):
        return request
    answer_is_new = bool(answer) and answer != request.answer
    if answer_is_new:
        request.answered_at = clock.now()
    request.status = status
    request.answer = answer
    request.save(update_fields=["status", "answer", "answered_at"])
    record("support.request_answered", request, actor=staff_user, before=before, after=snapshot(request))
    address = _requester_email(request)
    if answer_is_new and address:
        from podpiska.notifications.email import queue_email

        queue_email([address], "support_answer", {"request": request})
    return request


def _requester_email(request: SupportRequest) -> str:
    if request.user_id and request.user.email:
        return request.user.email
    try:
        validate_email(request.contact)
    except ValidationError:
        return ""
    return request.contact


TARIFF_FIELDS = (
    "code", "name", "rank", "price", "term_months", "export_limit", "first_period_limit",
    "limit_reset", "field_set", "description",
)


@transaction.atomic
def save_tariff(tariff: Tariff, *, staff_user, data: dict) -> Tariff:
    """Create a tariff (unsaved instance) or edit one; audited.

    Editing changes only future purchases: subscriptions and orders keep the terms
    copied when they were made (SPEC §2). Archiving is `catalog.actions.archive_tariff`.
    """
    creating = tariff.pk is None
    if not creating:
        tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    before = None if creating else snapshot(tariff)
    if data.get("price", 0) < 0:
        raise StaffActionRefused("Цена не может быть отрицательной.")
    for name in TARIFF_FIELDS:
        if name in data:
            setattr(tariff, name, data[name])
    tariff.save()
    record(
        "catalog.tariff_created" if creating else "catalog.tariff_changed",
        tariff, actor=staff_user, before=before, after=snapshot(tariff),
    )
    return tariff
