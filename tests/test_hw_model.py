"""Unit tests of the hardware predictor (model/hw.py) against SPEC 2 and microarch.md.

Why so detailed: the scoreboard trusts this model edge by edge, so every rule the
RTL is compared against is pinned here first, in plain pytest without a simulator.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import regs
from model.hw import (
    ArHs,
    ArPresent,
    AwHs,
    AwPresent,
    BHs,
    HwModel,
    HwParams,
    LiteAccess,
    LiteResult,
    OwnEvent,
    RBeat,
    Resp,
    Violation,
    WBeat,
    burst_beats,
)
from model.mem import read_u64, write_bytes
from model.timing import Q_CYCLES_IDLE, Q_IDLE_MAX, max_q_cycles, q_cycles_ok, quiesce_bound

LR = LiteResult
P = HwParams()
GS = P.channels  # (0, 1, 8, 9)
RUN, STOPPED, ABORTED, IDLE = regs.CH_RUNNING, regs.CH_STOPPED, regs.CH_ABORTED, regs.CH_IDLE
LOCAL, DELEG, QUIES = regs.OWN_LOCAL, regs.OWN_DELEGATED, regs.OWN_QUIESCING
DELEGATE, RECLAIM = regs.CMD_DELEGATE, regs.CMD_RECLAIM
STOP_B, ABORT_B = regs.INT_STAT_STOP_MASK, regs.INT_STAT_ABORT_MASK
SETUP_ALL = regs.WIN_WMASK[regs.INT_SETUP] & ~(regs.INT_SETUP_SMASK_MASK
                                               | regs.INT_SETUP_AMASK_MASK)
WIN_OFFS = range(0, regs.WIN_SIZE, 4)


# ----------------------------------------------------------------- helpers
def lwin(g: int, off: int = 0) -> int:
    d, n = divmod(g, regs.MAX_CH_PER_DIR)
    return regs.LOC_WIN_BASE + n * regs.WIN_CH_STRIDE + d * regs.WIN_DIR_STRIDE + off


def hwin(f: int, g: int, off: int = 0) -> int:
    d, n = divmod(g, regs.MAX_CH_PER_DIR)
    return f * regs.HOST_FUNC_STRIDE + n * regs.WIN_CH_STRIDE + d * regs.WIN_DIR_STRIDE + off


def own(g: int, off: int) -> int:
    return regs.OWN_BASE + g * regs.OWN_STRIDE + off


def R(addr: int) -> LiteAccess:
    return LiteAccess(False, addr)


def W(addr: int, data: int, strb: int = 0xF) -> LiteAccess:
    return LiteAccess(True, addr, data, strb)


def lr(hw: HwModel, addr: int):
    return hw.local_access(R(addr))


def lw(hw: HwModel, addr: int, v: int, strb: int = 0xF):
    return hw.local_access(W(addr, v, strb))


def hr(hw: HwModel, addr: int):
    return hw.host_access(R(addr))


def hw_(hw: HwModel, addr: int, v: int, strb: int = 0xF):
    return hw.host_access(W(addr, v, strb))


def cmd_val(c: int, q: bool = False, func: int = 0) -> int:
    return (c << regs.OWN_CMD_CMD_LSB) | (int(q) << regs.OWN_CMD_QUIESCE_LSB) | (
        func << regs.OWN_CMD_FUNC_LSB)


def command(hw: HwModel, g: int, c: int, q: bool = False, func: int = 0) -> int:
    """Issue an OWN_CMD write; returns its execution edge t0."""
    t0 = hw.cycle + 1
    assert lw(hw, own(g, regs.OWN_CMD), cmd_val(c, q, func)).resp == Resp.OKAY
    return t0


def delegate(hw: HwModel, g: int, f: int) -> None:
    command(hw, g, DELEGATE, func=f)
    assert hw.own_state(g) == DELEG


def state_of(own_stat: int) -> int:
    return own_stat & regs.OWN_STAT_STATE_MASK


def program(write, g: int, src: int, dst: int, size: int, *, start: bool = True,
            setup: int = 0, en: int = 1) -> None:
    """Program a channel through ``write(off, value)`` (local or host port)."""
    for off, v in ((regs.SAR_LO, src & 0xFFFFFFFF), (regs.SAR_HI, src >> 32),
                   (regs.DAR_LO, dst & 0xFFFFFFFF), (regs.DAR_HI, dst >> 32),
                   (regs.XFER_SIZE, size), (regs.INT_SETUP, setup), (regs.CH_EN, en)):
        assert write(off, v).resp == Resp.OKAY
    if start:
        assert write(regs.DOORBELL, 1).resp == Resp.OKAY


def lprog(hw: HwModel, g: int, *a, **k) -> None:
    program(lambda off, v: lw(hw, lwin(g, off), v), g, *a, **k)


def hprog(hw: HwModel, f: int, g: int, *a, **k) -> None:
    program(lambda off, v: hw_(hw, hwin(f, g, off), v), g, *a, **k)


def random_mem(hw: HwModel, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    hw.mem[:] = rng.integers(0, 256, hw.mem.size, dtype=np.uint8)


class Trace:
    """Records the built-in mover's DMA events per edge."""

    def __init__(self, hw: HwModel) -> None:
        self.log: list[tuple[int, list[object]]] = []
        hw.trace = lambda e, evs: self.log.append((e, list(evs)))

    def of(self, kind: type) -> list[tuple[int, object]]:
        return [(e, x) for e, evs in self.log for x in evs if isinstance(x, kind)]


def run_done(hw: HwModel, g: int, limit: int = 100_000) -> int:
    return hw.step_until(lambda h: h.ch_stat(g) != RUN, limit)


def snapshot(hw: HwModel, gs) -> dict:
    return {g: (tuple(hw.win_reg(g, o) for o in WIN_OFFS), hw.own_stat(g), hw.q_cycles(g))
            for g in gs}


# ----------------------------------------------------------------- parameters / inputs
@pytest.mark.parametrize("kw", [dict(wr_ch=0), dict(wr_ch=9), dict(rd_ch=0), dict(rd_ch=9),
                                dict(num_func=0), dict(num_func=9), dict(max_burst=1),
                                dict(max_burst=17), dict(mem_size=12), dict(mem_size=0)])
def test_params_out_of_range(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        HwParams(**kw)


@pytest.mark.parametrize("kw", [dict(wr_ch=True), dict(rd_ch=1.0), dict(num_func="2")])
def test_params_wrong_type(kw):
    with pytest.raises(TypeError):
        HwParams(**kw)


def test_params_limits_accepted():
    for kw in (dict(wr_ch=1, rd_ch=1, num_func=1, max_burst=2),
               dict(wr_ch=8, rd_ch=8, num_func=8, max_burst=16)):
        p = HwParams(**kw)
        assert len(p.channels) == p.wr_ch + p.rd_ch


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="addr"):
        LiteAccess(False, 0x10000)
    with pytest.raises(ValueError, match="strb"):
        LiteAccess(True, 0, 0, 0x10)
    with pytest.raises(ValueError, match="data"):
        LiteAccess(True, 0, 1 << 32)
    with pytest.raises(ValueError, match="addr"):
        LiteAccess(True, -4, 0)
    with pytest.raises(TypeError, match="write"):
        LiteAccess("yes", 0)
    with pytest.raises(TypeError, match="addr"):
        LiteAccess(False, 1.5)
    with pytest.raises(ValueError):
        RBeat(0, 1 << 64, 0, True)
    with pytest.raises(ValueError):
        WBeat(0, 0x100, True)
    with pytest.raises(ValueError):
        BHs(0, 4)
    with pytest.raises(TypeError):
        ArPresent(0, None, 0, 0)
    hw = HwModel()
    hw.edge(3)
    with pytest.raises(ValueError, match="not after"):
        hw.edge(3)
    with pytest.raises(ValueError, match="not after"):
        hw.edge(1)
    with pytest.raises(TypeError, match="loc"):
        hw.edge(4, loc=(True, 0))
    with pytest.raises(TypeError, match="DMA event"):
        hw.edge(4, dma=[object()])
    with pytest.raises(TypeError, match="iterable"):
        hw.edge(4, dma=ArHs(0))
    with pytest.raises(TypeError):
        hw.edge("5")
    with pytest.raises(ValueError, match="not instantiated"):
        hw.own_state(2)
    with pytest.raises(ValueError):
        hw.ch_stat(16)
    with pytest.raises(TypeError):
        hw.ch_stat("0")
    with pytest.raises(TypeError):
        hw.local_access((False, 0))
    with pytest.raises(TypeError):
        HwModel(params={"wr_ch": 1})
    with pytest.raises(ValueError, match="mem"):
        HwModel(P, mem=np.zeros(16, dtype=np.uint8))
    with pytest.raises(ValueError):
        HwModel(P, mem=np.zeros(P.mem_size, dtype=np.uint16))
    with pytest.raises(ValueError):
        HwModel(mem_latency=0)
    with pytest.raises(ValueError):
        hw.step(-1)
    assert hw.cycle == 3  # failed calls changed nothing


def test_mem_is_copied():
    m = np.arange(P.mem_size, dtype=np.uint64).astype(np.uint8)
    hw = HwModel(P, mem=m)
    hw.mem[0] = 0xAA
    assert m[0] == 0 and hw.mem[1] == 1


# ----------------------------------------------------------------- reset values
@pytest.mark.parametrize("p", [HwParams(), HwParams(1, 1, 1, 2), HwParams(8, 8, 8, 16),
                               HwParams(3, 5, 7, 4)])
def test_local_reset_values(p):
    hw = HwModel(p)
    cfg = p.wr_ch | p.rd_ch << 4 | p.num_func << 8 | p.max_burst << 16
    exp = {regs.ID: regs.ID_VALUE, regs.VERSION: regs.VERSION_VALUE, regs.CONFIG: cfg,
           regs.VIOL_COUNT: 0, regs.VIOL_LAST: 0, regs.OWN_IRQ_STAT: 0, regs.OWN_IRQ_EN: 0}
    for a, v in exp.items():
        assert hw.peek_local(a) == lr(hw, a) == LR(Resp.OKAY, v)
    for g in range(16):
        for off in (regs.OWN_CMD, regs.OWN_STAT, regs.Q_CYCLES):
            assert lr(hw, own(g, off)) == LR(Resp.OKAY, 0)
    for g in p.channels:
        for off in WIN_OFFS:
            assert lr(hw, lwin(g, off)) == LR(Resp.OKAY, 0)
    assert not hw.irq_loc() and hw.irq_host() == 0 and hw.errors == []


def test_host_reset_values_and_refusals():
    hw = HwModel()
    n = 0
    for f in range(16):
        for g in range(16):
            r = hr(hw, hwin(f, g, regs.CH_STAT))
            if f >= P.num_func or g not in GS:
                assert r == LR(Resp.DECERR, 0)
            else:
                assert r == LR(Resp.SLVERR, 0)
                n += 1
    assert hw.viol_count == n
    assert hw.viol_last == regs.VIOL_LAST_VALID_MASK | hwin(1, 9, regs.CH_STAT)


# ----------------------------------------------------------------- decode
@pytest.mark.parametrize("addr", [0x00C, 0x018, 0x01C, 0x028, 0x0FC, 0x10C, 0x1FC, 0x200,
                                  0xFFC, 0x2000, 0x8000, 0xFFFC])
def test_local_unmapped_decerr(addr):
    hw = HwModel()
    assert lr(hw, addr) == LR(Resp.DECERR, 0)
    assert lw(hw, addr, 0xFFFFFFFF) == LR(Resp.DECERR, 0)
    assert lw(hw, addr, 0xFFFFFFFF, strb=0) == LR(Resp.DECERR, 0)
    assert hw.viol_count == 0


def test_uninstantiated_channels():
    hw = HwModel(HwParams(wr_ch=1, rd_ch=3))
    for g in (1, 7, 11, 15):
        for off in (regs.CH_EN, regs.CH_STAT, 0x40):
            assert lr(hw, lwin(g, off)) == LR(Resp.DECERR, 0)
            assert lw(hw, lwin(g, off), 1) == LR(Resp.DECERR, 0)
            assert hr(hw, hwin(0, g, off)) == LR(Resp.DECERR, 0)
        assert lw(hw, own(g, regs.OWN_CMD), cmd_val(DELEGATE)) == LR(Resp.OKAY, 0)
        assert lw(hw, own(g, regs.OWN_CMD), 0xFFFFFFFF) == LR(Resp.OKAY, 0)
        assert lr(hw, own(g, regs.OWN_STAT)) == LR(Resp.OKAY, 0)
        assert lr(hw, own(g, regs.Q_CYCLES)) == LR(Resp.OKAY, 0)
    assert lr(hw, regs.OWN_IRQ_STAT).data == 0 and hw.events == [] and hw.viol_count == 0


def test_address_low_bits_ignored():
    hw = HwModel()
    for lo in range(4):
        assert lr(hw, regs.ID + lo).data == regs.ID_VALUE
    assert lw(hw, lwin(0, regs.SAR_LO) + 3, 0x1234).resp == Resp.OKAY
    assert hw.win_reg(0, regs.SAR_LO) == 0x1234
    assert hr(hw, hwin(0, 0, regs.SAR_LO) + 2).resp == Resp.SLVERR
    assert hw.viol_last & regs.VIOL_LAST_ADDR_MASK == hwin(0, 0, regs.SAR_LO)


# ----------------------------------------------------------------- window storage
def test_window_rw_masks_and_ro_wo():
    hw = HwModel()
    g = 9
    for off in WIN_OFFS:
        if off in (regs.DOORBELL, regs.INT_CLEAR):
            continue
        assert lw(hw, lwin(g, off), 0xFFFFFFFF) == LR(Resp.OKAY, 0)
    for off in WIN_OFFS:
        exp = regs.WIN_WMASK.get(off, 0)  # RW: writable bits; RO/WO/unlisted: 0
        assert lr(hw, lwin(g, off)) == LR(Resp.OKAY, exp), hex(off)
    assert hw.ch_stat(g) == IDLE and hw.int_stat(g) == 0
    assert all(hw.win_reg(x, regs.SAR_LO) == 0 for x in GS if x != g)


def test_wstrb_byte_merge_and_zero():
    hw = HwModel()
    a = lwin(0, regs.SAR_LO)
    lw(hw, a, 0x11223344)
    lw(hw, a, 0xAABBCCDD, strb=0b0101)
    assert lr(hw, a).data == 0x11BB33DD
    assert lw(hw, a, 0xFFFFFFFF, strb=0) == LR(Resp.OKAY, 0)
    assert lr(hw, a).data == 0x11BB33DD
    lw(hw, lwin(0, regs.FUNC_NUM), 0xFFFFFFF5, strb=0b0010)
    assert hw.win_reg(0, regs.FUNC_NUM) == 0
    # WSTRB=0 doorbell / command issue nothing
    lprog(hw, 0, 0x100, 0x200, 64, start=False)
    lw(hw, lwin(0, regs.DOORBELL), 1, strb=0)
    lw(hw, own(0, regs.OWN_CMD), cmd_val(7), strb=0)
    hw.step(5)
    assert hw.ch_stat(0) == IDLE and hw.own_stat(0) == 0
    # the START bit is in byte 0: writing only byte 1 starts nothing
    lw(hw, lwin(0, regs.DOORBELL), 1, strb=0b0010)
    hw.step(3)
    assert hw.ch_stat(0) == IDLE


def test_local_write_refused_unless_local():
    hw = HwModel()
    lw(hw, lwin(8, regs.SAR_LO), 0x40)
    delegate(hw, 8, 0)  # scrubs
    assert lw(hw, lwin(8, regs.SAR_LO), 0x80) == LR(Resp.SLVERR, 0)
    assert lw(hw, lwin(8, regs.DOORBELL), 1, strb=0) == LR(Resp.SLVERR, 0)
    assert lw(hw, lwin(8, regs.CH_STAT), 1) == LR(Resp.SLVERR, 0)
    assert lr(hw, lwin(8, regs.SAR_LO)) == LR(Resp.OKAY, 0)  # local reads always allowed
    hw_(hw, hwin(0, 8, regs.SAR_LO), 0x1230)
    assert lr(hw, lwin(8, regs.SAR_LO)) == LR(Resp.OKAY, 0x1230)
    assert hw.viol_count == 0  # local refusals are not violations
    lw(hw, lwin(0, regs.CH_STAT), 3)  # RO: OKAY ignored
    assert hw.ch_stat(0) == IDLE


# ----------------------------------------------------------------- host access rules
def test_host_allowed_only_for_owner_function():
    hw = HwModel()
    g = 1
    delegate(hw, g, 1)
    assert hw.own_stat(g) == DELEG | 1 << regs.OWN_STAT_FUNC_LSB
    assert hw_(hw, hwin(1, g, regs.DAR_LO), 0x5000) == LR(Resp.OKAY, 0)
    assert hr(hw, hwin(1, g, regs.DAR_LO)) == LR(Resp.OKAY, 0x5000)
    assert hw.exposed(g)
    assert hr(hw, hwin(0, g, regs.DAR_LO)) == LR(Resp.SLVERR, 0)
    assert hw.viol_last == regs.VIOL_LAST_VALID_MASK | hwin(0, g, regs.DAR_LO)
    assert hw_(hw, hwin(0, g, regs.DAR_LO), 0x6000) == LR(Resp.SLVERR, 0)
    assert hw.win_reg(g, regs.DAR_LO) == 0x5000
    assert hw.viol_count == 2
    assert hw.viol_last == (regs.VIOL_LAST_VALID_MASK | regs.VIOL_LAST_WRITE_MASK
                            | hwin(0, g, regs.DAR_LO))
    # other channels of the owner's own window are not delegated
    assert hr(hw, hwin(1, 0, regs.DAR_LO)).resp == Resp.SLVERR
    assert hw.viol_count == 3
    # DECERR is not a violation
    assert hr(hw, hwin(2, g, regs.DAR_LO)).resp == Resp.DECERR
    assert hw.viol_count == 3


def test_host_read_does_not_expose_but_any_write_does():
    hw = HwModel()
    delegate(hw, 0, 0)
    hr(hw, hwin(0, 0, regs.CH_STAT))
    assert not hw.exposed(0)
    assert hw_(hw, hwin(0, 0, regs.SAR_LO), 0xFFFF, strb=0) == LR(Resp.OKAY, 0)
    assert hw.exposed(0) and hw.win_reg(0, regs.SAR_LO) == 0


def test_func_num_spoof_refused_without_effect():
    hw = HwModel()
    delegate(hw, 8, 1)
    assert hw_(hw, hwin(1, 8, regs.FUNC_NUM), 0x2) == LR(Resp.SLVERR, 0)
    assert hw_(hw, hwin(1, 8, regs.FUNC_NUM), 0xF0) == LR(Resp.SLVERR, 0)
    assert not hw.exposed(8) and hw.win_reg(8, regs.FUNC_NUM) == 0
    assert hw.viol_count == 2
    assert hw.viol_last == (regs.VIOL_LAST_VALID_MASK | regs.VIOL_LAST_WRITE_MASK
                            | hwin(1, 8, regs.FUNC_NUM))
    assert hw_(hw, hwin(1, 8, regs.FUNC_NUM), 0x3, strb=0b1110) == LR(Resp.OKAY, 0)
    assert hw.exposed(8) and hw.win_reg(8, regs.FUNC_NUM) == 0
    assert hw_(hw, hwin(1, 8, regs.FUNC_NUM), 0x1) == LR(Resp.OKAY, 0)
    assert hw.win_reg(8, regs.FUNC_NUM) == 1 and hw.viol_count == 2


def test_delegated_traffic_carries_owner_func():
    hw = HwModel()
    random_mem(hw)
    tr = Trace(hw)
    lw(hw, lwin(0, regs.FUNC_NUM), 1)
    delegate(hw, 0, 1)
    hprog(hw, 1, 0, 0x1000, 0x9000, 128)
    run_done(hw, 0)
    users = {x.user for _, x in tr.of(ArPresent)} | {x.user for _, x in tr.of(AwPresent)}
    assert users == {1} and hw.ch_stat(0) == STOPPED and hw.errors == []


def test_local_traffic_uses_func_num():
    hw = HwModel()
    tr = Trace(hw)
    lw(hw, lwin(9, regs.FUNC_NUM), 0xFFFFFFF6)
    lprog(hw, 9, 0x0, 0x800, 64)
    run_done(hw, 9)
    assert {x.user for _, x in tr.of(ArPresent)} == {6} and hw.errors == []


def test_viol_count_clear_saturation_and_same_edge():
    hw = HwModel()
    hr(hw, hwin(0, 0))
    hr(hw, hwin(0, 0))
    assert lr(hw, regs.VIOL_COUNT).data == 2
    assert lw(hw, regs.VIOL_COUNT, 0, strb=0) == LR(Resp.OKAY, 0)
    assert hw.viol_count == 2  # WSTRB=0 does not clear
    lw(hw, regs.VIOL_COUNT, 0)
    assert hw.viol_count == 0 and hw.viol_last != 0  # VIOL_LAST stays
    hr(hw, hwin(0, 0))
    hr(hw, hwin(0, 0))
    # clear and a violation at the same edge: clear, then +1
    res = hw.drive(loc=W(regs.VIOL_COUNT, 0), host=R(hwin(1, 1)))
    assert res.host.resp == Resp.SLVERR and hw.viol_count == 1
    # same-edge read sees the old value
    res = hw.drive(loc=R(regs.VIOL_COUNT), host=R(hwin(1, 1)))
    assert res.loc.data == 1 and hw.viol_count == 2
    hw._viol_count = 0xFFFFFFFE  # white-box: reach saturation without 4e9 accesses
    hr(hw, hwin(0, 0))
    hr(hw, hwin(0, 0))
    assert lr(hw, regs.VIOL_COUNT).data == 0xFFFFFFFF
    lw(hw, regs.VIOL_LAST, 0)  # RO
    assert hw.viol_last == regs.VIOL_LAST_VALID_MASK | hwin(0, 0)


# ----------------------------------------------------------------- ownership FSM
def test_delegate_scrubs_window_and_internal_state():
    hw = HwModel()
    random_mem(hw)
    for off in regs.WIN_WMASK:
        lw(hw, lwin(1, off), 0xFFFFFFFF)
    lw(hw, lwin(1, regs.CONTROL1), 0)
    lprog(hw, 1, 0x100, 0x4000, 64, setup=SETUP_ALL)
    run_done(hw, 1)
    assert hw.ch_stat(1) == STOPPED and hw.int_stat(1) == STOP_B and hw.irq_loc()
    t0 = command(hw, 1, DELEGATE, func=1)
    assert hw.events[-1] == OwnEvent(t0, 1, "delegate")
    for off in WIN_OFFS:
        assert lr(hw, lwin(1, off)).data == 0
        assert hr(hw, hwin(1, 1, off)) == LR(Resp.OKAY, 0)
    assert hw.own_stat(1) == DELEG | 1 << 8 and not hw.irq_loc() and hw.irq_host() == 0


def test_delegate_takes_effect_after_t0():
    hw = HwModel()
    hw.step(3)
    res = hw.drive(loc=W(own(0, regs.OWN_CMD), cmd_val(DELEGATE, func=0)),
                   host=R(hwin(0, 0, regs.CH_STAT)))
    assert res.host.resp == Resp.SLVERR  # same edge: old state LOCAL
    assert hr(hw, hwin(0, 0, regs.CH_STAT)).resp == Resp.OKAY


def test_quiesce_flag_ignored_for_delegate():
    hw = HwModel()
    command(hw, 0, DELEGATE, q=True, func=1)
    assert hw.own_state(0) == DELEG and hw.own_func(0) == 1 and not hw.own_stat(0) >> 19 & 1


def _quiescing(hw: HwModel, g: int) -> None:
    """Put g into QUIESCING with its read held for a long time (stalled R)."""
    hw.stall = lambda kind, e: kind == "r"
    delegate(hw, g, 0)
    hprog(hw, 0, g, 0x0, 0x1000, 64)
    hw.step(3)
    assert hw.inflight(g)
    command(hw, g, RECLAIM, q=True)
    assert hw.own_state(g) == QUIES


@pytest.mark.parametrize("case", ["cmd0", "cmd3", "reclaim_local", "reclaimq_local",
                                  "delegate_delegated", "delegate_func", "delegate_running",
                                  "reclaim_quiescing", "delegate_quiescing"])
def test_cmd_err_cases(case):
    hw = HwModel()
    g = 8
    if case in ("delegate_delegated",):
        delegate(hw, g, 1)
    if case == "delegate_running":
        hw.stall = lambda kind, e: kind == "r"
        lprog(hw, g, 0x0, 0x1000, 64)
    if case in ("reclaim_quiescing", "delegate_quiescing"):
        _quiescing(hw, g)
    c, q, f = {"cmd0": (0, False, 0), "cmd3": (3, True, 0), "reclaim_local": (RECLAIM, False, 0),
               "reclaimq_local": (RECLAIM, True, 0), "delegate_delegated": (DELEGATE, False, 0),
               "delegate_func": (DELEGATE, False, P.num_func),
               "delegate_running": (DELEGATE, False, 0),
               "reclaim_quiescing": (RECLAIM, False, 0),
               "delegate_quiescing": (DELEGATE, False, 1)}[case]
    before = snapshot(hw, GS)
    ch_before = hw.ch_stat(g)
    t0 = command(hw, g, c, q, f)
    assert OwnEvent(t0, g, "cmd_err") in hw.events
    after = snapshot(hw, GS)
    assert after[g][1] == before[g][1] | regs.OWN_STAT_CMD_ERR_MASK
    assert after[g][0] == before[g][0] and hw.ch_stat(g) == ch_before
    assert {x: after[x] for x in GS if x != g} == {x: before[x] for x in GS if x != g}
    assert lr(hw, regs.OWN_IRQ_STAT).data == 1 << g
    assert not hw.irq_loc()
    lw(hw, regs.OWN_IRQ_EN, 1 << g)
    assert hw.irq_loc()
    lw(hw, own(g, regs.OWN_STAT), regs.OWN_STAT_CMD_ERR_MASK)
    assert not hw.own_stat(g) & regs.OWN_STAT_CMD_ERR_MASK and not hw.irq_loc()
    if case == "reclaimq_local":
        assert hw.ch_stat(g) == IDLE  # not treated as a quiesce


def test_reclaim_without_quiesce_clean():
    hw = HwModel()
    delegate(hw, 9, 1)
    hr(hw, hwin(1, 9, regs.CH_STAT))
    t0 = command(hw, 9, RECLAIM)
    assert hw.own_stat(9) == 0 and hw.events[-1] == OwnEvent(t0, 9, "reclaim")
    assert hr(hw, hwin(1, 9, regs.CH_STAT)).resp == Resp.SLVERR


def test_unsafe_reclaim_exposed_no_scrub():
    hw = HwModel()
    delegate(hw, 0, 1)
    hw_(hw, hwin(1, 0, regs.SAR_LO), 0x7700)
    t0 = command(hw, 0, RECLAIM)
    st = hw.own_stat(0)
    assert state_of(st) == LOCAL and st & regs.OWN_STAT_UNSAFE_MASK
    assert st & regs.OWN_STAT_EXPOSED_MASK and not st & regs.OWN_STAT_FUNC_MASK
    assert hw.win_reg(0, regs.SAR_LO) == 0x7700  # nothing scrubbed
    assert OwnEvent(t0, 0, "unsafe") in hw.events
    assert lr(hw, regs.OWN_IRQ_STAT).data == 1
    lw(hw, own(0, regs.OWN_STAT), regs.OWN_STAT_UNSAFE_MASK | regs.OWN_STAT_EXPOSED_MASK)
    assert hw.own_stat(0) == regs.OWN_STAT_EXPOSED_MASK  # EXPOSED is sticky, not W1C
    delegate(hw, 0, 0)
    assert not hw.exposed(0)


def test_unsafe_reclaim_running_is_fenced():
    """SPEC v2 2.3: a plain RECLAIM of a running channel fences it: no AR/AW after t0,
    the bursts it completes carry the previous owner's function, it ends ABORTED, it
    drives no interrupt line, START and DELEGATE are refused until UNSAFE is cleared."""
    hw = HwModel()
    random_mem(hw)
    tr = Trace(hw)
    delegate(hw, 8, 1)
    hprog(hw, 1, 8, 0x2000, 0x6000, 1024)
    hw_(hw, hwin(1, 8, regs.INT_SETUP), SETUP_ALL)   # host enables, local ones too
    hw.step(4)
    assert hw.inflight(8)
    t0 = command(hw, 8, RECLAIM)
    assert hw.own_stat(8) & regs.OWN_STAT_UNSAFE_MASK and OwnEvent(t0, 8, "unsafe") in hw.events
    run_done(hw, 8)
    assert hw.ch_stat(8) == regs.CH_ABORTED and hw.int_stat(8) & regs.INT_STAT_ABORT_MASK
    assert hw.errors == []
    assert [e for e, _ in tr.of(ArPresent) + tr.of(AwPresent) if e > t0 + 1] == []
    assert {x.user for _, x in tr.of(ArPresent) + tr.of(AwPresent)} == {1}
    assert not hw.irq_loc()          # INT_STAT.ABORT with local enables: still silent
    lw(hw, regs.OWN_IRQ_EN, 0)
    lw(hw, lwin(8, regs.DOORBELL), regs.DOORBELL_START_MASK)
    assert hw.ch_stat(8) == regs.CH_ABORTED and not hw.inflight(8)   # START refused
    hw.step(8)
    assert [e for e, _ in tr.of(ArPresent) if e > t0 + 1] == []
    command(hw, 8, DELEGATE, func=0)
    assert state_of(hw.own_stat(8)) == LOCAL and hw.own_stat(8) & regs.OWN_STAT_CMD_ERR_MASK
    # unfence: the endpoint clears what the host left, then UNSAFE; the channel is usable
    lw(hw, lwin(8, regs.INT_SETUP), 0)
    lw(hw, own(8, regs.OWN_STAT), regs.OWN_STAT_UNSAFE_MASK | regs.OWN_STAT_CMD_ERR_MASK)
    lprog(hw, 8, 0x3000, 0x7000, 64)
    run_done(hw, 8)
    assert hw.ch_stat(8) == STOPPED and hw.errors == []


def test_fence_at_t0_refuses_same_edge_start():
    """A host START executing on the fencing edge is refused: no burst after t0."""
    hw = HwModel()
    tr = Trace(hw)
    delegate(hw, 1, 0)
    program(lambda off, v: hw_(hw, hwin(0, 1, off), v), 1, 0x100, 0x900, 64, start=False)
    t0 = hw.cycle + 1
    res = hw.drive(loc=W(own(1, regs.OWN_CMD), cmd_val(RECLAIM)),
                   host=W(hwin(0, 1, regs.DOORBELL), regs.DOORBELL_START_MASK))
    assert res.host.resp == Resp.OKAY and res.loc.resp == Resp.OKAY
    assert hw.ch_stat(1) == regs.CH_ABORTED and hw.own_stat(1) & regs.OWN_STAT_UNSAFE_MASK
    hw.step(16)
    assert tr.of(ArPresent) == [] and hw.errors == [] and t0 > 0


def test_fenced_idle_channel_gives_no_local_interrupt():
    """Host-written local enables and a pending INT_STAT stay silent while fenced."""
    hw = HwModel()
    delegate(hw, 0, 0)
    hprog(hw, 0, 0, 0x100, 0x900, 64)
    hw_(hw, hwin(0, 0, regs.INT_SETUP), SETUP_ALL)
    run_done(hw, 0)
    assert hw.ch_stat(0) == STOPPED and hw.irq_host() == 1
    command(hw, 0, RECLAIM)
    assert hw.own_stat(0) & regs.OWN_STAT_UNSAFE_MASK
    assert not hw.irq_loc() and hw.irq_host() == 0
    lw(hw, own(0, regs.OWN_STAT), regs.OWN_STAT_UNSAFE_MASK)   # unfenced without a scrub:
    assert hw.irq_loc()                                        # the stale enables are live


def test_unsafe_when_host_write_at_same_edge_as_reclaim():
    hw = HwModel()
    delegate(hw, 1, 0)
    res = hw.drive(loc=W(own(1, regs.OWN_CMD), cmd_val(RECLAIM)),
                   host=W(hwin(0, 1, regs.LLP_LO), 5))
    assert res.host.resp == Resp.OKAY  # judged on the old state (DELEGATED)
    assert hw.own_state(1) == LOCAL and hw.own_stat(1) & regs.OWN_STAT_UNSAFE_MASK
    assert hw.exposed(1) and hw.win_reg(1, regs.LLP_LO) == 5


def test_quiesce_idle_channel_timing():
    hw = HwModel()
    delegate(hw, 9, 1)
    hw_(hw, hwin(1, 9, regs.XFER_SIZE), 0x40)
    hw.step(2)
    t0 = command(hw, 9, RECLAIM, q=True)
    r1 = lr(hw, own(9, regs.OWN_STAT))  # at t0+1: sees S(t0+1)
    assert state_of(r1.data) == QUIES and r1.data >> 8 & 0xF == 1
    assert hw.events[-1] == OwnEvent(t0 + 1, 9, "qdone")
    r2 = lr(hw, own(9, regs.OWN_STAT))  # at t0+2: LOCAL
    assert state_of(r2.data) == LOCAL and r2.data & regs.OWN_STAT_QDONE_MASK
    assert r2.data & regs.OWN_STAT_EXPOSED_MASK
    assert lr(hw, own(9, regs.Q_CYCLES)).data == Q_CYCLES_IDLE == 2
    assert hw.qstart(9) == t0 and q_cycles_ok(t0, 2)
    assert all(hw.win_reg(9, o) == 0 for o in WIN_OFFS)


def test_quiesce_via_edge_with_skipped_edges():
    """Internal transitions of event-free edges run before a later edge."""
    hw = HwModel()
    hw.edge(1, loc=W(own(0, regs.OWN_CMD), cmd_val(DELEGATE, func=0)))
    hw.edge(2, loc=W(own(0, regs.OWN_CMD), cmd_val(RECLAIM, q=True)))
    res = hw.edge(10, loc=R(own(0, regs.Q_CYCLES)))
    assert res.loc.data == 2 and hw.own_state(0) == LOCAL
    assert OwnEvent(3, 0, "qdone") in hw.events


def test_quiesce_start_and_quiesce_same_edge():
    """Host START at t0 with RECLAIM+QUIESCE at t0: RUNNING at t0+1, aborted there
    (blocked, no burst in flight), LOCAL at t0+3."""
    hw = HwModel()
    delegate(hw, 0, 0)
    hprog(hw, 0, 0, 0x0, 0x1000, 64, start=False)
    t0 = hw.cycle + 1
    res = hw.drive(loc=W(own(0, regs.OWN_CMD), cmd_val(RECLAIM, q=True)),
                   host=W(hwin(0, 0, regs.DOORBELL), 1))
    assert res.host.resp == Resp.OKAY and hw.ch_stat(0) == RUN
    hw.step(1)
    assert hw.ch_stat(0) == ABORTED and hw.own_state(0) == QUIES
    hw.step(1)
    assert hw.own_state(0) == LOCAL and hw.q_cycles(0) == 3 and hw.ch_stat(0) == IDLE
    assert hw.errors == [] and hw.q_cycles(0) <= max_q_cycles(t0)


@pytest.mark.parametrize("lat", [1, 3])
@pytest.mark.parametrize("delay", list(range(0, 40, 3)))
def test_quiesce_running_channel(delay, lat):
    hw = HwModel(mem_latency=lat)
    random_mem(hw)
    tr = Trace(hw)
    g = 8
    delegate(hw, g, 1)
    hprog(hw, 1, g, 0x0FC0, 0x5000, 2048, setup=SETUP_ALL)
    hw.step(delay)
    t0 = command(hw, g, RECLAIM, q=True)
    hw.step_until(lambda h: h.own_state(g) == LOCAL, 200)
    q = hw.q_cycles(g)
    last = hw.last_resp(g)
    assert q_cycles_ok(t0, q, last) and hw.cycle - 1 <= quiesce_bound(t0, last)
    assert q == (last + 2 - t0 if last is not None and last >= t0 else 2)
    assert not [e for e, x in tr.of(ArPresent) if x.id == g and e > t0]
    assert hw.ch_stat(g) == IDLE and hw.int_stat(g) == 0
    assert all(hw.win_reg(g, o) == 0 for o in WIN_OFFS)
    assert hw.own_stat(g) & regs.OWN_STAT_QDONE_MASK and not hw.irq_loc()
    assert hw.irq_host() == 0 and hw.errors == []
    # a write burst is never partial: destination beats are either copied or untouched
    done = bytes(hw.mem[0x5000:0x5800]) == bytes(hw.mem[0x0FC0:0x17C0])
    assert not done  # 2048 bytes cannot finish within 40 edges
    hw.step(20)
    assert not [e for e, x in tr.of(ArPresent) if x.id == g and e > t0]


def test_quiesce_channel_without_burst_in_flight_while_other_busy():
    hw = HwModel()
    random_mem(hw)
    hw.stall = lambda kind, e: kind == "r" and e < 60
    lprog(hw, 0, 0x0, 0x8000, 256)  # holds the mover, R stalled
    delegate(hw, 1, 0)
    hprog(hw, 0, 1, 0x400, 0x9000, 256)
    assert hw.ch_stat(1) == RUN and hw.inflight(0) and not hw.inflight(1)
    t0 = command(hw, 1, RECLAIM, q=True)
    hw.step(2)
    assert hw.q_cycles(1) == 2 and hw.events[-1] == OwnEvent(t0 + 1, 1, "qdone")
    assert hw.ch_stat(0) == RUN
    run_done(hw, 0)
    assert hw.ch_stat(0) == STOPPED and hw.errors == []
    assert bytes(hw.mem[0x8000:0x8100]) == bytes(hw.mem[0:0x100])


def test_exposed_sticky_after_quiesce_until_delegate():
    hw = HwModel()
    delegate(hw, 0, 0)
    hw_(hw, hwin(0, 0, regs.CH_EN), 1)
    command(hw, 0, RECLAIM, q=True)
    hw.step(2)
    assert hw.exposed(0) and hw.own_state(0) == LOCAL
    delegate(hw, 0, 1)
    assert not hw.exposed(0)


# ----------------------------------------------------------------- channel engine
def test_copy_local_channel_and_burst_shapes():
    hw = HwModel(HwParams(max_burst=4))
    random_mem(hw)
    tr = Trace(hw)
    src, dst, size = 0x0FE8, 0x3FF0, 0x238  # both sides cross 4 KiB
    lprog(hw, 0, src, dst, size, setup=SETUP_ALL)
    run_done(hw, 0)
    assert hw.ch_stat(0) == STOPPED and hw.int_stat(0) == STOP_B and hw.irq_loc()
    assert bytes(hw.mem[dst:dst + size]) == bytes(hw.mem[src:src + size]) and hw.errors == []
    for _, x in tr.of(ArPresent) + tr.of(AwPresent):
        assert x.len + 1 <= 4 and x.addr % 4096 + 8 * (x.len + 1) <= 4096
    assert sum(x.len + 1 for _, x in tr.of(ArPresent)) * 8 == size
    # window registers are plain storage: not advanced by the engine
    assert hw.win_reg(0, regs.SAR_LO) == src and hw.win_reg(0, regs.XFER_SIZE) == size


def test_first_ar_and_aw_timing():
    hw = HwModel(mem_latency=2)
    tr = Trace(hw)
    lprog(hw, 0, 0x100, 0x900, 128, start=False)
    s = hw.cycle + 1
    lw(hw, lwin(0, regs.DOORBELL), 1)
    assert hw.ch_stat(0) == RUN
    run_done(hw, 0)
    ars = tr.of(ArPresent)
    assert ars[0][0] == s + 2
    rl = [e for e, x in tr.of(RBeat) if x.last]
    aws = [e for e, _ in tr.of(AwPresent)]
    bs = [e for e, _ in tr.of(BHs)]
    assert aws == [r + 1 for r in rl]
    assert [e for e, _ in ars[1:]] == [d + 2 for d in bs[:-1]]


def test_round_robin_alternates():
    hw = HwModel()
    tr = Trace(hw)
    lprog(hw, 9, 0x0, 0x4000, 256)
    lprog(hw, 1, 0x800, 0x6000, 256)
    lprog(hw, 8, 0x800, 0x7000, 128)
    for g in (1, 8, 9):
        run_done(hw, g)
    # 9 started first; then round robin from the channel after the last served
    assert [x.id for _, x in tr.of(ArPresent)] == [9, 1, 8, 9, 1, 8, 9, 1, 9, 1]
    assert hw.errors == []


@pytest.mark.parametrize("bad", ["en", "size0", "size7", "sar", "dar", "lle"])
def test_start_refused(bad):
    hw = HwModel()
    tr = Trace(hw)
    src, dst, size, en = 0x100, 0x900, 64, 1
    if bad == "en":
        en = 0
    elif bad == "size0":
        size = 0
    elif bad == "size7":
        size = 60
    elif bad == "sar":
        src = 0x104
    elif bad == "dar":
        dst = 0x902
    if bad == "lle":  # linked-list mode with an unaligned LLP (SPEC 3)
        lw(hw, lwin(0, regs.CONTROL1), 1)
        lw(hw, lwin(0, regs.LLP_LO), 4)
    lprog(hw, 0, src, dst, size, en=en, setup=SETUP_ALL)
    assert hw.ch_stat(0) == ABORTED and hw.int_stat(0) == ABORT_B and hw.irq_loc()
    hw.step(10)
    assert tr.of(ArPresent) == [] and hw.mem[0x900:0x940].sum() == 0
    # INT_CLEAR clears, a legal START afterwards works
    lw(hw, lwin(0, regs.INT_CLEAR), ABORT_B)
    assert hw.int_stat(0) == 0 and not hw.irq_loc()


def test_sar_hi_alignment_irrelevant_and_64bit_addresses():
    hw = HwModel()
    lprog(hw, 0, (1 << 40) | 0x100, 0x900, 64)
    run_done(hw, 0)  # outside the image: the ideal memory answers DECERR
    assert hw.ch_stat(0) == ABORTED and hw.errors == []


@pytest.mark.parametrize("db", [2, 3])
def test_stop_with_burst_in_flight(db):
    hw = HwModel(mem_latency=4)
    random_mem(hw)
    lprog(hw, 0, 0x0, 0x2000, 1024, setup=SETUP_ALL)
    hw.step(3)
    assert hw.inflight(0)
    lw(hw, lwin(0, regs.DOORBELL), db)  # STOP, or STOP|START (STOP wins)
    assert hw.ch_stat(0) == RUN
    run_done(hw, 0)
    assert hw.ch_stat(0) == ABORTED and hw.int_stat(0) == ABORT_B and hw.errors == []
    hw.step(10)
    assert hw.ch_stat(0) == ABORTED


def test_start_while_running_acts_as_stop():
    hw = HwModel()
    hw.stall = lambda kind, e: kind == "r" and e < 40
    lprog(hw, 0, 0x0, 0x2000, 1024)
    lprog(hw, 1, 0x0, 0x3000, 1024)  # waits for the mover: not in flight
    assert hw.inflight(0) and not hw.inflight(1)
    lw(hw, lwin(1, regs.DOORBELL), 1)
    assert hw.ch_stat(1) == ABORTED and hw.int_stat(1) == ABORT_B
    lw(hw, lwin(0, regs.DOORBELL), 1)
    assert hw.ch_stat(0) == RUN
    run_done(hw, 0)
    assert hw.ch_stat(0) == ABORTED and hw.errors == []


def test_stop_when_not_running_is_noop():
    hw = HwModel()
    lw(hw, lwin(0, regs.DOORBELL), 2)
    assert hw.ch_stat(0) == IDLE and hw.int_stat(0) == 0


@pytest.mark.parametrize("kind", ["r", "b"])
@pytest.mark.parametrize("resp", [Resp.SLVERR, Resp.DECERR])
def test_axi_error_aborts(kind, resp):
    hw = HwModel()
    hw.fault = lambda k, addr: resp if k == kind and addr >= 0x100 else None
    lprog(hw, 0, 0x100, 0x200, 256)
    run_done(hw, 0)
    assert hw.ch_stat(0) == ABORTED and hw.int_stat(0) == ABORT_B and hw.errors == []


def _one_burst(doorbell_at: int | None = None, db: int = 2, clear_at: int | None = None):
    """A single 8-beat burst with latency 1 and no stalls: START at s, AR at s+2,
    R at s+3..s+10 (r = s+10), AW/W from s+11, B at d = s+19. Optionally a local
    DOORBELL or INT_CLEAR write at s+k."""
    hw = HwModel()
    random_mem(hw)
    hw.mem[0x2000:0x2040] = 0
    tr = Trace(hw)
    lprog(hw, 0, 0x0, 0x2000, 64, start=False, setup=SETUP_ALL)
    s = hw.cycle + 1
    lw(hw, lwin(0, regs.DOORBELL), 1)
    for k in range(1, 25):
        if doorbell_at == k:
            lw(hw, lwin(0, regs.DOORBELL), db)
        elif clear_at == k:
            lw(hw, lwin(0, regs.INT_CLEAR), STOP_B | ABORT_B)
        else:
            hw.step()
    assert [e - s for e, _ in tr.of(BHs)] in ([19], [])
    assert hw.errors == []
    return hw


def test_completion_wins_over_stop_at_same_edge():
    assert _one_burst().ch_stat(0) == STOPPED
    hw = _one_burst(doorbell_at=19)  # STOP at the B edge: completion wins
    assert hw.ch_stat(0) == STOPPED and hw.int_stat(0) == STOP_B
    hw = _one_burst(doorbell_at=15)  # STOP during the write: written, completes
    assert hw.ch_stat(0) == STOPPED
    # STOP at the last R beat: the fetched burst is still written (SPEC 2.1 "outstanding
    # ones complete"; only a quiesce or the fence drops it, docs/microarch.md Decision 21)
    # and, being the copy's last, completes it
    for k in (3, 10):
        hw = _one_burst(doorbell_at=k)
        assert hw.ch_stat(0) == STOPPED and hw.int_stat(0) == STOP_B, k
        assert (hw.mem[0x2000:0x2040] == hw.mem[0:0x40]).all(), k
    hw = _one_burst(doorbell_at=10, db=1)  # START while RUNNING = STOP
    assert hw.ch_stat(0) == STOPPED
    hw = _one_burst(doorbell_at=1)  # STOP at the pick edge: no burst, nothing written
    assert hw.ch_stat(0) == ABORTED and hw.int_stat(0) == ABORT_B
    assert hw.mem[0x2000:0x2040].sum() == 0


def test_stop_writes_the_fetched_burst_then_aborts():
    """STOP during a copy's first burst: that burst is written whole (never dropped,
    never partial), no further burst, ABORTED (docs/microarch.md Decision 21)."""
    hw = HwModel()
    random_mem(hw)
    hw.mem[0x2000:0x2080] = 0
    tr = Trace(hw)
    lprog(hw, 0, 0x0, 0x2000, 128, start=False, setup=SETUP_ALL)
    lw(hw, lwin(0, regs.DOORBELL), 1)
    hw.step(5)                                    # mid-read of the first 8-beat burst
    lw(hw, lwin(0, regs.DOORBELL), 2)
    hw.step(40)
    assert hw.errors == []
    assert hw.ch_stat(0) == ABORTED and hw.int_stat(0) == ABORT_B
    assert len(tr.of(ArPresent)) == 1 and len(tr.of(AwPresent)) == 1
    assert (hw.mem[0x2000:0x2040] == hw.mem[0:0x40]).all()
    assert hw.mem[0x2040:0x2080].sum() == 0


def test_int_stat_set_wins_over_same_edge_clear():
    hw = _one_burst(clear_at=19)
    assert hw.ch_stat(0) == STOPPED and hw.int_stat(0) == STOP_B and hw.irq_loc()
    lw(hw, lwin(0, regs.INT_CLEAR), STOP_B)
    assert hw.int_stat(0) == 0 and not hw.irq_loc()


def test_qdone_set_wins_over_w1c_at_same_edge():
    hw = HwModel()
    delegate(hw, 0, 0)
    command(hw, 0, RECLAIM, q=True)  # completion at t0+1 ...
    assert hw.own_state(0) == QUIES
    lw(hw, own(0, regs.OWN_STAT), regs.OWN_STAT_QDONE_MASK)  # ... same edge as this W1C
    assert hw.own_stat(0) & regs.OWN_STAT_QDONE_MASK
    lw(hw, own(0, regs.OWN_STAT), regs.OWN_STAT_QDONE_MASK, strb=0b1011)  # byte 2 off
    assert hw.own_stat(0) & regs.OWN_STAT_QDONE_MASK
    lw(hw, own(0, regs.OWN_STAT), regs.OWN_STAT_QDONE_MASK)
    assert not hw.own_stat(0) & regs.OWN_STAT_QDONE_MASK


# ----------------------------------------------------------------- interrupts
def test_interrupt_routing_follows_ownership():
    hw = HwModel()
    random_mem(hw)
    # local channel: irq_loc with local enables only
    lprog(hw, 0, 0x0, 0x2000, 64, setup=regs.INT_SETUP_RSTOP_EN_MASK)
    run_done(hw, 0)
    assert not hw.irq_loc() and hw.irq_host() == 0
    lw(hw, lwin(0, regs.INT_SETUP), regs.INT_SETUP_LSTOP_EN_MASK | regs.INT_SETUP_SMASK_MASK)
    assert not hw.irq_loc()
    lw(hw, lwin(0, regs.INT_SETUP), regs.INT_SETUP_LSTOP_EN_MASK)
    assert hw.irq_loc()
    lw(hw, lwin(0, regs.INT_CLEAR), STOP_B)
    assert not hw.irq_loc()
    # delegated channel: only irq_host[FUNC], never irq_loc, every edge
    delegate(hw, 9, 1)
    hprog(hw, 1, 9, 0x100, 0x3000, 256, setup=SETUP_ALL)
    seen = []
    while hw.ch_stat(9) == RUN:
        hw.step()
        assert not hw.irq_loc()
        seen.append(hw.irq_host())
    assert hw.irq_host() == 0b10 and not hw.irq_loc()
    # abort with remote abort enable
    hw_(hw, hwin(1, 9, regs.INT_CLEAR), STOP_B)
    assert hw.irq_host() == 0
    hw_(hw, hwin(1, 9, regs.CH_EN), 0)
    hw_(hw, hwin(1, 9, regs.DOORBELL), 1)
    assert hw.int_stat(9) == ABORT_B and hw.irq_host() == 0b10 and not hw.irq_loc()
    # quiescing: neither line from channel interrupts; QDONE to irq_loc if enabled
    lw(hw, regs.OWN_IRQ_EN, 0xFFFFFFFF)
    assert hw.own_irq_en == 0xFFFF
    command(hw, 9, RECLAIM, q=True)
    assert hw.own_state(9) == QUIES and hw.irq_host() == 0 and not hw.irq_loc()
    hw.step()
    assert hw.own_state(9) == LOCAL and hw.irq_loc()  # QDONE
    lw(hw, regs.OWN_IRQ_EN, 0)
    assert not hw.irq_loc()  # window scrubbed: no channel interrupt left


def test_delegated_channel_local_enables_ignored():
    hw = HwModel()
    delegate(hw, 0, 0)
    hprog(hw, 0, 0, 0x0, 0x1000, 64,
          setup=regs.INT_SETUP_LSTOP_EN_MASK | regs.INT_SETUP_LABORT_EN_MASK)
    run_done(hw, 0)
    assert hw.int_stat(0) == STOP_B and not hw.irq_loc() and hw.irq_host() == 0
    command(hw, 0, RECLAIM)  # LOCAL with the same INT_STAT, but exposed: fenced, silent
    assert hw.own_stat(0) & regs.OWN_STAT_UNSAFE_MASK and not hw.irq_loc()
    lw(hw, own(0, regs.OWN_STAT), regs.OWN_STAT_UNSAFE_MASK)  # unfenced: the local line
    assert hw.irq_loc()


# ----------------------------------------------------------------- isolation
def test_operations_on_one_channel_leave_others_alone():
    hw = HwModel(HwParams(3, 3, 3, 8))
    gs = hw.params.channels
    for i, g in enumerate(gs):
        lw(hw, lwin(g, regs.LLP_LO), 0x100 + i)
        lw(hw, lwin(g, regs.INT_SETUP), 0x18)
    delegate(hw, 9, 0)
    delegate(hw, 2, 2)
    others = [g for g in gs if g != 1]
    before = snapshot(hw, others)
    delegate(hw, 1, 1)
    hprog(hw, 1, 1, 0x0, 0x8000, 512)
    hw_(hw, hwin(1, 1, regs.FUNC_NUM), 0)  # refused
    command(hw, 1, RECLAIM, q=True)
    hw.step_until(lambda h: h.own_state(1) == LOCAL)
    command(hw, 1, RECLAIM)  # CMD_ERR
    assert snapshot(hw, others) == before and hw.errors == []


# ----------------------------------------------------------------- checker: illegal DMA
def _manual(hw: HwModel, g: int = 0, src: int = 0x100, dst: int = 0x2000, size: int = 64,
            func: int = 0) -> int:
    """Program and START g by edge() calls; returns the START edge s."""
    e = hw.cycle
    for off, v in ((regs.SAR_LO, src), (regs.DAR_LO, dst), (regs.XFER_SIZE, size),
                   (regs.FUNC_NUM, func), (regs.CH_EN, 1), (regs.DOORBELL, 1)):
        e += 1
        hw.edge(e, loc=W(lwin(g, off), v))
    return e


def _beat(hw: HwModel, addr: int) -> int:
    return read_u64(hw.mem, addr)


def _feed(hw: HwModel, e: int, g: int, src: int, dst: int, n: int, user: int = 0, *,
          wdata=None, aw_addr=None) -> int:
    """Feed one complete burst starting with ArPresent at e; returns the B edge."""
    hw.edge(e, dma=[ArPresent(g, src, n - 1, user), ArHs(g)])
    data = [_beat(hw, src + 8 * i) for i in range(n)]
    for i in range(n):
        hw.edge(e + 1 + i, dma=[RBeat(g, data[i], 0, i == n - 1)])
    r = e + n
    wd = data if wdata is None else wdata
    hw.edge(r + 1, dma=[AwPresent(g, dst if aw_addr is None else aw_addr, n - 1, user),
                        AwHs(g), WBeat(wd[0], 0xFF, n == 1)])
    for i in range(1, n):
        hw.edge(r + 1 + i, dma=[WBeat(wd[i], 0xFF, i == n - 1)])
    hw.edge(r + n + 1, dma=[BHs(g, 0)])
    return r + n + 1


def _whats(hw: HwModel) -> str:
    return " | ".join(str(v) for v in hw.errors)


def test_checker_accepts_legal_hand_fed_burst():
    hw = HwModel()
    random_mem(hw)
    s = _manual(hw, func=3)
    d = _feed(hw, s + 2, 0, 0x100, 0x2000, 8, 3)
    assert hw.errors == [] and hw.ch_stat(0) == STOPPED
    assert bytes(hw.mem[0x2000:0x2040]) == bytes(hw.mem[0x100:0x140])
    assert hw.last_resp(0) == d


def test_checker_missing_ar():
    hw = HwModel()
    s = _manual(hw)
    hw.edge(s + 5)
    assert len(hw.errors) == 1 and "no AR presented" in hw.errors[0].what
    assert hw.errors[0].cycle == s + 2 and hw.errors[0].channel == 0


def test_checker_wrong_user_addr_len():
    hw = HwModel()
    s = _manual(hw, func=2)
    hw.edge(s + 2, dma=[ArPresent(0, 0x108, 3, 1)])
    w = _whats(hw)
    assert "ARUSER" in w and "ARADDR" in w and "ARLEN" in w


def test_checker_ar_for_channel_not_running_or_blocked():
    hw = HwModel()
    hw.edge(1, dma=[ArPresent(1, 0, 0, 0)])
    assert "not allowed to pick" in _whats(hw) and "not RUNNING" in _whats(hw)
    hw = HwModel()
    hw.edge(1, dma=[ArPresent(5, 0, 0, 0)])
    assert "not instantiated" in _whats(hw)


def test_checker_ar_after_reclaim_t0():
    hw = HwModel()
    e = 1
    hw.edge(e, loc=W(own(0, regs.OWN_CMD), cmd_val(DELEGATE, func=1)))
    for off, v in ((regs.SAR_LO, 0x100), (regs.DAR_LO, 0x2000), (regs.XFER_SIZE, 64),
                   (regs.CH_EN, 1), (regs.DOORBELL, 1)):
        e += 1
        hw.edge(e, host=W(hwin(1, 0, off), v))
    s = e  # RUNNING from S(s+1); the pick would be at s+1
    t0 = s + 1
    hw.edge(t0, loc=W(own(0, regs.OWN_CMD), cmd_val(RECLAIM, q=True)))
    hw.edge(t0 + 1, dma=[ArPresent(0, 0x100, 7, 1)])
    assert len(hw.errors) >= 1
    v = hw.errors[0]
    assert v.cycle == t0 + 1 and v.port == "ar" and "blocked" in v.what
    assert "\n" not in str(v) and f"edge {t0 + 1}" in str(v)


def test_checker_ar_at_t0_is_outstanding_and_legal():
    """AR presented at t0 (picked at t0-1) completes; its write is dropped."""
    hw = HwModel()
    random_mem(hw)
    e = 1
    hw.edge(e, loc=W(own(0, regs.OWN_CMD), cmd_val(DELEGATE, func=1)))
    for off, v in ((regs.SAR_LO, 0x100), (regs.DAR_LO, 0x2000), (regs.XFER_SIZE, 64),
                   (regs.CH_EN, 1), (regs.DOORBELL, 1)):
        e += 1
        hw.edge(e, host=W(hwin(1, 0, off), v))
    t0 = e + 2
    hw.edge(t0, loc=W(own(0, regs.OWN_CMD), cmd_val(RECLAIM, q=True)),
            dma=[ArPresent(0, 0x100, 7, 1), ArHs(0)])
    for i in range(8):
        hw.edge(t0 + 1 + i, dma=[RBeat(0, _beat(hw, 0x100 + 8 * i), 0, i == 7)])
    r = t0 + 8  # last R beat: blocked (quiescing), the write is dropped
    assert hw.errors == [] and hw.own_state(0) == QUIES
    assert hw.ch_stat(0) == ABORTED  # S(r+1)
    hw.edge(r + 1)  # quiesce completion edge
    assert hw.own_state(0) == LOCAL and hw.q_cycles(0) == r + 2 - t0
    assert hw.q_cycles(0) <= max_q_cycles(t0, r) and hw.errors == []
    hw2 = HwModel()  # and an AW after the dropped read is illegal
    hw2.edge(1, dma=[AwPresent(0, 0x2000, 7, 0)])
    assert "no preceding successful read" in _whats(hw2)


def test_checker_write_outside_range_and_bad_w_data():
    hw = HwModel()
    random_mem(hw)
    s = _manual(hw)
    _feed(hw, s + 2, 0, 0x100, 0x2000, 8, aw_addr=0x3000,
          wdata=[1, 2, 3, 4, 5, 6, 7, 8])
    w = _whats(hw)
    assert "write outside [DAR, DAR+XFER_SIZE)" in w and "AWADDR" in w
    assert "differs from the data read" in w


def test_checker_r_data_mismatch_and_extra_beats():
    hw = HwModel()
    random_mem(hw)
    s = _manual(hw, size=16)
    hw.edge(s + 2, dma=[ArPresent(0, 0x100, 1, 0), ArHs(0)])
    hw.edge(s + 3, dma=[RBeat(0, _beat(hw, 0x100) ^ 1, 0, False)])
    assert "R data at 0x100 differs" in _whats(hw)
    hw.edge(s + 4, dma=[RBeat(0, _beat(hw, 0x108), 0, True)])
    hw.edge(s + 5, dma=[RBeat(0, 0, 0, True)])
    assert "no read burst awaiting" in _whats(hw) or "more R beats" in _whats(hw)


def test_checker_second_ar_and_bad_b():
    hw = HwModel()
    s = _manual(hw)
    hw.edge(s + 2, dma=[ArPresent(0, 0x100, 7, 0)])
    hw.edge(s + 3, dma=[ArPresent(0, 0x100, 7, 0), BHs(0, 0)])
    w = _whats(hw)
    assert "while a burst is in flight" in w and "B with no write burst" in w


def test_checker_missing_aw():
    hw = HwModel()
    random_mem(hw)
    s = _manual(hw, size=8)
    hw.edge(s + 2, dma=[ArPresent(0, 0x100, 0, 0), ArHs(0)])
    hw.edge(s + 3, dma=[RBeat(0, _beat(hw, 0x100), 0, True)])
    hw.edge(s + 6)
    assert "AW not presented" in _whats(hw)


def test_violation_str_is_one_line():
    v = Violation(12, 3, "aw", "AWADDR", "0x10", "0x20")
    assert str(v) == "edge 12 ch 3 aw: AWADDR (expected 0x10, actual 0x20)"


def test_mixing_direct_edge_and_self_driving_is_refused():
    hw = HwModel()
    lprog(hw, 0, 0x0, 0x1000, 512)
    hw.step(2)
    hw.edge(hw.cycle + 1)
    with pytest.raises(RuntimeError, match="self-driving"):
        hw.step()


# ----------------------------------------------------------------- helpers / timing
def test_burst_beats_rule():
    assert burst_beats(8, 0, 0, 1024) == 8
    assert burst_beats(8, 0xFF8, 0, 1024) == 1
    assert burst_beats(16, 0, 0xFE0, 1024) == 4
    assert burst_beats(8, 0, 0, 24) == 3


def test_timing_bounds():
    assert Q_IDLE_MAX == 4
    assert quiesce_bound(10) == 14 and quiesce_bound(10, 30) == 34 and quiesce_bound(10, 5) == 14
    assert max_q_cycles(10, 30) == 24
    assert q_cycles_ok(10, 2) and q_cycles_ok(10, 4) and not q_cycles_ok(10, 5)
    assert not q_cycles_ok(10, 0) and q_cycles_ok(10, 23, 29)
    with pytest.raises(TypeError):
        quiesce_bound(1.0)
    with pytest.raises(ValueError):
        quiesce_bound(-1)


def test_events_log_and_fast_idle_skip():
    hw = HwModel()
    delegate(hw, 0, 1)
    hw.edge(10_000_000)  # idle: fast-forwarded, not iterated
    assert hw.cycle == 10_000_000 and hw.events == [OwnEvent(1, 0, "delegate")]
    write_bytes(hw.mem, 0, b"\x01" * 8)
    assert read_u64(hw.mem, 0) == 0x0101010101010101


def test_request_violations_name_the_request_as_text():
    """A violation about an AR or AW names the request as ``id= addr= len= user=``, a
    string, however the checker keeps it until a violation is recorded."""
    hw = HwModel()
    hw.edge(1, dma=[ArPresent(id=0, addr=0x1000, len=3, user=1, size=3)])
    v = hw.errors[0]
    assert "not allowed to pick" in v.what and v.port == "ar"
    assert v.actual == "id=0 addr=0x1000 len=3 user=1" and type(v.actual) is str
    hw = HwModel()
    hw.edge(1, dma=[AwPresent(id=8, addr=0x2000, len=1, user=0, size=3)])   # no burst: an MSI
    hw.edge(2, dma=[ArPresent(id=0, addr=0x1000, len=3, user=1, size=3)])
    assert any(v.actual == "id=0 addr=0x1000 len=3 user=1" for v in hw.errors
               if "while a burst is in flight" in v.what), hw.errors


def test_beat_helpers_are_little_endian_byte_lanes() -> None:
    """model/mem.py's beat conversions (struct on the image's buffer) against the bytes
    themselves: read_u64 / read_beats little-endian, write_u64 only the lanes WSTRB
    enables, write_beats whole beats; neighbours untouched."""
    import random

    from model.mem import read_beats, write_beats, write_u64

    rng = random.Random(5)
    mem = np.frombuffer(bytes(rng.getrandbits(8) for _ in range(256)), dtype=np.uint8).copy()
    for _ in range(200):
        addr = 8 * rng.randrange(1, 28)
        n = rng.randint(1, 3)
        want = [int.from_bytes(mem[addr + 8 * k:addr + 8 * k + 8].tobytes(), "little")
                for k in range(n)]
        assert read_beats(mem, addr, n) == want and read_u64(mem, addr) == want[0]
        before = mem.copy()
        data, strb = rng.getrandbits(64), rng.randrange(256)
        write_u64(mem, addr, data, strb)
        exp = before.copy()
        for i in range(8):
            if strb >> i & 1:
                exp[addr + i] = data >> (8 * i) & 0xFF
        assert np.array_equal(mem, exp), (addr, strb)
        words = [rng.getrandbits(64) for _ in range(n)]
        write_beats(mem, addr, words)
        exp[addr:addr + 8 * n] = np.frombuffer(
            b"".join(w.to_bytes(8, "little") for w in words), dtype=np.uint8)
        assert np.array_equal(mem, exp)
