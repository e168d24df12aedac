"""The customer's side of support: the «?» panel's form and «Увеличить лимит выгрузки»."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from podpiska.accounts.decorators import manager_required
from podpiska.core.http import is_htmx, safe_next
from podpiska.support.actions import (
    RequestRefused,
    file_limit_increase_request,
    file_support_request,
)
from podpiska.support.forms import LimitIncreaseForm, SupportRequestForm


@require_POST
@login_required
def support_request(request):
    """Filed from the «?» panel: htmx swaps the form for the confirmation."""
    form = SupportRequestForm(request.POST)
    filed = None
    if form.is_valid():
        try:
            filed = file_support_request(
                user=request.user,
                organization=request.organization or None,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                contact=form.cleaned_data["contact"],
            )
        except RequestRefused as exc:
            form.add_error(None, str(exc))
    if is_htmx(request):
        return render(request, "support/_form.html", {"support_form": form, "filed": filed})
    if filed is not None:
        messages.success(
            request,
            _("Обращение № %(number)s принято. Мы ответим в рабочее время.") % {"number": filed.pk},
        )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(safe_next(request, "/"))


@require_POST
@manager_required
def limit_increase(request):
    """«Увеличить лимит выгрузки» on the maximum tariff: a request to staff."""
    form = LimitIncreaseForm(request.POST)
    if form.is_valid():
        try:
            file_limit_increase_request(
                user=request.user,
                organization=request.organization,
                extra_exports=form.cleaned_data["extra_exports"],
                comment=form.cleaned_data["comment"],
            )
        except RequestRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Заявка на увеличение лимита отправлена. Мы ответим предложением.")
            )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("web:settings")
