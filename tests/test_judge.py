"""tb/judge.py without a simulator: the forked judge process on a TB built of the real
model, scoreboard and line feeder (the simulator's parts stubbed), fed recorder lines.

The simulations of both modes (the same trace and verdict as inline, a planted RTL bug
caught) are in tests/test_sim.py; here: the protocol, its verdicts and its failures.
"""

from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import numpy as np
import pytest

from model.hw import HwModel, HwParams
from tb import runner
from tb.judge import RSP_TOKENS, ForkedJudge, JudgeError
from tb.monitor import EdgeSample
from tb.scoreboard import DelegationScoreboard
from tb.tl import LineFeeder

ADDR = 0x0122   # host window of function 0, channel 8, a register: never delegated here


class _Stub:
    """The TB parts the judge calls that need the simulator (none of them does here)."""

    def __init__(self) -> None:
        self.rtl = []
        self.verified = self.skipped = self.aborted = 0
        self.exported = 0

    def export(self) -> None:
        self.exported += 1

    def finalize(self) -> None:
        pass

    def _rtl_done(self, g: int, e: int) -> None:
        self.rtl.append((g, e))


def fake_tb(feed_error: Exception | None = None) -> SimpleNamespace:
    p = HwParams()
    model = HwModel(p, mem=np.zeros(p.mem_size, dtype=np.uint8))
    model.fast_beats = True
    model.edge(4)   # as after TB.reset
    sb = DelegationScoreboard(SimpleNamespace(_name="judge-test"), model, None, 1)
    sb.attach(model)
    feeder = LineFeeder((1 << p.num_func) - 1)
    if feed_error is not None:
        def feed(*_a, **_k):
            raise feed_error
        feeder.feed = feed
    stub = _Stub()
    tb = SimpleNamespace(model=model, sb=sb, timer=stub, cov=stub, copies=stub,
                         mon=SimpleNamespace(feeder=feeder, after=4, _callbacks=[sb.on_edge]))

    def model_memory(lo, data):
        model.mem[lo:lo + len(data)] = np.frombuffer(data, dtype=np.uint8)
    tb._model_memory = model_memory
    return tb


def host_read_lines(model: HwModel, data_wrong: bool = False) -> bytes:
    """A host read at edge 5 and its R at edge 6, as the recorder writes them."""
    exp = model.peek_host(ADDR)
    data = int(exp.data) ^ (1 if data_wrong else 0)
    return f"5 0 HR {ADDR:x}\n6 0 Hr {int(exp.resp):x} {data:x}\n".encode()


def test_a_clean_stream_gives_a_clean_verdict() -> None:
    tb = fake_tb()
    j = ForkedJudge(tb)
    try:
        assert j.lines(host_read_lines(tb.model)) == 1   # one response token
        j.control("unsafe", 8, 1)
        j.control("mem", 0x100, b"\x01\x02\x03")
        j.control("rtl_done", 8, 6)
        img = np.zeros(tb.model.params.mem_size, dtype=np.uint8)
        img[0x100:0x103] = (1, 2, 3)
        v = j.verdict(7, img.tobytes())
    finally:
        j.close()
    assert v["mismatches"] == [] and v["errors"] == 0 and v["undrained"] == {}, v
    assert v["compared"] == 1 and v["samples"] == 2, v
    # what the child did stays in the child: the parent's copies are untouched
    assert tb.sb.compared == 0 and tb.timer.rtl == [] and tb.cov.exported == 0


def test_mismatches_come_back_with_their_lines_and_count_at_once() -> None:
    """A wrong read data and a memory image that differs: both mismatches in the
    verdict, as the scoreboard logged them; the first reaches the parent's sb.errors
    before the verdict (a test that stops on errors stops)."""
    tb = fake_tb()
    j = ForkedJudge(tb)
    try:
        j.lines(host_read_lines(tb.model, data_wrong=True))
        j.control("mem", 0, b"")   # a message after the lines: the child has judged them
        for _ in range(500):   # up to 5 s for the child to judge two lines
            j.poll()
            if tb.sb.errors:
                break
            time.sleep(0.01)
        assert tb.sb.errors == 1, "the child's first mismatch never reached sb.errors"
        img = np.zeros(tb.model.params.mem_size, dtype=np.uint8)
        img[7] = 9
        v = j.verdict(7, img.tobytes())
    finally:
        j.close()
    whats = [m.what for m in v["mismatches"]]
    assert len(whats) == 2 and whats[0].startswith("read data for read 0x0122"), whats
    assert whats[1] == "memory differs at 1 byte(s), first 0x7", whats
    assert v["errors"] == 2
    assert any("MISMATCH" in msg for _n, _lv, msg in v["log"]), v["log"]


def test_a_response_never_judged_is_undrained() -> None:
    tb = fake_tb()
    j = ForkedJudge(tb)
    try:
        j.lines(f"5 0 HR {ADDR:x}\n".encode())
        v = j.verdict(7, np.zeros(tb.model.params.mem_size, dtype=np.uint8).tobytes())
    finally:
        j.close()
    assert v["undrained"] == {"host": 1}, v


def test_a_failing_judge_is_a_clear_error_with_its_traceback() -> None:
    tb = fake_tb(feed_error=ValueError("recorder line not understood: 'zz'"))
    j = ForkedJudge(tb)
    j.lines(b"5 0 zz\n")
    with pytest.raises(JudgeError, match=r"(?s)judge process failed.*recorder line not understood"):
        j.verdict(7, b"")
    assert j.ended == "failed"


def test_a_killed_judge_is_a_clear_error() -> None:
    tb = fake_tb()
    j = ForkedJudge(tb)
    os.kill(j.pid, signal.SIGKILL)
    with pytest.raises(JudgeError, match="killed by signal 9"):
        # the stream may take the lines before the pipe notices; the verdict cannot come
        j.lines(b"5 0\n")
        j.verdict(7, b"")


def test_nothing_is_sent_after_the_verdict() -> None:
    tb = fake_tb()
    j = ForkedJudge(tb)
    j.verdict(7, np.zeros(tb.model.params.mem_size, dtype=np.uint8).tobytes())
    assert j.lines(b"8 0 Hr 0 0\n") == 0   # finish's tail: dropped, as inline
    with pytest.raises(JudgeError, match="has given its verdict: nothing more"):
        j.control("unsafe", 8, 1)


def test_response_tokens_are_the_recorders() -> None:
    """The parent counts responses by these tokens: each is a response of the recorder
    line format (tb/tl.py parse_tokens: port L/H, ``b`` a B, ``r`` an R)."""
    from tb.tl import parse_line
    for tok in RSP_TOKENS:
        fields = " 0" if tok.strip().endswith(b"b") else " 0 0"
        s: EdgeSample = parse_line(f"9 0{tok.decode().rstrip()}{fields}", 3)
        port = "loc" if tok.strip().startswith(b"L") else "host"
        assert len(getattr(s, f"{port}_resp")) == 1


def test_an_unknown_mode_is_refused_before_any_work() -> None:
    with pytest.raises(runner.RunnerError, match="DD_TL_JUDGE='threads': expected one of inline, fork"):
        runner.tl_judge({"DD_TL_JUDGE": "threads"})
    assert runner.tl_judge({}) == "inline"
    assert runner.tl_judge({"DD_TL_JUDGE": " fork "}) == "fork"
