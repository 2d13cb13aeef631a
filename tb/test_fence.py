"""SPEC v2 2.3: a plain RECLAIM of an exposed or running channel fences it.

Until the endpoint clears UNSAFE the channel presents no new AR/AW (a running transfer
ends as on STOP, ABORTED), every burst it still completes carries the previous owner's
function, it drives no interrupt line, START is refused, and (microarch decision 9) it
is not delegated again. The scoreboard judges every access and burst against the model;
the asserts below pin that each case was really reached. The backend leaves a fenced
channel unusable (EBUSY) until ``unfence`` scrubs it and clears UNSAFE.
"""

from __future__ import annotations

import errno

import cocotb

from model import regs
from model.epc import apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from model.hw import ArPresent, AwPresent
from tb.agents import HostAgent, LocalDma
from tb.env import TB, own_reg
from tb.faults import OKAY, SLVERR
from tb.rtl_backend import rtl_epc
from tb.test_directed import (
    TIMEOUT,
    channels,
    expect_delegate_errno,
    own_stat,
    setup,
    split,
    state_of,
    together,
)

LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)

ALL_SETUP = (regs.INT_SETUP_RSTOP_EN_MASK | regs.INT_SETUP_LSTOP_EN_MASK
             | regs.INT_SETUP_RABORT_EN_MASK | regs.INT_SETUP_LABORT_EN_MASK)


class Requests:
    """AR/AW presentations per channel as the scoreboard saw them: (edge, user)."""

    def __init__(self, tb: TB) -> None:
        self.seen: list[tuple[int, int, int]] = []  # (edge, id, user)
        tb.sb.observers.append(self)

    def __call__(self, s, res, m) -> None:
        for x in s.dma:
            if isinstance(x, (ArPresent, AwPresent)):
                self.seen.append((s.edge, x.id, x.user))

    def of(self, g: int, after: int = -1) -> list[tuple[int, int]]:
        return [(e, u) for e, i, u in self.seen if i == g and e > after]


async def irq_loc_watch(tb: TB, cycles: int) -> int:
    """Edges in the next ``cycles`` at which irq_loc was high (sampled at the falling
    edges, tb.tick on either lane)."""
    high = 0
    for _ in range(cycles):
        await tb.tick()
        high += int(tb.dut.irq_loc.value)
    return high


@cocotb.test(**TIMEOUT)
async def test_fence_running_channel(dut):
    """Plain reclaim mid-transfer: no request after t0, owner's function, ABORTED, silent,
    START and DELEGATE refused, host refused; unfence makes the channel usable again."""
    tb = await setup(dut)
    tb.fill_memory(0, 0x40000)
    epc, be = rtl_epc(tb)
    reqs = Requests(tb)
    g = channels(tb)[-1]
    d, n = split(g)
    f = tb.params.num_func - 1
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    host = HostAgent(tb, f)
    await host.program(g, 0x0, 0x20000, 0x4000)
    assert await host.write(g, regs.INT_SETUP, ALL_SETUP) == OKAY   # local enables too
    tb.hold("r", True)                        # R beats held until set_backpressure(0)
    await host.start(g)
    for _ in range(200):                      # a read burst of g is presented and held
        if reqs.of(g):
            break
        await tb.cycles(1)
    assert reqs.of(g), "the host's transfer never started"
    tb.sb.expect_unsafe(g)
    await apci_epc_reclaim_dma_chan(chan, False)
    t0 = next(ev.edge for ev in tb.model.events if ev.kind == "unsafe" and ev.g == g)
    tb.set_backpressure(0.0)
    assert be.core.reclaims[-1].unsafe and g in be.core.fenced
    st = await own_stat(tb, g)
    assert state_of(st) == regs.OWN_LOCAL and st & regs.OWN_STAT_UNSAFE_MASK, hex(st)
    dma = LocalDma(tb)
    res = await dma.wait_done(g)
    assert res.ch_stat == regs.CH_ABORTED and res.int_stat & regs.INT_STAT_ABORT_MASK, res
    assert await irq_loc_watch(tb, 16) == 0
    after = reqs.of(g, t0)
    assert all(e <= t0 + 1 for e, _ in after), f"requests after t0={t0}: {after}"
    assert {u for _, u in reqs.of(g)} == {f}, reqs.of(g)    # the owner's function only
    # fenced: host refused, local START refused, DELEGATE refused (CMD_ERR / EBUSY)
    assert (await host.read(g, regs.CH_STAT)).resp == SLVERR
    await dma.write(g, regs.INT_SETUP, 0)
    await dma.start(g)
    await tb.cycles(16)
    assert reqs.of(g, t0 + 1) == [], "a fenced channel moved data after START"
    assert (await dma.read(g, regs.CH_STAT)).data == regs.CH_ABORTED
    await expect_delegate_errno(epc, errno.EBUSY, f, 0, d, n)
    await tb.loc.write(own_reg(g, regs.OWN_CMD), regs.CMD_DELEGATE << regs.OWN_CMD_CMD_LSB)
    st = await own_stat(tb, g)
    assert state_of(st) == regs.OWN_LOCAL and st & regs.OWN_STAT_CMD_ERR_MASK, hex(st)
    await tb.loc.write(own_reg(g, regs.OWN_STAT), regs.OWN_STAT_CMD_ERR_MASK)
    # unfence: scrubbed, UNSAFE cleared, usable again
    await be.unfence(d, n)
    assert not (await own_stat(tb, g)) & regs.OWN_STAT_UNSAFE_MASK
    assert (await dma.read(g, regs.SAR_LO)).data == 0
    assert (await dma.copy(g, 0x1000, 0x30000, 0x100)).ch_stat == regs.CH_STOPPED
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_fenced_done_channel_stays_silent(dut):
    """A finished transfer with local enables the host wrote: no irq_loc while fenced."""
    tb = await setup(dut)
    tb.fill_memory(0, 0x10000)
    epc, be = rtl_epc(tb)
    g = channels(tb)[0]
    d, n = split(g)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, d, n)
    host = HostAgent(tb, 0)
    await host.program(g, 0x100, 0x8000, 0x40)
    assert await host.write(g, regs.INT_SETUP, ALL_SETUP) == OKAY
    await host.start(g)
    for _ in range(400):
        if int(tb.dut.irq_host.value):
            break
        await tb.cycles(1)
    assert int(tb.dut.irq_host.value), "the host's copy never signalled done"
    tb.sb.expect_unsafe(g)
    await apci_epc_reclaim_dma_chan(chan, False)
    assert await irq_loc_watch(tb, 32) == 0          # INT_STAT.STOP pending, local enables
    assert (await LocalDma(tb).read(g, regs.INT_STAT)).data & regs.INT_STAT_STOP_MASK
    await be.unfence(d, n)
    assert await irq_loc_watch(tb, 8) == 0           # unfence cleared INT_STAT first
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_undeclared_unsafe_reclaim_is_reported(dut):
    """Negative: an UNSAFE reclaim the test did not declare is a scoreboard mismatch."""
    tb = await setup(dut)
    epc, be = rtl_epc(tb)
    g = channels(tb)[0]
    d, n = split(g)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, d, n)
    assert await HostAgent(tb, 0).write(g, regs.SAR_LO, 0x100) == OKAY
    await apci_epc_reclaim_dma_chan(chan, False)     # exposed, no declaration
    await tb.cycles(4)
    hits = [mm for mm in tb.sb.mismatches if "UNSAFE reclaim" in mm.what]
    assert len(hits) == 1 and hits[0].channel == g, tb.sb.report()
    tb.log.info("undeclared UNSAFE reported as expected: %s", hits[0])


@cocotb.test(**TIMEOUT)
async def test_fence_on_the_pick_edge(dut):
    """A plain RECLAIM executed on the edge the mover would pick the channel (the edge
    after its START): the fencing edge itself blocks the pick, no AR is ever presented.

    Constructed: the RECLAIM is delayed 0..4 edges after the START, launched together on
    the two ports, and the edge distance each run really got is measured; the case of
    one edge must be among them (mutant fence_no_stop of tools/mutants.py)."""
    tb = await setup(dut)
    tb.fill_memory(0, 0x10000)
    reqs = Requests(tb)
    g = channels(tb)[0]
    f = 0
    host, dma = HostAgent(tb, f), LocalDma(tb)
    own_cmd = own_reg(g, regs.OWN_CMD)
    gaps: dict[int, int] = {}
    for delay in range(5):
        v = regs.CMD_DELEGATE << regs.OWN_CMD_CMD_LSB | f << regs.OWN_CMD_FUNC_LSB
        assert await tb.loc.write(own_cmd, v) == OKAY
        await host.program(g, 0x100, 0x8000, 0x40)
        tb.sb.expect_unsafe(g)

        async def reclaim_after(n: int = delay) -> int:
            await tb.cycles(n)
            return await tb.loc.write(own_cmd, regs.CMD_RECLAIM << regs.OWN_CMD_CMD_LSB)

        t_start = len(reqs.seen)
        assert await together(host.start(g), reclaim_after()) == [OKAY, OKAY]
        gap = tb.sb.last_exec["loc"] - tb.sb.last_exec["host"]
        res = await dma.wait_done(g)
        st = await own_stat(tb, g)
        assert state_of(st) == regs.OWN_LOCAL and st & regs.OWN_STAT_UNSAFE_MASK, hex(st)
        after = [e for e, i, _ in reqs.seen[t_start:] if i == g and e > tb.sb.last_exec["loc"] + 1]
        assert not after, f"RECLAIM {gap} edge(s) after START: requests at edges {after}"
        if gap <= 1:   # on the pick edge (or the START's): no AR ever presented
            mine = [e for e, i, _ in reqs.seen[t_start:] if i == g]
            assert not mine, f"RECLAIM {gap} edge(s) after START: requests at edges {mine}"
        gaps[gap] = res.ch_stat
        assert await tb.loc.write(own_reg(g, regs.OWN_STAT), regs.OWN_STAT_UNSAFE_MASK) == OKAY
    tb.log.info("RECLAIM edges after START -> CH_STAT: %s", gaps)
    assert 1 in gaps, f"the pick edge (1 after START) was never hit: {gaps}"
    await tb.finish()
