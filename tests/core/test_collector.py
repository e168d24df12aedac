"""The cycle collector paused for a statement pass."""

import gc

import pytest

from podpiska.core import collector


def test_the_collector_comes_back_after_a_pass_even_a_failed_one():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("the import failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
