"""Cycle-level predictor of the ``dma_deleg`` hardware contract.

SPEC.md section 2 is normative; docs/microarch.md fixes every cycle the SPEC leaves
open, and this module implements exactly those rules so the scoreboard can compare
the RTL with it edge by edge (docs/internals.md "Hardware predictor").

Why a predictor and not a replay: each observed handshake is judged against the
state *before* its edge, ``S(e)``, and the model says what the RTL must answer
(OKAY/SLVERR/DECERR, read data), which DMA traffic it may issue and when, and what
every register holds afterwards. All effects of one edge land together in
``S(e+1)`` (microarch "Time"), which is why :meth:`HwModel.edge` first *collects*
the effects of every event of the edge and only then commits them.

Two ways to drive it:

* checker mode (cocotb scoreboard): ``hw.edge(e, loc, host, dma)`` with the
  accesses and AXI4 master events the monitors saw at edge ``e``; illegal DMA
  traffic is recorded in ``hw.errors`` as :class:`Violation`.
* self-driving mode (plain pytest, no RTL): ``hw.step(n)``,
  ``hw.local_access(a)``, ``hw.host_access(a)``, ``hw.drive(loc, host)``; a
  built-in mover that follows the RTL's mover rules and an ideal memory generate
  the DMA events and feed them through the same ``edge()`` path, so the checker is
  exercised by every pure-Python test.

Where each concern lives (this module composes them and re-exports the public
names, so ``from model.hw import ...`` keeps working):

* model/events.py: parameters, access/result and DMA event types, logs;
* model/predictor.py: register/ownership/interrupt predictor and the edge engine;
* model/contract.py: the DMA-contract checker (requests, handshakes, beats);
* model/mover.py: the mover's pick and burst-length rules;
* model/idealbus.py: the built-in mover and ideal memory of self-driving mode.

No cocotb import here: the model must stay usable from plain pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from model import regs
from model.addrmap import NUM_G
from model.contract import ContractChecker, _Burst
from model.events import (
    _DMA_ORDER,
    _DMA_TYPES,
    BEAT,
    HOST_OUTCOME_RESP,
    HOST_OUTCOMES,
    ArHs,
    ArPresent,
    AwHs,
    AwPresent,
    BeatCols,
    BHs,
    EdgeResult,
    HwParams,
    IntEvent,
    LiteAccess,
    LiteResult,
    MsiWrite,
    OwnEvent,
    RBeat,
    Resp,
    Violation,
    WalkEvent,
    WBeat,
    _as_int,
    byte_mask,
)
from model.idealbus import _IdealBus
from model.mem import as_mem, new_mem
from model.mover import MoverRules, _Pick, _Work, burst_beats
from model.predictor import Predictor, _Chan

__all__ = [
    "BEAT",
    "ArHs",
    "BeatCols",
    "ArPresent",
    "AwHs",
    "AwPresent",
    "BHs",
    "HOST_OUTCOMES",
    "HOST_OUTCOME_RESP",
    "EdgeResult",
    "HwModel",
    "HwParams",
    "IntEvent",
    "LiteAccess",
    "MsiWrite",
    "LiteResult",
    "OwnEvent",
    "RBeat",
    "Resp",
    "Violation",
    "WBeat",
    "WalkEvent",
    "burst_beats",
    "byte_mask",
]


def _dma_rank(x: object) -> int:
    """Sort key of a DMA event: the order ``edge`` judges an edge's events in."""
    return _DMA_ORDER[type(x)]


_NO_ACCESS = EdgeResult()  # the result of an edge without accesses (immutable, shared)


class HwModel(Predictor, ContractChecker, MoverRules):
    """Predictor of one ``dma_deleg`` instance (see module docstring).

    ``hw.cycle`` is the last processed edge; the model state is ``S(cycle+1)``.
    ``hw.fault`` (optional) ``callable(kind, addr) -> Resp | None`` overrides the
    built-in memory's response per R beat (``kind="r"``) or B (``"b"``);
    ``hw.stall`` (optional) ``callable(kind, edge) -> bool`` withholds the built-in
    memory's ready/valid for ``kind`` in {"ar", "r", "aw", "w", "b"} at that edge.
    ``hw.trace`` (optional) ``callable(edge, events)`` sees the DMA events the
    built-in mover generates for each self-driven edge (tests assert on traffic).
    All three only affect self-driving mode.
    """

    def __init__(self, params: HwParams | None = None, mem: np.ndarray | None = None, *,
                 mem_latency: int = 1, start_cycle: int = 0) -> None:
        if params is None:
            params = HwParams()
        if not isinstance(params, HwParams):
            raise TypeError(f"params must be HwParams, got {type(params).__name__}")
        self.params = params
        self.mem: np.ndarray = new_mem(params.mem_size) if mem is None else as_mem(
            mem, params.mem_size)
        self.cycle = _as_int("start_cycle", start_cycle, 0, 1 << 62)
        self.errors: list[Violation] = []
        self.events: list[OwnEvent] = []
        self.fault: Callable[[str, int], Resp | int | None] | None = None
        self.stall: Callable[[str, int], bool] | None = None
        self.trace: Callable[[int, list[object]], None] | None = None
        #: SPEC 3 logs: INT_STAT events, MSI writes seen, walk steps
        self.int_events: list[IntEvent] = []
        self.msi_log: list[MsiWrite] = []
        self.walk_events: list[WalkEvent] = []
        self._gs = params.channels
        self._wmask = params.wmask
        self._ch: dict[int, _Chan] = {g: _Chan(win=dict.fromkeys(self._wmask, 0))
                                      for g in self._gs}
        self._viol_count = 0
        self._viol_last = 0
        self._irq_en = 0
        self._burst: _Burst | None = None
        self._pick: _Pick | None = None
        self._rr_last = NUM_G - 1  # first search after reset starts at g=0
        self._missing_ar = False
        # S(cycle) views kept for diagnostics and for the built-in mover
        self._prev_busy: int | None = None
        self._prev_view: dict[int, tuple[int, bool]] = {g: (regs.CH_IDLE, False)
                                                        for g in self._gs}
        self._eligible: dict[int, _Work] = {}
        self._blk_last: frozenset[int] = frozenset()
        self._drop_last: frozenset[int] = frozenset()   # drop(g, e) of the last edge
        self._bus = _IdealBus(self, _as_int("mem_latency", mem_latency, 1, 1 << 16))
        #: event-driven path for the beats inside a burst (model/predictor.py
        #: ``_beat_edge``): same answers, O(1) per beat and per stall stretch. Off by
        #: default: the per-edge engine stays the reference (the vip lane); the
        #: transaction-level lane (tb/tl.py) turns it on.
        self.fast_beats = False
        self._steady = False  # fast_beats: views set for a stretch of no-op edges
        #: fast_beats: the edge after which the views are what _edge would set from the
        #: state, and no transition is due (Predictor._dma_edge)
        self._fresh_at = -1
        self._irq_memo: tuple[bool, int] | None = None
        #: bumped by every edge whose commit may have changed a channel (``generation``):
        #: what depends on the channels only is kept while it stays the same (the views
        #: of an edge without accesses, the steady check's facts, drop(g, e))
        self._gen = 0
        self._views_memo: tuple[int, tuple] | None = None
        self._unsteady_memo: tuple[int, tuple[frozenset[int], bool, bool]] | None = None
        self._drop_memo: tuple[int, frozenset[int]] | None = None
        #: edges the full engine processed (the rest took the quiet or steady path):
        #: tb/scoreboard.py on_beat skips its observers only after a replay without one
        self.engine_edges = 0

    # ------------------------------------------------------------ public: edges
    def edge(self, e: int, loc: LiteAccess | None = None, host: LiteAccess | None = None,
             dma: Iterable[object] = ()) -> EdgeResult:
        """Process edge ``e``: judge the accesses on ``S(e)``, check DMA events,
        then commit all effects into ``S(e+1)``. Skipped edges run first."""
        e = _as_int("e", e, 0, 1 << 62)
        if e <= self.cycle:
            raise ValueError(f"edge {e} is not after the last processed edge {self.cycle}")
        if loc is not None and not isinstance(loc, LiteAccess):
            raise TypeError(f"loc must be a LiteAccess or None, got {type(loc).__name__}")
        if host is not None and not isinstance(host, LiteAccess):
            raise TypeError(f"host must be a LiteAccess or None, got {type(host).__name__}")
        if type(dma) is not list:  # the monitors' samples carry lists: no ABC check
            if isinstance(dma, (str, bytes)) or not isinstance(dma, Iterable):
                raise TypeError(f"dma must be an iterable of DMA events, got {type(dma).__name__}")
        evs = list(dma)
        for x in evs:
            if type(x) not in _DMA_ORDER:
                raise TypeError(f"unknown DMA event {x!r}; expected one of "
                                + ", ".join(t.__name__ for t in _DMA_TYPES))
        if len(evs) > 1:
            evs.sort(key=_dma_rank)
        if self.cycle < e - 1:
            self._advance_to(e - 1)
        if loc is None and host is None:
            if self.fast_beats and self._event_path(e, evs):
                return _NO_ACCESS
            return self._edge(e, None, None, evs)
        j = self._judge(loc, host)   # once, for whichever path takes the edge
        if self.fast_beats:
            res = self._read_edge(e, j, evs)
            if res is not None:
                return res
        return self._edge(e, loc, host, evs, j)

    @property
    def generation(self) -> int:
        """A number that changes whenever an edge's commit may have changed a channel
        (ownership, CH_STAT, window, engine): an observer that looks at channels only
        after they change compares it (tb/memcheck.py)."""
        return self._gen

    def beat(self, e: int, x: RBeat | WBeat | None) -> bool:
        """Edge ``e`` (``cycle + 1``) carrying nothing but ``x``, one beat of a burst (an R
        beat, its burst's last included, or a W beat) or None (a stall), through the
        event-driven path (``fast_beats``): True when taken, with exactly the answers
        ``edge(e, dma=[x])`` gives; False, touching nothing, when the edge needs the
        engine (a transition may be due, or ``x`` ends a burst in an error, an element
        fetch or a drop): then call ``edge``.
        Why a separate entry: the transaction-level lane's monitor (tb/tl.py) feeds such
        edges without building a sample, and must know whether the model took them."""
        if not self.fast_beats or e != self.cycle + 1:
            return False
        return self._beat_edge(e, [] if x is None else [x])

    def beats(self, e: int, xs: list[RBeat | WBeat | None]) -> int:
        """``beat`` for each of ``xs`` at edges ``e``, ``e + 1``, ...: how many leading
        items the event-driven path took (the rest, from the first it refused, are
        untouched: call ``beat``/``edge`` for them). Same answers as one ``beat`` per
        item; why: the transaction-level lane's recorder writes a run of beat edges as
        one line, and one call per run keeps Python per run, not per edge."""
        if not self.fast_beats or e != self.cycle + 1:
            return 0
        return self._beat_run(e, xs)

    def beat_cols(self, e: int, cols: BeatCols) -> int:
        """``beats`` for a run given as columns (``BeatCols``: the recorder's beat run,
        never built into one event per edge): how many leading edges the event-driven
        path took, with exactly the answers ``beats`` gives for the same items (the
        rest untouched: call ``beat``/``edge`` for them)."""
        if not self.fast_beats or e != self.cycle + 1:
            return 0
        return self._cols_run(e, cols)

    def dma_edge(self, e: int, evs: list[object]) -> bool:
        """Edge ``e`` (``cycle + 1``) without accesses carrying the DMA events ``evs`` (in
        the monitor's order) through the event-driven path (``fast_beats``): an AR, or
        an AW with its first W beat, that starts a burst or its write right after an
        edge the path took (``Predictor._dma_edge``), or the B that ends a copy burst
        in the middle of its copy (``Predictor._b_edge``). True when taken, with
        exactly the answers ``edge(e, dma=evs)`` gives (no access: ``no_access``);
        False, touching nothing, when the edge needs the engine: then call ``edge``.
        Why a separate entry: the transaction-level lane's recorder writes such edges
        inside a beat run (tb/tl.py ``run_pieces``), and its scoreboard judges them
        without an ``edge`` call's checks of its arguments."""
        if not self.fast_beats or e != self.cycle + 1:
            return False
        return self._dma_edge(e, evs) or self._b_edge(e, evs)

    #: the result of every edge without accesses
    no_access = _NO_ACCESS

    # ---------------------------------------------------- public: self-driving
    def drive(self, loc: LiteAccess | None = None, host: LiteAccess | None = None) -> EdgeResult:
        """One self-driven edge ``cycle+1`` with optional local/host accesses."""
        bus = self._bus
        bus.sync()
        e = self.cycle + 1
        evs = bus.events(e)
        if self.trace is not None:
            self.trace(e, evs)
        res = self.edge(e, loc, host, evs)
        bus.after(e)
        return res

    def step(self, n: int = 1) -> None:
        """Advance ``n`` edges; the built-in mover and memory issue traffic."""
        n = _as_int("n", n, 0, 1 << 40)
        for _ in range(n):
            self.drive()

    def step_until(self, cond: Callable[[HwModel], bool], limit: int = 100_000) -> int:
        """Step until ``cond(hw)`` holds; returns the edges stepped (why: tests wait
        for completion without guessing cycle counts). Raises after ``limit``."""
        limit = _as_int("limit", limit, 0, 1 << 40)
        for i in range(limit + 1):
            if cond(self):
                return i
            if i < limit:
                self.drive()
        raise RuntimeError(f"condition not met within {limit} edges (cycle {self.cycle})")

    def local_access(self, access: LiteAccess) -> LiteResult:
        """One local access executed at edge ``cycle+1`` (the mover steps too)."""
        if not isinstance(access, LiteAccess):
            raise TypeError(f"access must be a LiteAccess, got {type(access).__name__}")
        res = self.drive(loc=access).loc
        assert res is not None
        return res

    def host_access(self, access: LiteAccess) -> LiteResult:
        """One host access executed at edge ``cycle+1`` (the mover steps too)."""
        if not isinstance(access, LiteAccess):
            raise TypeError(f"access must be a LiteAccess, got {type(access).__name__}")
        res = self.drive(host=access).host
        assert res is not None
        return res
