"""The customer's pages and windows. Thin: they ask the domain functions and render."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as set_language_cookie

from podpiska.accounts.actions import (
    RequisitesInvalid,
    hide_lapsed_notice,
    set_language,
    set_reminders_enabled,
    update_requisites,
)
from podpiska.accounts.current import switch_organization
from podpiska.accounts.decorators import manager_required, organization_required
from podpiska.billing import actions as billing
from podpiska.billing.invoices import paid_period, payment_purpose
from podpiska.billing.models import Invoice, Order, OrderKind, PaymentMethod
from podpiska.billing.online import get_provider, start_online_payment
from podpiska.billing.providers.base import ProviderError
from podpiska.catalog.models import EXTENDED_ONLY_FIELDS
from podpiska.core import clock
from podpiska.core.http import is_htmx, safe_next
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import last_day, status_of
from podpiska.support.forms import LimitIncreaseForm
from podpiska.support.models import LimitIncreaseRequest
from podpiska.web.choices import FIELD_LABELS, find_choice
from podpiska.web.forms import CheckoutForm, ReminderSettingsForm, RequisitesForm
from podpiska.web.menu import menu_for


@require_POST
def choose_language(request):
    """The footer's switcher: this browser's cookie, and for a signed-in person their own
    setting, so the language follows them to another browser."""
    response = set_language_cookie(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in {code for code, _name in settings.LANGUAGES}:
        set_language(request.user, language, actor=request.user)
    return response


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def window(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    """A window: a fragment for htmx's dialog, or a whole page without JavaScript."""
    context["window_base"] = "web/_window.html" if is_htmx(request) else "web/_window_page.html"
    return render(request, template, context, status=status)


@login_required
def home(request):
    return render(request, "web/home.html")


@require_POST
@login_required
def switch_org(request):
    organization_id = request.POST.get("organization", "")
    if not organization_id.isdigit():
        raise Http404
    membership = switch_organization(request, int(organization_id))
    messages.info(
        request, _("Вы работаете в организации %(name)s.") % {"name": membership.organization}
    )
    return redirect(safe_next(request, reverse("web:home")))


@require_GET
@organization_required
def settings_page(request):
    organization = request.organization
    now = clock.now()
    tz = organization.tz
    subscriptions = [
        {
            "subscription": s,
            "status": status_of(s, now),
            "last_day": last_day(s.ends_at, tz),
            "starts_on": s.starts_at.astimezone(tz).date(),
        }
        for s in Subscription.objects.filter(organization=organization).order_by("-starts_at")
    ]
    orders = Order.objects.filter(organization=organization).select_related(
        "invoice", "closing_document"
    )
    limit_request = (
        LimitIncreaseRequest.objects.filter(organization=organization)
        .prefetch_related("offers")
        .first()
    )
    return render(
        request,
        "web/settings.html",
        {
            "subscriptions": subscriptions,
            "orders": orders,
            "limit_request": limit_request,
            "limit_form": LimitIncreaseForm(),
            "extended_fields": [FIELD_LABELS[name] for name in EXTENDED_ONLY_FIELDS],
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def edit_requisites(request):
    organization = request.organization
    if request.method == "POST":
        form = RequisitesForm(request.POST)
        if form.is_valid():
            try:
                update_requisites(organization, form.requisites(), actor=request.user)
            except RequisitesInvalid as exc:
                form.add_errors(exc.errors)
            else:
                messages.success(request, _("Реквизиты сохранены."))
                return redirect("web:settings")
    else:
        form = RequisitesForm(initial=RequisitesForm.initial_for(organization))
    return render(request, "web/requisites.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    if request.method == "POST":
        form = ReminderSettingsForm(request.POST)
        if form.is_valid():
            set_reminders_enabled(
                request.user, form.cleaned_data["reminders_enabled"], actor=request.user
            )
            messages.success(request, _("Настройки напоминаний сохранены."))
            return redirect("web:profile")
    else:
        form = ReminderSettingsForm(initial={"reminders_enabled": request.user.reminders_enabled})
    return render(request, "web/profile.html", {"form": form})


def choice_or_404(request, kind: str):
    """The choice asked for, among what the menu's actions offer (read once per request)."""
    source = request.POST if request.method == "POST" else request.GET
    choice = find_choice(
        request.organization,
        menu_for(request).actions,
        kind,
        tariff_code=source.get("tariff", ""),
        offer_id=source.get("offer", ""),
    )
    if choice is None:
        raise Http404
    return choice


@require_GET
@organization_required
def choice_window(request, kind: str):
    """«Продлить подписку», «Улучшить подписку», a catalog tariff or an offer: the variant,
    and first the unpaid order that buying it would replace (when there is one)."""
    choice = choice_or_404(request, kind)
    open_order = None
    if choice.kind != OrderKind.ADDON:
        open_order = billing.open_term_order(request.organization)
    return window(
        request,
        "web/choice.html",
        {
            "choice": choice,
            "open_order": open_order,
            # Ordering the very same thing again shows this order; anything else replaces it.
            "replacing": open_order is not None and (
                (open_order.kind, open_order.tariff_id, open_order.offer_id)
                != (choice.kind, getattr(choice.tariff, "pk", None), getattr(choice.offer, "pk", None))
            ),
            "choice_url": f"{reverse('web:choice', args=[kind])}?{choice.query}",
        },
    )


def invoice_links(invoice: Invoice | None) -> dict:
    if invoice is None:
        return {}
    return {
        "invoice": invoice,
        "invoice_url": reverse("billing:invoice", args=[invoice.pk]),
        "invoice_pdf_url": reverse("billing:invoice_pdf", args=[invoice.pk]),
        "purpose": payment_purpose(invoice),
    }


def online_available() -> bool:
    """Whether a payment provider is configured here (the sandbox only in demo/tests)."""
    try:
        get_provider()
    except ProviderError:
        return False
    return True


@require_http_methods(["GET", "POST"])
@manager_required
def checkout(request, kind: str):
    """«Продолжить оформление»: confirm the requisites, choose the payment, place the order."""
    choice = choice_or_404(request, kind)
    organization = request.organization
    online = online_available()
    if request.method == "GET":
        form = CheckoutForm(
            initial={**CheckoutForm.initial_for(organization), "idempotency_key": uuid.uuid4().hex},
            online_available=online,
        )
        return window(request, "web/checkout.html", {"choice": choice, "form": form})

    form = CheckoutForm(request.POST, online_available=online)
    if form.is_valid():
        try:
            order = billing.place_order(
                organization=organization,
                user=request.user,
                kind=choice.kind,
                payment_method=form.cleaned_data["payment_method"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                tariff=None if choice.offer else choice.tariff,
                offer=choice.offer,
                requisites=form.requisites(),
                # Checked against the same actions the choice was found in: one read.
                actions=menu_for(request).actions,
            )
        except RequisitesInvalid as exc:
            form.add_errors(exc.errors)
        except billing.OrderRefused as exc:
            form.add_error(None, str(exc))
        else:
            return order_placed(request, order)
    return window(
        request,
        "web/checkout.html",
        {"choice": choice, "form": form},
        status=422 if is_htmx(request) else 200,
    )


def order_placed(request, order: Order) -> HttpResponse:
    # The header, swapped out of band, shows the new order (and «ожидает оплаты»).
    menu_for(request, orders_changed=True)
    if order.payment_method == PaymentMethod.ONLINE:
        try:
            url = start_online_payment(
                order, return_url=request.build_absolute_uri(reverse("web:settings"))
            )
        except (ProviderError, billing.OrderRefused) as exc:
            return window(
                request, "web/checkout_done.html", {"order": order, "online_error": str(exc)}
            )
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
    invoice = Invoice.objects.filter(order=order).first()
    return window(
        request,
        "web/checkout_done.html",
        {
            "order": order,
            **invoice_links(invoice),
            "bank_delay": settings.PODPISKA["BANK_DELAY_BUSINESS_DAYS"],
        },
    )


def order_of_organization(request, order_id: int) -> Order:
    """An order of the organization the user works in, or 404 (also another's)."""
    return get_object_or_404(
        Order.objects.select_related("invoice", "replaced_by"),
        pk=order_id, organization=request.organization,
    )


@require_GET
@organization_required
def order_page(request, order_id: int):
    """One order: what it buys, its invoice, «Оплатить» and «Отменить заказ» while unpaid,
    the period it formed once paid."""
    order = order_of_organization(request, order_id)
    invoice = Invoice.objects.filter(order=order).first()
    return render(
        request,
        "web/order.html",
        {"order": order, **invoice_links(invoice), "paid_period": paid_period(order)},
    )


@require_POST
@manager_required
def cancel_order(request, order_id: int):
    """«Отменить заказ»: owners and admins; the invoice is annulled, the orderer told."""
    order = order_of_organization(request, order_id)
    try:
        billing.cancel_order(order, actor=request.user)
    except billing.OrderRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Заказ отменён, его счёт аннулирован."))
    return redirect(safe_next(request, reverse("web:order", args=[order.pk])))


@require_POST
@manager_required
def hide_lapsed(request):
    """«Скрыть на 30 дней» on the notice that the paid subscription ended; nothing is
    written when there is no such notice (a paid organization, a stale page)."""
    if menu_for(request).lapsed is not None:
        hide_lapsed_notice(request.organization, actor=request.user)
    return redirect(safe_next(request, reverse("web:home")))
