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
from model.hw import HwModel, HwParams, LiteAccess


class _Twin(HwModel):
    """fast_beats on; counts the edges the fast path took."""

    def __init__(self, params: HwParams, mem: np.ndarray) -> None:
        super().__init__(params, mem=mem)
        self.fast_beats = True
        self.hits = 0

    def _beat_edge(self, e: int, evs: list[object]) -> bool:
        took = super()._beat_edge(e, evs)
        self.hits += took
        return took


def _state(hw: HwModel) -> tuple[object, ...]:
    return (hw.cycle, hw.irq_loc(), hw.irq_host(), hw.viol_count, hw.viol_last, hw.own_irq_en,
            hw._ch, hw._burst, hw._pick, hw._rr_last, hw._missing_ar, hw._prev_busy,
            hw._prev_view, hw._eligible, hw._blk_last, hw.errors, hw.events, hw.int_events,
            hw.msi_log, hw.walk_events)


def _lockstep(twin_cls: type[_Twin], stall_p: float, seed: int) -> type[HwModel]:
    class Lockstep(HwModel):
        """Per-edge reference, self-driving; feeds its busy edges to a twin."""

        def __init__(self, params: HwParams) -> None:
            super().__init__(params)
            self.twin = twin_cls(params, self.mem.copy())
            rng = random.Random(seed)
            self.stall = lambda kind, e: rng.random() < stall_p
            self.fed = 0

        def edge(self, e, loc=None, host=None, dma=()):  # type: ignore[override]
            evs = list(dma)
            res = super().edge(e, loc, host, evs)
            if loc is None and host is None and not evs:
                return res  # the scoreboard sees no sample for this edge
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
    # the comparison must have exercised the fast path, and the slow one
    assert twin.hits > 100 and hw.fed > twin.hits + 1000, (hw.fed, twin.hits)
    assert hw.events, "no ownership events: the workload did not delegate"


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
            hw.step(rng.randint(1, 400))


@pytest.mark.parametrize(("seed", "stall_p"), [(5, 0.0), (6, 0.4)])
def test_fast_beats_match_on_a_dma_heavy_workload(seed: int, stall_p: float) -> None:
    hw = _lockstep(_Twin, stall_p, seed)(HwParams())
    _dma_heavy(hw, random.Random(seed), 400)
    twin = hw.twin  # type: ignore[attr-defined]
    if twin.cycle < hw.cycle:
        twin.edge(hw.cycle)
    assert _state(twin) == _state(hw) and np.array_equal(twin.mem, hw.mem)
    assert not hw.errors, hw.errors[:3]
    assert twin.hits > 5000 and twin.hits > hw.fed // 2, (hw.fed, twin.hits)  # type: ignore[attr-defined]


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
