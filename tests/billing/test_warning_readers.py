"""The expiry warning is worked out in one place (`billing.warnings.expiry_facts`): the
menu, the API, the staff dashboard, the reminder letter and the `subscription.expiring`
event say the same last day, days left, pay-by date and «ожидает оплаты»."""

from datetime import date, timedelta

import pytest

from podpiska.api.entitlements import entitlements
from podpiska.billing.models import Order
from podpiska.billing.reminders import expiry_context, send_due_reminders
from podpiska.billing.warnings import WarningState, expiry_warning, expiry_warnings
from podpiska.notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from podpiska.staff.reports import ending_soon
from podpiska.subscriptions.selectors import fetch_paid_timeline
from podpiska.subscriptions.timeline import local_midnight
from tests.conftest import NOW
from tests.factories import make_org, make_subscription

pytestmark = pytest.mark.django_db

LAST_DAY = date(2026, 12, 11)  # a Friday, 14 days after NOW: a reminder is due today
PAY_BY = date(2026, 12, 8)  # 3 business days before


def _ending_on(org, tariff, last_day: date):
    end = local_midnight(last_day + timedelta(days=1), org.tz)
    return make_subscription(org, tariff, end - timedelta(days=365), ends_at=end)


@pytest.mark.parametrize("renewal_ordered", [False, True])
def test_every_reader_says_the_same(clock, tariffs, org, renewal_ordered):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    _ending_on(org, tariffs["200"], LAST_DAY)
    if renewal_ordered:
        Order.objects.create(
            organization=org, kind="renew", tariff=tariffs["200"], requisites=org.requisites(),
            payment_method="invoice", idempotency_key="k1", created_at=NOW, **tariffs["200"].terms(),
        )
    state = WarningState.AWAITING_PAYMENT if renewal_ordered else WarningState.EXPIRING

    warning = expiry_warning(org, NOW)
    assert (warning.state, warning.last_day, warning.pay_by_bank_transfer, warning.days_left) == (
        state, LAST_DAY, PAY_BY, 14,
    )
    # The menu passes the timeline it fetched: the same answer.
    assert expiry_warning(org, NOW, timeline=fetch_paid_timeline(org, NOW)) == warning

    api = entitlements(org, NOW)["warning"]
    assert api == {"state": state, "last_day": LAST_DAY, "pay_by_bank_transfer": PAY_BY}

    [row] = ending_soon(NOW)
    assert (row.organization, row.last_day, row.days_left, row.pay_by_bank_transfer, row.awaiting_payment) == (
        org, LAST_DAY, 14, PAY_BY, renewal_ordered,
    )

    assert send_due_reminders(NOW) == 1
    letter = expiry_context(EmailMessage.objects.get(template="expiry_reminder").context)
    assert (letter["last_day"], letter["days_left"], letter["pay_by_bank_transfer"], letter["awaiting_payment"]) == (
        LAST_DAY, 14, PAY_BY, renewal_ordered,
    )
    event = WebhookDelivery.objects.get(event="subscription.expiring").payload["data"]
    assert (event["last_day"], event["days_left"], event["pay_by_bank_transfer"]) == (
        LAST_DAY.isoformat(), 14, PAY_BY.isoformat(),
    )


def test_the_dashboard_lists_exactly_the_organizations_warned(clock, tariffs, org):
    """`expiry_warnings` (many at once) against `expiry_warning` (one at a time)."""
    _ending_on(org, tariffs["200"], LAST_DAY)
    renewed = make_org()
    current = _ending_on(renewed, tariffs["200"], NOW.date() + timedelta(days=3))
    make_subscription(renewed, tariffs["200"], current.ends_at)  # paid ahead: no warning
    far = make_org()
    _ending_on(far, tariffs["100"], NOW.date() + timedelta(days=40))
    free = make_org()
    edge = make_org()
    _ending_on(edge, tariffs["100"], NOW.date() + timedelta(days=29))
    listed = {subscription.organization_id: facts for subscription, facts in expiry_warnings(NOW)}
    for organization in (org, renewed, far, free, edge):
        warning = expiry_warning(organization, NOW)
        assert listed.get(organization.pk) == (warning if warning.shown else None)
    assert [row.organization for row in ending_soon(NOW)] == [org, edge]


def test_the_dashboard_reads_the_same_whatever_the_number_warned(
    clock, tariffs, org, django_assert_max_num_queries
):
    _ending_on(org, tariffs["200"], LAST_DAY)
    with django_assert_max_num_queries(3) as few:
        assert len(ending_soon(NOW)) == 1
    for n in range(6):
        _ending_on(make_org(), tariffs["100"], NOW.date() + timedelta(days=n))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ending_soon(NOW)) == 7
