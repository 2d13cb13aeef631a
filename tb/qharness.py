"""Shared helpers of the quiesce sweeps (tb/test_quiesce.py) and fault tests (tb/test_faults.py).

Not a test module. Memory layout: sources in ``[0, SRC_END)`` (random bytes, same in
AxiRam and the model image), one 64 KiB + 4 KiB destination slot per channel from
``DST_BASE``. Latency samples of every completed quiesce go, one JSON object per
line, to ``quiesce_latency.jsonl`` in ``$DD_REPORT_DIR`` (if set) or the run folder;
``tools/report.py`` aggregates them.
"""

from __future__ import annotations

import json
import os
import random
import weakref
from pathlib import Path

from model import addrmap, regs
from model.epc import apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from model.hw import BEAT, ArHs, AwHs, BHs, RBeat, burst_beats
from tb import knobs
from tb.agents import HostAgent
from tb.env import TB
from tb.rtl_backend import rtl_epc
from tb.test_directed import channels, split
from tb.tl import new_tb

SRC_END = 0x40000
DST_BASE = 0x40000
DST_SLOT = 0x11000
SWEEP = knobs.sweep()   # DD_SWEEP, validated (tb/knobs.py)
FULL = SWEEP == "full"
REPORT_FILE = "quiesce_latency.jsonl"


def report_path() -> Path:
    d = Path(os.environ.get("DD_REPORT_DIR") or os.getcwd())
    d.mkdir(parents=True, exist_ok=True)
    return d / REPORT_FILE


_fresh = not os.environ.get("DD_REPORT_DIR")  # run folder: start a new file per process


def dump_latency(tb: TB, test: str) -> int:
    """Append every completed quiesce of this test to the JSON lines file (in the run
    folder the first test of the process starts it afresh; a $DD_REPORT_DIR file is
    only appended to: `make report` empties the folder first)."""
    global _fresh
    recs = tb.timer.completed()
    mode = "w" if _fresh else "a"
    _fresh = False
    with open(report_path(), mode) as f:
        for r in recs:
            d = {"test": test, "sim": os.environ.get("DD_SIM", "?"), "seed": tb.seed,
                 "sweep": SWEEP, **r.as_dict()}
            d.setdefault("scenario", test)
            f.write(json.dumps(d, sort_keys=True) + "\n")
    tb.log.info("%s: %s -> %s", test, tb.timer.summary(), report_path())
    return len(recs)


def dst_of(tb: TB, g: int) -> int:
    return DST_BASE + channels(tb).index(g) * DST_SLOT


def rand_src(rng: random.Random, size: int, lo: int = 0, hi: int = SRC_END) -> int:
    """A random 8-byte aligned source of `size` bytes inside [lo, hi)."""
    return lo + 8 * rng.randrange(0, (hi - lo - size) // 8 + 1)


def set_load(tb: TB, faults, rng: random.Random, bp: float, lat: int) -> None:
    """Backpressure (stall probability per cycle on every memory channel) and latency
    (``faults`` is ``tb.faults`` of either lane)."""
    tb.set_backpressure(bp, rng)
    faults.read_latency = lat
    faults.write_latency = lat // 2


async def setup(dut, *, timeout: int = 400_000):
    """The run's TB (either lane), reset, sources filled; its faults, kernel API, backend."""
    tb = new_tb(dut)
    await tb.reset()
    traffic(tb)   # before any stimulus: wait_dma_event counts from a copy's START
    tb.fill_memory(0, SRC_END)
    faults = tb.faults
    epc, be = rtl_epc(tb, timeout=timeout)
    return tb, faults, epc, be


def est_cycles(size: int, bp: float, lat: int, max_burst: int = 8) -> int:
    """Rough length of a copy (for choosing reclaim points inside it)."""
    beats = size // 8
    bursts = max(1, -(-beats // max_burst))
    per_beat = 2.0 / max(0.05, 1.0 - bp)
    return int(beats * per_beat + bursts * (6 + 1.5 * lat) / max(0.05, 1.0 - bp)) + 8


def burst_count(tb: TB, src: int, dst: int, size: int) -> int:
    """How many bursts the mover splits a copy into (why: a test that anchors on "the
    final burst" must not assume a burst count; a random source address can add a 4 KiB
    split). Derived from model.hw.burst_beats, the one statement of the split rule."""
    if size <= 0 or size % BEAT:
        raise ValueError(f"copy size {size:#x} is not a positive multiple of {BEAT} bytes")
    n = 0
    while size:
        beats = burst_beats(tb.params.max_burst, src, dst, size)
        src, dst, size = src + BEAT * beats, dst + BEAT * beats, size - BEAT * beats
        n += 1
    return n


class Traffic:
    """Every m_axi handshake of every channel (AR, R beat, last R beat, AW, B) and the
    edge of each channel's latest START doorbell, as the scoreboard saw them (an
    observer: nothing is sampled twice, and the same stream exists on both lanes).

    Why: a test that waits for "the n-th burst of this copy" must count from the copy's
    START, not from the moment it starts waiting; on the transaction-level lane the
    doorbell write's completion reaches Python after the first AR may have happened.
    One per TB (``traffic(tb)``), installed by ``setup`` before any stimulus."""

    KINDS = {ArHs: "ar", RBeat: "r", AwHs: "aw", BHs: "b"}
    ALL_KINDS = ("ar", "r", "rlast", "aw", "b")

    def __init__(self, tb: TB) -> None:
        self.events: dict[int, list[tuple[int, str]]] = {}
        self.started: dict[int, int] = {}   # g -> edge of its latest START doorbell
        tb.sb.observers.append(self)
        # the R beats no sample carries (tb/scoreboard.py on_beat's steady path)
        tb.sb.beat_observers.append(self.beats)

    def __call__(self, s, res, model) -> None:
        for port in ("loc", "host"):
            a = getattr(s, port)
            if a is None or not a.write or not a.data & regs.DOORBELL_START_MASK:
                continue
            if port == "host":
                _, g, off = addrmap.decode_host(a.addr)
            else:
                d = addrmap.decode_local(a.addr)
                if d is None or d[0] != "win":
                    continue
                _, g, off = d
            if off == regs.DOORBELL:
                self.started[g] = s.edge
        for ev in s.dma:
            kind = self.KINDS.get(type(ev))
            if kind is not None:
                self._log(s.edge, kind, ev)

    def beats(self, edge: int, xs) -> None:
        """The beats at edges ``edge``, ``edge + 1``, ... that no sample showed."""
        for i, x in enumerate(xs):
            if type(x) is RBeat:
                self._log(edge + i, "r", x)

    def _log(self, edge: int, kind: str, ev) -> None:
        log = self.events.setdefault(ev.id, [])
        log.append((edge, kind))
        if kind == "r" and ev.last:
            log.append((edge, "rlast"))

    def of(self, g: int, kind: str, since: int) -> list[int]:
        """Edges of channel g's `kind` events after edge `since`."""
        if kind not in self.ALL_KINDS:
            raise ValueError(f"kind {kind!r}: valid kinds are {', '.join(self.ALL_KINDS)}")
        return [e for e, k in self.events.get(g, ()) if k == kind and e > since]


_TRAFFIC: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def traffic(tb: TB) -> Traffic:
    """The TB's Traffic log (created on first use; ``setup`` creates it first)."""
    t = _TRAFFIC.get(tb)
    if t is None:
        t = _TRAFFIC[tb] = Traffic(tb)
    return t


class DmaEdgeLog:
    """One channel's AR handshakes, last R beats and B handshakes (a view of the TB's
    Traffic log). Tests read it to place a command relative to the RTL's own traffic."""

    KINDS = ("ar", "rlast", "b")

    def __init__(self, tb: TB, g: int) -> None:
        self.g = g
        self.t = traffic(tb)

    def _edges(self, kind: str, since: int) -> list[int]:
        if kind not in self.KINDS:
            raise ValueError(f"kind {kind!r}: valid kinds are {sorted(self.KINDS)}")
        return self.t.of(self.g, kind, since - 1)

    def last(self, kind: str, since: int) -> int | None:
        """Edge of the latest `kind` event at or after edge `since` (None: none)."""
        edges = self._edges(kind, since)
        return edges[-1] if edges else None

    def first(self, kind: str, since: int) -> int | None:
        """Edge of the earliest `kind` event after edge `since` (None: none)."""
        edges = self._edges(kind, since + 1)
        return edges[0] if edges else None


async def wait_dma_event(tb: TB, g: int, kind: str, index: int = 0, timeout: int = 200_000) -> int:
    """Wait until channel g's `index`-th handshake of `kind` ("ar", "r", "rlast", "aw",
    "b"), counted from its latest START doorbell, has been seen by the scoreboard;
    returns its edge. On the VIP lane the monitor sees a handshake at the falling edge
    before it (the caller resumes before that edge, as when this sampled the pins), on
    the transaction-level lane at the falling edge after it (the recorder writes at the
    edge). Raises TimeoutError after `timeout` cycles."""
    t = traffic(tb)
    if kind not in Traffic.ALL_KINDS:
        raise ValueError(f"kind {kind!r}: valid kinds are {', '.join(Traffic.ALL_KINDS)}")
    for _ in range(timeout):
        hits = t.of(g, kind, t.started.get(g, -1))
        if len(hits) > index:
            return hits[index]
        await tb.tick()
    raise TimeoutError(f"channel {g}: no {kind} #{index} since its START (edge "
                       f"{t.started.get(g)}) within {timeout} cycles; {tb.bus_snapshot()}")


async def host_status(agent: HostAgent, g: int) -> int:
    return (await agent.read(g, regs.CH_STAT)).data


async def wait_not_running(agent: HostAgent, g: int, timeout: int = 400_000) -> int:
    """Poll CH_STAT (no interrupt clearing) until the copy ended; returns CH_STAT."""
    for _ in range(timeout // 8):
        st = await host_status(agent, g)
        if st != regs.CH_RUNNING:
            return st
        await agent.tb.cycles(8)
    raise TimeoutError(f"channel {g} still RUNNING after {timeout} cycles")


async def delegate(epc, tb: TB, g: int, func: int):
    d, n = split(g)
    return await apci_epc_delegate_dma_chan(epc, func, 0, d, n)


async def reclaim_checked(tb: TB, be, chan) -> object:
    """Quiesced reclaim through the RTL backend; returns the timer's record, after
    checking that the backend's Q_CYCLES (read from the RTL) is the timer's."""
    n = len(tb.timer.records)
    await apci_epc_reclaim_dma_chan(chan, True)
    rec = be.core.reclaims[-1]
    new = tb.timer.records[n:]
    assert len(new) == 1 and new[0].g == chan.data.g, f"expected one quiesce record, got {new}"
    t = new[0]
    assert t.q_rtl == rec.q_cycles, f"backend Q_CYCLES {rec.q_cycles} vs timer {t.q_rtl}"
    assert t.measured == rec.q_cycles and t.measured <= t.bound, t
    return t
