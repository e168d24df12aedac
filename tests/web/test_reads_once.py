"""One request reads each thing once: the menu is fetched once and shared by the header
and the page, its paid timeline is passed to the actions, the warning and the lapsed
notice, and a checkout checks the purchase against the actions the menu read.

Exact query counts: a new read on these pages should be a decision, not an accident."""

from django.urls import reverse

from podpiska.billing.models import Order
from tests.web.test_checkout import HX, checkout_data

# The tariffs on sale (`catalog.tariffs.on_sale`): read once per `available_actions`.
CATALOG = 'WHERE (NOT "catalog_tariff"."is_archived" AND NOT "catalog_tariff"."is_free")'
SUBSCRIPTIONS = 'FROM "subscriptions_subscription"'


def reads(queries, marker: str) -> int:
    return sum(1 for query in queries if query["sql"].startswith("SELECT") and marker in query["sql"])


def test_settings_page_reads_each_thing_once(signed_in, paid_org, django_assert_num_queries):
    # Session, user, memberships; the page's subscriptions, limit request and orders;
    # the menu: the limit period (subscription in force, period row), the paid
    # timeline, the catalog, the use so far (upgrade), offers, a pending renewal (the
    # warning) and the unpaid order shown.
    with django_assert_num_queries(14) as queries:
        response = signed_in.get(reverse("web:settings"))
    assert response.status_code == 200
    assert reads(queries, CATALOG) == 1
    # The page's list, the subscription in force for the limit and the paid timeline
    # (eight reads before the timeline was fetched once and passed down).
    assert reads(queries, SUBSCRIPTIONS) == 3
    assert reads(queries, 'FROM "accounts_membership"') == 1


def test_home_page_reads_the_menu_once(signed_in, paid_org, django_assert_num_queries):
    with django_assert_num_queries(11) as queries:
        response = signed_in.get(reverse("web:home"))
    assert response.status_code == 200
    assert reads(queries, CATALOG) == 1
    assert reads(queries, SUBSCRIPTIONS) == 2


def test_checkout_post_computes_what_may_be_bought_once(signed_in, paid_org, django_assert_num_queries):
    """The choice is found in the menu's actions, the order is checked against the same
    actions, and the header swapped in after the order reads only the pending order and
    the warning's state again (the subscriptions, the limit and the actions stand)."""
    data = checkout_data(signed_in)
    with django_assert_num_queries(43) as queries:
        response = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    assert response.status_code == 200
    assert Order.objects.filter(organization=paid_org).count() == 1
    assert reads(queries, CATALOG) == 1  # twelve: three `available_actions` of four each
    # The menu's limit period and paid timeline, and the invoice's planned term.
    assert reads(queries, SUBSCRIPTIONS) == 3
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and "Продление ожидает оплаты" in html
