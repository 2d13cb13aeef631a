"""Negative tests: a planted bug in the predictor makes the scoreboard fail.

A scoreboard that cannot fail proves nothing. Here the model is a copy of the
rules with one rule forgotten (FUNC_NUM anti-spoofing); the correct RTL then
disagrees with it, and the test passes only if the scoreboard reports that
disagreement with the edge, port, channel, expected and actual values. A second
planted bug makes the model report quiesces late: the timing checker must still judge
the RTL on its own STATE (within the bound) and name the model as the one that differs.
"""

from __future__ import annotations

import dataclasses

import cocotb

from model import regs
from model.epc import AuxDmaDir, apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from model.hw import HwModel, LiteAccess
from tb.env import host_win, own_reg
from tb.rtl_backend import rtl_epc
from tb.tl import new_tb

PARAM_SETS = ("default",)
LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)


class SpoofBlindModel(HwModel):
    """Planted bug: a host write of a foreign FUNC_NUM is predicted as allowed."""

    def _judge_host(self, acc: LiteAccess, effs, glob):
        if acc.write and acc.addr & 0xFC == regs.FUNC_NUM:
            fn = (acc.addr & 0xFFFC) // regs.HOST_FUNC_STRIDE
            acc = dataclasses.replace(acc, data=(acc.data & ~regs.FUNC_NUM_FUNC_MASK) | fn)
        return super()._judge_host(acc, effs, glob)


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_planted_model_bug_is_caught(dut):
    """The scoreboard flags the spoofed FUNC_NUM write the buggy model allowed."""
    tb = new_tb(dut, model_cls=SpoofBlindModel)
    await tb.reset()
    g, f = 0, 0
    cmd = (regs.CMD_DELEGATE << regs.OWN_CMD_CMD_LSB) | (f << regs.OWN_CMD_FUNC_LSB)
    assert await tb.loc.write(own_reg(g, regs.OWN_CMD), cmd) == 0
    resp = await tb.host.write(host_win(f, g, regs.FUNC_NUM), 5)   # spoofing attempt
    assert resp == 2, "the RTL must refuse requester spoofing"
    await tb.cycles(4)
    mm = [m for m in tb.sb.mismatches if m.port == "host" and "response" in m.what]
    assert mm, "planted model bug went unnoticed: the scoreboard cannot fail"
    assert mm[0].channel == g and mm[0].expected == "OKAY" and mm[0].actual == "SLVERR"
    tb.log.info("caught as expected:\n%s", tb.sb.report())


#: Edges the planted model-timing bug adds to every quiesce.
LATE = 5


class LateQdoneModel(HwModel):
    """Planted model-timing bug: every quiesce is reported LATE edges after it completed
    (its "qdone" event and Q_CYCLES), past the SPEC bound, while the state itself
    changes on time. A timing check that took the completion from the model would
    blame the correct RTL for a slow quiesce."""

    def _commit(self, e, g, c, *args, **kw):
        n = len(self.events)
        res = super()._commit(e, g, c, *args, **kw)
        for i in range(n, len(self.events)):
            if self.events[i].kind == "qdone":
                self.events[i] = self.events[i]._replace(edge=self.events[i].edge + LATE)
                c.q_cycles += LATE
        return res


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_quiesce_timing_is_measured_on_the_rtl(dut):
    """With a model that reports quiesces late, the timing checker (tb/timing.py) must
    measure the correct RTL as within the bound and report the model as the one that
    disagrees."""
    tb = new_tb(dut, model_cls=LateQdoneModel)
    await tb.reset()
    epc, _ = rtl_epc(tb)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, AuxDmaDir.EP_TO_RC, 0)
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.cycles(16)
    tb.timer.finalize()
    recs = tb.timer.completed()
    assert len(recs) == 1, tb.timer.records
    rec = recs[0]
    assert rec.measured is not None and rec.measured <= rec.bound, rec
    assert rec.model_measured == rec.measured + LATE, rec
    quiesce = [m for m in tb.sb.mismatches if m.port == "quiesce"]
    assert not any("bound" in m.what for m in quiesce), tb.sb.report()
    assert any("differs from the RTL's STATE" in m.what for m in quiesce), tb.sb.report()
    tb.log.info("model timing bug caught, RTL judged on its own STATE:\n%s", tb.sb.report())
