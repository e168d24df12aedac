"""Requests from customers to staff: support questions and limit increases."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from podpiska.audit.changes import ALL, audited_create, audited_update
from podpiska.catalog.actions import CatalogError, addon_name, make_offer
from podpiska.catalog.models import IndividualOffer
from podpiska.core import clock
from podpiska.subscriptions.availability import available_actions
from podpiska.support.models import LimitIncreaseRequest, RequestStatus, SupportRequest

MAX_EXTRA_EXPORTS = 10_000_000


class RequestRefused(Exception):
    """A request that cannot be filed; the message is for the user."""


@transaction.atomic
def file_support_request(*, user, organization, subject: str, message: str, contact: str = "") -> SupportRequest:
    subject, message = (subject or "").strip(), (message or "").strip()
    if not subject:
        raise RequestRefused(_("Укажите тему обращения."))
    if not message:
        raise RequestRefused(_("Опишите вопрос: сообщение не может быть пустым."))
    return audited_create(
        SupportRequest, "support.request_filed", user,
        organization=organization, user=user, subject=subject[:200], message=message,
        contact=contact.strip()[:200], created_at=clock.now(),
    )


@transaction.atomic
def file_limit_increase_request(*, user, organization, extra_exports: int, comment: str = "") -> LimitIncreaseRequest:
    """Only on the maximum tariff (SPEC §4); one open request at a time."""
    if not isinstance(extra_exports, int) or extra_exports <= 0:
        raise RequestRefused(_("Укажите, сколько выгрузок добавить: целое число больше нуля."))
    if extra_exports > MAX_EXTRA_EXPORTS:
        raise RequestRefused(_("Слишком большое число выгрузок: свяжитесь с поддержкой."))
    if not available_actions(organization, clock.now()).can_request_limit_increase:
        raise RequestRefused(_("Увеличить лимит можно на максимальном тарифе."))
    existing = LimitIncreaseRequest.objects.select_for_update().filter(
        organization=organization, status__in=[RequestStatus.OPEN, RequestStatus.IN_PROGRESS]
    ).first()
    if existing is not None:
        # A repeated submit returns the request already filed instead of a second one.
        return existing
    return audited_create(
        LimitIncreaseRequest, "support.limit_request_filed", user,
        organization=organization, user=user, extra_exports=extra_exports,
        comment=(comment or "").strip(), created_at=clock.now(),
    )


@transaction.atomic
def answer_limit_request_with_offer(
    request: LimitIncreaseRequest, *, staff_user, extra_exports: int, price: int, valid_until: date, answer: str = ""
) -> IndividualOffer:
    """Staff answer: an add-on offer (+N exports for a price, valid until a date).

    The offer is made by `catalog.actions.make_offer`, which holds the rules of every
    offer (positive price and count, bounds, validity); this adds only what belongs to
    the request: it is answered once, and the answer says what was offered.
    """
    request = LimitIncreaseRequest.objects.select_for_update().get(pk=request.pk)
    if request.status in (RequestStatus.ANSWERED, RequestStatus.CLOSED):
        raise RequestRefused(_("На эту заявку уже ответили."))
    try:
        offer = make_offer(
            organization=request.organization, staff_user=staff_user, valid_until=valid_until,
            addon_exports=extra_exports, price=price, comment=answer, limit_request=request,
        )
    except CatalogError as error:
        raise RequestRefused(str(error)) from None
    audited_update(
        request, "support.limit_request_answered", staff_user, recorded=ALL,
        status=RequestStatus.ANSWERED, answer=answer or f"Предлагаем {addon_name(extra_exports)}.",
        answered_at=clock.now(),
    )
    return offer


@transaction.atomic
def answer_support_request(request: SupportRequest, *, staff_user, status: str, answer: str) -> SupportRequest:
    """Set a support request's status and answer; «отвечено» needs an answer.

    A new answer is e-mailed to the requester; repeating the same answer changes nothing.
    """
    if status not in RequestStatus.values:
        raise RequestRefused(_("Неизвестный статус обращения."))
    answer = (answer or "").strip()
    if status == RequestStatus.ANSWERED and not answer:
        raise RequestRefused(_("Чтобы отметить обращение отвеченным, напишите ответ."))
    request = SupportRequest.objects.select_for_update().get(pk=request.pk)
    answer_is_new = bool(answer) and answer != request.answer
    changes = {"status": status, "answer": answer}
    if answer_is_new:
        changes["answered_at"] = clock.now()
    if not audited_update(request, "support.request_answered", staff_user, recorded=ALL, **changes):
        return request
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
