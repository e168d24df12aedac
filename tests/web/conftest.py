from datetime import timedelta

import pytest

from podpiska.accounts.models import Membership
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user


@pytest.fixture
def paid_org(tariffs, org, clock):
    """Компас 200 that ends in 10 days, 8 740 used (the demo's paid organization)."""
    make_subscription(org, tariffs["200"], NOW - timedelta(days=355), used=8_740,
                      ends_at=NOW.replace(hour=0) + timedelta(days=10))
    return org


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def member_client(client, paid_org):
    user = make_user()
    Membership.objects.create(user=user, organization=paid_org, role="member")
    client.force_login(user)
    return client


@pytest.fixture
def other_org(db):
    return make_org(user=make_user(), role="owner")
