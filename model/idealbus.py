"""Built-in mover and ideal memory of :class:`model.hw.HwModel`'s self-driving mode.

Plain pytest has no RTL: :class:`_IdealBus` generates the DMA events a correct
mover and a memory answering after ``latency`` edges would produce, and
``HwModel.drive`` feeds them through the same ``edge()`` path as the monitors do,
so the checker is exercised by every pure-Python test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.addrmap import NUM_G
from model.events import (
    BEAT,
    PAGE,
    SIZE_BEAT,
    ArHs,
    ArPresent,
    AwHs,
    AwPresent,
    BHs,
    RBeat,
    Resp,
    WBeat,
    _as_int,
)
from model.mem import in_range, read_u64
from model.walk import MSI_SIZE

if TYPE_CHECKING:
    from model.hw import HwModel


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
                ev.append(ArPresent(b.g, b.src, b.beats - 1, b.user, SIZE_BEAT))
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
                ev.append(AwPresent(b.g, b.dst, b.beats - 1, b.user,
                                    MSI_SIZE if b.kind == "msi" else SIZE_BEAT))
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
