"""Which events send e-mail to people, and what it says.

Called by `events.publish` inside the action's transaction: the e-mails are outbox rows
of that transaction and go out only if it commits.
"""

from podpiska.accounts.models import Membership
from podpiska.core.money import format_rub


def managers_emails(organization) -> list[str]:
    """Owners and admins: the people who buy and pay."""
    return sorted(
        Membership.objects.filter(
            organization=organization,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
            user__is_active=True,
        ).values_list("user__email", flat=True)
    )


def _document_recipients(organization) -> list[str]:
    """Managers plus the organization's e-mail for documents (accounting)."""
    addresses = set(managers_emails(organization))
    if organization.email:
        addresses.add(organization.email.lower())
    return sorted(addresses)


def _invoice_issued(organization, data: dict) -> None:
    from podpiska.billing.invoices import payment_purpose
    from podpiska.billing.models import Invoice
    from podpiska.notifications.email import queue_email
    from podpiska.notifications.reminders import invoice_url

    invoice = Invoice.objects.select_related("order").get(pk=data["invoice_id"])
    context = {
        "organization": organization,
        "invoice": invoice,
        "total": format_rub(invoice.total),
        "invoice_url": invoice_url(invoice),
        "purpose": payment_purpose(invoice),
    }
    for address in _document_recipients(organization):
        queue_email([address], "invoice_issued", context)


def _order_paid(organization, data: dict) -> None:
    from podpiska.billing.models import Order
    from podpiska.notifications.email import queue_email
    from podpiska.subscriptions.models import Subscription
    from podpiska.subscriptions.timeline import last_day

    order = Order.objects.get(pk=data["order_id"])
    subscription = Subscription.objects.filter(order=order).first()
    context = {
        "organization": organization,
        "order": order,
        "total": format_rub(order.price),
        "subscription": subscription,
        "first_day": subscription.starts_at.astimezone(organization.tz).date() if subscription else None,
        "last_day": last_day(subscription.ends_at, organization.tz) if subscription else None,
    }
    for address in managers_emails(organization):
        queue_email([address], "order_paid", context)


HANDLERS = {
    "invoice.issued": _invoice_issued,
    # One confirmation per paid order; it names the subscription the payment formed,
    # so `subscription.activated` (published in the same fulfilment) sends nothing more.
    "order.paid": _order_paid,
}


def handle(event: str, *, organization, data: dict) -> None:
    """Queue the e-mails an event calls for; most events e-mail no one."""
    handler = HANDLERS.get(event)
    if handler is not None:
        handler(organization, data)
