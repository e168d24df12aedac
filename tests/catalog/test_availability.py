from datetime import timedelta

from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.subscriptions.availability import State, available_actions
from podpiska.subscriptions.recommend import pick_upgrade
from podpiska.subscriptions.timeline import period_end
from tests.conftest import NOW
from tests.factories import make_subscription


def test_paid_organization_renews_and_upgrades_after_current_end(tariffs, org):
    sub = make_subscription(org, tariffs["200"], NOW - timedelta(days=200), used=2_000)
    actions = available_actions(org, NOW)
    assert actions.state == State.PAID
    assert actions.current == sub
    assert actions.renew.tariff.code == "200"
    assert actions.renew.starts_at == sub.ends_at
    assert actions.renew.ends_at == period_end(sub.ends_at, 12, org.tz)
    assert actions.upgrade is not None and actions.upgrade.starts_at == sub.ends_at
    assert not actions.on_maximum and not actions.can_request_limit_increase
    assert [v.tariff.code for v in actions.catalog] == ["100", "200", "400", "max"]


def test_upgrade_covers_the_forecast(tariffs, org):
    # 200 days into the term, 9 000 used: about 16 400 a year -> Компас 400 (50 000).
    sub = make_subscription(org, tariffs["200"], NOW - timedelta(days=200), used=9_000)
    upgrade = pick_upgrade(sub, 9_000, NOW)
    assert upgrade.tariff.code == "400"
    assert upgrade.forecast > 10_000
    # 9 000 in 200 days: the 10 000 run out on day 222, 19.12.2026, before the term ends.
    assert upgrade.reason.startswith("При нынешнем темпе лимит закончится ~19.12.2026")
    assert "Лимита тарифа «Компас 400»" in upgrade.reason


def test_upgrade_to_the_smallest_tariff_that_covers(tariffs, org):
    # 2 900 of 3 000 used in 200 days: about 5 300 a year -> Компас 200 (10 000), not 400.
    sub = make_subscription(org, tariffs["100"], NOW - timedelta(days=200), used=2_900)
    assert pick_upgrade(sub, 2_900, NOW).tariff.code == "200"


def test_upgrade_is_the_next_rank_when_use_is_low(tariffs, org):
    sub = make_subscription(org, tariffs["100"], NOW - timedelta(days=200), used=100)
    upgrade = pick_upgrade(sub, 100, NOW)
    assert upgrade.tariff.code == "200"
    # The limit lasts at this pace: the reason is what the tariff adds, never «хватает».
    assert upgrade.reason.startswith("«Компас 200» даёт 10\u00a0000 выгрузок за срок вместо 3\u00a0000")
    assert "хватает" not in upgrade.reason and "около" not in upgrade.reason


def test_upgrade_too_early_to_forecast(tariffs, org):
    sub = make_subscription(org, tariffs["100"], NOW - timedelta(days=2), used=2_900)
    assert pick_upgrade(sub, 2_900, NOW).tariff.code == "200"


def test_maximum_tariff_has_no_upgrade_but_may_ask_for_more(tariffs, org):
    make_subscription(org, tariffs["max"], NOW - timedelta(days=30))
    actions = available_actions(org, NOW)
    assert actions.upgrade is None
    assert actions.on_maximum and actions.can_request_limit_increase
    assert actions.renew.tariff.code == "max"


def test_free_after_paid_offers_to_resume(tariffs, org):
    make_subscription(org, tariffs["100"], NOW - timedelta(days=400))
    actions = available_actions(org, NOW)
    assert actions.state == State.FREE_AFTER_PAID
    assert actions.resume.tariff.code == "100"
    assert actions.resume.starts_at == NOW
    assert actions.renew is None and actions.upgrade is None and actions.default_offer is None


def test_never_paid_gets_tariff_400_by_default(tariffs, org):
    actions = available_actions(org, NOW)
    assert actions.state == State.FREE_NEVER_PAID
    assert actions.default_offer.tariff.code == "400"
    assert actions.default_offer.field_set == "extended"
    assert actions.resume is None


def test_default_offer_comes_from_configuration(tariffs, org, settings):
    settings.PODPISKA = {**settings.PODPISKA, "DEFAULT_OFFER_TARIFF": "200"}
    assert available_actions(org, NOW).default_offer.tariff.code == "200"


def test_archived_tariff_renews_as_its_successor(tariffs, org):
    old = Tariff.objects.create(
        code="150-old", name="Компас 150 (архив)", rank=15, price=90_000_00, export_limit=5_000,
        is_archived=True, successor=tariffs["200"],
    )
    make_subscription(org, old, NOW - timedelta(days=100))
    actions = available_actions(org, NOW)
    assert actions.renew.tariff.code == "200"
    assert "150-old" not in [v.tariff.code for v in actions.catalog]


def test_resume_of_archived_tariff_uses_successor(tariffs, org):
    tariffs["100"].is_archived = True
    tariffs["100"].successor = tariffs["200"]
    tariffs["100"].save()
    make_subscription(org, tariffs["100"], NOW - timedelta(days=400))
    assert available_actions(org, NOW).resume.tariff.code == "200"


def test_open_individual_offers_are_listed_until_they_expire(tariffs, org):
    offer = IndividualOffer.objects.create(
        organization=org, kind="custom", tariff_name="Особый", price=100_000_00, export_limit=20_000,
        field_set="extended", valid_until=NOW.date(), created_at=NOW,
    )
    assert available_actions(org, NOW).offers == [offer]
    assert available_actions(org, NOW + timedelta(days=1)).offers == []


def test_after_a_paid_upgrade_renewal_continues_it_and_upgrade_goes_above(tariffs, org):
    current = make_subscription(org, tariffs["100"], NOW - timedelta(days=200), used=2_900)
    make_subscription(org, tariffs["200"], current.ends_at)
    actions = available_actions(org, NOW)
    assert actions.current == current
    assert actions.renew.tariff.code == "200"
    assert actions.upgrade.tariff.code == "400"


def test_scheduled_maximum_hides_the_upgrade(tariffs, org):
    current = make_subscription(org, tariffs["400"], NOW - timedelta(days=200))
    make_subscription(org, tariffs["max"], current.ends_at)
    actions = available_actions(org, NOW)
    assert actions.upgrade is None and actions.on_maximum
    assert not actions.can_request_limit_increase  # the add-on goes to the tariff in force


def test_menu_queries_do_not_grow_with_the_catalog(tariffs, org, django_assert_max_num_queries):
    from podpiska.catalog.models import Tariff

    make_subscription(org, tariffs["100"], NOW - timedelta(days=200))
    with django_assert_max_num_queries(12):
        available_actions(org, NOW)
    for n in range(5):
        Tariff.objects.create(code=f"x{n}", name=f"X{n}", rank=50 + n, price=1_00, export_limit=10)
    with django_assert_max_num_queries(12):
        available_actions(org, NOW)


def test_upgrade_and_renewal_look_at_the_scheduled_subscriptions(tariffs, org):
    """Current 200, then 400 and 200 paid ahead (an upgrade, then a renewal): «Улучшить»
    goes above 400, «Продлить» continues the latest; with the maximum paid ahead, no
    upgrade at all."""
    current = make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    upgrade_paid = make_subscription(org, tariffs["400"], current.ends_at)
    renewal_paid = make_subscription(org, tariffs["200"], upgrade_paid.ends_at)
    actions = available_actions(org, NOW)
    assert actions.upgrade.tariff.code == "max"
    assert actions.renew.tariff.code == "200"
    assert actions.renew.starts_at == renewal_paid.ends_at
    make_subscription(org, tariffs["max"], renewal_paid.ends_at)
    actions = available_actions(org, NOW)
    assert actions.upgrade is None and actions.on_maximum
    assert actions.renew.tariff.code == "max"


def test_nothing_is_resumed_or_offered_while_a_paid_term_is_to_come(tariffs, org):
    ended = make_subscription(org, tariffs["100"], NOW - timedelta(days=400))
    assert available_actions(org, NOW).resume is not None
    make_subscription(org, tariffs["200"], NOW + timedelta(days=3))
    actions = available_actions(org, NOW)
    assert actions.state == State.FREE_AFTER_PAID and actions.resume is None
    assert ended.ends_at < NOW
