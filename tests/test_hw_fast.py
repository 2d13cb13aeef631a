"""The event-driven beat path (``HwModel.fast_beats``) against the per-edge engine.

Why: the transaction-level lane feeds the predictor with ``fast_beats`` on (beats
inside a burst and stall stretches in O(1)), the vip lane with it off. Both must
answer the same at every edge. Here a self-driving model (per-edge engine, with
random memory stalls so bursts have event-free edges) runs the mixed random workload
of ``model.bench``, and a twin with ``fast_beats`` on is fed what the scoreboard
would feed it: only the edges that carry an access or a DMA event (it catches up
over the others itself). After every fed edge the two must agree on the results and
on the whole state, logs and violations included; the memory images are compared
every 64 fed edges and at the end.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from model import bench, regs
from model.addrmap import host_win_addr, loc_win_addr, own_addr
from model.hw import AwPresent, HwModel, HwParams, LiteAccess, Resp
from model.mem import write_bytes
from model.walk import encode_data, encode_link


class _Twin(HwModel):
    """fast_beats on; counts the edges the fast path took."""

    def __init__(self, params: HwParams, mem: np.ndarray) -> None:
        super().__init__(params, mem=mem)
        self.fast_beats = True
        self.hits = 0
        self.read_hits = 0   # edges with accesses the event-driven path took (_read_edge)
        self.viol_hits = 0   # of them, edges with a refused host access (a violation)
        self.b_hits = 0      # B edges it took (_b_edge)

    def _beat_edge(self, e: int, evs: list[object]) -> bool:
        took = super()._beat_edge(e, evs)
        self.hits += took
        return took

    def _b_edge(self, e: int, evs: list[object]) -> bool:
        took = super()._b_edge(e, evs)
        self.b_hits += took
        return took

    def _read_edge(self, e, j, evs):  # type: ignore[no-untyped-def]
        viol = self.viol_count, self.viol_last
        res = super()._read_edge(e, j, evs)
        self.read_hits += res is not None
        self.viol_hits += res is not None and (self.viol_count, self.viol_last) != viol
        return res


def _state(hw: HwModel) -> tuple[object, ...]:
    # (drop(g, e) only matters while a burst is in flight: model/idealbus.py reads it then;
    # an event-free edge with nothing in flight leaves it empty)
    return (hw.cycle, hw.irq_loc(), hw.irq_host(), hw.viol_count, hw.viol_last, hw.own_irq_en,
            hw._ch, hw._burst, hw._pick, hw._rr_last, hw._missing_ar, hw._prev_busy,
            hw._prev_view, hw._eligible, hw._blk_last,
            hw._drop_last if hw._burst is not None else None, hw.errors, hw.events,
            hw.int_events, hw.msi_log, hw.walk_events)


def _lockstep(twin_cls: type[_Twin], stall_p: float, seed: int) -> type[HwModel]:
    class Lockstep(HwModel):
        """Per-edge reference, self-driving; feeds its busy edges to a twin."""

        def __init__(self, params: HwParams) -> None:
            super().__init__(params)
            self.twin = twin_cls(params, self.mem.copy())
            rng = random.Random(seed)
            self.stall = lambda kind, e: rng.random() < stall_p
            self.fed = 0
            self._last_traffic = -1

        def edge(self, e, loc=None, host=None, dma=()):  # type: ignore[override]
            evs = list(dma)
            res = super().edge(e, loc, host, evs)
            traffic = loc is not None or host is not None or bool(evs)
            if traffic:
                self._last_traffic = e
            elif self._last_traffic != e - 1:
                return res  # the scoreboard sees no sample for this edge
            # (the edge after one with traffic is busy too: its handshakes fell, the
            # monitors' busy-edge rule; after a B the mover picks there)
            got = self.twin.edge(e, loc, host, evs)
            self.fed += 1
            assert got == res, f"edge {e}: results {got} != {res}"
            assert _state(self.twin) == _state(self), f"edge {e}: state differs"
            if self.fed % 64 == 0:
                assert np.array_equal(self.twin.mem, self.mem), f"edge {e}: memory differs"
            return res

    return Lockstep


def _run(monkeypatch: pytest.MonkeyPatch, twin_cls: type[_Twin], seed: int,
         stall_p: float, ops: int) -> tuple[HwModel, _Twin]:
    cls = _lockstep(twin_cls, stall_p, seed)
    monkeypatch.setattr(bench, "HwModel", cls)
    st, be, _, _ = bench.run(1e9, seed, 2, 2, 2, max_ops=ops)
    hw = be.hw
    assert isinstance(hw, cls)
    twin = hw.twin
    if twin.cycle < hw.cycle:
        twin.edge(hw.cycle)
    assert _state(twin) == _state(hw)
    assert np.array_equal(twin.mem, hw.mem)
    assert not st.problems, st.problems[:5]
    return hw, twin


@pytest.mark.parametrize(("seed", "stall_p"), [(1, 0.0), (2, 0.3), (3, 0.6), (4, 0.3)])
def test_fast_beats_match_the_per_edge_engine(monkeypatch: pytest.MonkeyPatch, seed: int,
                                              stall_p: float) -> None:
    hw, twin = _run(monkeypatch, _Twin, seed, stall_p, 4000)
    # the comparison must have exercised the fast path, and the slow one
    assert twin.hits > 100 and twin.engine_edges > 500, (hw.fed, twin.hits, twin.engine_edges)
    # ... and the access path, refused host accesses (violations counted) among them
    assert twin.read_hits > 50 and twin.viol_hits > 5, (twin.read_hits, twin.viol_hits)
    assert hw.events, "no ownership events: the workload did not delegate"


def _chans(hw: HwModel) -> list[tuple[object, ...]]:
    """What ``HwModel.generation`` promises to follow: each channel's ownership, CH_STAT,
    window and engine (not the bookkeeping of the burst in flight: last_resp)."""
    return [(c.state, c.func, c.exposed, c.qdone, c.unsafe, c.cmd_err, c.ch_stat, c.int_stat,
             c.stop_req, c.msi, c.src, c.dst, c.rem, c.walk, c.wphase, c.lp, c.ccs,
             list(c.fbeats), dict(c.win)) for c in hw._ch.values()]


def test_generation_moves_with_every_channel_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """``HwModel.generation``, which the copy checker (tb/memcheck.py) and the model's
    own views (``_quiet_views``) rely on to skip channels that did not change, moves at
    every edge that changed one, on the fast path and the engine alike."""
    class _GenTwin(_Twin):
        changed = 0

        def edge(self, e, loc=None, host=None, dma=()):  # type: ignore[override]
            before, g0 = _chans(self), self.generation
            res = super().edge(e, loc, host, dma)
            if _chans(self) != before:
                assert self.generation != g0, f"edge {e}: a channel changed, the generation did not"
                type(self).changed += 1
            return res

    _run(monkeypatch, _GenTwin, 5, 0.3, 1500)
    assert _GenTwin.changed > 50, _GenTwin.changed


def _dma_heavy(hw: HwModel, rng: random.Random, steps: int) -> None:
    """Long copies (up to 16 KiB) programmed locally or by a host function, STOPs,
    delegations and plain or quiesced reclaims at random moments, idle stretches:
    most edges are beats and stalls inside bursts."""
    mem = hw.params.mem_size
    for _ in range(steps):
        g = rng.choice(hw.params.channels)
        f = rng.randrange(hw.params.num_func)
        r = rng.random()
        if r < 0.45:
            size = 8 * rng.randint(1, 2048)
            regs_vals = ((regs.SAR_LO, 8 * rng.randrange((mem - size) // 8)),
                         (regs.DAR_LO, 8 * rng.randrange((mem - size) // 8)),
                         (regs.XFER_SIZE, size), (regs.CH_EN, 1), (regs.FUNC_NUM, f),
                         (regs.DOORBELL, regs.DOORBELL_START_MASK))
            for reg, v in regs_vals:
                if hw.own_state(g) == regs.OWN_LOCAL:
                    hw.local_access(LiteAccess(True, loc_win_addr(g, reg), v))
                else:
                    hw.host_access(LiteAccess(True, host_win_addr(hw.own_func(g), g, reg), v))
        elif r < 0.55:
            hw.local_access(LiteAccess(True, loc_win_addr(g, regs.DOORBELL),
                                       regs.DOORBELL_STOP_MASK))
        elif r < 0.7:
            cmd = rng.choice((regs.CMD_DELEGATE, regs.CMD_RECLAIM))
            q = regs.OWN_CMD_QUIESCE_MASK if rng.random() < 0.7 else 0
            hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD),
                                       cmd | q | f << regs.OWN_CMD_FUNC_LSB))
            hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_STAT), 0xFFFFFFFF))
        else:
            for _ in range(rng.randint(1, 8)):
                hw.step(rng.randint(1, 50))
                if rng.random() < 0.25:
                    _stray_write(hw, rng, g, f)
                else:
                    _status_read(hw, rng, g, f)


def _stray_write(hw: HwModel, rng: random.Random, g: int, f: int) -> None:
    """A write that changes no channel: function f's write of channel g's window
    (refused unless g is delegated to f: a violation), a local write of its window
    (refused unless g is LOCAL), a write of a read-only register; or one of the local
    registers that the event-driven path leaves to the engine: VIOL_COUNT (clears the
    count), OWN_IRQ_EN."""
    r = rng.random()
    if r < 0.5:
        hw.host_access(LiteAccess(True, host_win_addr(f, g, regs.SAR_LO), rng.getrandbits(32)))
    elif r < 0.7:
        hw.local_access(LiteAccess(True, loc_win_addr(g, regs.DAR_LO), rng.getrandbits(32)))
    elif r < 0.8:
        hw.local_access(LiteAccess(True, regs.VERSION, rng.getrandbits(32)))
    elif r < 0.9:
        hw.local_access(LiteAccess(True, regs.VIOL_COUNT, 0))
    else:
        hw.local_access(LiteAccess(True, regs.OWN_IRQ_EN, rng.getrandbits(32)))


def _status_read(hw: HwModel, rng: random.Random, g: int, f: int) -> None:
    """A driver's status poll: channel g's CH_STAT through the local window or through
    function f's host window (refused unless g is delegated to f: a violation is counted),
    or its OWN_STAT."""
    r = rng.random()
    if r < 0.4:
        hw.local_access(LiteAccess(False, loc_win_addr(g, regs.CH_STAT)))
    elif r < 0.6:
        hw.local_access(LiteAccess(False, own_addr(g, regs.OWN_STAT)))
    else:
        hw.host_access(LiteAccess(False, host_win_addr(f, g, regs.CH_STAT)))


def _twin_run(seed: int, stall_p: float, drive) -> tuple[HwModel, _Twin]:
    """A lockstep reference (stalls drawn with ``stall_p``) driven by ``drive(hw)``; the
    twin caught up to its last edge and compared with it, state and memory."""
    hw = _lockstep(_Twin, stall_p, seed)(HwParams())
    drive(hw)
    twin = hw.twin  # type: ignore[attr-defined]
    if twin.cycle < hw.cycle:
        twin.edge(hw.cycle)
    assert _state(twin) == _state(hw) and np.array_equal(twin.mem, hw.mem)
    return hw, twin


@pytest.mark.parametrize(("seed", "stall_p"), [(5, 0.0), (6, 0.4)])
def test_fast_beats_match_on_a_dma_heavy_workload(seed: int, stall_p: float) -> None:
    hw, twin = _twin_run(seed, stall_p, lambda hw: _dma_heavy(hw, random.Random(seed), 400))
    assert not hw.errors, hw.errors[:3]
    assert twin.hits > 5000 and twin.hits > hw.fed // 2, (hw.fed, twin.hits)  # type: ignore[attr-defined]
    assert twin.read_hits > 100, twin.read_hits  # type: ignore[attr-defined]
    assert twin.b_hits > 100, twin.b_hits  # type: ignore[attr-defined]  # B in mid-copy


class _BForgetsDst(_Twin):
    """Planted: the B path (``_b_edge``) advances the source and the remainder of the
    copy but not its destination."""

    def _b_edge(self, e: int, evs: list[object]) -> bool:
        c = self._ch.get(self._burst.g) if self._burst is not None else None
        dst = c.dst if c is not None else 0
        took = super()._b_edge(e, evs)
        if took and c is not None:
            c.dst = dst
        return took


def test_the_b_path_commits_what_the_engine_commits() -> None:
    with pytest.raises(AssertionError, match="state differs|results"):
        hw = _lockstep(_BForgetsDst, 0.0, 5)(HwParams())
        _dma_heavy(hw, random.Random(5), 400)


class _ForgetsViolation(_Twin):
    """Planted: the access path takes a refused host access but never counts its
    violation (VIOL_COUNT, VIOL_LAST stay)."""

    def _read_edge(self, e, j, evs):  # type: ignore[no-untyped-def]
        self._count_violation = lambda viol: None   # shadows the method in this call only
        try:
            return super()._read_edge(e, j, evs)
        finally:
            del self._count_violation


class _TakesViolClear(_Twin):
    """Planted: the access path takes a write of VIOL_COUNT (which clears the count) as
    an access without effect."""

    @staticmethod
    def _no_effect(effs, glob) -> bool:  # type: ignore[no-untyped-def,override]
        return not effs and glob.irq_en is None


@pytest.mark.parametrize("planted", [_ForgetsViolation, _TakesViolClear])
def test_an_access_with_an_effect_is_not_taken_as_one_without(planted: type[_Twin]) -> None:
    seed = 6
    with pytest.raises(AssertionError, match="state differs|results"):
        hw = _lockstep(planted, 0.4, seed)(HwParams())
        _dma_heavy(hw, random.Random(seed), 400)


class _ForgetsQuiesce(_Twin):
    """Planted: the steady check forgets that an idle QUIESCING channel completes."""

    def _steady_view(self):  # type: ignore[override]
        quiescing = [c for c in self._ch.values() if c.state == regs.OWN_QUIESCING]
        saved = [c.state for c in quiescing]
        for c in quiescing:
            c.state = regs.OWN_DELEGATED  # look DELEGATED to the check only
        try:
            return super()._steady_view()
        finally:
            for c, s in zip(quiescing, saved, strict=True):
                c.state = s


def test_a_forgotten_transition_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AssertionError, match="state differs|results"):
        _run(monkeypatch, _ForgetsQuiesce, 2, 0.3, 1500)


class _IrqAudit(HwModel):
    """Checks, after every edge, the interrupt levels the model answers (kept between
    edges that touch no channel, ``_irq_memo``) against the levels computed afresh from
    the state; counts the changes it saw."""

    def __init__(self, params: HwParams) -> None:
        super().__init__(params)
        self.changes = 0
        self._last: tuple[bool, int] | None = None

    def edge(self, e, loc=None, host=None, dma=()):  # type: ignore[override]
        res = super().edge(e, loc, host, dma)
        got = (self.irq_loc(), self.irq_host())
        fresh = (self._irq_loc(), self.irq_host_now())
        assert got == fresh, f"edge {e}: interrupt levels {got}, the state says {fresh}"
        self.changes += self._last is not None and got != self._last
        self._last = got
        return res


class _KeepsStaleLevels(_IrqAudit):
    """Planted: an edge never clears the kept levels (every commit claims it touched
    nothing)."""

    def _commit(self, *args) -> bool:  # type: ignore[override]
        super()._commit(*args)
        return False


def _irq_heavy(hw: HwModel, rng: random.Random, steps: int) -> None:
    """``_dma_heavy`` with interrupt enables, masks and clears in between (INT_SETUP by
    the channel's owner, INT_CLEAR, OWN_IRQ_EN) and MSI addresses: the levels rise and
    fall, and DELEGATED channels owe MSIs (SPEC 3)."""
    for _ in range(steps):
        g = rng.choice(hw.params.channels)
        r = rng.random()
        if r < 0.2 and hw.own_state(g) == regs.OWN_DELEGATED:
            # the owner asks for MSIs on stop and abort (dw-edma's setup, SPEC 3)
            f = hw.own_func(g)
            for reg, v in ((regs.MSI_STOP_LO, 4 * rng.randrange(1, hw.params.mem_size // 4)),
                           (regs.MSI_ABORT_LO, 4 * rng.randrange(1, hw.params.mem_size // 4)),
                           (regs.INT_SETUP, regs.INT_SETUP_RSTOP_EN_MASK
                            | regs.INT_SETUP_RABORT_EN_MASK)):
                hw.host_access(LiteAccess(True, host_win_addr(f, g, reg), v))
        elif r < 0.4:
            reg = rng.choice((regs.INT_SETUP, regs.INT_SETUP, regs.INT_CLEAR,
                              regs.MSI_STOP_LO, regs.MSI_ABORT_LO))
            v = (rng.randrange(1 << 7) if reg in (regs.INT_SETUP, regs.INT_CLEAR)
                 else 4 * rng.randrange(1, hw.params.mem_size // 4))
            if hw.own_state(g) == regs.OWN_DELEGATED and rng.random() < 0.8:
                hw.host_access(LiteAccess(True, host_win_addr(hw.own_func(g), g, reg), v))
            else:
                hw.local_access(LiteAccess(True, loc_win_addr(g, reg), v))
        elif r < 0.5:
            hw.local_access(LiteAccess(True, regs.OWN_IRQ_EN, rng.randrange(1 << 16)))
        else:
            _dma_heavy(hw, rng, 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_interrupt_levels_follow_the_state(seed: int) -> None:
    hw = _IrqAudit(HwParams())
    _irq_heavy(hw, random.Random(seed), 600)
    assert hw.changes > 20, hw.changes  # the workload moves the levels


def test_stale_interrupt_levels_are_caught() -> None:
    with pytest.raises(AssertionError, match="interrupt levels"):
        _irq_heavy(_KeepsStaleLevels(HwParams()), random.Random(1), 600)


@pytest.mark.parametrize(("seed", "stall_p", "base"), [(7, 0.0, 0x40000), (8, 0.4, 0x40FE8)])
def test_fast_beats_match_on_linked_list_walks(seed: int, stall_p: float, base: int) -> None:
    """Linked-list walks (SPEC 3): element fetches end at their last R beat with no write
    phase, data bursts go on to their AW; the twin must tell the two apart. The second
    list starts 24 bytes before a 4 KiB boundary, so its first element is fetched in two
    bursts."""
    rng = random.Random(seed)

    def walks(hw: HwModel) -> None:
        g = hw.params.channels[0]
        for lap in range(3):
            sizes = [8 * rng.randint(1, 300) for _ in range(5)]
            elems, src, dst = [], 0x10000, 0x80000
            for n in sizes:
                elems.append(encode_data(n, src, dst))
                src, dst = src + n + 8, dst + n + 16
            elems.append(encode_link(base))
            write_bytes(hw.mem, base, b"".join(elems))
            hw.twin.mem[:] = hw.mem  # type: ignore[attr-defined]
            for reg, v in ((regs.CH_EN, 1), (regs.CONTROL1, regs.CONTROL1_LLE_MASK),
                           (regs.LLP_LO, base), (regs.LLP_HI, 0), (regs.CYCLE_SYNC, 3),
                           (regs.DOORBELL, regs.DOORBELL_START_MASK)):
                hw.local_access(LiteAccess(True, loc_win_addr(g, reg), v))
            hw.step_until(lambda h: h.ch_stat(g) != regs.CH_RUNNING and not h.inflight(g))
            assert hw.ch_stat(g) == regs.CH_STOPPED, lap

    hw, twin = _twin_run(seed, stall_p, walks)
    assert not hw.errors, hw.errors[:3]
    assert sum(w.kind == "data" for w in hw.walk_events) == 15, hw.walk_events[:5]
    assert twin.hits > 1000, twin.hits


def test_fast_beats_match_with_read_errors() -> None:
    """SLVERR on some R beats (every 8-byte word whose index is 7 mod 53, so at any beat of
    a burst, its last included): a burst with an error ends in an abort at its last R
    beat, not in an AW; and on some B (bursts whose first word's index is 3 mod 41): the
    copy aborts there instead of moving on. The twin must agree."""

    def drive(hw: HwModel) -> None:
        hw.fault = lambda kind, addr: (Resp.SLVERR if kind == "r" and addr // 8 % 53 == 7
                                       else Resp.SLVERR if kind == "b" and addr // 8 % 41 == 3
                                       else None)
        _dma_heavy(hw, random.Random(9), 300)

    hw, _ = _twin_run(9, 0.2, drive)
    assert sum(ev.kind == "abort" for ev in hw.int_events) > 10, hw.int_events[:5]


@pytest.mark.parametrize(("seed", "stall_p"), [(10, 0.0), (11, 0.3)])
def test_fast_beats_match_with_interrupts_and_msis(seed: int, stall_p: float) -> None:
    """Interrupt enables, masks, clears and MSI addresses among the copies: the mover
    picks MSI writes between bursts, so the edges after a B pick an MSI or a burst."""
    hw, _ = _twin_run(seed, stall_p, lambda hw: _irq_heavy(hw, random.Random(seed), 600))
    assert len(hw.msi_log) > 5, hw.msi_log


class _Recorder(HwModel):
    """Self-driving; records every edge it processes (edge, accesses, events)."""

    def __init__(self, params: HwParams) -> None:
        super().__init__(params)
        self.mem0 = self.mem.copy()
        self.log: list[tuple[int, object, object, list[object]]] = []

    def edge(self, e, loc=None, host=None, dma=()):  # type: ignore[override]
        evs = list(dma)
        self.log.append((e, loc, host, evs))
        return super().edge(e, loc, host, evs)


def test_fast_beats_judge_a_late_aw_as_the_engine_does() -> None:
    """A recorded copy stream with one AW edge held back by an edge (a broken mover:
    no AW on the edge after the last R beat) and everything after it shifted: the
    event-driven path must name the same violations as the per-edge engine."""
    rec = _Recorder(HwParams())
    _dma_heavy(rec, random.Random(12), 40)
    log = rec.log
    k = next(i for i in range(len(log) // 3, len(log))
             if any(type(x) is AwPresent for x in log[i][3])
             and all(x[1] is None and x[2] is None for x in log[i - 1:i + 1]))
    stream = [*log[:k], (log[k][0], None, None, []),
              *((e + 1, loc, host, evs) for e, loc, host, evs in log[k:])]
    models = []
    for fast in (False, True):
        m = HwModel(HwParams(), mem=rec.mem0.copy())
        m.fast_beats = fast
        last_traffic = -1
        for e, loc, host, evs in stream:   # the busy edges, as the monitors feed them
            if loc is not None or host is not None or evs:
                last_traffic = e
            elif last_traffic != e - 1:
                continue
            m.edge(e, loc, host, evs)
        models.append(m)
    ref, fast_m = models
    assert any("AW not presented" in v.what for v in ref.errors), ref.errors[:3]
    assert fast_m.errors == ref.errors


def test_fast_beats_match_when_a_plain_reclaim_fences_a_burst_writing() -> None:
    """A plain RECLAIM of a RUNNING, DELEGATED channel fences it (SPEC v2 2.3): issued
    while a burst writes, it lets the burst finish, and the B ends the copy in an abort,
    not in the next burst. The twin must agree."""
    f = 1

    def drive(hw: HwModel) -> None:
        g = hw.params.channels[0]
        hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD),
                                   regs.CMD_DELEGATE | f << regs.OWN_CMD_FUNC_LSB))
        for reg, v in ((regs.SAR_LO, 0x1000), (regs.DAR_LO, 0x40000), (regs.XFER_SIZE, 4096),
                       (regs.CH_EN, 1), (regs.DOORBELL, regs.DOORBELL_START_MASK)):
            hw.host_access(LiteAccess(True, host_win_addr(f, g, reg), v))
        hw.step_until(lambda h: h.burst_kind(g) == "copy" and h._burst is not None
                      and h._burst.phase == "w" and h._burst.wcount >= 2)
        hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD),
                                   regs.CMD_RECLAIM | f << regs.OWN_CMD_FUNC_LSB))
        hw.step_until(lambda h: h.ch_stat(g) != regs.CH_RUNNING and not h.inflight(g))

    hw, twin = _twin_run(13, 0.0, drive)
    g = hw.params.channels[0]
    assert hw.ch_stat(g) == regs.CH_ABORTED and hw.int_stat(g) & regs.INT_STAT_ABORT_MASK
    assert [ev.kind for ev in hw.events if ev.g == g][-2:] == ["reclaim", "unsafe"], hw.events
    assert twin.hits > 5


def test_fast_beats_match_when_an_idle_channel_quiesces_beside_a_copy() -> None:
    """A quiesced RECLAIM of an idle channel while another channel's copy is in flight,
    with no access after it: the idle channel completes its quiesce on the next edge,
    a beat edge of the copy, which the event-driven path must leave to the engine."""

    def drive(hw: HwModel) -> None:
        a, g = hw.params.channels[0], hw.params.channels[1]
        hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD),
                                   regs.CMD_DELEGATE | 1 << regs.OWN_CMD_FUNC_LSB))
        for reg, v in ((regs.SAR_LO, 0x1000), (regs.DAR_LO, 0x40000), (regs.XFER_SIZE, 8192),
                       (regs.CH_EN, 1), (regs.DOORBELL, regs.DOORBELL_START_MASK)):
            hw.local_access(LiteAccess(True, loc_win_addr(a, reg), v))
        for _ in range(3):   # reclaim and delegate again, each while a burst of a moves
            hw.step_until(lambda h: h.burst_kind(a) == "copy" and h._burst is not None
                          and h._burst.phase == "r" and len(h._burst.rdata) >= 2)
            hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD),
                                       regs.CMD_RECLAIM | regs.OWN_CMD_QUIESCE_MASK))
            hw.step(40)
            assert hw.own_state(g) == regs.OWN_LOCAL
            hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD),
                                       regs.CMD_DELEGATE | 1 << regs.OWN_CMD_FUNC_LSB))
        hw.step_until(lambda h: h.ch_stat(a) != regs.CH_RUNNING and not h.inflight(a))

    hw, twin = _twin_run(14, 0.0, drive)
    g = hw.params.channels[1]
    assert [ev.kind for ev in hw.events if ev.g == g].count("qdone") == 3, hw.events
    assert twin.hits > 100, twin.hits
