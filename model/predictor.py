"""The per-edge predictor: registers, ownership, interrupts and channel engines.

SPEC.md section 2 is normative; docs/microarch.md fixes every cycle the SPEC leaves
open. :class:`Predictor` judges the AXI4-Lite accesses of an edge on ``S(e)``
(OKAY/SLVERR/DECERR, read data), collects the effects of every event of the edge
(:class:`_Eff`, :class:`_Glob`) and only then commits them into ``S(e+1)``
(microarch "Time"), with the precedence microarch gives. It is mixed into
:class:`model.hw.HwModel`, which adds the DMA-contract checker (model/contract.py)
and the mover's pick (model/mover.py) the edge engine calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model import regs
from model.addrmap import NUM_G, decode_host, decode_local
from model.events import (
    BEAT,
    MASK32,
    MASK64,
    ArPresent,
    AwPresent,
    BeatCols,
    BHs,
    EdgeResult,
    IntEvent,
    LiteAccess,
    LiteResult,
    OwnEvent,
    RBeat,
    Resp,
    WalkEvent,
    WBeat,
    _as_int,
    byte_mask,
    parsed_r,
)
from model.walk import ELEM_BEATS, ELEM_SIZE, decode_element, element_fault

if TYPE_CHECKING:
    from model.contract import _Burst

_INT_BITS = regs.INT_STAT_STOP_MASK | regs.INT_STAT_ABORT_MASK
_W1C_BITS = regs.OWN_STAT_QDONE_MASK | regs.OWN_STAT_UNSAFE_MASK | regs.OWN_STAT_CMD_ERR_MASK
_LOC_REGS = frozenset(
    (regs.ID, regs.VERSION, regs.CONFIG, regs.VIOL_COUNT, regs.VIOL_LAST,
     regs.OWN_IRQ_STAT, regs.OWN_IRQ_EN)
)


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


#: an edge's accesses judged on S(e) (``Predictor._judge``): the local and host results
#: and the effects they collected, per channel and global
Judged = tuple[LiteResult | None, LiteResult | None, dict[int, _Eff], _Glob]



class Predictor:
    """Register, ownership and interrupt predictor, mixed into :class:`model.hw.HwModel`."""

    # The levels are asked at every sample (tb/scoreboard.py) but change only at an edge
    # whose commit touched a channel or OWN_IRQ_EN: they are kept (``_irq_memo``) and
    # computed anew after such an edge (``_edge`` clears the memo); the event-driven
    # paths change nothing they depend on.
    def irq_loc(self) -> bool:
        """Predicted ``irq_loc`` in ``S(cycle+1)`` (microarch "Interrupts")."""
        return self._irq_levels()[0]

    def irq_host(self) -> int:
        """Predicted ``irq_host[NUM_FUNC-1:0]`` in ``S(cycle+1)`` as a bit mask."""
        return self._irq_levels()[1]

    def irq_levels(self) -> tuple[bool, int]:
        """(``irq_loc()``, ``irq_host()``) in one call (the scoreboard compares both at
        every piece of a beat run)."""
        return self._irq_levels()

    def _irq_levels(self) -> tuple[bool, int]:
        """(irq_loc, irq_host): the kept levels, computed first if an edge cleared them."""
        m = self._irq_memo
        if m is None:
            m = self._irq_memo = (self._irq_loc(), self.irq_host_now())
        return m

    def _irq_loc(self) -> bool:
        if self.own_irq_stat() & self._irq_en:
            return True
        for c in self._ch.values():
            if c.state == regs.OWN_LOCAL and not c.unsafe and self._ch_irq(c, local=True):
                return True
        return False

    def irq_host_now(self) -> int:
        """irq_host computed from the state (irq_host may answer from a memo)."""
        v = 0
        for c in self._ch.values():
            if c.state == regs.OWN_DELEGATED and self._ch_irq(c, local=False):
                v |= 1 << c.func
        return v

    # ------------------------------------------------------- public: introspection
    def _chan(self, g: object) -> _Chan:
        if type(g) is int:   # the common case first: observers ask per sample
            c = self._ch.get(g)
            if c is not None:
                return c
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
            if self.fast_beats and self._settle():
                self.cycle = last  # every event-free edge up to `last` is the same no-op
                return
            self._edge(self.cycle + 1, None, None, [])

    # -------------------------------------------------- event-driven path (fast_beats)
    # Inside a burst most edges carry one R or W beat or nothing (a stall). When no
    # channel has a transition due, such an edge changes only the burst's bookkeeping
    # (data read, beats written, memory image, last_resp): the full edge engine would
    # collect no effect and commit nothing. These two methods take that case in O(1)
    # per edge (a stretch of event-free edges in O(1) in all) and leave exactly the
    # state the engine would: the same checks run (_on_r/_on_w, with their
    # violations), the same views (_prev_view, _eligible, _blk_last) are set. Once
    # steady, the state stays so until the engine runs again (``_steady``, cleared by
    # ``_edge``): the views and the interrupt levels are computed once per stretch, not
    # per beat. The vip lane keeps the per-edge engine (fast_beats off) as the
    # reference; tests/test_hw_fast.py runs both side by side and compares them at
    # every edge.

    def _steady_view(self) -> tuple[dict[int, tuple[int, bool]], frozenset[int],
                                    dict[int, object]] | None:
        """The views of an edge that can change nothing but the burst in flight, or
        None when some transition may be due (then the engine must run).

        Steady: a burst is in flight reading or writing (not the edge its AW is due),
        no pick is pending, and no channel other than the burst's is RUNNING and
        blocked (it would abort) or QUIESCING and idle (it would complete), and no MSI
        waits on a channel that is no longer DELEGATED (it would be cancelled)."""
        b = self._burst
        if b is None or self._pick is not None or b.phase not in ("r", "w"):
            return None
        unsteady, msi_lost, _ = self._unsteady()
        if msi_lost or unsteady - {b.g}:
            return None
        return self._quiet_views()

    def _unsteady(self) -> tuple[frozenset[int], bool, bool]:
        """From the channels (kept while ``_gen`` stays, as ``_quiet_views``): those that
        would change at an edge where they have no burst in flight (RUNNING and blocked:
        it aborts; QUIESCING: it completes); whether an MSI waits on a channel no longer
        DELEGATED (it would be cancelled); whether one waits on a channel no longer
        DELEGATED or fenced (``_pick_edge``: it may not be sent)."""
        memo = self._unsteady_memo
        if memo is not None and memo[0] == self._gen:
            return memo[1]
        bad = frozenset(g for g, c in self._ch.items()
                        if (c.ch_stat == regs.CH_RUNNING and (c.stop_req or c.unsafe))
                        or c.state == regs.OWN_QUIESCING)
        lost = any(c.msi is not None and c.state != regs.OWN_DELEGATED
                   for c in self._ch.values())
        stuck = any(c.msi is not None and (c.state != regs.OWN_DELEGATED or c.unsafe)
                    for c in self._ch.values())
        res = (bad, lost, stuck)
        self._unsteady_memo = (self._gen, res)
        return res

    def _quiet_views(self) -> tuple[dict[int, tuple[int, bool]], frozenset[int],
                                    dict[int, object]]:
        """The views ``_edge`` step 5 sets at an edge without accesses, from the state:
        each channel's (CH_STAT, blocked) with blocked = STOP requested, quiescing or
        fenced (step 3), the blocked set, and what each channel asks the mover for.

        They depend on the channels only, which change only in ``_commit`` and in the B
        path (``_b_edge``): kept while neither touched a channel (``_gen``), so a burst's
        pick, read and write share one computation (the callers only ever replace these
        objects)."""
        memo = self._views_memo
        if memo is not None and memo[0] == self._gen:
            return memo[1]  # type: ignore[return-value]
        view: dict[int, tuple[int, bool]] = {}
        blk: set[int] = set()
        elig: dict[int, object] = {}
        for g, c in self._ch.items():
            bl = c.stop_req or c.state == regs.OWN_QUIESCING or c.unsafe
            view[g] = (c.ch_stat, bl)
            if bl:
                blk.add(g)
            w = self._work(c, None, bl)
            if w is not None:
                elig[g] = w
        res = view, frozenset(blk), elig
        self._views_memo = (self._gen, res)
        return res

    def _settle(self) -> bool:
        """True when steady (the views of a no-op edge are set); computes them at the
        first edge of a steady stretch only."""
        if self._steady:
            return True
        st = self._steady_view()
        if st is None:
            return False
        b = self._burst
        assert b is not None
        self._prev_busy = b.g
        self._prev_view, self._blk_last, self._eligible = st
        self._drop_last = self._drop_now()
        self._missing_ar = False  # no pick was pending: nothing can be missing
        self._steady = True
        return True

    def _drop_now(self) -> frozenset[int]:
        """drop(g, e) of an edge without accesses (``_edge`` step 3): quiescing or fenced
        (kept while ``_gen`` stays, as ``_quiet_views``)."""
        memo = self._drop_memo
        if memo is not None and memo[0] == self._gen:
            return memo[1]
        res = frozenset(g for g, c in self._ch.items()
                        if c.state == regs.OWN_QUIESCING or c.unsafe)
        self._drop_memo = (self._gen, res)
        return res

    def _beat_edge(self, e: int, evs: list[object]) -> bool:
        """Edge ``e`` without accesses: if it carries at most one beat (an R beat of a
        burst reading, or a W beat of a burst writing) and the state is steady, process
        it in O(1) and return True; else False, touching nothing.

        The burst's last R beat ends its read: the engine then makes the AW due at the
        next edge (``_edge`` step 4). Taken here only when that is all it does: RLAST
        where the length puts it, the burst's ID, OKAY, no error before, a copy or data
        burst (an element fetch ends there instead) of a channel neither quiescing nor
        fenced (its burst would be dropped). The state is not steady after it (the AW
        is due), so the next edge goes to the engine."""
        b = self._burst
        if b is None:
            return not evs and self._pick_edge(e)
        if len(evs) > 1:
            return False
        x = evs[0] if evs else None
        r_end = False
        if x is not None:
            t = type(x)
            if t is RBeat:
                if b.phase != "r" or not b.ar_hs:
                    return False
                if x.last or len(b.rdata) >= b.beats - 1:
                    c = self._ch.get(b.g)
                    if (not x.last or len(b.rdata) != b.beats - 1 or x.id != b.g or x.resp
                            or b.rerr or b.kind == "fetch" or (c is not None and (
                                c.state == regs.OWN_QUIESCING or c.unsafe))):
                        return False
                    r_end = True
            elif t is not WBeat or b.phase != "w":
                return False
        if not self._settle():
            return False
        if x is not None:
            if type(x) is RBeat:
                self._on_r(e, b, x)
            else:
                self._on_w(e, b, x)
        if r_end:   # _edge step 4 and the views it sets, for a read that ends here
            b.phase = "aw"
            b.aw_due = e + 1
            self._drop_last = self._drop_now()
            self._steady = False
        self._fresh_at = self.cycle = e
        return True

    def _pick_edge(self, e: int) -> bool:
        """Edge ``e`` with no burst in flight, no access and no event (after a burst's B,
        the mover picks the next one here): when nothing can change but the pick, set the
        views and the pick as ``_edge`` steps 2-5 do and return True; else False,
        touching nothing. Nothing else changes when no pick is pending (no AR can be
        missing), no channel is quiescing, RUNNING with a STOP requested or fenced, or
        owes an MSI it may no longer send, and the pick is no MSI (its channel would give
        the MSI up at the commit)."""
        if self._pick is not None:
            return False
        unsteady, _, msi_stuck = self._unsteady()
        if unsteady or msi_stuck:   # quiescing, RUNNING and blocked, or an MSI it may not send
            return False
        view, blk, elig = self._quiet_views()
        if any(w.kind == "msi" for w in elig.values()):  # type: ignore[attr-defined]
            return False
        self._prev_busy = None
        self._prev_view, self._blk_last, self._eligible = view, blk, elig
        self._drop_last = self._drop_now()
        self._missing_ar = False
        self._pick = self._predict_pick(e)
        self._steady = False
        self._fresh_at = self.cycle = e
        return True

    def _dma_edge(self, e: int, evs: list[object]) -> bool:
        """Edge ``e`` without accesses whose events start a burst or its write (AR
        presented and/or handshaken; AW presented and/or handshaken, with or without a
        W beat), right after an edge the event-driven path took (``_fresh_at``): the
        state has not changed since, no transition is due, so ``_edge`` would judge the
        events (``_dma``), keep every view but the burst in flight, pick nothing (a burst
        is in flight after these events) and commit nothing. Done so and True; else
        False, touching nothing. No R beat (an R beat goes to ``_beat_edge``) and no B
        (a B ends the burst: the engine commits it); with no burst in flight, an AR or
        AW must be presented (it starts one)."""
        if self._fresh_at != e - 1 or not evs:
            return False
        presents = False
        for x in evs:
            t = type(x)
            if t is RBeat or t is BHs:
                return False
            presents = presents or t is ArPresent or t is AwPresent
        if self._burst is None and not presents:
            return False
        self._dma(e, evs)
        b = self._burst
        assert b is not None
        self._prev_busy = b.g
        self._pick = None
        self._steady = False
        self._fresh_at = self.cycle = e
        return True

    def _b_edge(self, e: int, evs: list[object]) -> bool:
        """Edge ``e`` without accesses whose one event is the B that ends a copy burst in
        the middle of its copy, in the steady state (``_settle``): OKAY, the burst's ID,
        after its AW handshake and all its W beats, a burst the pick predicted
        (``legit``), of a single-block copy (no walk) that is RUNNING, neither
        STOP-requested, quiescing nor fenced, owes no MSI, and has bytes left after
        this burst. Then ``_edge`` would judge the B (``_on_b``: no violation), set the
        views the steady state already holds, pick nothing (the burst is in flight at
        ``e``), and commit only the channel's next source, destination and remainder:
        done so, True. Else False, touching nothing (the engine takes it: the copy's
        end, an error, a blocked channel, a walk, an MSI). Why: every burst ends so, and
        each took the whole engine (tests/test_hw_fast.py compares at every edge)."""
        if len(evs) != 1:
            return False
        x = evs[0]
        b = self._burst
        if type(x) is not BHs or b is None or b.phase != "w" or not b.legit or b.kind != "copy":
            return False
        if x.resp != Resp.OKAY or x.id != b.g or not b.aw_hs or b.wcount < b.beats or b.berr:
            return False
        c = self._ch.get(b.g)
        if (c is None or c.ch_stat != regs.CH_RUNNING or c.walk or c.stop_req or c.unsafe
                or c.state == regs.OWN_QUIESCING or c.msi is not None):
            return False
        step = BEAT * b.exp_beats
        if c.rem - step == 0 or not self._settle():
            return False
        self._on_b(e, b, x)            # _dma: no pick pending, so nothing can be missing
        self._missing_ar = False
        self._pick = None              # _edge step 5: a burst is in flight at e
        c.src = (c.src + step) & MASK64   # _commit: "written", bytes left
        c.dst = (c.dst + step) & MASK64
        c.rem -= step
        # the channels changed only in what the channel asks the mover for next: the
        # kept facts carry over, its work computed anew
        gen = self._gen
        self._gen += 1
        memo = self._views_memo
        if memo is not None and memo[0] == gen:
            view, blk, elig = memo[1]
            elig = dict(elig)
            w = self._work(c, None, b.g in blk)
            if w is None:
                elig.pop(b.g, None)
            else:
                elig[b.g] = w
            self._views_memo = (self._gen, (view, blk, elig))
        if self._unsteady_memo is not None and self._unsteady_memo[0] == gen:
            self._unsteady_memo = (self._gen, self._unsteady_memo[1])
        if self._drop_memo is not None and self._drop_memo[0] == gen:
            self._drop_memo = (self._gen, self._drop_memo[1])
        # the interrupt levels stay (``_irq_memo``): they depend on INT_STAT, INT_SETUP,
        # the STOP/fence/command-error flags, ownership and OWN_IRQ_EN, none touched here
        self._burst = None
        self._steady = False
        self._fresh_at = -1
        self.cycle = e
        return True

    def _judge(self, loc: LiteAccess | None, host: LiteAccess | None) -> Judged:
        """``_edge`` step 1: the accesses judged on ``S(e)``, their effects collected,
        nothing changed (HwModel.edge judges once and hands the result to ``_read_edge``
        and, when that path does not take the edge, to ``_edge``)."""
        effs: dict[int, _Eff] = {}
        glob = _Glob()
        rl = self._judge_local(loc, effs, glob) if loc is not None else None
        rh = self._judge_host(host, effs, glob) if host is not None else None
        return rl, rh, effs, glob

    def _read_edge(self, e: int, j: Judged, evs: list[object]) -> EdgeResult | None:
        """Edge ``e`` whose accesses change no channel (every read; a write refused, or to
        a register it does not change; a refused host access counts a violation), with
        events the event-driven path takes (``_beat_edge``, ``_dma_edge``, ``_b_edge``):
        the accesses judged on ``S(e)`` as ``_edge`` step 1 judges them (``j``,
        ``_judge``), the edge taken
        as an edge without accesses, then the violation counted as ``_edge`` counts it,
        and their results returned; else None, touching nothing.

        Why the same: an access reaches the rest of ``_edge`` only through the effects
        step 1 collects (``effs``, ``glob``). With no channel effect (``effs`` empty) and
        no write of VIOL_COUNT or OWN_IRQ_EN, steps 2-6 do what they do on an edge
        without it, and ``glob.viol`` reaches only the violation registers, at the end
        (``_count_violation``). Why: the host drivers' status polls read during every
        copy, and a host function's accesses to windows it does not own are refused;
        each such edge went through the whole engine (tests/test_hw_fast.py compares)."""
        rl, rh, effs, glob = j
        if not self._no_effect(effs, glob):
            return None
        if self._event_path(e, evs):
            if glob.viol is not None:
                self._count_violation(glob.viol)
            return EdgeResult(rl, rh)
        return None

    def _event_path(self, e: int, evs: list[object]) -> bool:
        """Edge ``e`` taken as an edge without accesses by the event-driven path (a beat or
        stall, an AR or AW that starts a burst or its write, a B in the middle of a copy),
        or False, touching nothing: the one test ``HwModel.edge`` makes for an edge
        without accesses and ``_read_edge`` for one whose accesses have no effect, so
        both take the same edges."""
        return self._beat_edge(e, evs) or self._dma_edge(e, evs) or self._b_edge(e, evs)

    @staticmethod
    def _no_effect(effs: dict[int, _Eff], glob: _Glob) -> bool:
        """Whether ``_edge`` step 1 collected nothing but a violation (``_read_edge``)."""
        return not effs and not glob.viol_clear and glob.irq_en is None

    def _count_violation(self, viol: tuple[bool, int]) -> None:
        """A refused host access (write?, address): VIOL_COUNT and VIOL_LAST, at the end of
        its edge (``_edge``, ``_read_edge``)."""
        w, a = viol
        self._viol_count = min(self._viol_count + 1, MASK32)
        self._viol_last = (regs.VIOL_LAST_VALID_MASK
                           | (regs.VIOL_LAST_WRITE_MASK if w else 0)
                           | (a & regs.VIOL_LAST_ADDR_MASK))

    def _beat_run(self, e: int, xs: list) -> int:
        """``_beat_edge`` for each of ``xs`` at edges ``e``, ``e + 1``, ...; returns how
        many it took. In one step when steady and the run's beats all belong to the
        burst's current phase and none can be a violation (``_r_run``, ``_w_run``: the
        same effects as one ``_beat_edge`` per item); else one by one, stopping at the
        first refused."""
        b = self._burst
        if len(xs) > 1 and type(xs[-1]) is RBeat and xs[-1].last:
            # a run ends with the burst's last R beat (the AW follows): the rest in one
            # step, then that beat on its own
            k = self._beat_run(e, xs[:-1])
            if k < len(xs) - 1:
                return k
            return k + self._beat_edge(e + k, [xs[-1]])
        if b is not None:
            rs: list[RBeat] = []
            ws: list[WBeat] = []
            last_r = first_w = e
            for i, x in enumerate(xs):
                if x is None:
                    continue
                t = type(x)
                if t is RBeat:
                    rs.append(x)
                    last_r = e + i
                elif t is WBeat:
                    if not ws:
                        first_w = e + i
                    ws.append(x)
                else:
                    return self._beat_each(e, xs)   # neither: one by one
            if not (rs and ws) and (
                    (not rs or (b.phase == "r" and b.ar_hs)) and (not ws or b.phase == "w")):
                if not self._settle():
                    return 0
                if (not rs or self._r_run(b, last_r, rs)) and (not ws or self._w_run(b, first_w, ws)):
                    self.cycle = e + len(xs) - 1
                    return len(xs)
        return self._beat_each(e, xs)

    def _cols_run(self, e: int, c: BeatCols) -> int:
        """``_beat_run`` of the run ``c`` given as columns: the same steps for the same
        items (an R run ending with the burst's last R beat: the rest in one step, then
        that beat on its own), the beats compared in bulk (``_r_datas``, ``_w_datas``);
        0, having changed nothing but the steady views (``_settle``, as ``_beat_run``),
        where ``_beat_run`` would go one by one: the caller then hands the items over
        one by one (tb/scoreboard.py ``on_run``)."""
        b = self._burst
        if b is None:
            return 0
        if c.kind == "r":
            if not c.rlast:
                return self._cols_r(e, b, c.n, c.offs, c.datas, c.rid)
            k = 0
            if c.n > 1:
                k = self._cols_r(e, b, c.n - 1, c.offs[:-1], c.datas[:-1], c.rid)
                if k < c.n - 1:
                    return k
            return k + self._beat_edge(e + k, [parsed_r(c.rid, c.datas[-1], 0, True)])
        if b.phase != "w" or not self._settle():
            return 0
        if not self._w_datas(b, e + c.offs[0], c.datas, c.strbs, c.lasts):
            return 0
        self.cycle = e + c.n - 1
        return c.n

    def _cols_r(self, e: int, b: _Burst, n: int, offs: list[int], datas: list[int],
                rid: int) -> int:
        """``_beat_run`` of ``n`` edges whose beats (at ``offs``) are R beats of ID
        ``rid``, OKAY, RLAST low (none: stalls only)."""
        if datas and (b.phase != "r" or not b.ar_hs):
            return 0
        if not self._settle():
            return 0
        if datas and (rid != b.g or not self._r_datas(b, e + offs[-1], datas)):
            return 0
        self.cycle = e + n - 1
        return n

    def _beat_each(self, e: int, xs: list) -> int:
        """``_beat_edge`` for each of ``xs`` at edges ``e``, ``e + 1``, ...; stops at the
        first it refuses and returns how many it took."""
        k = 0
        beat_edge = self._beat_edge
        for x in xs:
            if not beat_edge(e + k, [] if x is None else [x]):
                break
            k += 1
        return k

    def _edge(self, e: int, loc: LiteAccess | None, host: LiteAccess | None,
              evs: list[object], j: Judged | None = None) -> EdgeResult:
        """The engine on edge ``e``; ``j``: its accesses already judged (``_judge``)."""
        # 1. accesses, judged on S(e)
        rl, rh, effs, glob = j if j is not None else self._judge(loc, host)
        self._steady = False  # the engine may change anything
        self._fresh_at = -1
        self.engine_edges += 1
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
        touched = False
        for g, c in self._ch.items():
            touched |= self._commit(e, g, c, effs.get(g), g in blk, infl == g,
                                    end if (b is not None and b.legit and b.g == g) else None, b)
        if touched:
            self._gen += 1
        if touched or glob.irq_en is not None:
            self._irq_memo = None  # the levels may have changed: computed anew when asked
        if glob.viol_clear:
            self._viol_count = 0
        if glob.viol is not None:
            self._count_violation(glob.viol)
        if glob.irq_en is not None:
            self._irq_en = glob.irq_en
        if end is not None:
            self._burst = None
        self.cycle = e
        return EdgeResult(rl, rh)

    def _commit(self, e: int, g: int, c: _Chan, f: _Eff | None, blk: bool, infl: bool,
                end: str | None, b: _Burst | None) -> bool:
        """Apply the effects of edge e to channel g with microarch's precedence; False
        when nothing could change (the channel untouched), else True."""
        held = infl  # any burst of g in flight, an MSI included: quiesce completion waits
        if b is not None and b.g == g and b.kind == "msi":
            # an MSI write is not engine work (Decision 22): its end changes nothing, and a
            # run started after its pick stops as one with no burst in flight
            end, infl = None, False
        running = c.ch_stat == regs.CH_RUNNING
        pick = self._pick
        picked_msi = pick is not None and pick.g == g and pick.kind == "msi"
        if (f is None and end is None and c.state != regs.OWN_QUIESCING and not picked_msi
                and not (running and blk and not infl)):
            # nothing can change this channel at this edge: no access, no burst end, not
            # quiescing, no MSI picked, and not a RUNNING channel blocked with no burst in
            # flight (it aborts below); a RUNNING one otherwise keeps running as it is
            return False
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
            return True
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
        return True

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
