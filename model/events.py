"""Value and event types of the ``dma_deleg`` hardware model (SPEC 2/3).

Why a module of their own: the monitors (tb/monitor.py), the transaction-level
recorder (tb/tl.py), the scoreboard and the plain-pytest model tests all build or
read these records; none of them needs the predictor to do so. Every type checks
its fields at construction, so bad input fails where it is made, with a clear
message, not edges later inside the predictor.

Contents: the argument checkers, :class:`HwParams`, the AXI4-Lite access and its
predicted result (:class:`LiteAccess`, :class:`LiteResult`, :class:`Resp`), the
AXI4 master events one edge can carry (:class:`ArPresent` ... :class:`BHs`, in the
order :class:`model.hw.HwModel` processes them), and the logs the model keeps
(:class:`Violation`, :class:`OwnEvent`, :class:`IntEvent`, :class:`MsiWrite`,
:class:`WalkEvent`).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from numbers import Integral
from typing import NamedTuple, TypeVar

import numpy as np

from model import regs
from model.addrmap import NUM_G

MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1
PAGE = 4096  # AXI bursts never cross 4 KiB
BEAT = 8  # bytes per 64-bit beat
#: AxSIZE of a full 64-bit beat (log2 of BEAT bytes): every copy burst and element fetch
#: uses it (SPEC 2.1/3); an MSI write's is model.walk.MSI_SIZE.
SIZE_BEAT = BEAT.bit_length() - 1


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

    @functools.cached_property
    def channels(self) -> tuple[int, ...]:
        """Global indices of the instantiated channels, ascending (computed once: the
        observers ask at every host access)."""
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


_E = TypeVar("_E")  # one of the DMA event classes below (parsed_event)


def _ev_init(obj: object, spec: tuple[tuple[str, int], ...]) -> None:
    for name, bits in spec:
        object.__setattr__(obj, name, _as_int(
            f"{type(obj).__name__}.{name}", getattr(obj, name), 0, (1 << bits) - 1))


@dataclass(frozen=True)
class _Request:
    """A new request: VALID first high at this edge (ID, ADDR, LEN, USER, SIZE).

    ``size`` is AxSIZE; it defaults to a full beat (SIZE_BEAT) so model-only code that
    builds copy and fetch requests by hand need not name it. The checker judges it
    (SPEC 3: 3 for data and element fetches, 2 for an MSI), so an MSI built by hand
    must say ``size=MSI_SIZE``."""

    id: int
    addr: int
    len: int
    user: int
    size: int = SIZE_BEAT

    def __post_init__(self) -> None:
        _ev_init(self, (("id", 16), ("addr", 64), ("len", 8), ("user", 4), ("size", 3)))


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


def parsed_event(cls: type[_E], **fields: object) -> _E:
    """A DMA event (a beat, request, handshake or B) from fields a parser read out of
    fixed-width hex fields (the tl recorder: tb/tl.py), so in range by construction: the
    same object the constructor builds, without its range checks, which were a tenth of
    that lane's parsing time. Every field must be given."""
    x = object.__new__(cls)
    x.__dict__.update(fields)
    return x


def parsed_r(id: int, data: int, resp: int, last: bool) -> RBeat:  # noqa: A002 - AXI's name
    """``parsed_event(RBeat, ...)`` with positional fields: the recorder's beat runs
    carry most of a copy's events, and the keyword dict was a third of building one."""
    x = object.__new__(RBeat)
    d = x.__dict__
    d["id"], d["data"], d["resp"], d["last"] = id, data, resp, last
    return x


def parsed_req(cls: type[_E], id: int, addr: int, len: int, user: int,  # noqa: A002
               size: int) -> _E:
    """``parsed_event`` of an AR or AW presentation (``cls``) with positional fields."""
    x = object.__new__(cls)
    d = x.__dict__
    d["id"], d["addr"], d["len"], d["user"], d["size"] = id, addr, len, user, size
    return x


def parsed_w(data: int, strb: int, last: bool) -> WBeat:
    """``parsed_event(WBeat, ...)`` with positional fields (``parsed_r``)."""
    x = object.__new__(WBeat)
    d = x.__dict__
    d["data"], d["strb"], d["last"] = data, strb, last
    return x


class BeatCols(NamedTuple):
    """A run of ``n`` beat edges (a stretch of the tl recorder's beat run, tb/tl.py ``run_pieces``) as
    columns instead of one event per edge: every edge carries one beat or none (a
    stall), all beats of one kind. ``offs``: each beat's edge, as an offset from the
    run's first; ``datas``: their data. ``kind`` "r": R beats of ID ``rid`` with OKAY,
    RLAST low except on the run's last edge when ``rlast``; "w": W beats with
    ``strbs`` and ``lasts`` (WLAST). Why: a copy's beats came as one object each, built,
    classified and checked field by field; as columns the predictor compares them in
    bulk (``HwModel.beat_cols``)."""

    kind: str
    n: int
    offs: list[int]
    datas: list[int]
    rid: int = 0
    rlast: bool = False
    strbs: list[int] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    lasts: list[bool] = []  # noqa: RUF012


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
