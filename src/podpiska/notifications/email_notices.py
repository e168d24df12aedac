"""Which events send e-mail to people, and what it says.

Called by `events.publish` inside the action's transaction: the e-mails are outbox rows
of that transaction and go out only if it commits. They are written unrendered (the
template and the ids it needs): the worker renders each just before sending it, so an
action that pays fifty thousand orders writes fifty thousand small rows, not fifty
thousand rendered letters while it holds the orders' locks.
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


# --- what the letters say: built by the worker from the ids the row keeps ----------------


def _organization(data: dict):
    from podpiska.accounts.models import Organization

    return Organization.objects.get(pk=data["organization_id"])


def _invoice_issued_context(data: dict) -> dict:
    from podpiska.billing.invoices import payment_purpose
    from podpiska.billing.models import Invoice
    from podpiska.notifications.reminders import invoice_url

    invoice = Invoice.objects.select_related("order").get(pk=data["invoice_id"])
    return {
        "organization": _organization(data),
        "invoice": invoice,
        "total": format_rub(invoice.total),
        "invoice_url": invoice_url(invoice),
        "purpose": payment_purpose(invoice),
    }


def _order_paid_context(data: dict) -> dict:
    from podpiska.billing.models import Order
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
    }


def _expiry_reminder_context(data: dict) -> dict:
    from podpiska.notifications.reminders import expiry_context

    return expiry_context(data)


def _invoice_due_context(data: dict) -> dict:
    from podpiska.notifications.reminders import invoice_due_context

    return invoice_due_context(data)


CONTEXTS = {
    "invoice_issued": _invoice_issued_context,
    "order_paid": _order_paid_context,
    "expiry_reminder": _expiry_reminder_context,
    "invoice_due": _invoice_due_context,
}


def context_for(template: str, data: dict) -> dict:
    """The template context of a letter queued with `data` (ids, the event's data)."""
    return CONTEXTS[template](data)


# Each event that e-mails: who gets it (for one organization), which letter, and the
# ids of the event's data the letter is written from. One letter per address, so one
# bounced address does not hold up the others.
HANDLERS = {
    "invoice.issued": (_document_recipients, "invoice_issued", ("invoice_id",)),
    # One confirmation per paid order; it names the subscription the payment formed,
    # so `subscription.activated` (published in the same fulfilment) sends nothing more.
    "order.paid": (managers_emails, "order_paid", ("order_id",)),
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


def handle_many(event: str, items: list[tuple[int, dict]], recipients: dict[int, list[str]]) -> None:
    """Queue the e-mails of `event` for each (organization id, data), to `recipients`."""
    if event not in HANDLERS:
        return
    from podpiska.notifications.email import queue_emails_later

    _, template, keys = HANDLERS[event]
    letters = [
        ([address], {"organization_id": org_id, **{key: data[key] for key in keys}})
        for org_id, data in items
        for address in recipients.get(org_id, ())
    ]
    if letters:
        queue_emails_later(template, letters)


def handle(event: str, *, organization, data: dict) -> None:
    """Queue the e-mails an event calls for; most events e-mail no one."""
    if event not in HANDLERS:
        return
    handle_many(event, [(organization.pk, data)], {organization.pk: HANDLERS[event][0](organization)})
