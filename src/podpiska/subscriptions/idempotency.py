"""At most once per Idempotency-Key, for consuming and for refunding alike.

The earlier request is found by its key; a repeat with the same fingerprint (the
parameters that decide the answer) gets the first answer back, a different request
under the same key is refused. The unique (organization, idempotency_key) of the
record is what makes it right under concurrency: the loser of a race fails to write
its record, its work rolls back with it, and it replays the winner's answer.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet

T = TypeVar("T")


def at_most_once(
    keyed: QuerySet,
    fingerprint: dict,
    *,
    act: Callable[[], T],
    replay: Callable[[Model], T],
    refuse: Callable[[Model], Exception],
    look_first: bool = False,
    lost_race: tuple[type[Exception], ...] = (IntegrityError,),
) -> T:
    """`act()` in a transaction, or the answer of the earlier request under the key.

    `keyed`: the records under this key (at most one). `look_first`: look the key up
    before acting — worth a query only where acting is costly to undo. `lost_race`:
    the errors a concurrent request with this key may cause us; when one is raised and
    an earlier record exists, that record answers, otherwise the error stands.
    """
    if look_first and (earlier := keyed.first()) is not None:
        return _replay(earlier, fingerprint, replay, refuse)
    try:
        with transaction.atomic():
            return act()
    except lost_race:
        earlier = keyed.first()
        if earlier is None:
            raise
        return _replay(earlier, fingerprint, replay, refuse)


def _replay(earlier, fingerprint: dict, replay, refuse):
    if any(getattr(earlier, name) != value for name, value in fingerprint.items()):
        raise refuse(earlier)
    return replay(earlier)
