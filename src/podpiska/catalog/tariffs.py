"""Which tariffs are on sale, and what replaces an archived one."""

from podpiska.catalog.models import Tariff


def on_sale() -> list[Tariff]:
    return list(Tariff.objects.filter(is_archived=False, is_free=False).order_by("rank", "code"))


def maximum_rank(sale: list[Tariff] | None = None) -> int | None:
    """The highest rank on sale (`sale`: the list `on_sale` gave, when already read)."""
    ranks = [t.rank for t in (on_sale() if sale is None else sale)]
    return max(ranks) if ranks else None


def is_maximum(tariff: Tariff, sale: list[Tariff] | None = None) -> bool:
    top = maximum_rank(sale)
    return top is not None and tariff.rank >= top


def sellable_version(tariff: Tariff) -> Tariff | None:
    """The tariff itself if on sale, else its successor chain's first one on sale."""
    seen = set()
    current = tariff
    while current is not None and current.pk not in seen:
        if current.on_sale:
            return current
        seen.add(current.pk)
        current = current.successor
    return None


def default_offer_tariff() -> Tariff | None:
    from django.conf import settings

    code = settings.PODPISKA["DEFAULT_OFFER_TARIFF"]
    tariff = Tariff.objects.filter(code=code).first()
    return sellable_version(tariff) if tariff else None
