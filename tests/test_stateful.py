"""Random API + bus sequences on ModelDwBackend + HwModel (hypothesis state machine).

The machine keeps its own expectations (handles, exposure, local holds) instead of
reading the backend's bookkeeping, so a backend bug shows up as a mismatch. Two
negative tests plant bugs and prove the invariants catch them.
"""

from __future__ import annotations

import errno
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from model import regs
from model.backend import (
    DwBackendCore,
    ModelDwBackend,
    ReclaimRecord,
    global_index,
    host_win_addr,
    loc_win_addr,
)
from model.epc import (
    AuxDmaDir,
    Epc,
    EpcError,
    pci_epc_delegate_dma_chan,
    pci_epc_reclaim_dma_chan,
)
from model.hw import HwModel, HwParams, LiteAccess, Resp

WR, RD, NF = 2, 2, 2
CHANNELS = [(d, n) for d in (0, 1) for n in range(WR if d == 0 else RD)]
GS = [global_index(d, n) for d, n in CHANNELS]
RW_REGS = sorted(regs.WIN_WMASK)
ALL_REGS = [*RW_REGS, regs.DOORBELL, regs.INT_CLEAR, regs.CH_STAT, regs.INT_STAT]
OWN_FLAGS = regs.OWN_STAT_QDONE_MASK | regs.OWN_STAT_UNSAFE_MASK | regs.OWN_STAT_CMD_ERR_MASK
MEM = 1 << 16  # transfers stay inside the model memory

chans = st.sampled_from(CHANNELS)
funcs = st.integers(0, NF - 1)
values = st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from([0, 1, 2, 3, 8, 0x40]))


def _dir(d: int) -> AuxDmaDir:
    return AuxDmaDir(d)


class DelegationMachine(RuleBasedStateMachine):
    backend_cls = ModelDwBackend
    hw_cls = HwModel

    def __init__(self) -> None:
        super().__init__()
        self.hw = self.hw_cls(HwParams(wr_ch=WR, rd_ch=RD, num_func=NF))
        self.be = self.backend_cls(self.hw)
        self.epc = Epc(self.be, max_functions=NF)
        self.handles: dict[int, object] = {}  # g -> live DmaChan
        self.exposed: set[int] = set()  # g with an OKAY host write since delegation
        self.held: set[int] = set()  # g held by a local DMA client
        self.stats: Counter[str] = Counter()  # coverage of the interesting cases

    # ------------------------------------------------------------ helpers
    def regs_of(self, g: int) -> tuple:
        return (
            self.hw.own_state(g),
            self.hw.own_func(g),
            tuple(self.hw.win_reg(g, off) for off in RW_REGS),
        )

    def snapshot(self, skip: int | None = None) -> dict:
        """Everything a command on channel ``skip`` must leave alone elsewhere."""
        return {g: self.regs_of(g) for g in GS if g != skip}

    def check_others(self, before: dict, g: int) -> None:
        after = self.snapshot(g)
        for k in before:
            assert before[k] == after[k], f"channel {k} changed by an operation on {g}"

    # ------------------------------------------------------------ API
    @rule(c=chans, f=funcs)
    def delegate(self, c, f):
        d, n = c
        g = global_index(d, n)
        was_running = self.hw.ch_stat(g) == regs.CH_RUNNING
        before = self.snapshot(g)
        try:
            chan = pci_epc_delegate_dma_chan(self.epc, f, 0, _dir(d), n)
        except EpcError as e:
            assert e.errno == errno.EBUSY, e
            assert g in self.handles or g in self.held or was_running or g in self.be.core.fenced, (
                f"free channel {g} refused: {e}"
            )
        else:
            assert g not in self.handles and g not in self.held, f"channel {g} given twice"
            self.handles[g] = chan
            self.exposed.discard(g)
            assert self.hw.own_state(g) == regs.OWN_DELEGATED and self.hw.own_func(g) == f
            assert all(self.hw.win_reg(g, off) == 0 for off in RW_REGS)
        self.check_others(before, g)

    def _reclaim(self, g, quiesce):
        chan = self.handles.pop(g)
        n_rec = len(self.be.core.reclaims)
        before = self.snapshot(g)
        pci_epc_reclaim_dma_chan(chan, quiesce)
        assert not chan.alive
        assert self.hw.own_state(g) == regs.OWN_LOCAL
        rec: ReclaimRecord = self.be.core.reclaims[n_rec]
        assert rec.g == g and rec.quiesce == quiesce and not rec.timed_out
        if quiesce:
            assert self.hw.ch_stat(g) == regs.CH_IDLE, "quiesced channel not idle"
            assert all(self.hw.win_reg(g, off) == 0 for off in RW_REGS), "not scrubbed"
            assert self.hw.int_stat(g) == 0, "interrupt left pending"
            assert not self.hw.own_irq_stat() & (1 << g), "ownership interrupt left pending"
            assert not rec.unsafe
            assert rec.q_cycles == self.hw.q_cycles(g) >= 2, (
                f"q_cycles {rec.q_cycles} recorded, hardware {self.hw.q_cycles(g)}"
            )
            self.stats["q_running" if rec.q_cycles > 2 else "q_idle"] += 1
        else:
            assert rec.unsafe == (g in self.exposed), rec
            assert (g in self.be.core.fenced) == rec.unsafe  # SPEC v2 2.3: fenced
            self.stats["unsafe" if rec.unsafe else "plain"] += 1
        self.check_others(before, g)

    @rule(c=chans)
    def unfence(self, c):
        """Endpoint software makes a fenced channel usable again (backend unfence)."""
        d, n = c
        g = global_index(d, n)
        if g not in self.be.core.fenced:
            with pytest.raises(EpcError) as ei:
                self.be.unfence(_dir(d), n)
            assert ei.value.errno == errno.EINVAL
            return
        before = self.snapshot(g)
        self.be.unfence(_dir(d), n)
        assert self.hw.ch_stat(g) != regs.CH_RUNNING and self.hw.int_stat(g) == 0
        assert all(self.hw.win_reg(g, off) == 0 for off in RW_REGS), "host state survived"
        assert not self.hw.own_stat(g) & regs.OWN_STAT_UNSAFE_MASK
        self.stats["unfence"] += 1
        self.check_others(before, g)

    @precondition(lambda self: self.handles)
    @rule(data=st.data(), quiesce=st.sampled_from([True, True, False]))
    def reclaim(self, data, quiesce):
        self._reclaim(data.draw(st.sampled_from(sorted(self.handles))), quiesce)

    @precondition(lambda self: self.handles)
    @rule(
        data=st.data(),
        beats=st.integers(8, 64),
        wait=st.integers(0, 30),
        quiesce=st.sampled_from([True, True, False]),
    )
    def reclaim_busy(self, data, beats, wait, quiesce):
        """The owner starts a transfer; the endpoint reclaims while it may still run."""
        g = data.draw(st.sampled_from(sorted(self.handles)))
        d, n = divmod(g, regs.MAX_CH_PER_DIR)
        self.host_transfer(self.handles[g].func_no, (d, n), beats, 0x100, 0x900)
        if wait:
            self.hw.step(wait)
        self._reclaim(g, quiesce)

    @rule(c=chans, req=st.booleans())
    def local_client(self, c, req):
        d, n = c
        g = global_index(d, n)
        if req:
            try:
                self.be.request_local(_dir(d), n)
            except EpcError as e:
                assert e.errno == errno.EBUSY and (
                    g in self.handles or g in self.held or g in self.be.core.fenced)
            else:
                assert g not in self.handles and g not in self.held
                self.held.add(g)
        else:
            try:
                self.be.release_local(_dir(d), n)
            except EpcError as e:
                assert e.errno == errno.EINVAL and g not in self.held
            else:
                assert g in self.held
                self.held.discard(g)

    # ------------------------------------------------------------ bus traffic
    def _host_write(self, f, d, n, reg, value):
        g = global_index(d, n)
        allowed = self.hw.own_state(g) == regs.OWN_DELEGATED and self.hw.own_func(g) == f
        if reg == regs.FUNC_NUM and (value & regs.FUNC_NUM_FUNC_MASK) != f:
            allowed = False
        before = self.snapshot(g)
        mine = self.regs_of(g)
        resp = self.hw.host_access(LiteAccess(True, host_win_addr(f, d, n, reg), value)).resp
        if resp == Resp.OKAY:
            assert allowed, f"host f{f} programmed channel {g} it does not own"
            self.exposed.add(g)
        else:
            assert resp == Resp.SLVERR and not allowed, (resp, allowed)
            assert self.regs_of(g) == mine, f"refused host write changed channel {g}"
        self.check_others(before, g)
        return resp

    @rule(f=funcs, c=chans, reg=st.sampled_from(ALL_REGS), value=values)
    def host_write(self, f, c, reg, value):
        self._host_write(f, *c, reg, value)

    @rule(f=funcs, c=chans, reg=st.sampled_from(ALL_REGS))
    def host_read(self, f, c, reg):
        d, n = c
        g = global_index(d, n)
        res = self.hw.host_access(LiteAccess(False, host_win_addr(f, d, n, reg)))
        owner = self.hw.own_state(g) == regs.OWN_DELEGATED and self.hw.own_func(g) == f
        assert (res.resp == Resp.OKAY) == owner
        if not owner:
            assert res.data == 0

    @rule(
        f=funcs,
        c=chans,
        beats=st.integers(1, 64),
        src=st.integers(0, MEM // 8 - 1),
        dst=st.integers(0, MEM // 8 - 1),
    )
    def host_transfer(self, f, c, beats, src, dst):
        d, n = c
        size = beats * 8
        src, dst = (src * 8) % (MEM - size), (dst * 8) % (MEM - size)
        for reg, v in [
            (regs.SAR_LO, src),
            (regs.DAR_LO, dst),
            (regs.XFER_SIZE, size),
            (regs.INT_SETUP, regs.INT_SETUP_RSTOP_EN_MASK | regs.INT_SETUP_RABORT_EN_MASK),
            (regs.CH_EN, 1),
            (regs.DOORBELL, regs.DOORBELL_START_MASK),
        ]:
            self._host_write(f, d, n, reg, v)

    @rule(f=funcs, c=chans, stop=st.booleans())
    def host_doorbell(self, f, c, stop):
        v = regs.DOORBELL_STOP_MASK if stop else regs.DOORBELL_START_MASK
        self._host_write(f, *c, regs.DOORBELL, v)

    @rule(c=chans, reg=st.sampled_from(ALL_REGS), value=values)
    def local_write(self, c, reg, value):
        d, n = c
        g = global_index(d, n)
        local = self.hw.own_state(g) == regs.OWN_LOCAL
        before = self.snapshot(g)
        resp = self.hw.local_access(LiteAccess(True, loc_win_addr(d, n, reg), value)).resp
        assert (resp == Resp.OKAY) == local, (resp, local)
        self.check_others(before, g)

    @rule(c=chans, beats=st.integers(1, 32))
    def local_transfer(self, c, beats):
        d, n = c
        for reg, v in [
            (regs.SAR_LO, 0x8000),
            (regs.DAR_LO, 0xC000),
            (regs.XFER_SIZE, beats * 8),
            (regs.CH_EN, 1),
            (regs.DOORBELL, regs.DOORBELL_START_MASK),
        ]:
            self.hw.local_access(LiteAccess(True, loc_win_addr(d, n, reg), v))

    @rule(n=st.integers(1, 40))
    def step(self, n):
        before = self.snapshot()
        self.hw.step(n)
        assert self.snapshot() == before  # registers are storage; time alone changes none

    # ------------------------------------------------------------ invariants
    @invariant()
    def no_dma_errors(self):
        assert self.hw.errors == [], "\n".join(str(v) for v in self.hw.errors)

    @invariant()
    def never_delegated_and_held(self):
        assert not (set(self.handles) & self.held)

    @invariant()
    def ownership_matches_handles(self):
        for g in GS:
            if g in self.handles:
                assert self.hw.own_state(g) == regs.OWN_DELEGATED
                assert self.hw.own_func(g) == self.handles[g].func_no
            else:
                assert self.hw.own_state(g) == regs.OWN_LOCAL, f"channel {g} not LOCAL"

    @invariant()
    def delegated_channels_never_raise_irq_loc(self):
        # OWN_IRQ_EN stays 0 here, so irq_loc can only come from a LOCAL channel's
        # pending channel interrupt; a delegated one must never drive it.
        if self.hw.irq_loc():
            assert any(
                self.hw.own_state(g) == regs.OWN_LOCAL and self.hw.int_stat(g)
                for g in GS
            ), "irq_loc asserted with no LOCAL channel interrupt pending"

    @invariant()
    def no_sticky_flags_left(self):
        for g in GS:
            if g in self.handles:
                continue
            stat = self.hw.own_stat(g)
            flags = OWN_FLAGS & ~(regs.OWN_STAT_UNSAFE_MASK if g in self.be.core.fenced else 0)
            assert stat & flags == 0, f"g={g} OWN_STAT=0x{stat:08x}"
            # UNSAFE set exactly while the backend holds the channel fenced
            assert bool(stat & regs.OWN_STAT_UNSAFE_MASK) == (g in self.be.core.fenced)


SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

DelegationMachine.TestCase.settings = SETTINGS
TestDelegation = DelegationMachine.TestCase


# ---------------------------------------------------------------- negative tests

NEG = settings(SETTINGS, max_examples=300, phases=[Phase.generate])


class SkipsQuiesceCore(DwBackendCore):
    """Planted bug: a quiesced reclaim only issues a plain RECLAIM."""

    def _reclaim_quiesce(self, g):
        yield from self._reclaim_plain(g)
        return ReclaimRecord(g, True, 2, False)


class IgnoresLocalHoldsCore(DwBackendCore):
    """Planted bug: delegation does not see channels held by local DMA clients."""

    def check_delegate(self, *args):
        saved, self.local = self.local, set()
        try:
            return super().check_delegate(*args)
        finally:
            self.local = saved


class LeakyHw(HwModel):
    """Planted hardware bug: a refused host write to a LOCAL channel lands anyway."""

    def host_access(self, access):
        res = super().host_access(access)
        if access.write and res.resp == Resp.SLVERR:
            d = (access.addr // regs.WIN_DIR_STRIDE) % 2
            n = (access.addr % regs.HOST_FUNC_STRIDE) // regs.WIN_CH_STRIDE
            off = access.addr % regs.WIN_SIZE
            super().local_access(LiteAccess(True, loc_win_addr(d, n, off), access.data))
        return res


def _backend_with(core_cls):
    class Buggy(ModelDwBackend):
        def __init__(self, hw):
            super().__init__(hw)
            c = self.core
            self.core = core_cls(c.wr_ch, c.rd_ch, c.num_func, timeout=c.timeout, poll=c.poll)

    return Buggy


@pytest.mark.parametrize(
    "core_cls, hw_cls, why",
    [
        (SkipsQuiesceCore, HwModel, "not idle|not scrubbed|pending|q_cycles"),
        (IgnoresLocalHoldsCore, HwModel, "given twice"),
        (DwBackendCore, LeakyHw, "refused host write changed"),
    ],
)
def test_planted_bug_is_caught(core_cls, hw_cls, why):
    class Buggy(DelegationMachine):
        backend_cls = _backend_with(core_cls)

    Buggy.hw_cls = hw_cls
    with pytest.raises(AssertionError, match=why):
        run_state_machine_as_test(Buggy, settings=NEG)


def test_correct_machine_passes_the_negative_settings():
    """Control for the negative tests: same settings, no planted bug, no failure."""
    run_state_machine_as_test(DelegationMachine, settings=settings(NEG, max_examples=30))
