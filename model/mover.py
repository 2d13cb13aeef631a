"""The RTL mover's rules as the predictor applies them (microarch "Data mover").

What a channel asks the mover for at a pick edge (:class:`_Work`), which channel
the mover serves next by round robin and with which burst (:class:`_Pick`), and
the burst length rule (:func:`burst_beats`). :class:`MoverRules` is mixed into
:class:`model.hw.HwModel` and works on its state (``self._ch``, ``self._eligible``,
``self._rr_last``); the DMA-contract checker (model/contract.py) compares the
observed requests with its pick. The ideal bus of self-driving mode
(model/idealbus.py) implements the same rules independently on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from model import regs
from model.addrmap import NUM_G
from model.events import BEAT, MASK64, PAGE
from model.walk import ELEM_BEATS, ELEM_SIZE, MSI_BYTES, fetch_beats, msi_beat

if TYPE_CHECKING:
    from model.predictor import _Chan, _Eff


def burst_beats(max_burst: int, src: int, dst: int, rem: int) -> int:
    """Beats of the next burst (microarch "Data mover").

    ``min(MAX_BURST, rem/8, (4096-src%4096)/8, (4096-dst%4096)/8)``: never cross
    4 KiB on either side, never overrun the transfer.
    """
    return min(max_burst, rem // BEAT, (PAGE - src % PAGE) // BEAT, (PAGE - dst % PAGE) // BEAT)



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



class MoverRules:
    """The mover's pick, mixed into :class:`model.hw.HwModel` (uses its state)."""

    def _work(self, c: _Chan, f: _Eff | None, blk: bool) -> _Work | None:
        """What channel c asks the mover for at this edge, or None (microarch
        "Linked-list mode": a pending MSI, else the next burst of a running channel)."""
        if c.msi is not None:
            reclaim = f is not None and f.cmd is not None and f.cmd[0] == regs.CMD_RECLAIM
            if c.state != regs.OWN_DELEGATED or c.unsafe or reclaim:
                return None
            kind, addr, data = c.msi
            wdata, wstrb = msi_beat(addr, data)
            return _Work("msi", addr, addr, MSI_BYTES, c.func, wdata, wstrb, kind)
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
