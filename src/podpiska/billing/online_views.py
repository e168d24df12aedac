"""Online payment pages: the return from the provider, its notifications, the sandbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from podpiska.billing.actions import OrderRefused
from podpiska.billing.models import OnlinePayment, OnlinePaymentStatus, Order, OrderStatus
from podpiska.billing.online import (
    get_provider,
    receive_notification,
    refresh_online_payment,
    sandbox_allowed,
    start_online_payment,
)
from podpiska.billing.providers.base import ProviderError
from podpiska.billing.providers.sandbox import SandboxProvider
from podpiska.core.http import safe_next


def attempt_of_current_organization(request, online_payment_id: int, **filters) -> OnlinePayment:
    """The attempt, or 404 — also for one of an organization the user is not working in."""
    if not request.membership:
        raise Http404
    return get_object_or_404(
        OnlinePayment.objects.select_related("order"),
        pk=online_payment_id,
        order__organization=request.organization,
        **filters,
    )


@login_required
@require_http_methods(["GET"])
def online_return(request, online_payment_id: int):
    """The provider sends the customer back here: ask it how the payment went."""
    attempt = attempt_of_current_organization(request, online_payment_id)
    try:
        attempt = refresh_online_payment(attempt)
    except ProviderError as exc:
        messages.warning(request, str(exc))
    order = attempt.order
    order.refresh_from_db()
    if attempt.status == OnlinePaymentStatus.SUCCEEDED:
        if order.status == OrderStatus.FULFILLED:
            messages.success(
                request, _("Оплата получена, заказ № %(n)s исполнен.") % {"n": order.pk}
            )
        else:
            messages.warning(
                request,
                _("Оплата получена; сотрудник проверит её и завершит заказ № %(n)s.")
                % {"n": order.pk},
            )
        return redirect(safe_next(request, reverse("web:settings")))
    if attempt.status == OnlinePaymentStatus.CANCELED:
        # A failure, not a notice: the customer must act (pay again or by invoice).
        messages.error(
            request,
            _(
                "Оплата не прошла. Заказ № %(n)s ждёт оплаты: попробуйте ещё раз или оплатите по счёту."
            )
            % {"n": order.pk},
        )
        return redirect(safe_next(request, reverse("web:settings")))
    return render(
        request,
        "billing/online/return.html",
        {"attempt": attempt, "order": order, "next": safe_next(request, reverse("web:settings"))},
    )


@login_required
@require_POST
def pay_online(request, order_id: int):
    """«Оплатить онлайн» for an order awaiting payment: resume its attempt or start a new one."""
    if not request.membership:
        raise Http404
    order = get_object_or_404(Order, pk=order_id, organization=request.organization)
    if not request.membership.can_manage:
        raise PermissionDenied
    final_url = request.build_absolute_uri(reverse("web:settings"))
    try:
        url = start_online_payment(order, return_url=final_url)
    except (ProviderError, OrderRefused) as exc:
        messages.error(request, str(exc))
        return redirect("web:settings")
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def yookassa_notifications(request):
    """YooKassa's HTTP notifications: 200 (also for one we ignore) stops redelivery."""
    result = receive_notification("yookassa", request)
    return HttpResponse(result.message, status=result.status_code, content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_page(request, online_payment_id: int):
    """The sandbox provider's payment page: «Оплатить» or «Отказаться»."""
    if not sandbox_allowed():
        raise Http404
    attempt = attempt_of_current_organization(
        request, online_payment_id, provider=SandboxProvider.name
    )
    provider = get_provider(SandboxProvider.name)
    if request.method == "POST":
        if not request.membership.can_manage:
            raise PermissionDenied
        action = request.POST.get("action")
        if action not in {"pay", "refuse"}:
            messages.error(request, _("Выберите «Оплатить» или «Отказаться»."))
            return redirect(request.path)
        provider.decide(attempt, pay=action == "pay")
        try:
            refresh_online_payment(attempt)
        except ProviderError as exc:
            messages.warning(request, str(exc))
        attempt.refresh_from_db()
        return redirect(SandboxProvider.return_url(attempt))
    return render(
        request, "billing/online/sandbox.html", {"attempt": attempt, "order": attempt.order}
    )
