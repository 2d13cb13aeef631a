"""DesignWare-style backend rules (SPEC 1) on the hardware model and on fake ports."""

from __future__ import annotations

import asyncio
import errno
import time

import pytest

from model import regs
from model.backend import (
    BusError,
    DwBackendCore,
    ModelDwBackend,
    ModelPort,
    QuiesceTimeout,
    Read,
    Wait,
    Write,
    global_index,
    host_win_addr,
    loc_win_addr,
    own_addr,
    run_async,
    run_sync,
)
from model.epc import (
    AuxDmaDir,
    Epc,
    EpcError,
    pci_epc_delegate_dma_chan,
    pci_epc_reclaim_dma_chan,
)
from model.hw import HwModel, HwParams, LiteAccess, Resp

EP, RC = AuxDmaDir.EP_TO_RC, AuxDmaDir.RC_TO_EP
WIN_REGS = sorted(regs.WIN_WMASK)  # the RW (stored) registers of a window


def make(wr=2, rd=2, nf=2, max_functions=None, max_vfs=None, **kw):
    hw = HwModel(HwParams(wr_ch=wr, rd_ch=rd, num_func=nf))
    be = ModelDwBackend(hw, **kw)
    epc = Epc(be, max_functions=nf if max_functions is None else max_functions, max_vfs=max_vfs)
    return hw, be, epc


def deleg_errno(epc, *args):
    with pytest.raises(EpcError) as ei:
        pci_epc_delegate_dma_chan(epc, *args)
    return ei.value.errno


def host_w(hw, f, d, n, reg, value):
    return hw.host_access(LiteAccess(True, host_win_addr(f, d, n, reg), value)).resp


def loc_w(hw, d, n, reg, value):
    return hw.local_access(LiteAccess(True, loc_win_addr(d, n, reg), value)).resp


def own_stat(hw, g):
    """OWN_STAT through the local port (a real read, not a peek)."""
    return hw.local_access(LiteAccess(False, own_addr(g, regs.OWN_STAT))).data


def program(write, size=4096, src=0x1000, dst=0x40000):
    """Program and start a copy through ``write(reg, value)``; returns responses."""
    return [
        write(regs.SAR_LO, src),
        write(regs.DAR_LO, dst),
        write(regs.XFER_SIZE, size),
        write(regs.CH_EN, 1),
        write(regs.DOORBELL, regs.DOORBELL_START_MASK),
    ]


# ---------------------------------------------------------------- rules


def test_vf_is_eopnotsupp():
    hw, be, epc = make(max_vfs=[2, 2])
    assert deleg_errno(epc, 0, 1, EP, 0) == errno.EOPNOTSUPP
    assert deleg_errno(epc, 1, 2, RC, 1) == errno.EOPNOTSUPP
    assert be.core.delegated == {} and hw.events == []


def test_no_dma_engine_is_enodev():
    core = DwBackendCore(0, 0, 2)
    with pytest.raises(EpcError) as ei:
        run_sync(core.delegate_ops(0, 0, EP, 0), RecordingPort())
    assert ei.value.errno == errno.ENODEV
    # and VF is checked first
    with pytest.raises(EpcError) as ei:
        run_sync(core.delegate_ops(0, 1, EP, 0), RecordingPort())
    assert ei.value.errno == errno.EOPNOTSUPP


def test_enodev_through_epc():
    epc = Epc(ModelDwBackendStub(DwBackendCore(0, 0, 1)))
    assert deleg_errno(epc, 0, 0, RC, 0) == errno.ENODEV


@pytest.mark.parametrize(
    "wr, rd, d, ch, ok",
    [
        (2, 1, EP, 1, True),
        (2, 1, EP, 2, False),
        (2, 1, RC, 0, True),
        (2, 1, RC, 1, False),
        (1, 3, RC, 2, True),
        (1, 3, EP, 1, False),
        (8, 8, EP, 7, True),
        (8, 8, RC, 8, False),
        (2, 2, EP, 65535, False),
    ],
)
def test_hw_ch_range_per_direction(wr, rd, d, ch, ok):
    hw, be, epc = make(wr=wr, rd=rd)
    if ok:
        chan = pci_epc_delegate_dma_chan(epc, 0, 0, d, ch)
        assert hw.own_state(global_index(d, ch)) == regs.OWN_DELEGATED
        assert chan.data.g == global_index(d, ch)
    else:
        assert deleg_errno(epc, 0, 0, d, ch) == errno.EINVAL
        assert hw.events == []


def test_func_beyond_hardware_is_einval():
    hw, be, epc = make(nf=2, max_functions=4)
    assert deleg_errno(epc, 3, 0, EP, 0) == errno.EINVAL
    assert hw.events == []


def test_ebusy_already_delegated():
    hw, be, epc = make()
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, RC, 1)
    assert deleg_errno(epc, 1, 0, RC, 1) == errno.EBUSY
    assert deleg_errno(epc, 0, 0, RC, 1) == errno.EBUSY
    assert be.core.delegated == {chan.data.g: chan.data}
    assert hw.own_func(chan.data.g) == 1
    pci_epc_reclaim_dma_chan(chan, True)
    chan2 = pci_epc_delegate_dma_chan(epc, 0, 0, RC, 1)
    assert hw.own_func(chan2.data.g) == 0


def test_ebusy_held_by_local_client():
    hw, be, epc = make()
    assert be.request_local(EP, 1) == global_index(EP, 1)
    assert deleg_errno(epc, 0, 0, EP, 1) == errno.EBUSY
    with pytest.raises(EpcError) as ei:
        be.request_local(EP, 1)
    assert ei.value.errno == errno.EBUSY
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, EP, 0)  # other channel is free
    with pytest.raises(EpcError) as ei:
        be.request_local(EP, 0)  # delegated -> EBUSY
    assert ei.value.errno == errno.EBUSY
    be.release_local(EP, 1)
    pci_epc_delegate_dma_chan(epc, 0, 0, EP, 1)
    for bad in [(EP, 2), (RC, 5), (2, 0)]:
        with pytest.raises(EpcError) as ei:
            be.request_local(*bad)
        assert ei.value.errno == errno.EINVAL
    with pytest.raises(EpcError) as ei:
        be.release_local(RC, 0)  # not held
    assert ei.value.errno == errno.EINVAL
    pci_epc_reclaim_dma_chan(chan, True)
    be.request_local(EP, 0)


def test_ebusy_running_channel():
    hw, be, epc = make()
    g = global_index(RC, 0)
    resps = program(lambda r, v: loc_w(hw, RC, 0, r, v), size=64 * 1024)
    assert all(r == Resp.OKAY for r in resps)
    assert hw.ch_stat(g) == regs.CH_RUNNING
    assert deleg_errno(epc, 0, 0, RC, 0) == errno.EBUSY
    assert hw.own_state(g) == regs.OWN_LOCAL
    assert be.core.delegated == {} and be.core.pending == set()
    assert not any(ev[1] == g and ev[2] == "delegate" for ev in hw.events)
    assert hw.errors == []


def test_ebusy_hardware_not_local():
    """A channel the hardware says is not LOCAL (e.g. commanded behind our back)."""
    hw, be, epc = make()
    g = global_index(EP, 1)
    cmd = (regs.CMD_DELEGATE << regs.OWN_CMD_CMD_LSB) | (1 << regs.OWN_CMD_FUNC_LSB)
    hw.local_access(LiteAccess(True, own_addr(g, regs.OWN_CMD), cmd))
    assert hw.own_state(g) == regs.OWN_DELEGATED
    assert deleg_errno(epc, 0, 0, EP, 1) == errno.EBUSY


# ---------------------------------------------------------------- delegation effects


def test_delegate_gives_host_access_to_owner_only():
    hw, be, epc = make()
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, EP, 1)
    g = chan.data.g
    assert hw.own_state(g) == regs.OWN_DELEGATED and hw.own_func(g) == 1
    assert host_w(hw, 1, EP, 1, regs.SAR_LO, 0x100) == Resp.OKAY
    assert host_w(hw, 0, EP, 1, regs.SAR_LO, 0x200) == Resp.SLVERR
    assert host_w(hw, 1, EP, 0, regs.SAR_LO, 0x200) == Resp.SLVERR  # not delegated
    assert hw.win_reg(g, regs.SAR_LO) == 0x100
    assert loc_w(hw, EP, 1, regs.SAR_LO, 0x300) == Resp.SLVERR  # local locked out
    stat = own_stat(hw, g)
    assert stat & regs.OWN_STAT_CMD_ERR_MASK == 0


def test_delegate_scrubs_local_leftovers():
    hw, be, epc = make()
    g = global_index(RC, 1)
    loc_w(hw, RC, 1, regs.SAR_LO, 0xDEAD0)
    loc_w(hw, RC, 1, regs.DAR_HI, 0x1234)
    pci_epc_delegate_dma_chan(epc, 0, 0, RC, 1)
    assert all(hw.win_reg(g, off) == 0 for off in WIN_REGS)


# ---------------------------------------------------------------- reclaim


def _assert_local_clean(hw, g):
    assert hw.own_state(g) == regs.OWN_LOCAL
    assert hw.ch_stat(g) == regs.CH_IDLE
    assert all(hw.win_reg(g, off) == 0 for off in WIN_REGS)
    assert hw.win_reg(g, regs.INT_STAT) == 0
    assert not hw.irq_loc() and hw.irq_host() == 0
    stat = own_stat(hw, g)
    flags = regs.OWN_STAT_QDONE_MASK | regs.OWN_STAT_UNSAFE_MASK | regs.OWN_STAT_CMD_ERR_MASK
    assert stat & flags == 0, hex(stat)


@pytest.mark.parametrize("running", [False, True])
def test_quiesce_reclaim_leaves_local_scrubbed(running):
    hw, be, epc = make()
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, RC, 0)
    g = chan.data.g
    size = 256 * 1024 if running else 64
    resps = program(lambda r, v: host_w(hw, 1, RC, 0, r, v), size=size)
    assert all(r == Resp.OKAY for r in resps)
    host_w(hw, 1, RC, 0, regs.INT_SETUP, regs.INT_SETUP_RSTOP_EN_MASK)
    if running:
        hw.step(20)
        assert hw.ch_stat(g) == regs.CH_RUNNING
    else:
        hw.step(200)
        assert hw.ch_stat(g) == regs.CH_STOPPED
    pci_epc_reclaim_dma_chan(chan, True)
    (rec,) = be.core.reclaims
    assert rec.g == g and rec.quiesce and not rec.unsafe and not rec.timed_out
    assert rec.q_cycles == hw.q_cycles(g) and 2 <= rec.q_cycles
    if not running:
        assert rec.q_cycles == 2
    _assert_local_clean(hw, g)
    assert be.core.delegated == {} and hw.errors == []
    assert host_w(hw, 1, RC, 0, regs.SAR_LO, 8) == Resp.SLVERR


def test_plain_reclaim_of_exposed_channel_is_unsafe():
    hw, be, epc = make()
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, EP, 1)
    assert host_w(hw, 0, EP, 1, regs.XFER_SIZE, 8) == Resp.OKAY
    pci_epc_reclaim_dma_chan(chan, False)
    (rec,) = be.core.reclaims
    assert rec.unsafe and not rec.quiesce and rec.q_cycles is None
    assert hw.own_state(chan.data.g) == regs.OWN_LOCAL
    # fenced (SPEC v2 2.3): the backend leaves UNSAFE set and the channel unusable
    assert own_stat(hw, chan.data.g) & regs.OWN_STAT_UNSAFE_MASK
    assert hw.win_reg(chan.data.g, regs.XFER_SIZE) == 8  # not scrubbed: that's the point
    assert be.core.fenced == {chan.data.g}
    assert deleg_errno(epc, 1, 0, EP, 1) == errno.EBUSY
    with pytest.raises(EpcError) as ei:
        be.request_local(EP, 1)
    assert ei.value.errno == errno.EBUSY and "fenced" in str(ei.value)


def test_unfence_scrubs_then_clears_unsafe():
    """unfence: the fenced transfer ends, host-written state is gone, then UNSAFE."""
    hw, be, epc = make()
    hw.mem[:0x4000] = 0x5A
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, RC, 0)
    g = chan.data.g
    for reg, v in ((regs.CH_EN, 1), (regs.XFER_SIZE, 0x2000), (regs.SAR_LO, 0),
                   (regs.DAR_LO, 0x2000), (regs.INT_SETUP, 0x7C),
                   (regs.DOORBELL, regs.DOORBELL_START_MASK)):
        assert host_w(hw, 1, RC, 0, reg, v) == Resp.OKAY
    hw.step(3)
    assert hw.ch_stat(g) == regs.CH_RUNNING
    pci_epc_reclaim_dma_chan(chan, False)
    assert be.core.reclaims[-1].unsafe and g in be.core.fenced
    with pytest.raises(EpcError) as ei:
        be.unfence(EP, 0)                      # not fenced
    assert ei.value.errno == errno.EINVAL
    be.unfence(RC, 0)
    assert hw.ch_stat(g) == regs.CH_ABORTED and not be.core.fenced  # the truthful status
    assert all(hw.win_reg(g, off) == 0 for off in WIN_REGS)
    assert own_stat(hw, g) & regs.OWN_STAT_UNSAFE_MASK == 0
    assert hw.int_stat(g) == 0 and not hw.irq_loc() and hw.errors == []
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, RC, 0)   # usable again
    pci_epc_reclaim_dma_chan(chan, True)


def test_plain_reclaim_of_unexposed_channel_is_safe():
    hw, be, epc = make()
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, EP, 1)
    pci_epc_reclaim_dma_chan(chan, False)
    (rec,) = be.core.reclaims
    assert not rec.unsafe
    _assert_local_clean(hw, chan.data.g)


def test_backend_rejects_foreign_or_stale_data():
    hw, be, epc = make()
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, EP, 0)
    with pytest.raises(EpcError) as ei:
        be.reclaim_dma_chan(epc, 0, 0, "junk", True)
    assert ei.value.errno == errno.EINVAL
    be.reclaim_dma_chan(epc, 0, 0, chan.data, True)
    with pytest.raises(EpcError, match="not a live delegation") as ei:
        be.reclaim_dma_chan(epc, 0, 0, chan.data, True)
    assert ei.value.errno == errno.EINVAL
    assert len(be.core.reclaims) == 1


def test_probe():
    hw = HwModel(HwParams(wr_ch=3, rd_ch=1, num_func=2))
    be = ModelDwBackend(hw, probe=True)
    assert (be.core.wr_ch, be.core.rd_ch, be.core.num_func) == (3, 1, 2)
    core = DwBackendCore(2, 2, 2)
    with pytest.raises(EpcError) as ei:
        run_sync(core.probe_ops(), ModelPort(hw))
    assert ei.value.errno == errno.EIO


# ---------------------------------------------------------------- fake ports


class RecordingPort:
    """A tiny ownership register file: DELEGATE works, quiesce never finishes."""

    def __init__(self, *, refuse_delegate=False, fail_write_at=None):
        self.ops: list[tuple] = []
        self.state: dict[int, int] = {}
        self.flags: dict[int, int] = {}
        self.func: dict[int, int] = {}
        self.refuse_delegate = refuse_delegate
        self.fail_write_at = fail_write_at
        self.cycles = 0

    def _g(self, addr):
        return (addr - regs.OWN_BASE) // regs.OWN_STRIDE

    def read(self, addr):
        self.ops.append(("r", addr))
        self.cycles += 1
        if regs.OWN_BASE <= addr < regs.LOC_WIN_BASE and addr % regs.OWN_STRIDE == regs.OWN_STAT:
            g = self._g(addr)
            return (
                (self.state.get(g, 0) << regs.OWN_STAT_STATE_LSB)
                | (self.func.get(g, 0) << regs.OWN_STAT_FUNC_LSB)
                | self.flags.get(g, 0)
            )
        return 0

    def write(self, addr, value):
        self.ops.append(("w", addr, value))
        self.cycles += 1
        if self.fail_write_at is not None and len(self.ops) == self.fail_write_at:
            raise BusError(addr, 2, True)
        if regs.OWN_BASE <= addr < regs.LOC_WIN_BASE:
            g, off = self._g(addr), addr % regs.OWN_STRIDE
            if off == regs.OWN_STAT:
                self.flags[g] = self.flags.get(g, 0) & ~value
            elif off == regs.OWN_CMD:
                cmd = (value & regs.OWN_CMD_CMD_MASK) >> regs.OWN_CMD_CMD_LSB
                if cmd == regs.CMD_DELEGATE and not self.refuse_delegate:
                    self.state[g] = regs.OWN_DELEGATED
                    self.func[g] = (value & regs.OWN_CMD_FUNC_MASK) >> regs.OWN_CMD_FUNC_LSB
                elif cmd == regs.CMD_RECLAIM and self.state.get(g) == regs.OWN_DELEGATED:
                    self.state[g] = regs.OWN_QUIESCING  # and stays there
                else:
                    self.flags[g] = self.flags.get(g, 0) | regs.OWN_STAT_CMD_ERR_MASK
        return 0

    def wait(self, cycles):
        self.ops.append(("wait", cycles))
        self.cycles += cycles


class ModelDwBackendStub:
    """EPC ops over a core and a RecordingPort (for geometries HwModel can't build)."""

    def __init__(self, core, port=None):
        self.core = core
        self.port = port or RecordingPort()

    def delegate_dma_chan(self, epc, func_no, vfunc_no, dir, hw_ch):
        return run_sync(self.core.delegate_ops(func_no, vfunc_no, dir, hw_ch), self.port)

    def reclaim_dma_chan(self, epc, func_no, vfunc_no, data, quiesce):
        run_sync(self.core.reclaim_ops(data, quiesce), self.port)


def test_quiesce_timeout_is_reported_quickly():
    port = RecordingPort()
    be = ModelDwBackendStub(DwBackendCore(2, 2, 2, timeout=100, poll=3), port)
    epc = Epc(be, max_functions=2)
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, RC, 1)
    t = time.perf_counter()
    with pytest.raises(QuiesceTimeout) as ei:
        pci_epc_reclaim_dma_chan(chan, True)
    assert time.perf_counter() - t < 1.0
    e = ei.value
    assert e.errno == errno.ETIMEDOUT and isinstance(e, EpcError)
    assert 100 <= e.cycles <= 104 and e.g == global_index(RC, 1)
    assert not chan.alive
    assert be.core.reclaims[-1].timed_out and be.core.reclaims[-1].q_cycles is None
    # the channel is quarantined: neither delegation nor a local client can take it
    assert deleg_errno(epc, 0, 0, RC, 1) == errno.EBUSY
    with pytest.raises(EpcError) as ei:
        be.core.request_local(RC, 1)
    assert ei.value.errno == errno.EBUSY, ei.value
    assert ("wait", 3) in port.ops and port.cycles <= 110


def test_hardware_refusal_is_ebusy_and_clears_cmd_err():
    port = RecordingPort(refuse_delegate=True)
    core = DwBackendCore(2, 2, 2)
    with pytest.raises(EpcError) as ei:
        run_sync(core.delegate_ops(0, 0, EP, 0), port)
    assert ei.value.errno == errno.EBUSY
    assert port.ops[-1] == ("w", own_addr(0, regs.OWN_STAT), regs.OWN_STAT_CMD_ERR_MASK)
    assert port.flags[0] == 0
    assert core.pending == set() and core.delegated == {}


def test_bus_error_mid_delegate_cleans_up():
    port = RecordingPort(fail_write_at=3)  # read, read, write(OWN_CMD) fails
    core = DwBackendCore(2, 2, 2)
    with pytest.raises(BusError) as ei:
        run_sync(core.delegate_ops(0, 0, RC, 0), port)
    assert ei.value.errno == errno.EIO
    assert core.pending == set() and core.delegated == {}
    run_sync(core.delegate_ops(0, 0, RC, 0), RecordingPort())  # free again


def test_op_stream_only_touches_own_channel():
    port = RecordingPort()
    core = DwBackendCore(2, 2, 2)
    data = run_sync(core.delegate_ops(1, 0, RC, 1), port)
    g = data.g
    allowed = {own_addr(g, r) for r in (regs.OWN_CMD, regs.OWN_STAT, regs.Q_CYCLES)}
    allowed.add(loc_win_addr(RC, 1, regs.CH_STAT))
    assert {op[1] for op in port.ops if op[0] in "rw"} <= allowed


def test_run_async_matches_run_sync_on_model():
    class AsyncPort:
        def __init__(self, port):
            self.port = port

        async def read(self, addr):
            return self.port.read(addr)

        async def write(self, addr, value):
            return self.port.write(addr, value)

        async def wait(self, cycles):
            self.port.wait(cycles)

    def trace(runner):
        hw = HwModel(HwParams())
        core = DwBackendCore(2, 2, 2)
        ops = []

        def logged(gen):
            res = None
            try:
                while True:
                    op = gen.send(res)
                    ops.append(op)
                    res = yield op
            except StopIteration as s:
                return s.value

        data = runner(logged(core.delegate_ops(1, 0, EP, 1)), ModelPort(hw))
        host_w(hw, 1, EP, 1, regs.SAR_LO, 8)
        rec = runner(logged(core.reclaim_ops(data, True)), ModelPort(hw))
        return ops, rec, hw.cycle

    sync = trace(run_sync)
    asyn = trace(lambda gen, port: asyncio.run(run_async(gen, AsyncPort(port))))
    assert sync == asyn
    assert any(isinstance(op, Read) for op in sync[0])
    assert any(isinstance(op, Write) for op in sync[0])
    assert all(isinstance(op, (Read, Write, Wait)) for op in sync[0])


def test_unknown_op_is_rejected():
    def bad():
        yield "nope"

    with pytest.raises(TypeError):
        run_sync(bad(), RecordingPort())


def test_core_constructor_validation():
    for args in [(9, 1, 1), (-1, 1, 1), (1, 1, -1)]:
        with pytest.raises(ValueError):
            DwBackendCore(*args)
    with pytest.raises(ValueError):
        DwBackendCore(1, 1, 1, timeout=0)


def test_readme_example_runs(capsys):
    import pathlib
    import runpy

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "delegate_reclaim.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "host write: OKAY"
    assert out[1].startswith("reclaim: ReclaimRecord(") and "q_cycles=2" in out[1]
    assert out[2] == "host write: SLVERR"


def test_quiesce_timeout_on_the_model_with_a_hung_bus():
    """A read burst whose data never returns: quiesce can't finish; reported, no hang."""
    hw, be, epc = make(timeout=300, poll=4)
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, EP, 0)
    g = chan.data.g
    hw.stall = lambda kind, e: kind == "r"  # memory never answers with read data
    program(lambda r, v: host_w(hw, 0, EP, 0, r, v), size=4096)
    hw.step(5)
    assert hw.inflight(g)
    c0 = hw.cycle
    with pytest.raises(QuiesceTimeout) as ei:
        pci_epc_reclaim_dma_chan(chan, True)
    assert ei.value.errno == errno.ETIMEDOUT
    assert hw.own_state(g) == regs.OWN_QUIESCING and 300 <= hw.cycle - c0 < 1000
    assert be.core.reclaims[-1].timed_out and g in be.core.stuck
    assert deleg_errno(epc, 0, 0, EP, 0) == errno.EBUSY
    # the bus recovers: the hardware finishes the quiesce on its own, traffic stays legal
    hw.stall = None
    hw.step_until(lambda h: h.own_state(g) == regs.OWN_LOCAL, limit=200)
    assert hw.ch_stat(g) == regs.CH_IDLE and hw.errors == []


def test_bench_smoke():
    from model import bench

    st, be, elapsed, edges = bench.run(0.3, seed=7, wr=2, rd=1, nf=2)
    assert st.problems == [] and st.ops > 0 and edges > 0
    assert bench.main(["--seconds", "0.2", "--seed", "3"]) == 0
