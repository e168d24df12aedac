from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from podpiska.billing.invoice_render import invoice_context, pdf_filename, render_invoice_pdf
from podpiska.billing.invoices import invoices_visible_to


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
