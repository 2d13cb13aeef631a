"""Copy checker: every completed copy moved exactly the source bytes.

The predictor (model.hw) already checks each beat (R data against its memory image,
W data against the data read, writes inside [DAR, DAR+XFER_SIZE), no AR/AW after t0,
ARUSER/AWUSER) and TB.finish compares all of AxiRam with the image. This observer adds
the end-to-end property per copy: when a channel reaches CH_STAT=STOPPED (done), the
model's image of [DAR, DAR+XFER_SIZE) equals the source bytes as they were at START.

A copy is not judged (counted in ``skipped``) when its own source and destination
overlap, or when its source or destination may legitimately change under it:
- a write burst of any channel that is *outstanding at START* (AW presented, B not yet
  seen: its W beats may land after START) overlaps them;
- a write burst of another channel *presented while the copy runs* overlaps them;
- the test itself writes memory (``TB.write_memory``/``fill_memory``) over them.
Comparing such a copy against the bytes at START would report a false mismatch; the
per-beat checks of the predictor (R data against the image, W data against the data
read) and the end-of-test AxiRam == image comparison still judge every byte it moved.

A linked-list START (CONTROL1.LLE=1, SPEC 3) is not a single copy: SAR/DAR/XFER_SIZE are
plain storage then. It is counted in ``walks`` and judged by the predictor's per-beat
checks and the end-of-test comparison (tb/test_ll.py also compares each list's
destinations with its sources).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from model import regs
from model.addrmap import channel_of
from model.hw import AwPresent, BHs

BEAT = 8


@dataclass
class _Copy:
    g: int
    start: int
    src: int
    dst: int
    size: int
    data: np.ndarray | None  # source bytes at START (None: not checkable)
    tainted: str = ""

    def taint(self, lo: int, hi: int, who: str) -> None:
        """Mark the copy unjudgeable if [lo, hi) overlaps its source or destination
        (the first reason is kept: it is the one a test asserts on)."""
        if self.tainted:
            return
        if lo < self.src + self.size and self.src < hi:
            self.tainted = f"{who} wrote into the source"
        elif lo < self.dst + self.size and self.dst < hi:
            self.tainted = f"{who} wrote into the destination"


class CopyChecker:
    """Scoreboard observer; see the module docstring."""

    def __init__(self, tb) -> None:
        self.tb = tb
        self.sb = tb.sb
        self.verified = 0
        self.skipped = 0
        self.aborted = 0
        self.walks = 0  # linked-list STARTs (not single copies, see the module docstring)
        self.log: list[tuple[int, int, int, int, int]] = []  # (g, start, end, dst, size) verified
        self.skip_log: list[tuple[int, int, str]] = []  # (g, start, why) of skipped copies
        self._model = None
        self._gen = -1   # the model's generation when the running copies were last looked at
        self._active: dict[int, _Copy] = {}
        # write bursts presented and not yet answered by B, per AXI ID: (lo, hi) in order
        self._writes: dict[int, deque[tuple[int, int]]] = {}
        self.sb.observers.append(self)

    def __call__(self, s, res, m) -> None:
        if m is not self._model:  # reset: a new model, nothing outstanding
            self._model = m
            self._active = {}
            self._writes = {}
            self._gen = -1
        act = self._active
        for x in s.dma:
            t = type(x)
            if t is AwPresent:
                lo, hi = x.addr, x.addr + BEAT * (x.len + 1)
                self._writes.setdefault(x.id, deque()).append((lo, hi))
                for c in act.values():
                    if c.g != x.id:
                        c.taint(lo, hi, f"channel {x.id}")
            elif t is BHs and self._writes.get(x.id):
                self._writes[x.id].popleft()  # bursts of one ID complete in order
        # a running copy ends when its CH_STAT changes, which only a commit that may have
        # changed a channel does (the model's generation moves): looked at only then
        if act and m.generation != self._gen:
            self._gen = m.generation
            for g in list(act):
                st = m.ch_stat(g)
                if st != regs.CH_RUNNING:
                    c = act.pop(g)
                    if st == regs.CH_STOPPED:
                        self._verify(c, s.edge, m)
                    else:
                        self.aborted += 1
        if s.loc is None and s.host is None:
            return
        for acc, port in ((s.loc, "loc"), (s.host, "host")):
            if acc is None or not acc.write or (acc.addr & 0xFC) != regs.DOORBELL:
                continue
            g = channel_of(port, acc.addr)
            if g is None or g in act or g not in m.params.channels:
                continue
            if m.ch_stat(g) != regs.CH_RUNNING:
                continue
            if m.win_reg(g, regs.CONTROL1) & regs.CONTROL1_LLE_MASK:
                self.walks += 1
                continue
            src = m.win_reg(g, regs.SAR_HI) << 32 | m.win_reg(g, regs.SAR_LO)
            dst = m.win_reg(g, regs.DAR_HI) << 32 | m.win_reg(g, regs.DAR_LO)
            size = m.win_reg(g, regs.XFER_SIZE)
            data = None
            if src + size <= m.mem.size and dst + size <= m.mem.size and not (
                    src < dst + size and dst < src + size):
                data = m.mem[src:src + size].copy()
            c = act[g] = _Copy(g, s.edge, src, dst, size, data)
            for wid, bursts in self._writes.items():
                for lo, hi in bursts:  # in flight at START: its beats may land later
                    c.taint(lo, hi, f"channel {wid} (burst in flight at START)")

    def writes_in_flight(self) -> list[tuple[int, int, int]]:
        """Write bursts presented and not yet answered by B: (id, lo, hi)."""
        return [(g, lo, hi) for g, q in self._writes.items() for lo, hi in q]

    def memory_written(self, lo: int, hi: int) -> None:
        """The test wrote [lo, hi) of memory itself: overlapping running copies are unjudgeable."""
        for c in self._active.values():
            c.taint(lo, hi, "the test")

    def _verify(self, c: _Copy, edge: int, m) -> None:
        if c.data is None or c.tainted:
            self.skipped += 1
            self.skip_log.append((c.g, c.start, c.tainted or "source and destination overlap"))
            return
        got = m.mem[c.dst:c.dst + c.size]
        diff = np.flatnonzero(got != c.data)
        if diff.size:
            a = int(diff[0])
            self.sb._mismatch(edge, "copy", c.g,
                              f"completed copy (START at edge {c.start}, {c.size} B "
                              f"{c.src:#x} -> {c.dst:#x}): destination differs from the "
                              f"source in {diff.size} byte(s), first at {c.dst + a:#x}",
                              f"{int(c.data[a]):#04x}", f"{int(got[a]):#04x}")
            return
        self.verified += 1
        self.log.append((c.g, c.start, edge, c.dst, c.size))
