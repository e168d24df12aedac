"""Staff actions that have no home in a customer-facing domain module yet.

Each is one transaction with its audit record, like every other action.
"""

from django.db import transaction

from podpiska.audit.log import record, snapshot
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
    if answer and answer != request.answer:
        request.answered_at = clock.now()
    request.status = status
    request.answer = answer
    request.save(update_fields=["status", "answer", "answered_at"])
    record("support.request_answered", request, actor=staff_user, before=before, after=snapshot(request))
    return request
