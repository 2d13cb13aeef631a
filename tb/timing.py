"""Quiesce timing checker: every RECLAIM+QUIESCE of every test, against SPEC 2.3.

`QuiesceTimer` is a scoreboard observer (``sb.observers``: called after the model
stepped each sampled edge). Per quiesce it records

* ``t0``: the edge of the RECLAIM+QUIESCE OWN_CMD write (model event "quiesce"),
* the burst of the channel outstanding at ``t0`` (presented at or before ``t0``,
  final response at or after ``t0``): bytes and phase (read / write),
* the last response edge of the channel's traffic (model.last_resp),
* the completion, from the RTL's own STATE: the edge ``x`` at which the RTL's STATE of
  the channel leaves QUIESCING (``tb_dma_deleg.own_state``, a registered copy of the
  RTL's STATE, watched by one coroutine that wakes only when it changes); STATE is LOCAL from ``S(x+1)``,
  so the measured length is ``x + 1 - t0``. Measuring on the RTL, not on the model,
  means a model mistake cannot hide a slow RTL; the model's "qdone" edge and its
  Q_CYCLES must agree with the measurement (a "model" mismatch otherwise),
* the RTL's own numbers: the Q_CYCLES register whenever anybody reads it (the RTL
  backend does after each quiesce), and every OWN_STAT read that still shows
  QUIESCING,

and requires ``Q_CYCLES_rtl == measured == Q_CYCLES_model`` and
``measured <= model.timing.max_q_cycles(t0, last_resp)``. It also reports any AR or
AW a quiescing channel presents after ``t0`` (SPEC 2.3: none may be raised).
Violations are scoreboard mismatches (they fail the test through ``sb.check``).

Edges that the monitor skips as idle are replayed by the model on the next sample,
so "qdone" events are picked up from the model's event log, not from the edge the
observer is called at. ``finalize()`` (TB.finish) replays the model up to the
current edge so that a quiesce that completed in the last idle cycles is judged,
and reports a quiesce that never completed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

import cocotb
from cocotb.triggers import ReadOnly, ValueChange

from model import regs
from model.addrmap import decode_local
from model.hw import ArPresent, AwPresent
from model.timing import Q_IDLE_MAX, max_q_cycles, quiesce_bound

BEAT = 8


@dataclass
class QuiesceRecord:
    """One RECLAIM+QUIESCE as observed."""

    g: int
    t0: int
    out_bytes: int = 0            # bytes of the burst outstanding at t0 (0: none)
    out_phase: str = "none"       # "none", "read" (R beats pending), "write" (AW/W/B pending)
    out_present: int | None = None  # edge its AR was presented
    qdone: int | None = None      # model's completion edge; LOCAL from S(qdone+1)
    rtl_qdone: int | None = None  # the RTL's: the edge its STATE left QUIESCING
    q_model: int | None = None    # model's Q_CYCLES after completion
    q_rtl: int | None = None      # Q_CYCLES read from the RTL (first read after completion)
    last_resp: int | None = None  # last response edge of the channel at/after t0
    rtl_quiescing_until: int | None = None  # latest edge an OWN_STAT read showed QUIESCING
    tag: dict = field(default_factory=dict)  # scenario labels set by the test
    reported: set = field(default_factory=set)

    @property
    def measured(self) -> int | None:
        """Quiesce length measured on the RTL's STATE."""
        return None if self.rtl_qdone is None else self.rtl_qdone + 1 - self.t0

    @property
    def model_measured(self) -> int | None:
        return None if self.qdone is None else self.qdone + 1 - self.t0

    @property
    def bound(self) -> int:
        """Largest legal Q_CYCLES (SPEC 2.3, model.timing)."""
        return max_q_cycles(self.t0, self.last_resp)

    @property
    def bound_edge(self) -> int:
        return quiesce_bound(self.t0, self.last_resp)

    @property
    def phase(self) -> str:
        """Where the channel's traffic was at t0 (for sweeps and the report)."""
        if self.out_phase == "read":
            return "last_beat" if self.last_resp == self.t0 else "mid_read"
        if self.out_phase == "write":
            return "write"
        return "no_burst"

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("reported")
        tag = d.pop("tag")
        d = {**tag, **d}
        d["phase"] = self.phase
        d["measured"] = self.measured
        d["bound"] = self.bound
        d["margin"] = None if self.measured is None else self.bound - self.measured
        d["resp_delay"] = 0 if self.last_resp is None else self.last_resp - self.t0
        return d


class QuiesceTimer:
    """Scoreboard observer measuring and checking every quiesce (see module doc)."""

    def __init__(self, tb) -> None:
        self.tb = tb
        self.sb = tb.sb
        self.records: list[QuiesceRecord] = []
        self.tag: dict = {}           # copied into each new record (test-provided labels)
        self.sb.observers.append(self)
        self._bind(self.sb.model)
        self._rtl_state = getattr(tb.dut, "own_state", None)
        if self._rtl_state is not None:
            cocotb.start_soon(self._watch_rtl_state())

    # ------------------------------------------------------------ bookkeeping
    def _bind(self, model) -> None:
        """(Re)attach to a model: after TB.reset everything in flight is forgotten."""
        self._model = model
        self._ev_idx = len(model.events)
        self._rtl_q: list[tuple[int, int]] = []  # RTL completions not judged yet (g, edge)
        self._pending: dict[int, QuiesceRecord] = {}
        # channels that may not present AR/AW: from t0 until a new legal START after
        # the completion (the model shows the channel RUNNING again)
        self._watch: dict[int, QuiesceRecord] = {}
        self._burst: tuple[int, int, int] | None = None  # (g, bytes, present edge)
        self._burst_rdone = False
        self._loc_q: deque = deque()

    def pending(self) -> dict[int, QuiesceRecord]:
        """Quiesces of the current model not complete yet (none right after a reset)."""
        if self.sb.model is not self._model:
            self._bind(self.sb.model)
        return dict(self._pending)

    def _fail(self, rec: QuiesceRecord, kind: str, edge: int, msg: str, exp, act) -> None:
        if kind in rec.reported:
            return
        rec.reported.add(kind)
        self.sb._mismatch(edge, "quiesce", rec.g, msg, exp, act)

    def _desc(self, rec: QuiesceRecord) -> str:
        lr = "none" if rec.last_resp is None else str(rec.last_resp)
        out = "none" if not rec.out_bytes else f"{rec.out_bytes} B ({rec.out_phase})"
        return f"t0={rec.t0}, last response={lr}, outstanding at t0={out}"

    # --------------------------------------------------------------- observer
    def __call__(self, s, res, m) -> None:
        if m is not self._model:
            self._bind(m)
        # 1. a burst presented at this edge counts as outstanding if t0 is this edge
        for x in s.dma:
            t = type(x)
            if t is ArPresent:
                self._burst = (x.id, BEAT * (x.len + 1), s.edge)
                self._burst_rdone = False
            elif t is AwPresent and self._burst is not None:
                self._burst_rdone = True
        # 2. ownership events up to this edge (replayed idle edges included)
        if self._ev_idx < len(m.events):
            self._scan(m)
        # 3. AR/AW of a quiesced channel after t0 (and before a new START)
        if self._watch:
            for x in s.dma:
                if isinstance(x, (ArPresent, AwPresent)):
                    rec = self._watch.get(x.id)
                    if rec is not None and s.edge > rec.t0:
                        kind = "AR" if isinstance(x, ArPresent) else "AW"
                        self._fail(rec, "after_t0", s.edge,
                                   f"AR/AW after t0: quiesced channel {rec.g} presented a new "
                                   f"{kind} at edge {s.edge} ({self._desc(rec)})",
                                   "no new AR/AW after t0",
                                   f"{kind} addr={x.addr:#x} len={x.len}")
            for g, rec in list(self._watch.items()):
                if rec.qdone is not None and m.ch_stat(g) == regs.CH_RUNNING:
                    del self._watch[g]
            for g, rec in self._pending.items():
                lr = m.last_resp(g)
                if lr is not None and lr >= rec.t0:
                    rec.last_resp = lr
        # 4. the burst ended at this edge?
        if self._burst is not None and not m.inflight(self._burst[0]):
            self._burst = None
        if self._rtl_q:
            self._rtl_flush(m.cycle)
        # 5. RTL reads of OWN_STAT / Q_CYCLES (one AXI4-Lite transaction at a time)
        # (every response of the edge in order, every access including a read beside a
        # write: the same order the scoreboard pairs them in)
        for rsp in s.loc_resp:
            if not self._loc_q:
                break
            acc_edge, addr = self._loc_q.popleft()
            if not rsp.write and rsp.resp == 0:
                self._on_own_read(acc_edge, addr, rsp.data)
        for acc in (s.loc, s.loc_also):
            if acc is not None:
                self._loc_q.append((s.edge, None if acc.write else acc.addr & 0xFFFC))

    async def _watch_rtl_state(self) -> None:
        """One wake per change of any channel's RTL STATE: record when it leaves QUIESCING."""
        sig, dut = self._rtl_state, self.tb.dut
        prev = None
        while True:
            await ValueChange(sig)
            await ReadOnly()
            v = sig.value
            if not v.is_resolvable:
                continue
            cur = int(v)
            if prev is not None and int(dut.rst.value) == 0:
                # after edge e+1, own_state shows S(e+1): the STATE changed at edge e
                e = int(dut.cycle.value) - 1
                for g in range(16):
                    was, now = (prev >> 2 * g) & 3, (cur >> 2 * g) & 3
                    if was == regs.OWN_QUIESCING and now != regs.OWN_QUIESCING:
                        self._rtl_done(g, e)
            prev = cur

    def _rtl_done(self, g: int, e: int) -> None:
        """The RTL's STATE of g left QUIESCING at edge e. Judged once the scoreboard has
        processed edge e (its last response is known): at once on the VIP lane, whose
        monitor samples every edge as it happens; later on the transaction lane, whose
        recorder the scoreboard drains in batches."""
        if self.sb.model is self._model and self._model.cycle >= e:
            self._rtl_judge(g, e)
        else:
            self._rtl_q.append((g, e))

    def _rtl_flush(self, upto: int | None) -> None:
        """Judge the deferred RTL completions up to edge ``upto`` (None: all)."""
        keep = []
        for g, e in self._rtl_q:
            if upto is None or e <= upto:
                self._rtl_judge(g, e)
            else:
                keep.append((g, e))
        self._rtl_q = keep

    def _rtl_judge(self, g: int, e: int) -> None:
        for rec in reversed(self.records):
            if rec.g == g and rec.t0 < e:
                if rec.rtl_qdone is None:
                    rec.rtl_qdone = e
                    self._judge(rec, e)
                return

    def _scan(self, m) -> None:
        evs = m.events
        while self._ev_idx < len(evs):
            ev = evs[self._ev_idx]
            self._ev_idx += 1
            if ev.kind == "quiesce":
                rec = QuiesceRecord(g=ev.g, t0=ev.edge, tag=dict(self.tag))
                b = self._burst
                if b is not None and b[0] == ev.g and b[2] <= ev.edge:
                    rec.out_bytes, rec.out_present = b[1], b[2]
                    rec.out_phase = "write" if self._burst_rdone else "read"
                self._pending[ev.g] = rec
                self._watch[ev.g] = rec
                self.records.append(rec)
            elif ev.kind == "qdone":
                rec = self._pending.pop(ev.g, None)
                if rec is None:
                    continue
                rec.qdone = ev.edge
                rec.q_model = m.q_cycles(ev.g)
                lr = m.last_resp(ev.g)
                if lr is not None and lr >= rec.t0:
                    rec.last_resp = lr
                self._judge(rec, ev.edge)

    def _on_own_read(self, e: int, addr: int | None, data: int) -> None:
        d = None if addr is None else decode_local(addr)
        if d is None or d[0] != "own":
            return
        _, g, off = d
        if off == regs.Q_CYCLES:
            for rec in reversed(self.records):
                if rec.g == g and rec.qdone is not None and rec.qdone < e:
                    if rec.q_rtl is None:
                        rec.q_rtl = data
                        self._judge(rec, e)
                    break
        elif off == regs.OWN_STAT:
            state = (data & regs.OWN_STAT_STATE_MASK) >> regs.OWN_STAT_STATE_LSB
            if state != regs.OWN_QUIESCING:
                return
            for rec in reversed(self.records):
                if rec.g == g and rec.t0 < e:
                    rec.rtl_quiescing_until = max(e, rec.rtl_quiescing_until or e)
                    if rec.qdone is not None or not self._model.inflight(g):
                        self._judge(rec, e)
                    break

    # ---------------------------------------------------------------- verdict
    def _judge(self, rec: QuiesceRecord, edge: int) -> None:
        n = rec.measured
        nm = rec.model_measured
        if n is not None and nm is not None and nm != n:
            self._fail(rec, "model", edge, f"model's quiesce completion of channel {rec.g} "
                       f"differs from the RTL's STATE ({self._desc(rec)})",
                       f"{n} cycles (RTL)", f"{nm} cycles (model)")
        if n is not None and rec.q_model is not None and rec.q_model != n:
            self._fail(rec, "model", edge, f"model Q_CYCLES of channel {rec.g} differs from "
                       f"the measured quiesce length ({self._desc(rec)})", n, rec.q_model)
        if n is not None and n > rec.bound:
            self._fail(rec, "bound", edge, f"quiesce of channel {rec.g} took {n} cycles, bound "
                       f"{rec.bound} ({self._desc(rec)})", f"<= {rec.bound}", n)
        if rec.q_rtl is not None:
            if n is not None and rec.q_rtl != n:
                self._fail(rec, "rtl", edge, f"RTL Q_CYCLES of channel {rec.g} differs from the "
                           f"measured quiesce length {n} ({self._desc(rec)})", n, rec.q_rtl)
            if rec.q_rtl > rec.bound:
                self._fail(rec, "bound_rtl", edge,
                           f"quiesce of channel {rec.g} took {rec.q_rtl} cycles (RTL Q_CYCLES), "
                           f"bound {rec.bound} ({self._desc(rec)})", f"<= {rec.bound}", rec.q_rtl)
        u = rec.rtl_quiescing_until
        if u is not None and u >= rec.bound_edge:
            self._fail(rec, "bound_stat", edge,
                       f"quiesce of channel {rec.g} took more than {u - rec.t0} cycles "
                       f"(OWN_STAT still QUIESCING at edge {u}), bound {rec.bound} "
                       f"({self._desc(rec)})", f"LOCAL by edge {rec.bound_edge}", "QUIESCING")

    def finalize(self) -> None:
        """End of test: judge what completed in idle edges; report unfinished quiesces."""
        m = self._model
        if m is not self.sb.model:
            return
        now = self.tb.now()
        if (self._pending or self._rtl_q) and m.cycle < now:
            m.edge(now)  # edges up to `now` were sampled or idle: replay them
            self._scan(m)
        self._rtl_flush(None)
        for rec in self.records:
            if rec.rtl_qdone is not None or rec.reported:
                continue
            if m.inflight(rec.g) or rec.t0 < (self.tb.reset_edge or 0):
                continue  # still waiting for outstanding responses, or cut by a reset
            lr = rec.last_resp
            if now > quiesce_bound(rec.t0, lr):
                self._fail(rec, "never", now,
                           f"quiesce of channel {rec.g} took more than {now - rec.t0} cycles "
                           f"(not LOCAL by the end of the test), bound {rec.bound} "
                           f"({self._desc(rec)})", f"<= {rec.bound}", "not complete")

    # ---------------------------------------------------------------- results
    def completed(self) -> list[QuiesceRecord]:
        """Quiesces the RTL completed (its STATE left QUIESCING)."""
        return [r for r in self.records if r.rtl_qdone is not None]

    def summary(self) -> str:
        done = self.completed()
        if not done:
            return "no quiesce observed"
        qs = [r.measured for r in done]
        return (f"{len(done)} quiesce(s): Q_CYCLES min {min(qs)} max {max(qs)}, "
                f"min margin {min(r.bound - r.measured for r in done)} "
                f"(Q_IDLE_MAX={Q_IDLE_MAX})")
