"""Negative tests: planted RTL bugs make the scoreboard fail.

Runs only on the BUG_SETS builds of tb/runner.py, each compiling hdl/ with one
`DD_BUG_*` define (DD_BUG names it). The test drives the scenario that exposes
that bug and passes only if the scoreboard reports it; on a correct build it
fails, because then there is nothing to catch.
"""

from __future__ import annotations

import os

import cocotb

from model import regs
from model.epc import AuxDmaDir, apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from tb.agents import HostAgent
from tb.env import TB, host_win
from tb.rtl_backend import rtl_epc
from tb.tl import new_tb

PARAM_SETS = ("bug_leak", "bug_extra_burst", "bug_slow_quiesce", "bug_no_fence")
LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)


async def leak_scenario(tb: TB) -> None:
    """A host write to a channel nobody delegated must be refused."""
    await tb.host.write(host_win(0, 0, regs.SAR_LO), 0x1000)
    await tb.host.read(host_win(0, 0, regs.SAR_LO))


async def quiesce_scenario(tb: TB) -> None:
    """Reclaim with quiesce while the host's transfer is mid-way, memory slow."""
    tb.fill_memory(0, 0x40000)
    epc, _ = rtl_epc(tb, timeout=50_000)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    host = HostAgent(tb, 0)
    tb.set_backpressure(0.5)
    await host.program(0, 0x0, 0x20000, 0x4000)
    await host.start(0)
    await tb.cycles(300)
    await apci_epc_reclaim_dma_chan(chan, True)
    tb.set_backpressure(0.0)
    await tb.cycles(200)


async def fence_scenario(tb: TB) -> None:
    """Plain reclaim (declared UNSAFE) of a running channel: it must be fenced."""
    tb.fill_memory(0, 0x40000)
    epc, _ = rtl_epc(tb, timeout=50_000)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    host = HostAgent(tb, 0)
    await host.program(0, 0x0, 0x20000, 0x4000)
    await host.start(0)
    await tb.cycles(100)
    tb.sb.expect_unsafe(0)
    await apci_epc_reclaim_dma_chan(chan, False)
    await tb.cycles(300)


#: What the report must say for each bug (tb/timing.py writes the quiesce messages).
EXPECTED = {
    "DD_BUG_EXTRA_BURST": "AR/AW after t0",
    "DD_BUG_SLOW_QUIESCE": "bound",
    "DD_BUG_NO_FENCE": "AR for a channel not allowed to pick",
}

SCENARIOS = {
    "DD_BUG_LEAK_HOST_WRITE": leak_scenario,
    "DD_BUG_EXTRA_BURST": quiesce_scenario,
    "DD_BUG_SLOW_QUIESCE": quiesce_scenario,
    "DD_BUG_NO_FENCE": fence_scenario,
}


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def test_planted_rtl_bug_is_caught(dut):
    """The scoreboard must report the bug planted in this build."""
    bug = os.environ.get("DD_BUG", "")
    assert bug in SCENARIOS, (f"DD_BUG={bug!r}: run on a planted-bug build, e.g. "
                              "make sim TEST=test_planted_rtl PARAMS=bug_leak")
    tb = new_tb(dut)
    await tb.reset()
    try:
        await SCENARIOS[bug](tb)
    except Exception as exc:  # a bug may also break the scenario itself (e.g. a timeout)
        tb.log.info("scenario raised %r", exc)
    await tb.cycles(8)
    assert tb.sb.mismatches, f"{bug} went unnoticed: the scoreboard cannot fail"
    want = EXPECTED.get(bug)
    if want is not None:
        assert any(want in str(mm) for mm in tb.sb.mismatches), (
            f"{bug} caught, but no mismatch says {want!r}:\n{tb.sb.report()}")
    tb.log.info("%s caught as expected:\n%s", bug, tb.sb.report())
