"""Negative tests: planted RTL bugs make the scoreboard and the HDL properties fail.

Runs only on the BUG_SETS builds of tb/runner.py, each compiling hdl/ with one
`DD_BUG_*` define (DD_BUG names it). The test drives the scenario that exposes
that bug and passes only if it is reported: by the named HDL property of
hdl/dd_props.v (EXPECTED_PROP) and, for the bugs the scoreboard was built for, by
the scoreboard message in EXPECTED. On a correct build it fails, because then there
is nothing to catch.
"""

from __future__ import annotations

import os

import cocotb

from model import regs
from model.epc import AuxDmaDir, apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from tb.agents import INT_SETUP_HOST, INT_SETUP_LOCAL, HostAgent
from tb.env import TB, host_win, loc_win
from tb.rtl_backend import rtl_epc

PARAM_SETS = ("bug_leak", "bug_extra_burst", "bug_slow_quiesce", "bug_no_fence",
              "bug_no_spoof_check", "bug_refused_write", "bug_read_leak", "bug_irq_host_route",
              "bug_user_funcnum", "bug_no_scrub", "bug_irq_loc_deleg")


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


async def spoof_scenario(tb: TB) -> None:
    """The owner (function 0) tries to make its traffic carry function 1."""
    epc, _ = rtl_epc(tb)
    await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    await tb.host.write(host_win(0, 0, regs.FUNC_NUM), 1)


async def read_leak_scenario(tb: TB) -> None:
    """The endpoint programs a LOCAL channel; the host reads its window (refused)."""
    await tb.loc.write(loc_win(0, regs.SAR_LO), 0x1000)
    await tb.host.read(host_win(0, 0, regs.SAR_LO))


async def _host_copy(tb: TB, func: int, int_setup: int | None = None) -> None:
    """Delegate channel 0 to `func`, which runs one short copy with interrupts enabled."""
    tb.fill_memory(0, 0x2000)
    epc, _ = rtl_epc(tb)
    await apci_epc_delegate_dma_chan(epc, func, 0, AuxDmaDir.EP_TO_RC, 0)
    host = HostAgent(tb, func)
    if int_setup is not None:
        host.int_setup = int_setup
    await host.copy(0, 0x0, 0x1000, 0x100, timeout_cycles=5_000)


async def irq_host_scenario(tb: TB) -> None:
    """Function 0's channel completes: only irq_host[0] may rise."""
    await _host_copy(tb, 0)


async def user_scenario(tb: TB) -> None:
    """Function 1's transfer: its bursts must carry function 1."""
    await _host_copy(tb, 1)


async def irq_loc_scenario(tb: TB) -> None:
    """The host enables the local interrupt bits too: a delegated channel must still
    never drive irq_loc."""
    await _host_copy(tb, 0, INT_SETUP_HOST | INT_SETUP_LOCAL)


async def scrub_scenario(tb: TB) -> None:
    """An endpoint-private address in the window, then DELEGATE: it must be scrubbed."""
    await tb.loc.write(loc_win(0, regs.SAR_LO), 0x1000)
    epc, _ = rtl_epc(tb)
    await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    await tb.host.read(host_win(0, 0, regs.SAR_LO))


#: What the scoreboard report must say for each bug (tb/timing.py writes the quiesce
#: messages); bugs not listed only need some mismatch besides their property.
EXPECTED = {
    "DD_BUG_LEAK_HOST_WRITE": "response for write",
    "DD_BUG_EXTRA_BURST": "AR/AW after t0",
    "DD_BUG_SLOW_QUIESCE": "bound",
    "DD_BUG_NO_FENCE": "AR for a channel not allowed to pick",
}

#: The hdl/dd_props.v property each bug must fire.
EXPECTED_PROP = {
    "DD_BUG_SLOW_QUIESCE": "q_bound",
    "DD_BUG_LEAK_HOST_WRITE": "host_okay",
    "DD_BUG_EXTRA_BURST": "req_after_t0",
    "DD_BUG_NO_FENCE": "req_after_t0",
    "DD_BUG_NO_SPOOF_CHECK": "host_okay",
    "DD_BUG_REFUSED_WRITE": "refused_write",
    "DD_BUG_READ_LEAK": "host_read_zero",
    "DD_BUG_IRQ_HOST_ROUTE": "irq_host_source",
    "DD_BUG_USER_FUNCNUM": "axi_user",
    "DD_BUG_NO_SCRUB": "scrub",
    "DD_BUG_IRQ_LOC_DELEG": "irq_loc_source",
}

SCENARIOS = {
    "DD_BUG_LEAK_HOST_WRITE": leak_scenario,
    "DD_BUG_EXTRA_BURST": quiesce_scenario,
    "DD_BUG_SLOW_QUIESCE": quiesce_scenario,
    "DD_BUG_NO_FENCE": fence_scenario,
    "DD_BUG_NO_SPOOF_CHECK": spoof_scenario,
    "DD_BUG_REFUSED_WRITE": leak_scenario,
    "DD_BUG_READ_LEAK": read_leak_scenario,
    "DD_BUG_IRQ_HOST_ROUTE": irq_host_scenario,
    "DD_BUG_USER_FUNCNUM": user_scenario,
    "DD_BUG_NO_SCRUB": scrub_scenario,
    "DD_BUG_IRQ_LOC_DELEG": irq_loc_scenario,
}


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def test_planted_rtl_bug_is_caught(dut):
    """The scoreboard and the property named in EXPECTED_PROP must report the planted bug."""
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
    prop = EXPECTED_PROP.get(bug)
    if prop is not None:
        fired = tb.checkers.props()
        assert prop in fired, (f"{bug}: property {prop!r} did not fire (fired: {sorted(fired)}):\n"
                               f"{tb.sb.report()}")
    lost = tb.checkers.check()  # every violation the HDL counted was reported
    assert not lost, f"{bug}: {lost}"
    tb.log.info("%s caught as expected:\n%s", bug, tb.sb.report())
