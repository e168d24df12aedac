"""Staff groups «billing» and «support» and what each may do in /staff/.

Support staff see everything they need to answer customers but cannot touch money:
confirming a payment needs `billing.add_payment`, matching a queued one
`billing.change_payment`, importing a statement `billing.add_statementimport` — the
billing group has them, the support group does not. Views and admin check these.
"""

from django.contrib.auth.models import Group, Permission

BILLING = "billing"
SUPPORT = "support"

# Permission codenames, "<app>.<codename>", checked by the back-office views.
CONFIRM_PAYMENT = "billing.add_payment"
MATCH_PAYMENT = "billing.change_payment"
IMPORT_STATEMENT = "billing.add_statementimport"
MAKE_OFFER = "catalog.add_individualoffer"
WITHDRAW_OFFER = "catalog.change_individualoffer"
ANSWER_LIMIT_REQUEST = "support.change_limitincreaserequest"
ANSWER_SUPPORT_REQUEST = "support.change_supportrequest"
ARCHIVE_TARIFF = "catalog.change_tariff"
CREATE_TARIFF = "catalog.add_tariff"
VIEW_ORGANIZATION = "accounts.view_organization"
VIEW_CLOSING_DOCUMENTS = "billing.view_closingdocument"
ANNUL_CLOSING_DOCUMENT = "billing.change_closingdocument"

_VIEW_EVERYTHING = [
    "accounts.view_organization", "accounts.view_user", "accounts.view_membership",
    "subscriptions.view_subscription", "subscriptions.view_quotaperiod", "subscriptions.view_exportrecord",
    "catalog.view_tariff", "catalog.view_individualoffer",
    "billing.view_order", "billing.view_invoice", "billing.view_payment",
    "billing.view_statementimport", "billing.view_onlinepayment", VIEW_CLOSING_DOCUMENTS,
    "support.view_supportrequest", "support.view_limitincreaserequest",
    "notifications.view_emailmessage", "notifications.view_remindersent",
    "notifications.view_webhookendpoint", "notifications.view_webhookdelivery",
    "audit.view_auditrecord",
]

GROUP_PERMISSIONS = {
    BILLING: _VIEW_EVERYTHING + [
        CONFIRM_PAYMENT, MATCH_PAYMENT, IMPORT_STATEMENT, "billing.change_order",
        ANNUL_CLOSING_DOCUMENT,
        MAKE_OFFER, WITHDRAW_OFFER, ANSWER_LIMIT_REQUEST,
        CREATE_TARIFF, ARCHIVE_TARIFF,
        "notifications.change_emailmessage", "notifications.change_webhookdelivery",
    ],
    SUPPORT: _VIEW_EVERYTHING + [
        ANSWER_SUPPORT_REQUEST, ANSWER_LIMIT_REQUEST, MAKE_OFFER, WITHDRAW_OFFER,
        "notifications.change_emailmessage",
    ],
}


def setup_staff_groups() -> dict[str, Group]:
    """Create or update the groups; idempotent (runs after every migrate)."""
    groups = {}
    for name, perms in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups[name] = group
    return groups
