from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from podpiska.billing.closing_documents import closing_documents_visible_to
from podpiska.billing.invoice_render import invoice_context, pdf_filename, render_invoice_pdf
from podpiska.billing.invoices import invoices_visible_to
from podpiska.billing.upd import upd_data
from podpiska.billing.upd_render import pdf_filename as upd_pdf_filename
from podpiska.billing.upd_render import render_upd_pdf
from podpiska.billing.upd_xml import render_upd_xml, xml_filename


def _visible_invoice(request, invoice_id: int):
    """The invoice, or 404 — also for one that exists but belongs to someone else."""
    return get_object_or_404(
        invoices_visible_to(request.user).select_related("order"), pk=invoice_id
    )


@login_required
def invoice_page(request, invoice_id: int):
    invoice = _visible_invoice(request, invoice_id)
    return render(request, "billing/invoice.html", invoice_context(invoice))


@login_required
def invoice_pdf(request, invoice_id: int):
    invoice = _visible_invoice(request, invoice_id)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    return response


def _visible_closing_document(request, document_id: int):
    """The УПД, or 404 — also for one of an organization the user is not a member of."""
    return get_object_or_404(
        closing_documents_visible_to(request.user).distinct(), pk=document_id
    )


@login_required
def closing_document_pdf(request, document_id: int):
    document = _visible_closing_document(request, document_id)
    response = HttpResponse(render_upd_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{upd_pdf_filename(document)}"'
    return response


@login_required
def closing_document_xml(request, document_id: int):
    document = _visible_closing_document(request, document_id)
    data = upd_data(document)
    response = HttpResponse(render_upd_xml(data), content_type="application/xml; charset=windows-1251")
    response["Content-Disposition"] = f'attachment; filename="{xml_filename(data)}"'
    return response
