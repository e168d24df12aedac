"""What billing's letters say: built by the worker, just before sending, from the ids the
outbox row keeps (notifications.email_notices says who gets which letter)."""

from podpiska.core.money import format_rub
from podpiska.notifications.email import register_attachments, register_letter


def _organization(data: dict):
    from podpiska.accounts.models import Organization

    return Organization.objects.get(pk=data["organization_id"])


@register_letter("invoice_issued")
def _invoice_issued_context(data: dict) -> dict:
    from podpiska.billing.invoices import payment_purpose
    from podpiska.billing.models import Invoice
    from podpiska.billing.reminders import invoice_url

    invoice = Invoice.objects.select_related("order").get(pk=data["invoice_id"])
    return {
        "organization": _organization(data),
        "invoice": invoice,
        "total": format_rub(invoice.total),
        "invoice_url": invoice_url(invoice),
        "purpose": payment_purpose(invoice),
    }


@register_letter("order_paid")
def _order_paid_context(data: dict) -> dict:
    from podpiska.billing.models import ClosingDocument, Order
    from podpiska.subscriptions.models import Subscription
    from podpiska.subscriptions.timeline import last_day

    organization = _organization(data)
    order = Order.objects.get(pk=data["order_id"])
    subscription = Subscription.objects.filter(order=order).first()
    return {
        "organization": organization,
        "order": order,
        "total": format_rub(order.price),
        "subscription": subscription,
        "first_day": subscription.starts_at.astimezone(organization.tz).date() if subscription else None,
        "last_day": last_day(subscription.ends_at, organization.tz) if subscription else None,
        "closing_document": ClosingDocument.objects.filter(order=order).first(),
    }


@register_attachments("order_paid")
def _order_paid_attachments(data: dict) -> list[tuple[str, bytes, str]]:
    """The УПД of the paid order as PDF, rendered when the letter is sent (a statement
    import that pays fifty thousand orders renders none of them while it holds locks)."""
    from podpiska.billing.models import ClosingDocument
    from podpiska.billing.upd_render import pdf_filename, render_upd_pdf

    document = ClosingDocument.objects.filter(order_id=data["order_id"]).first()
    if document is None:
        return []
    return [(pdf_filename(document), render_upd_pdf(document), "application/pdf")]


@register_letter("order_cancelled")
def _order_cancelled_context(data: dict) -> dict:
    from podpiska.billing.models import Invoice, Order

    order = Order.objects.get(pk=data["order_id"])
    return {
        "organization": _organization(data),
        "order": order,
        "invoice": Invoice.objects.filter(order=order).first(),
        "replaced_by": Order.objects.filter(pk=data.get("replaced_by")).first(),
        "total": format_rub(order.price),
    }


@register_letter("expiry_reminder")
def _expiry_reminder_context(data: dict) -> dict:
    from podpiska.billing.reminders import expiry_context

    return expiry_context(data)


@register_letter("invoice_due")
def _invoice_due_context(data: dict) -> dict:
    from podpiska.billing.reminders import invoice_due_context

    return invoice_due_context(data)
