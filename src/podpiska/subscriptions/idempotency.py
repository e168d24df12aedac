"""At most once per Idempotency-Key, for consuming and for refunding alike.

The earlier request is found by its key; a repeat with the same fingerprint (the
parameters that decide the answer) gets the first answer back, a different request
under the same key is refused. The unique (organization, idempotency_key) of the
record is what makes it right under concurrency: the loser of a race fails to write
its record, its work rolls back with it, and it replays the winner's answer.
"""

from collections.abc import Callable
from contextlib import nullcontext
from typing import TypeVar

from django.db import IntegrityError, router, transaction
from django.db.models import Model

T = TypeVar("T")


def at_most_once(
    model: type[Model],
    key: dict,
    fingerprint: dict,
    *,
    act: Callable[[], T],
    replay: Callable[[Model], T],
    refuse: Callable[[Model], Exception],
    look_first: bool = False,
    lost_race: tuple[type[Exception], ...] = (IntegrityError,),
    atomic: bool = True,
) -> T:
    """`act()` in a transaction, or the answer of the earlier request under the key.

    `model` and `key`: where the record under this key is (at most one; looked up only
    when needed, the query is not even built otherwise). `look_first`: look the key up
    before acting — worth a query only where acting is costly to undo. `lost_race`:
    the errors a concurrent request with this key may cause us; when one is raised and
    an earlier record exists, that record answers, otherwise the error stands.
    `atomic=False`: `act()` writes its record together with its work in one statement
    (or one transaction of its own), so no transaction is opened around it — in
    autocommit that saves two round trips. Inside a caller's transaction it still runs
    in a savepoint, so that losing the race leaves the caller's transaction usable.
    """
    if look_first and (earlier := _earlier(model, key)) is not None:
        return _replay(earlier, fingerprint, replay, refuse)
    using = router.db_for_write(model)
    in_transaction = transaction.get_connection(using).in_atomic_block
    try:
        with transaction.atomic(using=using) if atomic or in_transaction else nullcontext():
            return act()
    except lost_race:
        earlier = _earlier(model, key)
        if earlier is None:
            raise
        return _replay(earlier, fingerprint, replay, refuse)


def _earlier(model: type[Model], key: dict) -> Model | None:
    return model._default_manager.filter(**key).first()


def _replay(earlier, fingerprint: dict, replay, refuse):
    if any(getattr(earlier, name) != value for name, value in fingerprint.items()):
        raise refuse(earlier)
    return replay(earlier)
