from datetime import date, timedelta

from podpiska.billing.models import Order
from podpiska.billing.warnings import WarningState, expiry_warning
from podpiska.subscriptions.timeline import local_midnight
from tests.conftest import NOW
from tests.factories import make_subscription, start_subscription


def _ending_on(org, tariff, last_day: date):
    end = local_midnight(last_day + timedelta(days=1), org.tz)
    return make_subscription(org, tariff, end - timedelta(days=365), ends_at=end)


def test_no_warning_far_from_the_end(tariffs, org):
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=40))
    assert expiry_warning(org, NOW).state == WarningState.NONE


def test_warning_within_30_days_gives_last_day_to_pay_by_transfer(tariffs, org):
    _ending_on(org, tariffs["200"], date(2026, 12, 7))  # a Monday
    warning = expiry_warning(org, NOW)
    assert warning.state == WarningState.EXPIRING
    assert warning.last_day == date(2026, 12, 7)
    assert warning.pay_by_bank_transfer == date(2026, 12, 2)  # 3 business days before
    assert warning.days_left == 10


def test_paid_renewal_removes_the_warning(tariffs, org):
    _ending_on(org, tariffs["200"], date(2026, 12, 7))
    start_subscription(organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW)
    assert expiry_warning(org, NOW).state == WarningState.NONE


def test_pending_renewal_shows_awaiting_payment(tariffs, org):
    _ending_on(org, tariffs["200"], date(2026, 12, 7))
    Order.objects.create(
        organization=org, kind="renew", tariff=tariffs["200"], requisites=org.requisites(),
        payment_method="invoice", idempotency_key="k1", created_at=NOW, **tariffs["200"].terms(),
    )
    assert expiry_warning(org, NOW).state == WarningState.AWAITING_PAYMENT


def test_free_organization_has_no_warning(tariffs, org):
    assert expiry_warning(org, NOW).state == WarningState.NONE
