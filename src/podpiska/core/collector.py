"""Python's cycle collector, paused for a pass over a whole bank statement."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cycle collector for the block; leave it as the caller had it.

    A statement of a year is millions of small objects alive at once (documents,
    rows, ids) that form no cycles: the collector walks them again and again as they
    are made and frees nothing, a tenth of a parse and an eighth of an import.
    Reference counting still frees everything as usual; cycles wait for the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
