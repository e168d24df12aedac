import pytest

from podpiska.billing.actions import place_order
from podpiska.billing.models import OrderKind, PaymentMethod


@pytest.fixture
def order_for(clock):
    """Place an order the way the checkout does (defaults: renewal by invoice)."""

    def make(org, user, *, kind=OrderKind.RENEW, tariff=None, offer=None,
             method=PaymentMethod.INVOICE, key=None, requisites=None):
        return place_order(
            organization=org, user=user, kind=kind, payment_method=method,
            idempotency_key=key or f"key-{org.pk}-{kind}-{getattr(tariff, 'code', 'offer')}-{method}",
            tariff=tariff, offer=offer, requisites=requisites,
        )

    return make
