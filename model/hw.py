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

No cocotb import here: the model must stay usable from plain pytest.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from numbers import Integral
from typing import NamedTuple

import numpy as np

from model import regs
from model.addrmap import NUM_G, decode_host, decode_local
from model.mem import as_mem, in_range, new_mem, read_u64, write_u64
from model.walk import (
    ELEM_BEATS,
    ELEM_SIZE,
    decode_element,
    element_fault,
    fetch_beats,
    msi_beat,
)

__all__ = [
    "ArHs",
    "ArPresent",
    "AwHs",
    "AwPresent",
    "BHs",
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
]

MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1
PAGE = 4096  # AXI bursts never cross 4 KiB
BEAT = 8  # bytes per 64-bit beat

_INT_BITS = regs.INT_STAT_STOP_MASK | regs.INT_STAT_ABORT_MASK
_W1C_BITS = regs.OWN_STAT_QDONE_MASK | regs.OWN_STAT_UNSAFE_MASK | regs.OWN_STAT_CMD_ERR_MASK
_LOC_REGS = frozenset(
    (regs.ID, regs.VERSION, regs.CONFIG, regs.VIOL_COUNT, regs.VIOL_LAST,
     regs.OWN_IRQ_STAT, regs.OWN_IRQ_EN)
)
_CH_NAMES = {regs.CH_IDLE: "IDLE", regs.CH_RUNNING: "RUNNING",
             regs.CH_ABORTED: "ABORTED", regs.CH_STOPPED: "STOPPED"}


# --------------------------------------------------------------------------
# argument checking: bad input must fail at the API boundary with a clear message
# --------------------------------------------------------------------------


def _as_int(name: str, v: object, lo: int, hi: int) -> int:
    """Check an integer argument; ``bool`` is refused because it is never meant."""
    if type(v) is int and lo <= v <= hi:  # fast path: events are built every edge
        return v
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__} ({v!r})")
    iv = int(v)
    if not lo <= iv <= hi:
        raise ValueError(f"{name}={iv:#x} out of range [{lo:#x}, {hi:#x}]")
    return iv


def _as_bool(name: str, v: object) -> bool:
    """Accept ``bool`` (and numpy bool, or int 0/1 as monitors sample pins)."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, Integral) and int(v) in (0, 1):
        return bool(v)
    raise TypeError(f"{name} must be a bool, got {type(v).__name__} ({v!r})")


def byte_mask(strb: int) -> int:
    """32-bit mask of the byte lanes whose WSTRB bit is set."""
    m = 0
    for i in range(4):
        if strb >> i & 1:
            m |= 0xFF << (8 * i)
    return m


def burst_beats(max_burst: int, src: int, dst: int, rem: int) -> int:
    """Beats of the next burst (microarch "Data mover").

    ``min(MAX_BURST, rem/8, (4096-src%4096)/8, (4096-dst%4096)/8)``: never cross
    4 KiB on either side, never overrun the transfer.
    """
    return min(max_burst, rem // BEAT, (PAGE - src % PAGE) // BEAT, (PAGE - dst % PAGE) // BEAT)


# --------------------------------------------------------------------------
# public value types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HwParams:
    """HDL parameters of one instance (SPEC 2) plus the size of the memory image."""

    wr_ch: int = 2
    rd_ch: int = 2
    num_func: int = 2
    max_burst: int = 8
    mem_size: int = 1 << 20

    def __post_init__(self) -> None:
        for name, lo, hi in (("wr_ch", 1, 8), ("rd_ch", 1, 8), ("num_func", 1, 8),
                             ("max_burst", 2, 16)):
            object.__setattr__(self, name, _as_int(name, getattr(self, name), lo, hi))
        ms = _as_int("mem_size", self.mem_size, BEAT, 1 << 32)
        if ms % BEAT:
            raise ValueError(f"mem_size={ms} must be a multiple of {BEAT} bytes")
        object.__setattr__(self, "mem_size", ms)

    @property
    def wmask(self) -> dict[int, int]:
        """Writable bits of every stored register of a channel window."""
        return dict(regs.WIN_WMASK)

    @property
    def channels(self) -> tuple[int, ...]:
        """Global indices of the instantiated channels, ascending."""
        return tuple(range(self.wr_ch)) + tuple(
            regs.MAX_CH_PER_DIR + n for n in range(self.rd_ch))

    def instantiated(self, g: int) -> bool:
        d, n = divmod(g, regs.MAX_CH_PER_DIR)
        return 0 <= g < NUM_G and n < (self.wr_ch if d == 0 else self.rd_ch)

    @property
    def config(self) -> int:
        """The CONFIG register value."""
        return ((self.wr_ch << regs.CONFIG_WR_CH_LSB) | (self.rd_ch << regs.CONFIG_RD_CH_LSB)
                | (self.num_func << regs.CONFIG_NUM_FUNC_LSB)
                | (self.max_burst << regs.CONFIG_MAX_BURST_LSB))


class Resp(enum.IntEnum):
    """AXI response codes (EXOKAY is never produced by this block)."""

    OKAY = 0
    SLVERR = 2
    DECERR = 3


@dataclass(frozen=True)
class LiteAccess:
    """One AXI4-Lite access at its execution edge (write: the later of AW/W)."""

    write: bool
    addr: int
    data: int = 0
    strb: int = 0xF

    def __post_init__(self) -> None:
        object.__setattr__(self, "write", _as_bool("write", self.write))
        object.__setattr__(self, "addr", _as_int("addr", self.addr, 0, 0xFFFF))
        object.__setattr__(self, "data", _as_int("data", self.data, 0, MASK32))
        object.__setattr__(self, "strb", _as_int("strb", self.strb, 0, 0xF))


#: Classes of a host access, by the SPEC 2.2 rule that decided its response: the
#: predictor names the class of every host access it judges (LiteResult.why), and
#: tb/coverage.py samples that name instead of deciding it a second time.
HOST_OUTCOMES = ("allowed", "not_delegated", "wrong_function", "quiescing", "decerr", "spoof")
#: Response of each class (the rest: SLVERR, a counted violation).
HOST_OUTCOME_RESP = {"allowed": Resp.OKAY, "decerr": Resp.DECERR}


@dataclass(frozen=True)
class LiteResult:
    """Predicted response of an access (read data is 0 for writes and refusals); for a
    host access, ``why`` is its class (HOST_OUTCOMES), not part of the comparison."""

    resp: Resp
    data: int = 0
    why: str = field(default="", compare=False)


@dataclass(frozen=True)
class EdgeResult:
    """Results of the local and host accesses of one edge (None: no access)."""

    loc: LiteResult | None = None
    host: LiteResult | None = None


def _ev_init(obj: object, spec: tuple[tuple[str, int], ...]) -> None:
    for name, bits in spec:
        object.__setattr__(obj, name, _as_int(
            f"{type(obj).__name__}.{name}", getattr(obj, name), 0, (1 << bits) - 1))


@dataclass(frozen=True)
class _Request:
    """A new request: VALID first high at this edge (ID, ADDR, LEN, USER)."""

    id: int
    addr: int
    len: int
    user: int

    def __post_init__(self) -> None:
        _ev_init(self, (("id", 16), ("addr", 64), ("len", 8), ("user", 4)))


@dataclass(frozen=True)
class _Handshake:
    """An address handshake (VALID & READY) at this edge."""

    id: int

    def __post_init__(self) -> None:
        _ev_init(self, (("id", 16),))


@dataclass(frozen=True)
class ArPresent(_Request):
    """ARVALID first high for a new request at this edge."""


@dataclass(frozen=True)
class ArHs(_Handshake):
    """AR handshake (ARVALID & ARREADY) at this edge."""


@dataclass(frozen=True)
class RBeat:
    """R handshake at this edge."""

    id: int
    data: int
    resp: int
    last: bool

    def __post_init__(self) -> None:
        _ev_init(self, (("id", 16), ("data", 64), ("resp", 2)))
        object.__setattr__(self, "last", _as_bool("RBeat.last", self.last))


@dataclass(frozen=True)
class AwPresent(_Request):
    """AWVALID first high for a new request at this edge."""


@dataclass(frozen=True)
class AwHs(_Handshake):
    """AW handshake at this edge."""


@dataclass(frozen=True)
class WBeat:
    """W handshake at this edge (AXI4 W carries no ID)."""

    data: int
    strb: int
    last: bool

    def __post_init__(self) -> None:
        _ev_init(self, (("data", 64), ("strb", 8)))
        object.__setattr__(self, "last", _as_bool("WBeat.last", self.last))


@dataclass(frozen=True)
class BHs:
    """B handshake at this edge."""

    id: int
    resp: int

    def __post_init__(self) -> None:
        _ev_init(self, (("id", 16), ("resp", 2)))


_DMA_TYPES = (ArPresent, ArHs, RBeat, AwPresent, AwHs, WBeat, BHs)
_DMA_ORDER = {t: i for i, t in enumerate(_DMA_TYPES)}


@dataclass(frozen=True)
class Violation:
    """DMA traffic that breaks the contract, found by the checker."""

    cycle: int
    channel: int | None
    port: str  # "ar", "r", "aw", "w", "b"
    what: str
    expected: object
    actual: object

    def __str__(self) -> str:
        ch = "-" if self.channel is None else str(self.channel)
        return (f"edge {self.cycle} ch {ch} {self.port}: {self.what} "
                f"(expected {self.expected}, actual {self.actual})")


class OwnEvent(NamedTuple):
    """Ownership event log entry: the edge whose effects it is, channel, kind.

    kinds: "delegate", "reclaim", "unsafe", "quiesce" (RECLAIM+QUIESCE accepted at
    t0), "qdone" (the completion edge; STATE is LOCAL from the next edge),
    "cmd_err".
    """

    edge: int
    g: int
    kind: str


class IntEvent(NamedTuple):
    """A channel set INT_STAT.STOP ("stop") or INT_STAT.ABORT ("abort") at ``edge``.

    ``msi`` is the MSI address the event owes (SPEC 3: DELEGATED, remote enable set,
    not masked, address != 0), else None. Why logged: "one MSI per event" is checked
    against this list, and coverage counts the kinds.
    """

    edge: int
    g: int
    kind: str
    msi: int | None


class MsiWrite(NamedTuple):
    """An MSI write as the checker saw it: AW presented at ``edge``."""

    edge: int
    g: int
    addr: int
    user: int
    kind: str  # "stop" / "abort" (the predicted event), "unexpected" if none was due


class WalkEvent(NamedTuple):
    """One step of a linked-list walk, at the edge whose effects it is.

    kinds: "data" and "link" (an element consumed), "end" (CB mismatch: list
    consumed), "bad_element", "bad_pointer", "fetch_error", "data_error", "stopped"
    (STOP, quiesce or fence ended the walk); ``addr`` is the element address.
    """

    edge: int
    g: int
    kind: str
    addr: int


# --------------------------------------------------------------------------
# internal state
# --------------------------------------------------------------------------


@dataclass
class _Chan:
    """One channel: window registers, engine working copies, ownership FSM."""

    win: dict[int, int]
    ch_stat: int = regs.CH_IDLE
    int_stat: int = 0
    src: int = 0
    dst: int = 0
    rem: int = 0
    dst0: int = 0  # DAR latched at START (write-range check)
    size0: int = 0  # XFER_SIZE latched at START
    stop_req: bool = False
    state: int = regs.OWN_LOCAL
    func: int = 0
    exposed: bool = False
    qdone: bool = False
    unsafe: bool = False
    cmd_err: bool = False
    q_cycles: int = 0
    qstart: int | None = None
    last_resp: int | None = None
    # linked-list walk (SPEC 3): mode of the current run, phase, working pointer,
    # cycle state, beats of the element being fetched
    walk: bool = False
    wphase: str = "fetch"  # "fetch" (element at lp) or "data" (copying its data)
    lp: int = 0
    ccs: int = 0
    fbeats: list[int] = field(default_factory=list)
    msi: tuple[str, int, int] | None = None  # pending MSI: (kind, addr, data)
    desc_seen: set[int] = field(default_factory=set)  # elements fetched while DELEGATED
    desc_reclaimed: set[int] = field(default_factory=set)  # ... of the last reclaim

    def scrub(self) -> None:
        """Window and engine back to reset (DELEGATE and quiesce completion)."""
        self.win = dict.fromkeys(self.win, 0)
        self.ch_stat = regs.CH_IDLE
        self.int_stat = 0
        self.src = self.dst = self.rem = self.dst0 = self.size0 = 0
        self.stop_req = False
        self.walk, self.wphase, self.lp, self.ccs = False, "fetch", 0, 0
        self.fbeats = []
        self.msi = None

    def own_stat(self) -> int:
        v = self.state << regs.OWN_STAT_STATE_LSB
        if self.state != regs.OWN_LOCAL:
            v |= self.func << regs.OWN_STAT_FUNC_LSB
        if self.exposed:
            v |= regs.OWN_STAT_EXPOSED_MASK
        if self.qdone:
            v |= regs.OWN_STAT_QDONE_MASK
        if self.unsafe:
            v |= regs.OWN_STAT_UNSAFE_MASK
        if self.cmd_err:
            v |= regs.OWN_STAT_CMD_ERR_MASK
        return v

    def irq_pending(self) -> bool:
        return self.qdone or self.unsafe or self.cmd_err


@dataclass
class _Eff:
    """Effects on one channel collected during an edge, committed together."""

    writes: dict[int, int] = field(default_factory=dict)
    int_clear: int = 0
    start: bool = False
    stop: bool = False
    cmd: tuple[int, bool, int] | None = None  # (CMD, QUIESCE, FUNC)
    host_write: bool = False
    w1c: int = 0


@dataclass
class _Glob:
    """Effects on the local-only registers collected during an edge."""

    viol: tuple[bool, int] | None = None  # (write, addr) of a refused host access
    viol_clear: bool = False
    irq_en: int | None = None


class _Work(NamedTuple):
    """What an eligible channel asks the mover for at a pick edge (from S(p)).

    kind: "copy" (single-block burst), "data" (a walk's data burst), "fetch" (an
    element-fetch burst at ``src``, ``rem`` bytes of the element left) or "msi" (a
    one-beat write of ``wdata``/``wstrb`` to ``dst``).
    """

    kind: str
    src: int
    dst: int
    rem: int
    user: int
    wdata: int = 0
    wstrb: int = 0
    ev: str = ""  # MSI: "stop" / "abort"


@dataclass(frozen=True)
class _Pick:
    """The mover's pick at ``edge``: the AR (AW for an MSI) it presents at ``edge+1``."""

    edge: int
    g: int
    addr: int
    beats: int
    user: int
    dst: int
    kind: str = "copy"
    wdata: int = 0
    wstrb: int = 0
    ev: str = ""


@dataclass
class _Burst:
    """The one burst the mover holds, as observed (checker bookkeeping)."""

    g: int
    legit: bool  # matches the predicted pick: its end updates the channel
    addr: int
    beats: int  # ARLEN+1 as observed
    exp_beats: int  # L the channel advances by
    exp_dst: int | None
    exp_user: int
    present: int
    kind: str = "copy"  # as _Work.kind
    wstrb: int = 0xFF
    ar_hs: bool = False
    rdata: list[int] = field(default_factory=list)
    rerr: bool = False
    phase: str = "r"  # "r" reading, "aw" write due, "w" AW presented
    aw_due: int | None = None
    aw_addr: int | None = None
    aw_hs: bool = False
    wcount: int = 0
    berr: bool = False


# --------------------------------------------------------------------------
# the predictor
# --------------------------------------------------------------------------


class HwModel:
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

    # ------------------------------------------------------------ public: edges
    def edge(self, e: int, loc: LiteAccess | None = None, host: LiteAccess | None = None,
             dma: Iterable[object] = ()) -> EdgeResult:
        """Process edge ``e``: judge the accesses on ``S(e)``, check DMA events,
        then commit all effects into ``S(e+1)``. Skipped edges run first."""
        e = _as_int("e", e, 0, 1 << 62)
        if e <= self.cycle:
            raise ValueError(f"edge {e} is not after the last processed edge {self.cycle}")
        for name, a in (("loc", loc), ("host", host)):
            if a is not None and not isinstance(a, LiteAccess):
                raise TypeError(f"{name} must be a LiteAccess or None, got {type(a).__name__}")
        if isinstance(dma, (str, bytes)) or not isinstance(dma, Iterable):
            raise TypeError(f"dma must be an iterable of DMA events, got {type(dma).__name__}")
        evs = list(dma)
        for x in evs:
            if type(x) not in _DMA_ORDER:
                raise TypeError(f"unknown DMA event {x!r}; expected one of "
                                + ", ".join(t.__name__ for t in _DMA_TYPES))
        evs.sort(key=lambda x: _DMA_ORDER[type(x)])
        self._advance_to(e - 1)
        return self._edge(e, loc, host, evs)

    def irq_loc(self) -> bool:
        """Predicted ``irq_loc`` in ``S(cycle+1)`` (microarch "Interrupts")."""
        if self.own_irq_stat() & self._irq_en:
            return True
        for c in self._ch.values():
            if c.state == regs.OWN_LOCAL and not c.unsafe and self._ch_irq(c, local=True):
                return True
        return False

    def irq_host(self) -> int:
        """Predicted ``irq_host[NUM_FUNC-1:0]`` in ``S(cycle+1)`` as a bit mask."""
        v = 0
        for c in self._ch.values():
            if c.state == regs.OWN_DELEGATED and self._ch_irq(c, local=False):
                v |= 1 << c.func
        return v

    # ------------------------------------------------------- public: introspection
    def _chan(self, g: object) -> _Chan:
        gi = _as_int("g", g, 0, NUM_G - 1)
        if gi not in self._ch:
            raise ValueError(f"channel g={gi} is not instantiated "
                             f"(instantiated: {list(self._gs)})")
        return self._ch[gi]

    def own_state(self, g: int) -> int:
        return self._chan(g).state

    def own_func(self, g: int) -> int:
        """OWN_STAT.FUNC as read (0 when LOCAL)."""
        c = self._chan(g)
        return 0 if c.state == regs.OWN_LOCAL else c.func

    def own_stat(self, g: int) -> int:
        return self._chan(g).own_stat()

    def exposed(self, g: int) -> bool:
        return self._chan(g).exposed

    def ch_stat(self, g: int) -> int:
        return self._chan(g).ch_stat

    def int_stat(self, g: int) -> int:
        return self._chan(g).int_stat

    def q_cycles(self, g: int) -> int:
        return self._chan(g).q_cycles

    def qstart(self, g: int) -> int | None:
        """t0 of the pending or last quiesce of g (None if none yet)."""
        return self._chan(g).qstart

    def last_resp(self, g: int) -> int | None:
        """Edge of the last R/B response of g's traffic (for the quiesce bound)."""
        return self._chan(g).last_resp

    def win_reg(self, g: int, off: int) -> int:
        """A window register of g as a local read returns it."""
        c = self._chan(g)
        return self._win_read(c, _as_int("off", off, 0, regs.WIN_SIZE - 1) & 0xFC)

    def inflight(self, g: int) -> bool:
        """The mover holds a burst of g (as of the last processed edge)."""
        self._chan(g)
        return self._burst is not None and self._burst.g == g

    def msi_pending(self, g: int) -> bool:
        """An INT_STAT event of g owes an MSI whose AW is not presented yet (SPEC 3):
        pending in the channel, or picked by the mover at the last edge."""
        p = self._pick
        return self._chan(g).msi is not None or (
            p is not None and p.g == g and p.kind == "msi" and p.edge == self.cycle)

    def walking(self, g: int) -> bool:
        """The channel's current (or last) run is a linked-list walk (SPEC 3)."""
        return self._chan(g).walk

    def burst_kind(self, g: int) -> str | None:
        """Kind of the burst of g the mover holds ("copy", "fetch", "data", "msi"), or
        None; why: coverage classifies a reclaim by the phase of the walk it meets."""
        self._chan(g)
        b = self._burst
        return b.kind if b is not None and b.g == g else None

    def llp(self, g: int) -> int:
        """The walk's working list pointer (LLP_HI:LLP_LO after each element)."""
        return self._chan(g).lp

    def own_irq_stat(self) -> int:
        return sum(1 << g for g, c in self._ch.items() if c.irq_pending())

    @property
    def own_irq_en(self) -> int:
        return self._irq_en

    @property
    def viol_count(self) -> int:
        return self._viol_count

    @property
    def viol_last(self) -> int:
        return self._viol_last

    def peek_local(self, addr: int) -> LiteResult:
        """What a local read of ``addr`` would return now, without side effects."""
        return self._judge_local(LiteAccess(False, addr), {}, _Glob())

    def peek_host(self, addr: int) -> LiteResult:
        """What a host read would return now (a refusal is not counted)."""
        return self._judge_host(LiteAccess(False, addr), {}, _Glob())

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

    # ------------------------------------------------------------ edge engine
    def _quiet(self) -> bool:
        """Nothing can change on an event-free edge (no traffic, nothing running)."""
        if self._burst is not None or self._pick is not None:
            return False
        return all(c.ch_stat != regs.CH_RUNNING and c.state != regs.OWN_QUIESCING
                   and c.msi is None for c in self._ch.values())

    def _advance_to(self, last: int) -> None:
        """Run the internal transitions of event-free edges up to ``last``."""
        while self.cycle < last:
            if self._quiet():
                self.cycle = last
                self._prev_busy = None
                self._prev_view = {g: (c.ch_stat, False) for g, c in self._ch.items()}
                self._eligible = {}
                self._blk_last = frozenset()
                self._drop_last = frozenset()
                self._missing_ar = False
                return
            self._edge(self.cycle + 1, None, None, [])

    def _edge(self, e: int, loc: LiteAccess | None, host: LiteAccess | None,
              evs: list[object]) -> EdgeResult:
        effs: dict[int, _Eff] = {}
        glob = _Glob()
        # 1. accesses, judged on S(e)
        rl = self._judge_local(loc, effs, glob) if loc is not None else None
        rh = self._judge_host(host, effs, glob) if host is not None else None
        # 2. DMA events, judged on S(e)
        r_end, b_end = self._dma(e, evs)
        b = self._burst
        # 3. blk(g, e), and drop(g, e) ⊆ blk: quiescing or fenced, where a burst whose
        # read ends at e is not written (docs/microarch.md Decision 21: after a STOP
        # doorbell the outstanding burst is written, SPEC 2.1)
        blk: set[int] = set()
        drop: set[int] = set()
        for g, c in self._ch.items():
            f = effs.get(g)
            dr = c.state == regs.OWN_QUIESCING or c.unsafe  # unsafe: fenced
            bl = c.stop_req
            if f is not None:
                if f.stop or (f.start and c.ch_stat == regs.CH_RUNNING):
                    bl = True
                if (f.cmd is not None and f.cmd[0] == regs.CMD_RECLAIM and f.cmd[1]
                        and c.state == regs.OWN_DELEGATED):
                    dr = True
                if self._fences(c, f):
                    dr = True
            if bl or dr:
                blk.add(g)
            if dr:
                drop.add(g)
        # 4. burst read end / burst end
        end: str | None = None
        if b is not None and r_end:
            if b.rerr:
                end = "fail"
            elif b.kind == "fetch":
                end = "fetched"  # an element fetch has no write phase
            elif b.g in drop:
                end = "drop"
            else:
                b.phase = "aw"
                b.aw_due = e + 1
        if b is not None and b_end:
            end = "berr" if b.berr else ("msi" if b.kind == "msi" else "written")
        infl = b.g if b is not None else None
        # 5. the mover's pick at e (from S(e)), before any commit
        self._prev_busy = infl
        self._prev_view = {g: (c.ch_stat, g in blk) for g, c in self._ch.items()}
        self._eligible = {}
        for g, c in self._ch.items():
            w = self._work(c, effs.get(g), g in blk)
            if w is not None:
                self._eligible[g] = w
        self._blk_last = frozenset(blk)
        self._drop_last = frozenset(drop)
        self._pick = self._predict_pick(e) if b is None else None
        # 6. commit channel effects
        for g, c in self._ch.items():
            self._commit(e, g, c, effs.get(g), g in blk, infl == g,
                         end if (b is not None and b.legit and b.g == g) else None, b)
        if glob.viol_clear:
            self._viol_count = 0
        if glob.viol is not None:
            w, a = glob.viol
            self._viol_count = min(self._viol_count + 1, MASK32)
            self._viol_last = (regs.VIOL_LAST_VALID_MASK
                               | (regs.VIOL_LAST_WRITE_MASK if w else 0)
                               | (a & regs.VIOL_LAST_ADDR_MASK))
        if glob.irq_en is not None:
            self._irq_en = glob.irq_en
        if end is not None:
            self._burst = None
        self.cycle = e
        return EdgeResult(rl, rh)

    def _commit(self, e: int, g: int, c: _Chan, f: _Eff | None, blk: bool, infl: bool,
                end: str | None, b: _Burst | None) -> None:
        """Apply the effects of edge e to channel g with microarch's precedence."""
        held = infl  # any burst of g in flight, an MSI included: quiesce completion waits
        if b is not None and b.g == g and b.kind == "msi":
            # an MSI write is not engine work (Decision 22): its end changes nothing, and a
            # run started after its pick stops as one with no burst in flight
            end, infl = None, False
        running = c.ch_stat == regs.CH_RUNNING
        pick = self._pick
        picked_msi = pick is not None and pick.g == g and pick.kind == "msi"
        if (f is None and end is None and not running and c.state != regs.OWN_QUIESCING
                and not picked_msi):
            return  # nothing can change this channel at this edge
        ch_stat = c.ch_stat
        int_set = 0
        stop_req = c.stop_req
        src, dst, rem = c.src, c.dst, c.rem
        dst0, size0 = c.dst0, c.size0
        walk, wphase, lp, ccs, fbeats = c.walk, c.wphase, c.lp, c.ccs, c.fbeats
        wb = False  # the walk updated LLP / CCS: write them back into the window
        wlog: list[tuple[str, int]] = []
        beats = b.exp_beats if b is not None else 0
        # channel engine
        if end is not None and running and walk:
            assert b is not None
            ch_stat, int_set = regs.CH_RUNNING, 0
            if end in ("fail", "berr"):
                ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                wlog.append(("fetch_error" if b.kind == "fetch" else "data_error", lp))
            elif end == "fetched":
                fb = [*fbeats, *b.rdata]
                fbeats = []
                if len(fb) < ELEM_BEATS:  # first part of an element split at 4 KiB
                    fbeats = fb
                    if blk:
                        ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                        wlog.append(("stopped", lp))
                else:
                    el = decode_element(fb)
                    fault = element_fault(el)
                    if el.cb != ccs:  # list consumed: wins over a same-edge STOP
                        ch_stat, int_set = regs.CH_STOPPED, regs.INT_STAT_STOP_MASK
                        wlog.append(("end", lp))
                    elif blk:  # not consumed: LLP keeps pointing at it
                        ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                        wlog.append(("stopped", lp))
                    elif fault is not None:
                        ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                        wlog.append(("bad_pointer" if el.link else "bad_element", lp))
                    elif el.link:
                        wlog.append(("link", lp))
                        lp, ccs, wb = el.ptr, ccs ^ int(el.tcb), True
                    else:
                        wphase = "data"
                        src, dst, rem = el.sar, el.dar, el.size
                        dst0, size0 = el.dar, el.size
            elif end == "written":
                src = (src + BEAT * beats) & MASK64
                dst = (dst + BEAT * beats) & MASK64
                rem -= BEAT * beats
                if rem == 0:  # element done: LLP moves on even if stopped now
                    wlog.append(("data", lp))
                    lp, wphase, wb = (lp + ELEM_SIZE) & MASK64, "fetch", True
                if blk:
                    ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                    wlog.append(("stopped", lp))
            else:  # "drop": the write of a burst read before a quiesce or the fence
                ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                wlog.append(("stopped", lp))
            stop_req = False
            wb = wb or ch_stat != regs.CH_RUNNING  # the end shows the walk's own LLP/CCS
        elif end is not None and running:
            if end in ("fail", "berr"):
                ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
            elif end == "written" and rem - BEAT * beats == 0:
                ch_stat, int_set = regs.CH_STOPPED, regs.INT_STAT_STOP_MASK
            elif blk or end == "drop":
                ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
            else:
                src = (src + BEAT * beats) & MASK64
                dst = (dst + BEAT * beats) & MASK64
                rem -= BEAT * beats
            stop_req = False
        elif running and not infl and blk:
            ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
            stop_req = False
            if walk:
                wlog.append(("stopped", lp))
        elif f is not None and (f.stop or f.start or self._fences(c, f)):
            if running:  # STOP, START while RUNNING, or the fence: all act as STOP
                if infl:
                    stop_req = True
            elif f.start and not f.stop and c.msi is not None:
                pass  # an MSI of the channel is pending: START ignored (Decision 16)
            elif f.start and not f.stop:
                if c.unsafe or self._fences(c, f):  # fenced (SPEC v2 2.3): refused
                    ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
                elif self._start_legal(c):
                    ch_stat, walk = regs.CH_RUNNING, False
                    src, dst, rem = self._sar(c), self._dar(c), c.win[regs.XFER_SIZE]
                    dst0, size0 = dst, rem
                    c.desc_reclaimed = set()  # a new program may read any memory
                elif self._ll_start_legal(c):
                    ch_stat, walk, wphase, fbeats = regs.CH_RUNNING, True, "fetch", []
                    lp = c.win[regs.LLP_HI] << 32 | c.win[regs.LLP_LO]
                    ccs = (c.win[regs.CYCLE_SYNC] & regs.CYCLE_SYNC_CCS_MASK) \
                        >> regs.CYCLE_SYNC_CCS_LSB
                    dst0 = size0 = 0
                    c.desc_reclaimed = set()
                else:  # illegal: refused
                    ch_stat, int_set = regs.CH_ABORTED, regs.INT_STAT_ABORT_MASK
        # ownership
        state, func, exposed = c.state, c.func, c.exposed
        qdone, unsafe, cmd_err = c.qdone, c.unsafe, c.cmd_err
        scrub = False
        if f is not None:
            if f.w1c:  # clear first: hardware sets below win
                qdone = qdone and not f.w1c & regs.OWN_STAT_QDONE_MASK
                unsafe = unsafe and not f.w1c & regs.OWN_STAT_UNSAFE_MASK
                cmd_err = cmd_err and not f.w1c & regs.OWN_STAT_CMD_ERR_MASK
            if f.host_write:
                exposed = True
            if f.cmd is not None:
                cmd, quiesce, cfunc = f.cmd
                if (cmd == regs.CMD_DELEGATE and c.state == regs.OWN_LOCAL and not running
                        and cfunc < self.params.num_func and not c.unsafe):
                    state, func, exposed, scrub = regs.OWN_DELEGATED, cfunc, False, True
                    c.desc_reclaimed = set()
                    self.events.append(OwnEvent(e, g, "delegate"))
                elif cmd == regs.CMD_RECLAIM and c.state == regs.OWN_DELEGATED:
                    c.desc_reclaimed, c.desc_seen = c.desc_seen, set()
                    if quiesce:
                        state = regs.OWN_QUIESCING
                        c.qstart = e
                        self.events.append(OwnEvent(e, g, "quiesce"))
                    else:
                        state, func = regs.OWN_LOCAL, 0
                        self.events.append(OwnEvent(e, g, "reclaim"))
                        if self._fences(c, f):
                            unsafe = True
                            self.events.append(OwnEvent(e, g, "unsafe"))
                else:
                    cmd_err = True
                    self.events.append(OwnEvent(e, g, "cmd_err"))
        for kind, addr in wlog:
            self.walk_events.append(WalkEvent(e, g, kind, addr))
        # INT_STAT events and the MSI each owes (SPEC 3), judged on S(e)
        msi = None if picked_msi else c.msi  # a picked MSI is the mover's now
        if int_set:
            kind = "stop" if int_set & regs.INT_STAT_STOP_MASK else "abort"
            addr = self._msi_due(c, kind) if state == regs.OWN_DELEGATED else None
            self.int_events.append(IntEvent(e, g, kind, addr))
            if addr is not None:
                if msi is not None:  # pragma: no cover - START is ignored while pending
                    raise RuntimeError(f"channel {g}: a second MSI event while one is pending")
                msi = (kind, addr, c.win[regs.MSI_MSGDATA])
        if msi is not None and state != regs.OWN_DELEGATED:
            msi = None  # LOCAL, QUIESCING or fenced: never presented (SPEC 3)
            self.events.append(OwnEvent(e, g, "msi_cancel"))
        c.msi = msi
        if c.state == regs.OWN_QUIESCING and not running and not held:
            scrub = True
            state, func, qdone = regs.OWN_LOCAL, 0, True
            c.q_cycles = (e + 1 - c.qstart) & MASK32 if c.qstart is not None else 0
            self.events.append(OwnEvent(e, g, "qdone"))
        c.state, c.func, c.exposed = state, func, exposed
        c.qdone, c.unsafe, c.cmd_err = qdone, unsafe, cmd_err
        if scrub:
            c.scrub()
            return
        if f is not None:
            c.win.update(f.writes)
            clear = f.int_clear
        else:
            clear = 0
        c.int_stat = (c.int_stat & ~clear) | int_set
        c.ch_stat = ch_stat
        c.stop_req = stop_req
        c.src, c.dst, c.rem, c.dst0, c.size0 = src, dst, rem, dst0, size0
        c.walk, c.wphase, c.lp, c.ccs, c.fbeats = walk, wphase, lp, ccs, fbeats
        if wb:  # hardware update of LLP / CCS wins over a same-edge register write
            c.win[regs.LLP_LO], c.win[regs.LLP_HI] = lp & MASK32, lp >> 32
            c.win[regs.CYCLE_SYNC] = ((c.win[regs.CYCLE_SYNC] & ~regs.CYCLE_SYNC_CCS_MASK)
                                      | ccs << regs.CYCLE_SYNC_CCS_LSB)

    # ------------------------------------------------------------ engine helpers
    @staticmethod
    def _sar(c: _Chan) -> int:
        return c.win[regs.SAR_HI] << 32 | c.win[regs.SAR_LO]

    @staticmethod
    def _dar(c: _Chan) -> int:
        return c.win[regs.DAR_HI] << 32 | c.win[regs.DAR_LO]

    @staticmethod
    def _fences(c: _Chan, f: _Eff) -> bool:
        """A plain RECLAIM of an exposed or running channel at this edge: UNSAFE, and the
        channel is fenced from t0 until UNSAFE is cleared (SPEC v2 2.3)."""
        return (f.cmd is not None and f.cmd[0] == regs.CMD_RECLAIM and not f.cmd[1]
                and c.state == regs.OWN_DELEGATED
                and (c.exposed or c.ch_stat == regs.CH_RUNNING or f.host_write))

    def _start_legal(self, c: _Chan) -> bool:
        """SPEC 2.1 START conditions (CH_STAT != RUNNING is checked by the caller)."""
        size = c.win[regs.XFER_SIZE]
        return bool(c.win[regs.CH_EN] & regs.CH_EN_EN_MASK) and size > 0 \
            and size % BEAT == 0 and self._sar(c) % BEAT == 0 and self._dar(c) % BEAT == 0 \
            and not c.win[regs.CONTROL1] & regs.CONTROL1_LLE_MASK

    def _ll_start_legal(self, c: _Chan) -> bool:
        """SPEC 3 START conditions with LLE=1: CH_EN=1 and an 8-byte-aligned LLP."""
        return (bool(c.win[regs.CONTROL1] & regs.CONTROL1_LLE_MASK)
                and bool(c.win[regs.CH_EN] & regs.CH_EN_EN_MASK)
                and c.win[regs.LLP_LO] % BEAT == 0)

    def _msi_due(self, c: _Chan, kind: str) -> int | None:
        """The MSI address an INT_STAT event of a DELEGATED channel owes (S(e) values):
        remote enable set, not masked, address != 0; bits [1:0] ignored."""
        if c.state != regs.OWN_DELEGATED or c.unsafe:
            return None
        s = c.win[regs.INT_SETUP]
        if kind == "stop":
            on = s & regs.INT_SETUP_RSTOP_EN_MASK and not s & regs.INT_SETUP_SMASK_MASK
            lo, hi = regs.MSI_STOP_LO, regs.MSI_STOP_HI
        else:
            on = s & regs.INT_SETUP_RABORT_EN_MASK and not s & regs.INT_SETUP_AMASK_MASK
            lo, hi = regs.MSI_ABORT_LO, regs.MSI_ABORT_HI
        addr = (c.win[hi] << 32 | c.win[lo]) & ~3
        return addr if on and addr else None

    def _work(self, c: _Chan, f: _Eff | None, blk: bool) -> _Work | None:
        """What channel c asks the mover for at this edge, or None (microarch
        "Linked-list mode": a pending MSI, else the next burst of a running channel)."""
        if c.msi is not None:
            reclaim = f is not None and f.cmd is not None and f.cmd[0] == regs.CMD_RECLAIM
            if c.state != regs.OWN_DELEGATED or c.unsafe or reclaim:
                return None
            kind, addr, data = c.msi
            wdata, wstrb = msi_beat(addr, data)
            return _Work("msi", addr, addr, 4, c.func, wdata, wstrb, kind)
        if c.ch_stat != regs.CH_RUNNING or blk:
            return None
        user = self._func_lat(c)
        if not c.walk:
            return _Work("copy", c.src, c.dst, c.rem, user)
        if c.wphase == "data":
            return _Work("data", c.src, c.dst, c.rem, user)
        off = BEAT * len(c.fbeats)
        return _Work("fetch", (c.lp + off) & MASK64, 0, ELEM_SIZE - off, user)

    @staticmethod
    def _func_lat(c: _Chan) -> int:
        """Requester function latched at a pick: owner FUNC when DELEGATED."""
        if c.state == regs.OWN_DELEGATED:
            return c.func
        return c.win[regs.FUNC_NUM] & regs.FUNC_NUM_FUNC_MASK

    def _predict_pick(self, p: int) -> _Pick | None:
        """Round robin from the channel after the last served (mover idle at p)."""
        if not self._eligible:
            return None
        for k in range(1, NUM_G + 1):
            g = (self._rr_last + k) % NUM_G
            w = self._eligible.get(g)
            if w is None:
                continue
            if w.kind == "msi":
                return _Pick(p, g, w.dst, 1, w.user, w.dst, "msi", w.wdata, w.wstrb, w.ev)
            if w.kind == "fetch":
                done = ELEM_BEATS - w.rem // BEAT
                return _Pick(p, g, w.src, fetch_beats(self.params.max_burst, w.src, done),
                             w.user, 0, "fetch")
            return _Pick(p, g, w.src, burst_beats(self.params.max_burst, w.src, w.dst, w.rem),
                         w.user, w.dst, w.kind)
        return None  # pragma: no cover - eligible is non-empty

    @staticmethod
    def _ch_irq(c: _Chan, local: bool) -> bool:
        s = c.win[regs.INT_SETUP]
        stop_en = regs.INT_SETUP_LSTOP_EN_MASK if local else regs.INT_SETUP_RSTOP_EN_MASK
        abort_en = regs.INT_SETUP_LABORT_EN_MASK if local else regs.INT_SETUP_RABORT_EN_MASK
        stop = (c.int_stat & regs.INT_STAT_STOP_MASK and not s & regs.INT_SETUP_SMASK_MASK
                and s & stop_en)
        abort = (c.int_stat & regs.INT_STAT_ABORT_MASK and not s & regs.INT_SETUP_AMASK_MASK
                 and s & abort_en)
        return bool(stop or abort)

    # ------------------------------------------------------------ access judging
    @staticmethod
    def _eff(effs: dict[int, _Eff], g: int) -> _Eff:
        f = effs.get(g)
        if f is None:
            f = effs[g] = _Eff()
        return f

    @staticmethod
    def _win_read(c: _Chan, reg: int) -> int:  # c.win holds the stored registers
        if reg in c.win:
            return c.win[reg]
        if reg == regs.CH_STAT:
            return c.ch_stat
        if reg == regs.INT_STAT:
            return c.int_stat
        return 0  # WO registers and unlisted offsets

    def _win_write(self, c: _Chan, f: _Eff, reg: int, data: int, strb: int) -> None:
        bm = byte_mask(strb)
        if reg in c.win:
            if strb:
                f.writes[reg] = ((c.win[reg] & ~bm) | (data & bm)) & self._wmask[reg]
        elif reg == regs.DOORBELL:
            v = data & bm
            f.stop = bool(v & regs.DOORBELL_STOP_MASK)
            f.start = bool(v & regs.DOORBELL_START_MASK) and not f.stop
        elif reg == regs.INT_CLEAR:
            f.int_clear = data & bm & _INT_BITS
        # RO registers and unlisted offsets: OKAY, ignored

    def _decode_local(self, a: int) -> tuple[str, int, int] | None:
        if a in _LOC_REGS:
            return ("loc", a, 0)
        d = decode_local(a)
        if d is None:
            return None
        kind, g, off = d
        if kind == "own":
            return d if off in (regs.OWN_CMD, regs.OWN_STAT, regs.Q_CYCLES) else None
        return d if g in self._ch else None

    def _judge_local(self, acc: LiteAccess, effs: dict[int, _Eff], glob: _Glob) -> LiteResult:
        d = self._decode_local(acc.addr & 0xFFFC)
        if d is None:
            return LiteResult(Resp.DECERR, 0)
        kind, x, off = d
        if kind == "loc":
            if not acc.write:
                return LiteResult(Resp.OKAY, self._read_loc(x))
            if x == regs.VIOL_COUNT and acc.strb:
                glob.viol_clear = True
            elif x == regs.OWN_IRQ_EN:
                bm = byte_mask(acc.strb)
                glob.irq_en = (((self._irq_en & ~bm) | (acc.data & bm))
                               & regs.OWN_IRQ_EN_OWN_IRQ_EN_MASK)
            return LiteResult(Resp.OKAY, 0)
        if kind == "own":
            c = self._ch.get(x)
            if c is None:  # uninstantiated: reads 0, writes ignored, OKAY
                return LiteResult(Resp.OKAY, 0)
            if not acc.write:
                v = c.own_stat() if off == regs.OWN_STAT else (
                    c.q_cycles if off == regs.Q_CYCLES else 0)
                return LiteResult(Resp.OKAY, v)
            v = acc.data & byte_mask(acc.strb)
            if off == regs.OWN_CMD and acc.strb:
                self._eff(effs, x).cmd = (
                    (v & regs.OWN_CMD_CMD_MASK) >> regs.OWN_CMD_CMD_LSB,
                    bool(v & regs.OWN_CMD_QUIESCE_MASK),
                    (v & regs.OWN_CMD_FUNC_MASK) >> regs.OWN_CMD_FUNC_LSB)
            elif off == regs.OWN_STAT and v & _W1C_BITS:
                self._eff(effs, x).w1c = v & _W1C_BITS
            return LiteResult(Resp.OKAY, 0)
        c = self._ch[x]
        if not acc.write:
            return LiteResult(Resp.OKAY, self._win_read(c, off))
        if c.state != regs.OWN_LOCAL:
            return LiteResult(Resp.SLVERR, 0)
        self._win_write(c, self._eff(effs, x), off, acc.data, acc.strb)
        return LiteResult(Resp.OKAY, 0)

    def _read_loc(self, a: int) -> int:
        if a == regs.ID:
            return regs.ID_VALUE
        if a == regs.VERSION:
            return regs.VERSION_VALUE
        if a == regs.CONFIG:
            return self.params.config
        if a == regs.VIOL_COUNT:
            return self._viol_count
        if a == regs.VIOL_LAST:
            return self._viol_last
        if a == regs.OWN_IRQ_STAT:
            return self.own_irq_stat()
        return self._irq_en  # OWN_IRQ_EN

    def _judge_host(self, acc: LiteAccess, effs: dict[int, _Eff], glob: _Glob) -> LiteResult:
        a = acc.addr & 0xFFFC
        fn, g, reg = decode_host(a)
        if fn >= self.params.num_func or g not in self._ch:
            return LiteResult(Resp.DECERR, 0, "decerr")
        c = self._ch[g]
        why = "allowed"
        if c.state == regs.OWN_QUIESCING:
            why = "quiescing"
        elif c.state != regs.OWN_DELEGATED:
            why = "not_delegated"
        elif c.func != fn:
            why = "wrong_function"
        elif (acc.write and reg == regs.FUNC_NUM and acc.strb & 1
                and (acc.data & regs.FUNC_NUM_FUNC_MASK) != fn):
            why = "spoof"  # requester spoofing
        if why != "allowed":
            glob.viol = (acc.write, a)
            return LiteResult(Resp.SLVERR, 0, why)
        if not acc.write:
            return LiteResult(Resp.OKAY, self._win_read(c, reg), why)
        f = self._eff(effs, g)
        f.host_write = True
        self._win_write(c, f, reg, acc.data, acc.strb)
        return LiteResult(Resp.OKAY, 0, why)

    # ------------------------------------------------------------ DMA checker
    def _viol(self, e: int, g: int | None, port: str, what: str, exp: object,
              act: object) -> None:
        self.errors.append(Violation(e, g, port, what, exp, act))

    def _why_not(self, g: int) -> str:
        """Why g could not be picked at the previous edge (from the S(e-1) view)."""
        if g not in self._ch:
            return f"channel {g} is not instantiated"
        if self._prev_busy is not None:
            return f"the mover held a burst of channel {self._prev_busy} (one in flight)"
        st, bl = self._prev_view[g]
        if st != regs.CH_RUNNING:
            return f"CH_STAT was {_CH_NAMES[st]}, not RUNNING"
        if bl:
            return "the channel was blocked (STOP requested, quiescing or fenced)"
        return "another channel was due by round robin"

    def _dma(self, e: int, evs: list[object]) -> tuple[bool, bool]:
        """Check the DMA events of edge e; returns (read ended, B received)."""
        exp = self._pick if self._pick is not None and self._pick.edge == e - 1 else None
        aps = [x for x in evs if isinstance(x, ArPresent)]
        # an AW with no burst in flight is a new write request: an MSI (SPEC 3)
        new_aw = next((x for x in evs if isinstance(x, AwPresent)), None) \
            if self._burst is None and not aps else None
        if len(aps) > 1:
            self._viol(e, None, "ar", "more than one AR presented at one edge", 1, len(aps))
        if aps:
            self._missing_ar = False
            self._on_ar(e, aps[0], exp)
        elif new_aw is not None:
            self._missing_ar = False
            self._on_msi(e, new_aw, exp)
        elif exp is None:
            self._missing_ar = False
        elif not self._missing_ar:
            self._missing_ar = True
            port, what = ("aw", "no MSI AW") if exp.kind == "msi" else ("ar", "no AR")
            self._viol(e, exp.g, port, f"{what} presented after the pick at edge {e - 1}",
                       f"id={exp.g} addr={exp.addr:#x} len={exp.beats - 1} user={exp.user}",
                       f"no {port.upper()}VALID")
        b = self._burst
        r_end = b_end = aw_seen = False
        for x in evs:
            if isinstance(x, ArPresent) or x is new_aw:
                continue
            if isinstance(x, ArHs):
                if b is None or b.ar_hs:
                    self._viol(e, x.id, "ar", "AR handshake without a presented AR",
                               "no handshake", f"id={x.id}")
                elif x.id != b.g:
                    self._viol(e, b.g, "ar", "ARID at the handshake", b.g, x.id)
                else:
                    b.ar_hs = True
            elif isinstance(x, RBeat):
                r_end |= self._on_r(e, b, x)
            elif isinstance(x, AwPresent):
                aw_seen = True
                self._on_aw(e, b, x)
            elif isinstance(x, AwHs):
                if b is None or b.aw_addr is None or b.aw_hs:
                    self._viol(e, x.id, "aw", "AW handshake without a presented AW",
                               "no handshake", f"id={x.id}")
                elif x.id != b.g:
                    self._viol(e, b.g, "aw", "AWID at the handshake", b.g, x.id)
                else:
                    b.aw_hs = True
            elif isinstance(x, WBeat):
                self._on_w(e, b, x)
            elif isinstance(x, BHs):
                b_end |= self._on_b(e, b, x)
        if b is not None and b.phase == "aw" and b.aw_due == e and not aw_seen:
            self._viol(e, b.g, "aw", "AW not presented on the edge after the last R beat",
                       f"AW at edge {e}", "no AWVALID")
        return r_end, b_end

    def _on_ar(self, e: int, x: ArPresent, exp: _Pick | None) -> None:
        g = x.id
        ch = g if g in self._ch else None
        desc = f"id={g} addr={x.addr:#x} len={x.len} user={x.user}"
        if self._burst is not None:
            self._viol(e, ch, "ar", "AR presented while a burst is in flight "
                       "(one burst in flight in total)",
                       f"burst of channel {self._burst.g} to finish", desc)
            return
        legit = exp is not None and exp.g == g and exp.kind != "msi"
        c = self._ch.get(g)
        if c is not None:
            if c.state == regs.OWN_DELEGATED and x.user != c.func:
                self._viol(e, g, "ar", "ARUSER is not the owner's function (SPEC 2.4/3)",
                           c.func, x.user)
            end = x.addr + BEAT * (x.len + 1)
            hit = sorted(a for a in c.desc_reclaimed if a < end and x.addr < a + ELEM_SIZE)
            if hit:
                self._viol(e, g, "ar", "descriptor memory read after reclaim (element "
                           f"{hit[0]:#x} was fetched during the reclaimed delegation)",
                           "no read", desc)
        if exp is not None and exp.kind == "msi" and exp.g == g:
            self._viol(e, ch, "ar", f"AR where the MSI write picked at edge {e - 1} was due",
                       f"AW id={g} addr={exp.addr:#x}", desc)
        elif exp is None:
            self._viol(e, ch, "ar", f"AR for a channel not allowed to pick at edge {e - 1}: "
                       f"{self._why_not(g)}", "no AR", desc)
        elif not legit:
            self._viol(e, ch, "ar", f"AR for the wrong channel (pick at edge {e - 1}: "
                       f"{self._why_not(g)})", f"id={exp.g}", desc)
        else:
            for name, want, got in (("ARADDR", exp.addr, x.addr),
                                    ("ARLEN", exp.beats - 1, x.len),
                                    ("ARUSER (requester function)", exp.user, x.user)):
                if want != got:
                    self._viol(e, g, "ar", name, hex(want), hex(got))
        if x.len + 1 > self.params.max_burst:
            self._viol(e, ch, "ar", "burst longer than MAX_BURST", self.params.max_burst,
                       x.len + 1)
        if x.addr % PAGE + BEAT * (x.len + 1) > PAGE:
            self._viol(e, ch, "ar", "read burst crosses 4 KiB", "no crossing", desc)
        self._burst = _Burst(
            g=g, legit=legit, addr=x.addr, beats=x.len + 1,
            exp_beats=exp.beats if legit and exp is not None else x.len + 1,
            exp_dst=exp.dst if legit and exp is not None else None,
            exp_user=exp.user if legit and exp is not None else x.user, present=e,
            kind=exp.kind if legit and exp is not None else "copy")
        if legit and c is not None and exp is not None and exp.kind == "fetch" \
                and c.state == regs.OWN_DELEGATED:
            c.desc_seen.add(c.lp)
        if ch is not None:
            self._rr_last = g  # round robin continues from what was served

    def _on_msi(self, e: int, x: AwPresent, exp: _Pick | None) -> None:
        """A write request with no burst in flight: an MSI (SPEC 3). Checked against
        the predicted pick and, independently, against the security rules."""
        g = x.id
        ch = g if g in self._ch else None
        c = self._ch.get(g)
        desc = f"id={g} addr={x.addr:#x} len={x.len} user={x.user}"
        legit = exp is not None and exp.kind == "msi" and exp.g == g
        if legit and exp is not None:
            for name, want, got in (("AWADDR (MSI address)", exp.addr, x.addr),
                                    ("AWLEN (MSI is one beat)", 0, x.len),
                                    ("AWUSER (requester function)", exp.user, x.user)):
                if want != got:
                    self._viol(e, g, "aw", name, hex(want), hex(got))
        elif exp is None:
            self._viol(e, ch, "aw", "AW with no preceding successful read and no MSI due "
                       f"(no pick at edge {e - 1}: {self._why_not(g)})", "no AW", desc)
        else:
            self._viol(e, ch, "aw", f"AW with no burst in flight (the pick at edge {e - 1} "
                       f"was a {exp.kind} burst of channel {exp.g})", "no AW", desc)
        if c is not None:  # the security rules, whatever the prediction says
            if c.unsafe or c.state != regs.OWN_DELEGATED:
                st = "fenced" if c.unsafe else {regs.OWN_LOCAL: "LOCAL",
                                                regs.OWN_QUIESCING: "QUIESCING"}[c.state]
                after = [ev.edge for ev in self.events if ev.g == g
                         and ev.kind in ("quiesce", "reclaim")]
                t0 = f" (after t0={after[-1]})" if after else ""
                self._viol(e, g, "aw", f"MSI from a {st} channel{t0}", "no MSI", desc)
            elif x.user != c.func:
                self._viol(e, g, "aw", "MSI AWUSER is not the owner's function", c.func,
                           x.user)
        self.msi_log.append(MsiWrite(e, g, x.addr, x.user,
                                     exp.ev if legit and exp is not None else "unexpected"))
        self._burst = _Burst(
            g=g, legit=legit, addr=x.addr, beats=x.len + 1, exp_beats=1,
            exp_dst=x.addr, exp_user=x.user, present=e, kind="msi",
            wstrb=exp.wstrb if legit and exp is not None else 0,
            rdata=[exp.wdata] if legit and exp is not None else [],
            phase="w", aw_due=e, aw_addr=x.addr)
        if ch is not None:
            self._rr_last = g

    def _on_r(self, e: int, b: _Burst | None, x: RBeat) -> bool:
        if b is None or not b.ar_hs or b.phase != "r":
            self._viol(e, x.id if x.id in self._ch else None, "r",
                       "R beat with no read burst awaiting data", "no R", f"id={x.id}")
            return False
        i = len(b.rdata)
        if i >= b.beats:
            self._viol(e, b.g, "r", "more R beats than ARLEN+1", b.beats, i + 1)
            return False
        last = i == b.beats - 1
        # A memory protocol error (another RID, RLAST off the length) is the memory's
        # fault, named by the protocol checker (tb/hdl/axi4_check.v); the mover treats
        # it as an error response, and an early RLAST ends the read there
        # (docs/microarch.md "Data mover").
        proto_err = x.id != b.g or x.last != last
        addr = b.addr + BEAT * i
        if x.resp == Resp.OKAY and not proto_err and in_range(self.mem, addr, BEAT):
            want = read_u64(self.mem, addr)
            if x.data != want:
                self._viol(e, b.g, "r", f"R data at {addr:#x} differs from the memory image",
                           hex(want), hex(x.data))
        b.rdata.append(x.data)
        if x.resp != Resp.OKAY or proto_err:
            b.rerr = True
        if b.g in self._ch:
            self._ch[b.g].last_resp = e
        return last or x.last

    def _on_aw(self, e: int, b: _Burst | None, x: AwPresent) -> None:
        ch = x.id if x.id in self._ch else None
        desc = f"id={x.id} addr={x.addr:#x} len={x.len} user={x.user}"
        if b is None or b.phase != "aw":
            why = ("no burst in flight" if b is None else
                   "the read has not finished" if b.phase == "r" else "AW already presented")
            self._viol(e, ch, "aw", f"AW with no preceding successful read ({why})",
                       "no AW", desc)
            return
        if e != b.aw_due:
            self._viol(e, b.g, "aw", "AW presented late (due from S(r+1))", b.aw_due, e)
        checks = [("AWID", b.g, x.id), ("AWLEN", b.beats - 1, x.len),
                  ("AWUSER (requester function)", b.exp_user, x.user)]
        if b.exp_dst is not None:
            checks.append(("AWADDR", b.exp_dst, x.addr))
        for name, want, got in checks:
            if want != got:
                self._viol(e, b.g, "aw", name, hex(want), hex(got))
        c = self._ch.get(x.id)
        lo, hi = (c.dst0, c.dst0 + c.size0) if c is not None else (0, 0)
        end = x.addr + BEAT * (x.len + 1)
        if not (lo <= x.addr and end <= hi):
            self._viol(e, ch, "aw", "write outside [DAR, DAR+XFER_SIZE)",
                       f"[{lo:#x}, {hi:#x})", f"[{x.addr:#x}, {end:#x})")
        if x.addr % PAGE + BEAT * (x.len + 1) > PAGE:
            self._viol(e, ch, "aw", "write burst crosses 4 KiB", "no crossing", desc)
        b.aw_addr = x.addr
        b.phase = "w"

    def _on_w(self, e: int, b: _Burst | None, x: WBeat) -> None:
        if b is None or b.phase not in ("aw", "w") or b.aw_due is None or e < b.aw_due:
            self._viol(e, None if b is None else b.g, "w",
                       "W beat with no burst awaiting write data", "no W", hex(x.data))
            return
        i = b.wcount
        if i >= b.beats:
            self._viol(e, b.g, "w", "more W beats than the burst length", b.beats, i + 1)
            return
        what = "the MSI data (MSI_MSGDATA in its lanes)" if b.kind == "msi" else "the data read"
        if i < len(b.rdata) and x.data != b.rdata[i]:
            self._viol(e, b.g, "w", f"W data beat {i} differs from {what}",
                       hex(b.rdata[i]), hex(x.data))
        if b.wstrb and x.strb != b.wstrb:
            self._viol(e, b.g, "w", f"WSTRB beat {i}", hex(b.wstrb), hex(x.strb))
        last = i == b.beats - 1
        if x.last != last:
            self._viol(e, b.g, "w", f"WLAST on beat {i}", last, x.last)
        base = b.aw_addr if b.aw_addr is not None else b.exp_dst
        if base is not None:
            base -= base % BEAT  # an MSI at addr%8 == 4 uses the upper lanes
        if base is not None and in_range(self.mem, base + BEAT * i, BEAT):
            write_u64(self.mem, base + BEAT * i, x.data, x.strb)
        b.wcount += 1

    def _on_b(self, e: int, b: _Burst | None, x: BHs) -> bool:
        if b is None or b.phase not in ("aw", "w"):
            self._viol(e, x.id if x.id in self._ch else None, "b",
                       "B with no write burst in flight", "no B", f"id={x.id}")
            return False
        if not b.aw_hs or b.wcount < b.beats:
            self._viol(e, b.g, "b", "B before the AW handshake and all W beats",
                       f"AW handshake and {b.beats} W beats",
                       f"AW handshake={b.aw_hs}, {b.wcount} W beats")
        if x.resp != Resp.OKAY or x.id != b.g:  # another BID: an error response, as in RTL
            b.berr = True
        if b.g in self._ch:
            self._ch[b.g].last_resp = e
        return True


# --------------------------------------------------------------------------
# built-in mover + ideal memory (self-driving mode)
# --------------------------------------------------------------------------


@dataclass
class _BusBurst:
    g: int
    src: int
    dst: int
    beats: int
    user: int
    present: int
    kind: str = "copy"  # as _Work.kind
    wstrb: int = 0xFF
    phase: str = "ar"  # "ar", "r", "rdone", "w", "done"
    next_r: int = 0
    rdata: list[int] = field(default_factory=list)
    rerr: bool = False
    r_end: int = 0
    aw_present: int = 0
    aw_hs: int | None = None
    wcount: int = 0
    w_last: int = 0


class _IdealBus:
    """The RTL's mover rules (one burst in flight, round robin, burst length) and
    an ideal memory answering after ``latency`` edges.

    Why a separate implementation of the pick and burst length: the checker in
    :class:`HwModel` predicts them too, so self-driving runs cross-check the two
    (``hw.errors`` must stay empty). It reads only what the RTL mover sees at a
    pick edge: which channels are RUNNING and not blocked, with their S(p)
    working values, and whether the channel is blocked at the last R beat.
    """

    def __init__(self, hw: HwModel, latency: int) -> None:
        self.hw = hw
        self.latency = latency
        self.rr_last = NUM_G - 1
        self.b: _BusBurst | None = None
        self.seen = hw.cycle

    def sync(self) -> None:
        if self.hw.cycle != self.seen:
            if self.b is not None:
                raise RuntimeError("self-driving mode cannot continue: edge() was called "
                                   "directly while a built-in burst was in flight")
            self.seen = self.hw.cycle

    def _stalled(self, kind: str, e: int) -> bool:
        st = self.hw.stall
        return st is not None and bool(st(kind, e))

    def _resp(self, kind: str, addr: int, nbytes: int) -> int:
        r = None
        if self.hw.fault is not None:
            r = self.hw.fault(kind, addr)
        if r is None:
            return Resp.OKAY if in_range(self.hw.mem, addr, nbytes) else Resp.DECERR
        return _as_int("fault() result", int(r), 0, 3)

    def events(self, e: int) -> list[object]:
        b = self.b
        ev: list[object] = []
        if b is None:
            return ev
        if b.phase == "ar":
            if e == b.present:
                ev.append(ArPresent(b.g, b.src, b.beats - 1, b.user))
            if not self._stalled("ar", e):
                ev.append(ArHs(b.g))
                b.phase = "r"
                b.next_r = e + self.latency
        elif b.phase == "r":
            if e >= b.next_r and not self._stalled("r", e):
                i = len(b.rdata)
                addr = b.src + BEAT * i
                resp = self._resp("r", addr, BEAT)
                data = read_u64(self.hw.mem, addr) if resp == Resp.OKAY else 0
                last = i == b.beats - 1
                b.rdata.append(data)
                b.rerr |= resp != Resp.OKAY
                ev.append(RBeat(b.g, data, resp, last))
                if last:
                    b.phase, b.r_end = "rdone", e
        elif b.phase == "w":
            if e == b.aw_present:
                ev.append(AwPresent(b.g, b.dst, b.beats - 1, b.user))
            if b.aw_hs is None and not self._stalled("aw", e):
                ev.append(AwHs(b.g))
                b.aw_hs = e
            if b.wcount < b.beats:
                if not self._stalled("w", e):
                    i = b.wcount
                    ev.append(WBeat(b.rdata[i], b.wstrb, i == b.beats - 1))
                    b.wcount += 1
                    b.w_last = e
            elif (b.aw_hs is not None and e >= max(b.aw_hs, b.w_last) + self.latency
                  and not self._stalled("b", e)):
                ev.append(BHs(b.g, self._resp("b", b.dst, BEAT * b.beats)))
                b.phase = "done"
        return ev

    def after(self, e: int) -> None:
        """Decisions the mover takes at edge e: drop/write after the last R beat,
        burst end, and the pick when it was idle at e."""
        hw = self.hw
        idle = self.b is None
        b = self.b
        if b is not None:
            if b.phase == "rdone" and b.r_end == e:
                if b.rerr or b.kind == "fetch" or b.g in hw._drop_last:
                    self.b = None  # failed, dropped or a fetch: ends at the last R beat
                else:
                    b.phase, b.aw_present = "w", e + 1
            elif b.phase == "done":
                self.b = None
        if idle and hw._eligible:
            for k in range(1, NUM_G + 1):
                g = (self.rr_last + k) % NUM_G
                w = hw._eligible.get(g)
                if w is None:
                    continue
                if w.kind == "msi":  # one beat, AW and W from the next edge, no read
                    self.b = _BusBurst(g, w.src, w.dst, 1, w.user, present=e + 1,
                                       kind="msi", wstrb=w.wstrb, phase="w",
                                       rdata=[w.wdata], aw_present=e + 1)
                else:
                    src, rem = w.src, w.rem
                    dst = src if w.kind == "fetch" else w.dst  # a fetch has no write side
                    beats = min(hw.params.max_burst, rem // BEAT,
                                (PAGE - src % PAGE) // BEAT, (PAGE - dst % PAGE) // BEAT)
                    self.b = _BusBurst(g, src, dst, beats, w.user, present=e + 1,
                                       kind=w.kind)
                self.rr_last = g
                break
        self.seen = e
