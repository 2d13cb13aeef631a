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
from tb.test_directed import together

PARAM_SETS = ("bug_leak", "bug_extra_burst", "bug_slow_quiesce", "bug_lite_tie")


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


async def rw_tie_scenario(tb: TB) -> None:
    """Two host functions present a write and a read on the same edge."""
    await together(tb.host.write(host_win(0, 0, regs.SAR_LO), 0x1000),
                   tb.host.read(host_win(1 % tb.params.num_func, 0, regs.SAR_LO)))


#: What the report must say for each bug (tb/timing.py writes the quiesce messages).
EXPECTED = {
    "DD_BUG_EXTRA_BURST": "AR/AW after t0",
    "DD_BUG_SLOW_QUIESCE": "bound",
    "DD_BUG_LITE_RW_TIE": "one transaction at a time",
}

SCENARIOS = {
    "DD_BUG_LEAK_HOST_WRITE": leak_scenario,
    "DD_BUG_EXTRA_BURST": quiesce_scenario,
    "DD_BUG_SLOW_QUIESCE": quiesce_scenario,
    "DD_BUG_LITE_RW_TIE": rw_tie_scenario,
}


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def test_planted_rtl_bug_is_caught(dut):
    """The scoreboard must report the bug planted in this build."""
    bug = os.environ.get("DD_BUG", "")
    assert bug in SCENARIOS, (f"DD_BUG={bug!r}: run on a planted-bug build, e.g. "
                              "make sim TEST=test_planted_rtl PARAMS=bug_leak")
    tb = TB(dut)
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
