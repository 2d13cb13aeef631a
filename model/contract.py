"""The DMA-contract checker: observed AXI4 master traffic against the prediction.

Each request, handshake and beat the monitors (or the recorder) saw at edge ``e``
is judged on ``S(e)``: the AR the mover's pick at ``e-1`` makes due (ID, address,
length, user), AxSIZE (8-byte beats for reads and data writes, 4 bytes for an MSI),
one burst in flight, R data against the memory image, the AW on
the edge after the last R beat, W data/strobes/WLAST against what was read, B
after the AW handshake and all W beats, and the security rules (owner's function
as user, no descriptor read after reclaim, no MSI from a channel that is not
DELEGATED). Breaches land in ``hw.errors`` as :class:`model.events.Violation`.
:class:`ContractChecker` is mixed into :class:`model.hw.HwModel` and works on its
state; the burst it follows is a :class:`_Burst`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model import regs
from model.events import (
    BEAT,
    PAGE,
    SIZE_BEAT,
    ArHs,
    ArPresent,
    AwHs,
    AwPresent,
    BHs,
    MsiWrite,
    RBeat,
    Resp,
    Violation,
    WBeat,
)
from model.mem import in_range, read_beats, read_u64, write_beats, write_u64
from model.walk import ELEM_SIZE, MSI_SIZE

if TYPE_CHECKING:
    from model.mover import _Pick

_CH_NAMES = {regs.CH_IDLE: "IDLE", regs.CH_RUNNING: "RUNNING",
             regs.CH_ABORTED: "ABORTED", regs.CH_STOPPED: "STOPPED"}


class _ReqDesc:
    """An AR or AW request as a violation line shows it (``id= addr= len= user=``),
    formatted only when a violation is recorded (``ContractChecker._viol``): every
    burst's request is checked, almost none is wrong."""

    __slots__ = ("x",)

    def __init__(self, x: ArPresent | AwPresent) -> None:
        self.x = x

    def __str__(self) -> str:
        x = self.x
        return f"id={x.id} addr={x.addr:#x} len={x.len} user={x.user}"


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



class ContractChecker:
    """The DMA-contract checks, mixed into :class:`model.hw.HwModel` (uses its state)."""

    def _viol(self, e: int, g: int | None, port: str, what: str, exp: object,
              act: object) -> None:
        if type(act) is _ReqDesc:
            act = str(act)
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
        aps: list[ArPresent] = []
        first_aw = None
        for x in evs:
            t = type(x)
            if t is ArPresent:
                aps.append(x)
            elif t is AwPresent and first_aw is None:
                first_aw = x
        # an AW with no burst in flight is a new write request: an MSI (SPEC 3)
        new_aw = first_aw if self._burst is None and not aps else None
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
            t = type(x)
            if t is ArPresent or x is new_aw:
                continue
            if t is ArHs:
                if b is None or b.ar_hs:
                    self._viol(e, x.id, "ar", "AR handshake without a presented AR",
                               "no handshake", f"id={x.id}")
                elif x.id != b.g:
                    self._viol(e, b.g, "ar", "ARID at the handshake", b.g, x.id)
                else:
                    b.ar_hs = True
            elif t is RBeat:
                r_end |= self._on_r(e, b, x)
            elif t is AwPresent:
                aw_seen = True
                self._on_aw(e, b, x)
            elif t is AwHs:
                if b is None or b.aw_addr is None or b.aw_hs:
                    self._viol(e, x.id, "aw", "AW handshake without a presented AW",
                               "no handshake", f"id={x.id}")
                elif x.id != b.g:
                    self._viol(e, b.g, "aw", "AWID at the handshake", b.g, x.id)
                else:
                    b.aw_hs = True
            elif t is WBeat:
                self._on_w(e, b, x)
            elif t is BHs:
                b_end |= self._on_b(e, b, x)
        if b is not None and b.phase == "aw" and b.aw_due == e and not aw_seen:
            self._viol(e, b.g, "aw", "AW not presented on the edge after the last R beat",
                       f"AW at edge {e}", "no AWVALID")
        return r_end, b_end

    def _on_ar(self, e: int, x: ArPresent, exp: _Pick | None) -> None:
        g = x.id
        ch = g if g in self._ch else None
        desc = _ReqDesc(x)   # formatted only for a violation line
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
            hit = c.desc_reclaimed and sorted(
                a for a in c.desc_reclaimed if a < end and x.addr < a + ELEM_SIZE)
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
        elif exp.addr != x.addr or exp.beats - 1 != x.len or exp.user != x.user:
            for name, want, got in (("ARADDR", exp.addr, x.addr),
                                    ("ARLEN", exp.beats - 1, x.len),
                                    ("ARUSER (requester function)", exp.user, x.user)):
                if want != got:
                    self._viol(e, g, "ar", name, hex(want), hex(got))
        if x.size != SIZE_BEAT:
            self._viol(e, ch, "ar", "ARSIZE (every read, copy or element fetch, moves "
                       f"{BEAT}-byte beats)", SIZE_BEAT, x.size)
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
        if x.size != MSI_SIZE:  # an AW with no burst in flight is an MSI, predicted or not
            self._viol(e, ch, "aw", "AWSIZE (an MSI writes one 32-bit word, SPEC 3)",
                       MSI_SIZE, x.size)
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

    def _r_run(self, b: _Burst, last_e: int, rs: list[RBeat]) -> bool:
        """``_on_r`` for the R beats ``rs`` in one step, the last at edge ``last_e``, when
        none of them can be a violation or end the read: the burst's ID, OKAY, RLAST
        low, not the burst's last beat, data equal to the image. True when taken;
        False, touching nothing, otherwise (then ``_on_r`` judges them one by one)."""
        g = b.g
        for x in rs:
            if x.id != g or x.resp or x.last:
                return False
        return self._r_datas(b, last_e, [x.data for x in rs])

    def _r_datas(self, b: _Burst, last_e: int, datas: list[int]) -> bool:
        """``_r_run`` of R beats already known to carry the burst's ID, OKAY and RLAST
        low (the recorder's columns, tb/tl.py ``run_pieces``): their data, the last at
        edge ``last_e``."""
        i0 = len(b.rdata)
        m = len(datas)
        if i0 + m > b.beats - 1:
            return False
        addr = b.addr + BEAT * i0
        if not in_range(self.mem, addr, BEAT * m):
            return False
        if read_beats(self.mem, addr, m) != datas:
            return False
        b.rdata.extend(datas)
        if b.g in self._ch:
            self._ch[b.g].last_resp = last_e
        return True

    def _w_run(self, b: _Burst, first_e: int, ws: list[WBeat]) -> bool:
        """``_on_w`` for the W beats ``ws`` in one step, the first at edge ``first_e``,
        when none of them can be a violation: the burst writing since its AW was due,
        no beat beyond its length, data equal to the data read, WSTRB as the burst's,
        WLAST on its last beat only. True when taken; False, touching nothing,
        otherwise."""
        return self._w_datas(b, first_e, [x.data for x in ws], [x.strb for x in ws],
                             [x.last for x in ws])

    def _w_datas(self, b: _Burst, first_e: int, datas: list[int], strbs: list[int],
                 lasts: list[bool]) -> bool:
        """``_w_run`` of W beats given as columns (their data, WSTRB and WLAST; the
        recorder's columns, tb/tl.py ``run_pieces``), the first at edge ``first_e``."""
        if b.phase != "w" or b.aw_due is None or first_e < b.aw_due:
            return False
        i0 = b.wcount
        m = len(datas)
        if i0 + m > b.beats or i0 + m > len(b.rdata):
            return False
        want = b.rdata[i0:i0 + m]
        if datas != want:
            return False
        strb = b.wstrb
        if strb and strbs.count(strb) != m:
            return False
        # WLAST exactly on the burst's last beat, if the run holds it (lasts are bools)
        last = b.beats - 1 - i0   # index in the run of the burst's last beat
        if last < m:
            if lasts.count(True) != 1 or not lasts[last]:
                return False
        elif True in lasts:
            return False
        full = strbs.count(0xFF) == m
        base = b.aw_addr if b.aw_addr is not None else b.exp_dst
        if base is not None:
            a = base - base % BEAT + BEAT * i0
            if full and in_range(self.mem, a, BEAT * m):
                write_beats(self.mem, a, want)
            else:
                for k in range(m):
                    if in_range(self.mem, a + BEAT * k, BEAT):
                        write_u64(self.mem, a + BEAT * k, datas[k], strbs[k])
        b.wcount += m
        return True

    def _on_aw(self, e: int, b: _Burst | None, x: AwPresent) -> None:
        ch = x.id if x.id in self._ch else None
        desc = _ReqDesc(x)   # formatted only for a violation line
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
        if x.size != SIZE_BEAT:
            self._viol(e, b.g, "aw", f"AWSIZE (a data write moves {BEAT}-byte beats)",
                       SIZE_BEAT, x.size)
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
