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


# ---------------------------------------------------------------- edge-sample lines
# Both lanes write the samples their scoreboard judges in one line format (the tl
# recorder's): the lane-equivalence test compares them, so the format must lose nothing.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from model.hw import ArHs, ArPresent, AwHs, AwPresent, BHs, LiteAccess, RBeat, WBeat  # noqa: E402
from tb.monitor import EdgeSample, LiteResponse, format_sample  # noqa: E402
from tb.tl import parse_line  # noqa: E402

_u = st.integers
_acc_w = st.builds(LiteAccess, write=st.just(True), addr=_u(0, 0xFFFF), data=_u(0, 2**32 - 1),
                   strb=_u(0, 15))
_acc_r = st.builds(LiteAccess, write=st.just(False), addr=_u(0, 0xFFFF))
_dma = st.one_of(
    st.builds(ArPresent, id=_u(0, 15), addr=_u(0, 2**64 - 1), len=_u(0, 255), user=_u(0, 15),
              size=_u(0, 7)),
    st.builds(AwPresent, id=_u(0, 15), addr=_u(0, 2**64 - 1), len=_u(0, 255), user=_u(0, 15),
              size=_u(0, 7)),
    st.builds(ArHs, id=_u(0, 15)), st.builds(AwHs, id=_u(0, 15)),
    st.builds(RBeat, id=_u(0, 15), data=_u(0, 2**64 - 1), resp=_u(0, 3), last=st.booleans()),
    st.builds(WBeat, data=_u(0, 2**64 - 1), strb=_u(0, 255), last=st.booleans()),
    st.builds(BHs, id=_u(0, 15), resp=_u(0, 3)))


@st.composite
def _samples(draw) -> EdgeSample:
    edge = draw(_u(1, 2**40))
    s = EdgeSample(edge=edge, irq_loc=draw(st.booleans()), irq_host=draw(_u(0, 3)),
                   dma=draw(st.lists(_dma, max_size=7)))
    for port in ("loc", "host"):
        acc = draw(st.one_of(st.none(), _acc_w, _acc_r))
        setattr(s, port, acc)
        if acc is not None and acc.write:   # a read beside an executed write
            setattr(s, f"{port}_also", draw(st.one_of(st.none(), _acc_r)))
        rsps = draw(st.lists(st.builds(LiteResponse, edge=st.just(edge), write=st.booleans(),
                                       resp=_u(0, 3), data=_u(0, 2**32 - 1)), max_size=2))
        rsps.sort(key=lambda r: not r.write)   # B before R, as the monitor and recorder
        setattr(s, f"{port}_resp", tuple(LiteResponse(r.edge, r.write, r.resp,
                                                      0 if r.write else r.data) for r in rsps))
    return s


@settings(max_examples=300, deadline=None)
@given(_samples())
def test_format_sample_round_trips_through_the_recorder_parser(s: EdgeSample) -> None:
    line = format_sample(s)
    assert parse_line(line, 3) == s
    assert format_sample(parse_line(line, 3)) == line


def test_format_sample_rejects_an_unknown_event() -> None:
    with pytest.raises(TypeError, match="not a DMA event"):
        format_sample(EdgeSample(edge=1, dma=["bogus"]))


def test_run_cols_are_the_run_items() -> None:
    """A beat run as columns (tb/tl.py run_cols) holds exactly what its items hold (R
    beats with OKAY, W beats, stalls at their offsets); runs whose beats cannot be one
    column set (R and W mixed, two IDs, RLAST before the last edge, no beat at all) give
    None, so they go item by item; a malformed item gives None here and a clear error
    from run_items."""
    from tb.tl import TlError, run_cols, run_items

    def both(line: str):
        t = line.split()
        return run_cols(t), run_items(t, line)

    cols, xs = both("10 0 Z s r:8:5 r:8:ff s l:8:1")
    assert cols is not None and cols.kind == "r" and cols.n == len(xs) == 5
    assert cols.offs == [i for i, x in enumerate(xs) if x is not None] == [1, 2, 4]
    assert cols.datas == [x.data for x in xs if x is not None] == [5, 0xFF, 1]
    assert cols.rid == 8 and cols.rlast and all(x.resp == 0 for x in xs if x is not None)
    cols, xs = both("10 0 Z w:5:ff:0 s w:7:f:1")
    assert cols is not None and cols.kind == "w" and (cols.n, cols.offs) == (3, [0, 2])
    assert (cols.datas, cols.strbs, cols.lasts) == ([5, 7], [0xFF, 0xF], [False, True])
    assert [x.last for x in xs if x is not None] == cols.lasts
    for line in ("10 0 Z r:8:5 w:5:ff:0", "10 0 Z w:5:ff:0 r:8:5", "10 0 Z r:8:5 r:9:5",
                 "10 0 Z l:8:5 s", "10 0 Z s s", "10 0 Z r:8"):
        assert run_cols(line.split()) is None, line
    with pytest.raises(TlError, match="not understood"):
        run_items("10 0 Z r:8".split(), "10 0 Z r:8")
