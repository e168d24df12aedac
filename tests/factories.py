"""Test data builders: real rows in the real database, never mocks."""

import itertools
from datetime import datetime

from podpiska.accounts.models import Membership, Organization, User
from podpiska.catalog.models import Tariff
from podpiska.core.requisites import inn_check_digits, ogrn_check_digit
from podpiska.demo.data import load_catalog
from podpiska.subscriptions.actions import PaidTerm, start_subscriptions
from podpiska.subscriptions.models import QuotaPeriod, Subscription
from podpiska.subscriptions.timeline import period_end

_seq = itertools.count(1)


def catalog() -> dict[str, Tariff]:
    return load_catalog()


def make_user(email: str | None = None, password: str = "secret-pass", **extra) -> User:
    n = next(_seq)
    return User.objects.create_user(email or f"user{n}@example.com", password, **extra)


def make_org(*, user: User | None = None, role: str = "owner", entrepreneur: bool = False, **fields) -> Organization:
    n = next(_seq)
    if entrepreneur:
        inn = inn_check_digits(f"50{n:08d}")
        defaults = dict(kpp="", ogrn=ogrn_check_digit(f"30450{n:09d}"))
    else:
        inn = inn_check_digits(f"77{n:07d}")
        defaults = dict(kpp="770101001", ogrn=ogrn_check_digit(f"10277{n:07d}"))
    defaults.update(
        inn=inn,
        name=f"Общество с ограниченной ответственностью «Тест {n}»",
        short_name=f"ООО «Тест {n}»",
        legal_address="125009, г. Москва, ул. Тверская, д. 1",
        email=f"docs{n}@example.com",
    )
    defaults.update(fields)
    org = Organization.objects.create(**defaults)
    if user is not None:
        Membership.objects.create(user=user, organization=org, role=role)
    return org


def make_subscription(org: Organization, tariff: Tariff, starts_at: datetime, used: int = 0, **over) -> Subscription:
    ends_at = over.pop("ends_at", None)
    terms = {**tariff.terms(), **over}
    ends_at = ends_at or period_end(starts_at, terms["term_months"], org.tz)
    sub = Subscription.objects.create(
        organization=org, tariff=tariff, starts_at=starts_at, ends_at=ends_at,
        created_at=starts_at, **terms,
    )
    if used:
        QuotaPeriod.objects.create(
            organization=org, subscription=sub, starts_at=sub.starts_at, ends_at=sub.ends_at,
            limit=sub.total_limit, used=used, field_set=sub.field_set,
        )
    return sub


def start_subscription(
    *,
    organization: Organization,
    tariff: Tariff,
    terms: dict,
    confirmed_at: datetime,
    order=None,
    actor=None,
) -> Subscription:
    """`start_subscriptions` for one purchase (a test shortcut); returns the subscription."""
    purchase = PaidTerm(organization.pk, tariff.pk, terms, getattr(order, "pk", None))
    [row] = start_subscriptions([purchase], confirmed_at=confirmed_at, actor=actor)
    return Subscription.objects.select_related("tariff").get(pk=row["id"])
