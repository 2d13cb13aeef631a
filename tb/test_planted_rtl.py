"""Negative tests: planted RTL bugs make the scoreboard fail.

Runs only on the BUG_SETS builds of tb/runner.py, each compiling hdl/ with one
`DD_BUG_*` define (DD_BUG names it). The test drives the scenario that exposes
that bug and passes only if the scoreboard reports it; on a correct build it
fails, because then there is nothing to catch.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import cocotb

from model import regs
from model.epc import AuxDmaDir, apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from tb.agents import INT_SETUP_HOST, INT_SETUP_LOCAL, HostAgent
from tb.env import TB, host_win, loc_win
from tb.rtl_backend import rtl_epc
from tb.runner import SimContext, lane_skips
from tb.scoreboard import Mismatch
from tb.test_directed import together
from tb.tl import new_tb

PARAM_SETS = ("bug_leak", "bug_extra_burst", "bug_slow_quiesce", "bug_no_fence", "bug_lite_tie",
              "bug_no_spoof_check", "bug_refused_write", "bug_read_leak", "bug_irq_host_route",
              "bug_user_funcnum", "bug_no_scrub", "bug_irq_loc_deleg", "bug_msi_after_t0",
              "bug_msi_size")
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


async def rw_tie_scenario(tb: TB) -> None:
    """Two host functions present a write and a read on the same edge."""
    await together(tb.host.write(host_win(0, 0, regs.SAR_LO), 0x1000),
                   tb.host.read(host_win(1 % tb.params.num_func, 0, regs.SAR_LO)))


async def spoof_scenario(tb: TB) -> None:
    """The owner (function 0) tries to make its traffic carry function 1."""
    epc, _ = rtl_epc(tb)
    await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    await tb.host.write(host_win(0, 0, regs.FUNC_NUM), 1)


async def refused_write_scenario(tb: TB) -> None:
    """A refused host write, then the endpoint reads the register back: the model says
    the refusal changed nothing, so a write that went through is a read-data mismatch."""
    await tb.host.write(host_win(0, 0, regs.SAR_LO), 0x1000)
    await tb.loc.read(loc_win(0, regs.SAR_LO))


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


async def msi_after_t0_scenario(tb: TB) -> None:
    """A delegated channel's abort event owes an MSI while the mover is busy with a LOCAL
    channel's read (its R held); the endpoint reclaims it (plain RECLAIM: the host wrote,
    so it is fenced) before the mover is free. The RECLAIM must empty the MSI slot: a
    LOCAL or fenced channel never presents an MSI (SPEC 3)."""
    tb.fill_memory(0, 0x2000)
    epc, _ = rtl_epc(tb, timeout=5_000)
    loc_g = 1  # EP_TO_RC channel 1, LOCAL: a read stuck in flight
    tb.hold("r", True)
    for reg, v in ((regs.XFER_SIZE, 0x40), (regs.DAR_LO, 0x1000), (regs.CH_EN, 1),
                   (regs.DOORBELL, regs.DOORBELL_START_MASK)):
        await tb.loc.write(loc_win(loc_g, reg), v)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    for reg, v in ((regs.MSI_ABORT_LO, 0x1F00), (regs.MSI_MSGDATA, 0xAB),
                   (regs.INT_SETUP, regs.INT_SETUP_RABORT_EN_MASK),
                   (regs.DOORBELL, regs.DOORBELL_START_MASK)):  # CH_EN=0: refused, abort
        await tb.host.write(host_win(0, 0, reg), v)
    tb.sb.expect_unsafe(0)
    await apci_epc_reclaim_dma_chan(chan, False)
    tb.hold("r", False)
    await tb.cycles(60)


async def msi_size_scenario(tb: TB) -> None:
    """The owner enables the abort MSI and rings a START the channel refuses (CH_EN=0):
    the abort event owes one MSI, a 4-byte write (AWSIZE=2, SPEC 3)."""
    epc, _ = rtl_epc(tb, timeout=5_000)
    await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    for reg, v in ((regs.MSI_ABORT_LO, 0x1F04), (regs.MSI_MSGDATA, 0xAB),
                   (regs.INT_SETUP, regs.INT_SETUP_RABORT_EN_MASK),
                   (regs.DOORBELL, regs.DOORBELL_START_MASK)):  # CH_EN=0: refused, abort
        await tb.host.write(host_win(0, 0, reg), v)
    await tb.cycles(60)


def write_answered_okay(mm: Mismatch) -> bool:
    """A host write the model refuses (SLVERR) answered OKAY."""
    return (mm.port == "host" and mm.what.startswith("response for write")
            and (mm.expected, mm.actual) == ("SLVERR", "OKAY"))


def host_read_data(mm: Mismatch) -> bool:
    """A host read returned other data than the model's (a leak: not zero)."""
    return mm.port == "host" and mm.what.startswith("read data")


@dataclass(frozen=True)
class Planted:
    """How one planted bug is exposed and how it must be reported.

    `symptom` picks the mismatches that name this bug; "some mismatch" is not enough
    (a bug caught only by a side effect proves nothing about the check meant for it).
    `raises` is the exception the bug may make the scenario itself raise; any other
    exception fails the test, so a broken scenario cannot pass as a caught bug."""

    scenario: Callable[[TB], Awaitable[None]]
    symptom: Callable[[Mismatch], bool]
    says: str  # the symptom in words, for the failure message
    prop: str | None = None  # the hdl/dd_props.v property that must fire too
    raises: tuple[type[BaseException], ...] = ()


BUGS: dict[str, Planted] = {
    # the refused write is answered OKAY where the model says SLVERR, on the host port
    "DD_BUG_LEAK_HOST_WRITE": Planted(
        leak_scenario, write_answered_okay,
        "host port: response for write, expected SLVERR, actual OKAY", "host_okay"),
    "DD_BUG_EXTRA_BURST": Planted(  # tb/timing.py reports new requests after t0
        quiesce_scenario, lambda mm: "AR/AW after t0" in mm.what, "AR/AW after t0",
        "req_after_t0"),
    "DD_BUG_SLOW_QUIESCE": Planted(  # tb/timing.py checks the SPEC 2.3 bound
        quiesce_scenario, lambda mm: mm.port == "quiesce" and "bound" in mm.what,
        "quiesce port: ... bound", "q_bound"),
    "DD_BUG_LITE_RW_TIE": Planted(  # the monitor reports the read beside the write
        rw_tie_scenario,
        lambda mm: mm.port == "host" and mm.what.startswith("one transaction at a time"),
        "host port: one transaction at a time", "host_one_txn"),
    "DD_BUG_NO_FENCE": Planted(  # the model's contract checker: no pick while fenced
        fence_scenario,
        lambda mm: mm.port == "ar" and "AR for a channel not allowed to pick" in mm.what,
        "ar port: AR for a channel not allowed to pick", "req_after_t0"),
    # the bugs below are judged by a property of hdl/dd_props.v and, independently, by
    # the scoreboard's own (model) check of the bug's symptom (any other mismatch would be
    # a catch for the wrong reason)
    "DD_BUG_NO_SPOOF_CHECK": Planted(  # the spoofed write is answered OKAY
        spoof_scenario, write_answered_okay,
        "host port: response for write, expected SLVERR, actual OKAY", "host_okay"),
    "DD_BUG_REFUSED_WRITE": Planted(
        refused_write_scenario,
        lambda mm: mm.port == "loc" and mm.what.startswith("read data"),
        "loc port: read data (the refused write changed the register)", "refused_write"),
    "DD_BUG_READ_LEAK": Planted(read_leak_scenario, host_read_data, "host port: read data",
                                "host_read_zero"),
    "DD_BUG_IRQ_HOST_ROUTE": Planted(
        irq_host_scenario, lambda mm: mm.port == "irq_host" and mm.what == "irq_host levels",
        "irq_host levels", "irq_host_source"),
    "DD_BUG_USER_FUNCNUM": Planted(  # the contract checker's requester-function rule
        user_scenario,
        lambda mm: mm.port in ("ar", "aw") and "USER (requester function)" in mm.what,
        "ar/aw port: ARUSER/AWUSER (requester function)", "axi_user"),
    "DD_BUG_NO_SCRUB": Planted(  # the endpoint's address, read back through the window
        scrub_scenario, host_read_data, "host port: read data", "scrub"),
    "DD_BUG_IRQ_LOC_DELEG": Planted(
        irq_loc_scenario, lambda mm: mm.port == "irq_loc" and mm.what == "irq_loc level",
        "irq_loc level", "irq_loc_source"),
    "DD_BUG_MSI_AFTER_T0": Planted(  # the model's MSI rules: only while DELEGATED
        msi_after_t0_scenario, lambda mm: mm.port == "aw" and "MSI from a fenced" in mm.what,
        "aw port: MSI from a fenced channel", "req_after_t0"),
    "DD_BUG_MSI_SIZE": Planted(  # the contract checker's AxSIZE rule
        msi_size_scenario,
        lambda mm: (mm.port == "aw" and "AWSIZE (an MSI" in mm.what
                    and (mm.expected, mm.actual) == (2, 3)),
        "aw port: AWSIZE (an MSI ...), expected 2, actual 3", "aw_size"),
}


@cocotb.skipif(lane_skips(SimContext.from_env().lane, SimContext.from_env().paramset),
               reason="LANE=tl: its scenario needs a read and a write on one port in one "
               "edge, which the lane's one transactor per port cannot present "
               "(tb/runner.py lane_skips)")
@cocotb.test(timeout_time=50, timeout_unit="ms")
async def test_planted_rtl_bug_is_caught(dut):
    """The scoreboard must report the bug planted in this build, by its own symptom."""
    bug = os.environ.get("DD_BUG", "")
    assert bug in BUGS, (f"DD_BUG={bug!r}: run on a planted-bug build, e.g. "
                         "make sim TEST=test_planted_rtl PARAMS=bug_leak")
    planted = BUGS[bug]
    tb = new_tb(dut)
    await tb.reset()
    try:
        await planted.scenario(tb)
    except planted.raises as exc:  # only the symptom stated for this bug
        tb.log.info("scenario raised %r (expected for %s)", exc, bug)
    await tb.cycles(8)
    assert tb.sb.mismatches, f"{bug} went unnoticed: the scoreboard cannot fail"
    assert any(planted.symptom(mm) for mm in tb.sb.mismatches), (
        f"{bug} caught, but no mismatch says {planted.says!r}:\n{tb.sb.report()}")
    if planted.prop is not None:
        fired = tb.checkers.props()
        assert planted.prop in fired, (f"{bug}: property {planted.prop!r} did not fire "
                                       f"(fired: {sorted(fired)}):\n{tb.sb.report()}")
    lost = tb.checkers.check()  # every violation the HDL counted was reported
    assert not lost, f"{bug}: {lost}"
    tb.log.info("%s caught as expected:\n%s", bug, tb.sb.report())
