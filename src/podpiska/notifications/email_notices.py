"""Which events send e-mail to people, and what it says.

Called by `events.publish` inside the action's transaction: the e-mails are outbox rows
of that transaction and go out only if it commits.
"""

from podpiska.accounts.models import Membership
from podpiska.core.money import format_rub


def managers_emails(organization) -> list[str]:
    """Owners and admins: the people who buy and pay."""
    return _managers_by_organization([organization.pk])[organization.pk]


def _managers_by_organization(organization_ids) -> dict[int, list[str]]:
    """`managers_emails` of many organizations in one query."""
    found: dict[int, list[str]] = {org_id: [] for org_id in organization_ids}
    rows = Membership.objects.filter(
        organization_id__any_of=sorted(organization_ids),
        role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        user__is_active=True,
    ).values_list("organization_id", "user__email")
    for org_id, email in rows:
        found[org_id].append(email)
    return {org_id: sorted(emails) for org_id, emails in found.items()}


def _document_recipients(organization) -> list[str]:
    """Managers plus the organization's e-mail for documents (accounting)."""
    addresses = set(managers_emails(organization))
    if organization.email:
        addresses.add(organization.email.lower())
    return sorted(addresses)


def _invoice_issued(organization, data: dict, recipients: list[str]) -> None:
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
    for address in recipients:
        queue_email([address], "invoice_issued", context)


def _order_paid(organization, data: dict, recipients: list[str]) -> None:
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
    for address in recipients:
        queue_email([address], "order_paid", context)


# Each event that e-mails: who gets it (for one organization), and what it says.
HANDLERS = {
    "invoice.issued": (_document_recipients, _invoice_issued),
    # One confirmation per paid order; it names the subscription the payment formed,
    # so `subscription.activated` (published in the same fulfilment) sends nothing more.
    "order.paid": (managers_emails, _order_paid),
}


def recipients_for(event: str, organization_ids) -> dict[int, list[str]]:
    """Who gets the e-mail of `event`, by organization, found in one query; {} if no one.

    Only the managers' notices go to many organizations at once (an imported statement
    pays many orders); the others are looked up one organization at a time.
    """
    if event not in HANDLERS or not organization_ids:
        return {}
    if HANDLERS[event][0] is managers_emails:
        return _managers_by_organization(organization_ids)
    from podpiska.accounts.models import Organization

    return {
        org.pk: HANDLERS[event][0](org)
        for org in Organization.objects.filter(pk__in=sorted(organization_ids))
    }


def handle(event: str, *, organization, data: dict, recipients: list[str] | None = None) -> None:
    """Queue the e-mails an event calls for; most events e-mail no one."""
    if event not in HANDLERS:
        return
    find_recipients, write = HANDLERS[event]
    if recipients is None:
        recipients = find_recipients(organization)
    if recipients:
        write(organization, data, recipients)
