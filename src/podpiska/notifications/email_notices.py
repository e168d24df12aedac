"""Which events send e-mail to people, and what it says.

Called by `events.publish` inside the action's transaction: the e-mails are outbox rows
of that transaction and go out only if it commits. They are written unrendered (the
template and the ids it needs): the worker renders each just before sending it, so an
action that pays fifty thousand orders writes fifty thousand small rows, not fifty
thousand rendered letters while it holds the orders' locks.
"""

from podpiska.accounts.models import Membership


def managers_emails(organization) -> list[str]:
    """Owners and admins: the people who buy and pay."""
    return _managers_by_organization([organization.pk])[organization.pk]


def _managers_by_organization(organization_ids) -> dict[int, list[str]]:
    """`managers_emails` of many organizations in one query."""
    found: dict[int, list[str]] = {org_id: [] for org_id in organization_ids}
    rows = Membership.objects.managers().filter(
        organization_id__any_of=sorted(organization_ids),
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


def orderer_email(organization, data: dict) -> list[str]:
    """Whoever placed the order (`ordered_by`, a user id); the managers when that person
    has no active account."""
    from podpiska.accounts.models import User

    email = (
        User.objects.filter(pk=data.get("ordered_by"), is_active=True)
        .values_list("email", flat=True)
        .first()
    )
    return [email] if email else managers_emails(organization)


# Recipients that depend on the event's data, not only on the organization.
_BY_DATA = {orderer_email}


# Each event that e-mails: who gets it (for one organization), which letter, and the
# ids of the event's data the letter is written from. One letter per address, so one
# bounced address does not hold up the others.
HANDLERS = {
    "invoice.issued": (_document_recipients, "invoice_issued", ("invoice_id",)),
    # One confirmation per paid order; it names the subscription the payment formed,
    # so `subscription.activated` (published in the same fulfilment) sends nothing more.
    "order.paid": (managers_emails, "order_paid", ("order_id",)),
    # A cancelled order, by the customer or replaced by a new one: its invoice must not
    # be paid, so the person who ordered it is told.
    "order.cancelled": (orderer_email, "order_cancelled", ("order_id", "replaced_by")),
}


def recipients_for(event: str, organization_ids) -> dict[int, list[str]]:
    """Who gets the e-mail of `event`, by organization, found in one query; {} if no one.

    Only the managers' notices go to many organizations at once (an imported statement
    pays many orders); the others are looked up one organization at a time.
    """
    if event not in HANDLERS or not organization_ids:
        return {}
    if HANDLERS[event][0] in _BY_DATA:
        raise ValueError(f"{event} is addressed by its data: publish it one at a time")
    if HANDLERS[event][0] is managers_emails:
        return _managers_by_organization(organization_ids)
    from podpiska.accounts.models import Organization

    return {
        org.pk: HANDLERS[event][0](org)
        for org in Organization.objects.filter(pk__in=sorted(organization_ids))
    }


def handle_many(event: str, items: list[tuple[int, dict]], recipients: dict[int, list[str]]) -> None:
    """Queue the e-mails of `event` for each (organization id, data), to `recipients`."""
    from podpiska.notifications.email import queue_emails_later

    if event in HANDLERS and (letters := _letters(event, items, recipients)):
        queue_emails_later(HANDLERS[event][1], letters)


def _letters(event: str, items, recipients) -> list[tuple[list[str], dict]]:
    _, _, keys = HANDLERS[event]
    return [
        ([address], {"organization_id": org_id, **{key: data.get(key) for key in keys}})
        for org_id, data in items
        for address in recipients.get(org_id, ())
    ]


def letter_rows(event: str, *, organization, data: dict) -> list[dict]:
    """The e-mail rows an event calls for (`email.letter_rows`), not written: the caller
    writes them with its other rows and calls `email.send_when_committed`. Most events
    e-mail no one."""
    if event not in HANDLERS:
        return []
    from podpiska.notifications import email

    letters = _letters(event, [(organization.pk, data)], {organization.pk: _to(event, organization, data)})
    return email.letter_rows(HANDLERS[event][1], letters)


def handle(event: str, *, organization, data: dict) -> None:
    """Queue the e-mails an event calls for; most events e-mail no one."""
    if event in HANDLERS:
        handle_many(event, [(organization.pk, data)], {organization.pk: _to(event, organization, data)})


def _to(event: str, organization, data: dict) -> list[str]:
    """Who gets the letter of `event` for one organization."""
    who = HANDLERS[event][0]
    return who(organization, data) if who in _BY_DATA else who(organization)
