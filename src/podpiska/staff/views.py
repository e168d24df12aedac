"""Back-office pages beyond the model admin: thin views calling the domain actions.

Every view is wrapped by `StaffSite.admin_view` (active staff users only; others go to
the staff login) and checks the permission of the action it performs (403 otherwise).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from podpiska.accounts import staff_groups as groups
from podpiska.accounts.models import Organization
from podpiska.billing.models import Invoice, Outcome, Payment, PaymentState, QueueReason
from podpiska.catalog.actions import (
    CatalogError,
    archive_tariff,
    make_offer,
    save_tariff,
    withdraw_offer,
)
from podpiska.catalog.forms import TariffForm
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.core import clock
from podpiska.core.http import safe_next
from podpiska.core.money import format_rub
from podpiska.staff import reports
from podpiska.staff.forms import (
    AnnulClosingDocumentForm,
    ArchiveTariffForm,
    ClockForm,
    LimitAnswerForm,
    ManualPaymentForm,
    MatchPaymentForm,
    MonthForm,
    OfferForm,
    StatementUploadForm,
    find_order,
)
from podpiska.support.actions import RequestRefused, answer_limit_request_with_offer
from podpiska.support.models import LimitIncreaseRequest

# What staff are told of each payment outcome (`billing.models.Outcome`, a test holds
# them to every one); translated when shown (the request's language), not at import.
OUTCOME_MESSAGES = {
    Outcome.FULFILLED: (messages.SUCCESS, gettext_noop("Платёж зачтён, заказ исполнен.")),
    Outcome.UNDERPAID: (messages.WARNING, gettext_noop("Сумма меньше цены заказа: платёж остался в очереди разбора (недоплата).")),
    Outcome.ORDER_CLOSED: (messages.WARNING, gettext_noop("Заказ отменён или истёк: платёж записан и остался в очереди разбора.")),
    Outcome.ALREADY_PAID: (messages.WARNING, gettext_noop("Заказ уже оплачен: платёж записан и остался в очереди разбора.")),
    Outcome.NO_SUBSCRIPTION: (messages.WARNING, gettext_noop("Нет действующей подписки для докупки: платёж остался в очереди разбора.")),
    Outcome.REJECTED: (messages.WARNING, gettext_noop("Платёж отклонён как «не наш»: он не зачтён.")),
}


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(_("Недостаточно прав для этого действия."))


def _render(request, template: str, context: dict, title: str):
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": title,
            "test_clock_allowed": clock.test_clock_allowed(),
            **context,
        },
    )


def _report_outcome(request, outcome: str) -> None:
    level, text = OUTCOME_MESSAGES.get(outcome, (messages.INFO, outcome))
    messages.add_message(request, level, _(text))


def organization_overview(request, organization_id: int):
    _require(request, groups.VIEW_ORGANIZATION)
    organization = get_object_or_404(Organization, pk=organization_id)
    context = reports.organization_overview(organization, clock.now())
    context["offer_form"] = OfferForm(initial={"kind": "tariff", "valid_until": _default_valid_until(organization)})
    context["can_offer"] = request.user.has_perm(groups.MAKE_OFFER)
    return _render(request, "staff/organization.html", context, str(organization))


def _default_valid_until(organization):
    return clock.now().astimezone(organization.tz).date() + timedelta(days=14)


@require_POST
def offer_create(request, organization_id: int):
    _require(request, groups.MAKE_OFFER)
    organization = get_object_or_404(Organization, pk=organization_id)
    form = OfferForm(request.POST)
    if form.is_valid():
        try:
            offer = make_offer(organization=organization, staff_user=request.user, **form.action_kwargs())
        except CatalogError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Предложение «%(name)s» создано.") % {"name": offer.tariff_name})
            return redirect("staff:organization_overview", organization.pk)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect(reverse("staff:organization_overview", args=[organization.pk]) + "#offers")


@require_POST
def offer_withdraw(request, offer_id: int):
    _require(request, groups.WITHDRAW_OFFER)
    offer = get_object_or_404(IndividualOffer, pk=offer_id)
    try:
        withdraw_offer(offer, staff_user=request.user)
    except CatalogError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Предложение отозвано."))
    return redirect(reverse("staff:organization_overview", args=[offer.organization_id]) + "#offers")


def manual_payment(request):
    """Confirm a bank payment by hand: the same path as a statement import."""
    _require(request, groups.CONFIRM_PAYMENT)
    from podpiska.billing.actions import PaymentInvalid, confirm_manual_payment

    form = ManualPaymentForm(request.POST or None, initial={"reference": request.GET.get("reference", "")})
    if request.method == "POST" and form.is_valid():
        data, order = form.cleaned_data, form.order
        try:
            payment, created = confirm_manual_payment(
                order=order, amount=data["amount"], doc_number=data["doc_number"],
                doc_date=data["doc_date"], payer_inn=data["payer_inn"], note=data["note"],
                actor=request.user,
            )
        except PaymentInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            if not created:
                messages.warning(request, _("Этот платёж уже внесён ранее — повторно не зачтён."))
            elif payment.state == PaymentState.APPLIED:
                _report_outcome(request, Outcome.FULFILLED)
            else:
                _report_outcome(request, payment.queue_reason)
            return redirect("staff:organization_overview", order.organization_id)
    return _render(request, "staff/manual_payment.html", {"form": form}, _("Подтвердить платёж вручную"))


def statement_upload(request):
    _require(request, groups.IMPORT_STATEMENT)
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        from podpiska.billing.statements.importer import import_statement

        upload = form.cleaned_data["file"]
        report = import_statement(upload.read(), file_name=upload.name, actor=request.user)
        if report.error:
            messages.error(request, _("Файл не принят: %(error)s") % {"error": report.error})
        else:
            messages.success(request, _("Выписка загружена."))
    reasons = [
        (QueueReason(reason).label if reason in QueueReason.values else reason, count)
        for reason, count in (report.reasons.items() if report else [])
    ]
    demo = None
    if clock.test_clock_allowed():
        from podpiska.demo.statement import open_invoices

        demo = {"open_invoices": open_invoices().count()}
    return _render(
        request, "staff/statement_upload.html",
        {
            "form": form, "report": report, "reasons": reasons, "demo": demo,
            "outcome": reports.statement_outcome(report.statement_import_id) if report and not report.error else None,
        },
        _("Загрузить банковскую выписку"),
    )


def demo_statement(request):
    """The demo's bank statement to upload (`podpiska.demo.statement`); 404 outside it."""
    _require(request, groups.IMPORT_STATEMENT)
    if not clock.test_clock_allowed():
        raise Http404
    from podpiska.billing.invoices import seller_today
    from podpiska.demo.statement import demo_statement as build

    day = seller_today()
    response = HttpResponse(build(day), content_type="text/plain; charset=windows-1251")
    response["Content-Disposition"] = f'attachment; filename="kl_to_1c_{day:%Y%m%d}.txt"'
    return response


def _suggested_invoices(payment: Payment) -> list[Invoice]:
    """The importer's suggestions: invoice ids, invoice numbers, or dicts naming either."""
    invoice_ids, order_ids = [], []
    for item in payment.suggestions or []:
        if isinstance(item, int):
            invoice_ids.append(item)
        elif isinstance(item, str):
            order = find_order(item)
            if order is not None:
                order_ids.append(order.pk)
        elif isinstance(item, dict):
            if item.get("invoice_id"):
                invoice_ids.append(item["invoice_id"])
            elif item.get("order_id"):
                order_ids.append(item["order_id"])
    invoices = Invoice.objects.filter(pk__in=invoice_ids) | Invoice.objects.filter(order_id__in=order_ids)
    return list(invoices.select_related("order", "organization").distinct())


def payment_queue(request):
    _require(request, "billing.view_payment")
    queued = Payment.objects.filter(state=PaymentState.QUEUED).select_related("organization", "order", "statement")
    rows = [(payment, _suggested_invoices(payment)) for payment in queued.order_by("received_at", "pk")]
    return _render(
        request, "staff/payment_queue.html",
        {"rows": rows, "can_match": request.user.has_perm(groups.MATCH_PAYMENT)},
        _("Очередь неразобранных платежей"),
    )


@require_POST
def payment_match(request, payment_id: int):
    """One-click matching: apply the payment to the chosen order (same path as automatic)."""
    _require(request, groups.MATCH_PAYMENT)
    from podpiska.billing.actions import apply_payment

    payment = get_object_or_404(Payment, pk=payment_id)
    form = MatchPaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reference", [_("Укажите счёт.")])))
        return redirect("staff:payment_queue")
    if payment.state != PaymentState.QUEUED:
        messages.warning(request, _("Платёж уже разобран: %(state)s.") % {"state": payment.get_state_display()})
        return redirect("staff:payment_queue")
    outcome = apply_payment(payment, form.order, actor=request.user)
    _report_outcome(request, outcome)
    return redirect("staff:payment_queue")


@require_POST
def payment_reject(request, payment_id: int):
    """«Не наш платёж»: out of the queue with a note; the money stays recorded."""
    _require(request, groups.MATCH_PAYMENT)
    from podpiska.billing.actions import PaymentRefused, reject_payment

    payment = get_object_or_404(Payment, pk=payment_id)
    try:
        reject_payment(payment, actor=request.user, note=request.POST.get("note", ""))
    except PaymentRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Платёж отмечен как «не наш» и убран из очереди."))
    return redirect("staff:payment_queue")


def limit_request_answer(request, request_id: int):
    _require(request, groups.ANSWER_LIMIT_REQUEST)
    _require(request, groups.MAKE_OFFER)
    limit_request = get_object_or_404(LimitIncreaseRequest.objects.select_related("organization"), pk=request_id)
    form = LimitAnswerForm(
        request.POST or None,
        initial={
            "extra_exports": limit_request.extra_exports,
            "valid_until": _default_valid_until(limit_request.organization),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            answer_limit_request_with_offer(limit_request, staff_user=request.user, **form.cleaned_data)
        except RequestRefused as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Ответ отправлен: клиент увидит предложение в настройках."))
            return redirect("staff:organization_overview", limit_request.organization_id)
    return _render(
        request, "staff/limit_answer.html", {"form": form, "limit_request": limit_request},
        _("Ответ на заявку об увеличении лимита"),
    )


def tariffs(request):
    _require(request, "catalog.view_tariff")
    return _render(
        request, "staff/tariffs.html",
        {
            "tariffs": Tariff.objects.select_related("successor").order_by("rank", "code"),
            "archive_form": ArchiveTariffForm(),
            "can_archive": request.user.has_perm(groups.ARCHIVE_TARIFF),
        },
        _("Тарифы"),
    )


def tariff_edit(request, tariff_id: int | None = None):
    """Create or edit a tariff; bought subscriptions keep their copied terms."""
    _require(request, groups.ARCHIVE_TARIFF if tariff_id else groups.CREATE_TARIFF)
    tariff = get_object_or_404(Tariff, pk=tariff_id) if tariff_id else Tariff()
    form = TariffForm(request.POST or None, instance=tariff)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_tariff(tariff, staff_user=request.user, data=form.terms())
        except CatalogError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Тариф «%(name)s» сохранён.") % {"name": saved.name})
            return redirect("staff:tariffs")
    title = _("Изменить тариф «%(name)s»") % {"name": tariff.name} if tariff_id else _("Новый тариф")
    return _render(request, "staff/tariff_form.html", {"form": form, "tariff": tariff}, title)


@require_POST
def tariff_archive(request, tariff_id: int):
    _require(request, groups.ARCHIVE_TARIFF)
    tariff = get_object_or_404(Tariff, pk=tariff_id)
    form = ArchiveTariffForm(request.POST)
    if form.is_valid():
        try:
            archive_tariff(tariff, successor=form.cleaned_data["successor"], staff_user=request.user)
        except CatalogError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Тариф «%(name)s» в архиве.") % {"name": tariff.name})
    else:
        messages.error(request, _("Выберите преемника из тарифов в продаже."))
    return redirect("staff:tariffs")


def clock_view(request):
    """Move the demo clock forward and run the tick: watch a subscription come to its end."""
    if not clock.test_clock_allowed():
        raise Http404
    from podpiska.demo.time_travel import set_clock_offset
    from podpiska.jobs.tick import run_tick

    form = ClockForm(request.POST or None)
    results = None
    if request.method == "POST":
        if "reset" in request.POST:
            set_clock_offset(timedelta(0), actor=request.user)
            messages.success(request, _("Часы возвращены к реальному времени."))
            return redirect("staff:clock")
        if form.is_valid():
            set_clock_offset(clock.offset() + timedelta(days=form.cleaned_data["days"]), actor=request.user)
            results = run_tick()
            messages.success(request, _("Часы переведены вперёд, фоновые задачи выполнены."))
    return _render(
        request, "staff/clock.html",
        {"form": form, "now": clock.now(), "offset_days": clock.offset() / timedelta(days=1), "results": results},
        _("Тестовые часы"),
    )


def dashboard_context(request) -> dict:
    data = reports.dashboard(clock.now())
    data["revenue"] = [{**row, "total_display": format_rub(row["total"])} for row in data["revenue"]]
    data["test_clock"] = clock.test_clock_allowed()
    data["site_url"] = settings.SITE_URL
    return data


def _month(request) -> tuple[tuple[int, int], MonthForm]:
    """The month asked for (?month=2026-12), or the current one in the seller's calendar."""
    from podpiska.billing.invoices import seller_today

    today = seller_today()
    if "month" not in request.GET:
        return (today.year, today.month), MonthForm(initial={"month": f"{today:%Y-%m}"})
    form = MonthForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["month"], form
    return (today.year, today.month), form


def closing_documents(request):
    """The month's УПД with their PDF/XML, annulment, and the month's export."""
    _require(request, groups.VIEW_CLOSING_DOCUMENTS)
    from podpiska.billing.closing_documents import closing_documents_of_month

    (year, month), form = _month(request)
    documents = closing_documents_of_month(year, month).select_related("organization")
    return _render(
        request,
        "staff/closing_documents.html",
        {
            "documents": documents,
            "month_form": form,
            "month_value": f"{year}-{month:02d}",
            "can_annul": request.user.has_perm(groups.ANNUL_CLOSING_DOCUMENT),
            "annul_form": AnnulClosingDocumentForm(),
        },
        _("УПД за %(month)s") % {"month": f"{month:02d}.{year}"},
    )


def closing_documents_export(request, kind: str):
    """The month as one ZIP (every PDF and XML plus the register) or the register alone."""
    _require(request, groups.VIEW_CLOSING_DOCUMENTS)
    from podpiska.billing import upd_register

    form = MonthForm(request.GET)
    if kind not in ("zip", "xlsx", "csv") or not form.is_valid():
        raise Http404(_("Укажите месяц в виде ГГГГ-ММ, например 2026-12."))
    year, month = form.cleaned_data["month"]
    name = upd_register.register_name(year, month)
    if kind == "zip":
        import tempfile

        from django.http import FileResponse

        # Spooled: a month of a few documents stays in memory, a big one goes to disk.
        out = tempfile.SpooledTemporaryFile(max_size=32 * 2**20)
        upd_register.month_zip(year, month, out)
        out.seek(0)
        return FileResponse(out, as_attachment=True, filename=f"upd-{year}-{month:02d}.zip",
                            content_type="application/zip")
    rows = upd_register.register_rows(year, month)
    if kind == "xlsx":
        content = upd_register.register_xlsx(rows, f"{year}-{month:02d}")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = upd_register.register_csv(rows)
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@require_POST
def closing_document_annul(request, document_id: int):
    """Mark a УПД «аннулирован» with the reason (a refund); it stays, numbered, in the register."""
    _require(request, groups.ANNUL_CLOSING_DOCUMENT)
    from podpiska.billing.closing_documents import AnnulRefused, annul_closing_document
    from podpiska.billing.models import ClosingDocument

    document = get_object_or_404(ClosingDocument, pk=document_id)
    back = safe_next(request, reverse("staff:organization_overview", args=[document.organization_id]))
    try:
        annul_closing_document(document, reason=request.POST.get("reason", ""), actor=request.user)
    except AnnulRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("УПД № %(number)s аннулирован.") % {"number": document.display_number}
        )
    return redirect(back)
