"""Memory-side AXI4 protocol faults: the checker names them, the mover aborts, no hang.

The memory (tb.faults.protocol, either lane) breaks the protocol once
during a local copy: another RID on an R beat, another BID on the B, or an RLAST after
the first beat of a longer burst. The protocol checker (tb/hdl/axi4_check.v) must name
the broken rule first; the mover must treat it as an error response, so the channel
ends ABORTED (the model predicts the same: docs/microarch.md "Data mover"), and the
channel must then complete a clean copy. The rules are declared expected
(tb.checkers.expect), so everything else is still judged by the scoreboard.

Both lanes: on the VIP lane tb/faults.py wraps cocotbext-axi's AxiRam, on the
transaction-level lane the HDL memory (tb/hdl/tl_axi_mem.v, ``proto_req``) injects the
same one-shot faults (tb/tl.py TlFaults.protocol).
"""

from __future__ import annotations

import cocotb

from model import regs
from tb.agents import LocalDma
from tb.tl import new_tb

PARAM_SETS = ("default", "small")
LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)

#: Rules each fault breaks: the first one names it; a wrong RID also leaves its burst
#: one beat short in the checker's count, so that burst's RLAST is reported too.
RULES = {"rid": ("rid", "rlast"), "bid": ("bid",), "rlast": ("rlast",)}


async def _fault_aborts_copy(dut, kind: str) -> None:
    tb = new_tb(dut)
    await tb.reset()
    faults = tb.faults
    tb.checkers.expect(*RULES[kind])
    tb.fill_memory(0, 0x4000)
    dma = LocalDma(tb)
    faults.protocol(kind)
    # 256 bytes: several bursts of MAX_BURST beats, so "rlast" can cut one short
    res = await dma.copy(0, 0x0, 0x2000, 0x100, timeout_cycles=5_000)
    assert faults.injected[kind] == 1, faults.injected
    assert res.ch_stat == regs.CH_ABORTED and res.int_stat & regs.INT_STAT_ABORT_MASK, res
    fired = [v.prop for v in tb.checkers.violations]
    assert fired and fired[0] == kind, f"{kind}: checker reported {fired}"
    again = await dma.copy(0, 0x0, 0x3000, 0x100, timeout_cycles=5_000)
    assert again.ch_stat == regs.CH_STOPPED, again
    await tb.finish()


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_mem_wrong_rid(dut):
    """An R beat with another RID: named `rid`, the channel aborts."""
    await _fault_aborts_copy(dut, "rid")


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_mem_wrong_bid(dut):
    """A B with another BID: named `bid`, the channel aborts."""
    await _fault_aborts_copy(dut, "bid")


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_mem_early_rlast(dut):
    """A burst cut short by an early RLAST: named `rlast`, the channel aborts, no hang."""
    await _fault_aborts_copy(dut, "rlast")
