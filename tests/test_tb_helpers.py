"""Testbench helpers that run without a simulator: a wait that runs out must fail loudly.

`tb.test_directed.until` used to return silently when its condition never held, so the
asserts after it judged the wrong moment; these tests pin that it raises, with what it
waited for, how long, the edge, the seed and the reproduce command.
"""

from __future__ import annotations

import asyncio

import pytest

from tb.test_directed import until


class FakeTB:
    """The part of tb.env.TB that until() uses: time advances only through cycles()."""

    seed = 42

    def __init__(self) -> None:
        self.t = 0

    async def cycles(self, n: int) -> None:
        self.t += n

    def now(self) -> int:
        return self.t


def test_until_returns_the_cycles_waited() -> None:
    tb = FakeTB()
    assert asyncio.run(until(tb, lambda: tb.t >= 12, "t reaches 12", cycles=100, step=4)) == 12
    assert asyncio.run(until(tb, lambda: True, "already true")) == 0


def test_until_awaits_an_async_condition() -> None:
    tb = FakeTB()

    async def cond() -> bool:
        return tb.t >= 8

    assert asyncio.run(until(tb, cond, "async condition", cycles=100, step=8)) == 8


def test_until_raises_with_what_cycles_edge_seed_and_reproduce() -> None:
    tb = FakeTB()
    with pytest.raises(TimeoutError, match=r"until: irq_loc high not true after 40 cycles "
                                           r"\(edge 40, seed 42\); reproduce: make sim "):
        asyncio.run(until(tb, lambda: False, "irq_loc high", cycles=40, step=4))


@pytest.mark.parametrize(("cycles", "step"), [(10, 0), (10, -1), (-1, 4)])
def test_until_rejects_bad_arguments(cycles: int, step: int) -> None:
    with pytest.raises(ValueError, match="until: step"):
        asyncio.run(until(FakeTB(), lambda: True, "x", cycles=cycles, step=step))
