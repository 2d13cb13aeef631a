"""Negative test: a planted bug in the predictor makes the scoreboard fail.

A scoreboard that cannot fail proves nothing. Here the model is a copy of the
rules with one rule forgotten (FUNC_NUM anti-spoofing); the correct RTL then
disagrees with it, and the test passes only if the scoreboard reports that
disagreement with the edge, port, channel, expected and actual values.
"""

from __future__ import annotations

import dataclasses

import cocotb

from model import regs
from model.hw import HwModel, LiteAccess
from tb.env import TB, host_win, own_reg

PARAM_SETS = ("default",)


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
    tb = TB(dut, model_cls=SpoofBlindModel)
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
