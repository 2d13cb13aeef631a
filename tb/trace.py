"""Edge trace: record what the monitor saw, replay it into the predictor alone.

Why: the predictor (model.hw.HwModel + the scoreboard's comparisons) is one of the
per-edge costs of the testbench. Replaying a recorded run outside the simulator
measures it alone (``python -m tools.bench_sim --replay FILE``: cycles/s, events/s) and
is a real check, not a timing loop: the replay judges every response, read value,
interrupt level and DMA event again with a fresh model and must reach the verdict the
live scoreboard reached (zero mismatches on a clean run; a tampered trace fails).

Recording is opt-in (``DD_TRACE=1`` in a test that calls ``TraceRecorder``; today
tb/test_bench_dma.py): the EdgeSamples are kept in memory and pickled at the end of the
test into the run folder, so it is meant for benchmark-sized runs, not soaks.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from model.hw import HwModel, HwParams
from tb import knobs
from tb.monitor import EdgeSample
from tb.scoreboard import DelegationScoreboard, Mismatch

#: Bumped when the pickled samples change meaning: 2 = AR/AW presentations carry AxSIZE
#: (an older trace would unpickle with the class default size, a full beat, and its MSIs
#: would be judged as AWSIZE mismatches), so an older trace is refused by load().
TRACE_FORMAT = 2
#: Environment knob: "1" makes TraceRecorder.enabled() true.
TRACE_ENV = knobs.TRACE_ENV


class TraceError(Exception):
    """A trace that cannot be recorded or replayed; the message says why."""


@dataclass
class Trace:
    """A recorded run: the model's starting point, every busy edge, the live verdict."""

    params: HwParams
    reset_edge: int          # TB.reset's last reset edge: the model starts from here
    mem: np.ndarray          # memory image when recording started (after fill_memory)
    samples: list[EdgeSample]
    live_mismatches: int     # what the live scoreboard reported for this run
    seed: int
    test: str
    format: int = TRACE_FORMAT

    @property
    def events(self) -> int:
        """Monitor events in the trace: AXI4-Lite accesses, responses, DMA events."""
        return sum(len(s.dma) + (s.loc is not None) + (s.host is not None)
                   + (s.loc_resp is not None) + (s.host_resp is not None) for s in self.samples)

    @property
    def cycles(self) -> int:
        return (self.samples[-1].edge - self.reset_edge) if self.samples else 0


class TraceRecorder:
    """Collects the monitor's EdgeSamples of one TB from right after reset and fill.

    Must be created before any traffic after ``TB.reset()`` (checked), so a fresh
    HwModel built the way TB.reset builds it starts from the same state.
    """

    def __init__(self, tb) -> None:
        if tb.reset_edge is None or tb.model.cycle != tb.reset_edge or tb.sb.compared:
            raise TraceError("TraceRecorder must start right after TB.reset() (and fill_memory), "
                             "before any access: the replay starts from the reset state")
        self.tb = tb
        self.model = tb.model
        self.reset_edge = tb.reset_edge
        self.mem = tb.model.mem.copy()
        self.samples: list[EdgeSample] = []
        tb.mon.add_callback(self.samples.append)

    @staticmethod
    def enabled() -> bool:
        return knobs.flag(TRACE_ENV)

    def save(self, path: Path, test: str) -> Trace:
        """Pickle the trace to *path*; the live verdict is read from the scoreboard now."""
        sb = self.tb.sb
        if sb.model is not self.model:
            raise TraceError("the TB was reset while recording: the trace has no single start")
        trace = Trace(params=self.tb.params, reset_edge=self.reset_edge, mem=self.mem,
                      samples=self.samples,
                      live_mismatches=len(sb.mismatches) + sum(len(q) for q in sb.pending.values()),
                      seed=self.tb.seed, test=test)
        with open(path, "wb") as fh:
            pickle.dump(trace, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return trace


def load(path: Path) -> Trace:
    try:
        with open(path, "rb") as fh:
            trace = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise TraceError(f"cannot read trace {path}: {exc}") from None
    if not isinstance(trace, Trace) or trace.format != TRACE_FORMAT:
        raise TraceError(f"{path} is not an edge trace of format {TRACE_FORMAT} (tb/trace.py)")
    return trace


@dataclass
class ReplayResult:
    edges: int                  # busy edges replayed
    events: int
    cycles: int
    wall_s: float
    mismatches: list[Mismatch] = field(default_factory=list)
    undrained: int = 0

    @property
    def verdict(self) -> int:
        """Mismatches plus never-answered accesses: comparable with Trace.live_mismatches."""
        return len(self.mismatches) + self.undrained


def fresh_scoreboard(trace: Trace, fast_beats: bool = False) -> DelegationScoreboard:
    """A scoreboard over a fresh HwModel in the state the recorded run started from,
    fed directly (no monitor); ``fast_beats`` as the tl lane's model (TlTB)."""
    model = HwModel(trace.params, mem=trace.mem.copy())
    model.fast_beats = fast_beats
    if trace.reset_edge > 0:
        model.edge(trace.reset_edge)   # what TB.reset does
    # The scoreboard only uses the dut for its logger name.
    return DelegationScoreboard(SimpleNamespace(_name="replay"), model, None, trace.seed)


def replay(trace: Trace) -> ReplayResult:
    """Feed the trace into a fresh HwModel through the scoreboard's own comparisons."""
    sb = fresh_scoreboard(trace)
    t0 = time.perf_counter()
    for s in trace.samples:
        sb.on_edge(s)
    wall = time.perf_counter() - t0
    return ReplayResult(edges=len(trace.samples), events=trace.events, cycles=trace.cycles,
                        wall_s=wall, mismatches=list(sb.mismatches),
                        undrained=sum(len(q) for q in sb.pending.values()))
