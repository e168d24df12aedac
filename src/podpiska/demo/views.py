"""«Поиск компаний»: search the directory and export a selection (thin views).

The organization is always the user's current one from the session
(`request.organization`); nothing in a form or an address can name another.
"""

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from podpiska.core.money import group_thousands
from podpiska.demo.directory.api_client import ApiError
from podpiska.demo.directory.credentials import client_for
from podpiska.demo.directory.export import (
    COLUMNS,
    CONFIRM_SHARE_PERCENT,
    CONTENT_TYPES,
    MAX_ROWS,
    ConfirmationNeeded,
    ExportRefused,
    default_rows,
    export_fields,
    export_selection,
    needs_confirmation,
)
from podpiska.demo.directory.search import PAGE_SIZE, SEARCH_FIELDS, SearchForm, search_companies
from podpiska.demo.models import DirectoryExport, ExportFormat
from podpiska.demo.reference import OKVED, REGION_BY_CODE


class ExportForm(SearchForm):
    rows = forms.IntegerField(label=_("Сколько строк"), min_value=1, max_value=MAX_ROWS)
    file_format = forms.ChoiceField(label=_("Формат"), choices=ExportFormat.choices)
    # Made when the page is drawn: submitting the same form twice spends the limit once.
    key = forms.RegexField(
        label=_("Форма устарела, обновите страницу"), regex=r"^[A-Za-z0-9-]{8,64}$", widget=forms.HiddenInput
    )
    # Set by the «Да, выгрузить» button of the confirmation a large export asks for.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


def _directory_url(filters: dict, **extra) -> str:
    params = {k: v for k, v in {**filters, **extra}.items() if v}
    return reverse("demo:directory") + (f"?{urlencode(params)}" if params else "")


def _describe(filters: dict) -> str:
    parts = []
    if filters.get("q"):
        parts.append(f"«{filters['q']}»")
    if filters.get("region"):
        parts.append(REGION_BY_CODE[filters["region"]].name)
    if filters.get("okved"):
        parts.append(_("ОКВЭД %(code)s %(name)s") % {"code": filters["okved"], "name": OKVED[filters["okved"]]})
    return ", ".join(parts) or _("все компании")


class ConfirmExportForm(forms.Form):
    """The export waiting for «Да, выгрузить», carried in the page's address."""

    confirm_rows = forms.IntegerField(min_value=1, max_value=MAX_ROWS)
    file_format = forms.ChoiceField(choices=ExportFormat.choices)
    key = ExportForm.base_fields["key"]


@login_required
@require_GET
def directory(request):
    search = SearchForm(request.GET)
    filters = search.filters()
    page = Paginator(search_companies(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"search": search, "filters": filters, "page": page, "export_form": None}

    organization = request.organization
    if organization:
        entitlements, api_error = None, ""
        try:
            with client_for(request) as client:
                entitlements = client.entitlements(organization.pk)
        except ApiError as exc:
            api_error = exc.message
        remaining = entitlements["remaining"] if entitlements else None
        rows = default_rows(on_screen=len(page.object_list), found=page.paginator.count, remaining=remaining)
        initial = {**filters, "rows": rows, "file_format": ExportFormat.XLSX, "key": uuid.uuid4().hex}
        asked = None
        confirm = ConfirmExportForm(request.GET) if "confirm_rows" in request.GET else None
        if confirm is not None and confirm.is_valid():
            # The same form again with its key: confirming it spends once, however often sent.
            data = confirm.cleaned_data
            initial.update(rows=data["confirm_rows"], file_format=data["file_format"], key=data["key"])
            if remaining is not None and needs_confirmation(data["confirm_rows"], remaining):
                asked = {"rows": data["confirm_rows"], "after": remaining - data["confirm_rows"]}
        context.update(
            entitlements=entitlements,
            api_error=api_error,
            columns=[COLUMNS[name].header for name in export_fields(entitlements)] if entitlements else [],
            max_rows=MAX_ROWS,
            export_form=ExportForm(initial=initial),
            remaining=remaining,
            remaining_after=None if remaining is None else remaining - initial["rows"],
            cancel_url=_directory_url(filters),
            confirm_share=CONFIRM_SHARE_PERCENT,
            asked=asked,
            recent=DirectoryExport.objects.filter(organization=organization).defer("content")[:5],
            ready=_ready_export(request, organization),
        )
    return render(request, "demo/directory.html", context)


def _ready_export(request, organization) -> DirectoryExport | None:
    pk = request.GET.get("ready", "")
    if not pk.isdigit():
        return None
    return (
        DirectoryExport.objects.filter(pk=pk, organization=organization, state=DirectoryExport.State.READY)
        .defer("content")
        .first()
    )


@login_required
@require_POST
def export(request):
    organization = request.organization
    if not organization:
        raise Http404
    form = ExportForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items())
        messages.error(request, _("Выгрузка не выполнена — проверьте форму. %(errors)s") % {"errors": errors})
        return redirect(_directory_url(form.filters()))
    filters = {name: form.cleaned_data[name] for name in SEARCH_FIELDS}
    try:
        with client_for(request) as client:
            done = export_selection(
                client,
                organization=organization,
                user=request.user,
                companies=search_companies(**filters),
                rows=form.cleaned_data["rows"],
                file_format=form.cleaned_data["file_format"],
                idempotency_key=form.cleaned_data["key"],
                description=_describe(filters),
                confirmed=form.cleaned_data["confirmed"],
            )
    except ConfirmationNeeded as asked:
        return redirect(_directory_url(
            filters, confirm_rows=asked.rows, file_format=form.cleaned_data["file_format"], key=form.cleaned_data["key"]
        ))
    except ExportRefused as exc:
        messages.error(request, exc.message)
        return redirect(_directory_url(filters))
    except ApiError as exc:  # the directory has no key to call the API with
        messages.error(request, _("Выгрузка не выполнена: %(reason)s") % {"reason": exc.message})
        return redirect(_directory_url(filters))
    messages.success(
        request,
        ngettext(
            "Выгрузка готова: %(rows)s строка, файл %(name)s. Скачивание начнётся автоматически.",
            "Выгрузка готова: %(rows)s строк, файл %(name)s. Скачивание начнётся автоматически.",
            done.rows,
        )
        % {"rows": group_thousands(done.rows), "name": done.filename},
    )
    return redirect(_directory_url(filters, ready=done.pk))


@login_required
@require_GET
def download(request, pk: int):
    organization = request.organization
    if not organization:
        raise Http404
    done = get_object_or_404(
        DirectoryExport, pk=pk, organization=organization, state=DirectoryExport.State.READY
    )
    response = HttpResponse(bytes(done.content), content_type=CONTENT_TYPES[done.format])
    response["Content-Disposition"] = f'attachment; filename="{done.filename}"'
    return response
