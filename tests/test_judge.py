"""tb/judge.py without a simulator: the forked judge process on a TB built of the real
model, scoreboard and line feeder (the simulator's parts stubbed), fed recorder lines.

The simulations of both modes (the same trace and verdict as inline, a planted RTL bug
caught) are in tests/test_sim.py; here: the protocol, its verdicts and its failures.
"""

from __future__ import annotations

import os
import re
import signal
import time
from types import MethodType, SimpleNamespace

import numpy as np
import pytest

from model.hw import HwModel, HwParams
from tb import judge as judge_mod
from tb import runner
from tb.env import TB
from tb.judge import CRASH_TEXT_MAX, RSP_TOKENS, ForkedJudge, JudgeError
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


def fake_tb(feed_error: Exception | None = None, feed_hangs: bool = False,
            feed_delay: float = 0.0) -> SimpleNamespace:
    p = HwParams()
    model = HwModel(p, mem=np.zeros(p.mem_size, dtype=np.uint8))
    model.fast_beats = True
    model.edge(4)   # as after TB.reset
    sb = DelegationScoreboard(SimpleNamespace(_name="judge-test"), model, None, 1)
    sb.attach(model)
    feeder = LineFeeder((1 << p.num_func) - 1)
    if feed_error is not None or feed_hangs:
        def feed(*_a, **_k):
            if feed_hangs:
                time.sleep(3600)
            raise feed_error
        feeder.feed = feed
    elif feed_delay:
        real = feeder.feed

        def slow_feed(*a, **k):
            time.sleep(feed_delay)
            real(*a, **k)
        feeder.feed = slow_feed
    stub = _Stub()
    tb = SimpleNamespace(model=model, sb=sb, timer=stub, cov=stub, copies=stub,
                         mon=SimpleNamespace(feeder=feeder, after=4, _callbacks=[sb.on_edge]))

    def model_memory(lo, data):
        model.mem[lo:lo + len(data)] = np.frombuffer(data, dtype=np.uint8)
    tb._model_memory = model_memory
    tb.compare_memory = MethodType(TB.compare_memory, tb)   # the lanes' own compare
    return tb


def end(j: ForkedJudge, tb: SimpleNamespace, img: np.ndarray | None = None) -> dict:
    """finish's two messages: the end checks at edge 7, the image; the verdict."""
    j.control("finalize", 7)
    if img is None:
        img = np.zeros(tb.model.params.mem_size, dtype=np.uint8)
    return j.verdict(7, img.tobytes())


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
        v = end(j, tb, img)
    finally:
        j.close()
    assert v["mismatches"] == [] and v["errors"] == 0 and v["undrained"] == {}, v
    assert v["compared"] == 1 and v["samples"] == 2, v
    # what the child did stays in the child: the parent's copies are untouched
    assert tb.sb.compared == 0 and tb.timer.rtl == [] and tb.cov.exported == 0


def test_mismatches_are_logged_at_once_and_come_back(capfd: pytest.CaptureFixture) -> None:
    """A wrong read data and a memory image that differs: both mismatches in the
    verdict; the first reaches the parent's sb.errors before the verdict (a test that
    stops on errors stops), and its MISMATCH line is in the output as the child judged
    it, before any verdict (a test that fails before finish still shows it)."""
    tb = fake_tb()
    j = ForkedJudge(tb)
    try:
        j.lines(host_read_lines(tb.model, data_wrong=True))
        j.control("mem", 0, b"")   # a message after the lines: the child has judged them
        wait_errors(j, tb, 1)
        assert tb.sb.errors == 1
        out = capfd.readouterr().out
        assert re.search(r"ns ERROR +\S+\[judge\] +MISMATCH edge 6 port host channel 8: "
                         r"read data for read 0x0122", out), out
        img = np.zeros(tb.model.params.mem_size, dtype=np.uint8)
        img[7] = 9
        v = end(j, tb, img)
    finally:
        j.close()
    whats = [m.what for m in v["mismatches"]]
    assert len(whats) == 2 and whats[0].startswith("read data for read 0x0122"), whats
    assert whats[1] == "memory differs at 1 byte(s), first 0x7", whats
    assert v["errors"] == 2


def wait_errors(j: ForkedJudge, tb: SimpleNamespace, n: int) -> None:
    for _ in range(500):   # up to 5 s for the child to judge what it was sent
        j.poll()
        if tb.sb.errors >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"sb.errors {tb.sb.errors}, not {n}: the child's report never came")


def test_mismatches_before_the_fork_are_not_the_childs() -> None:
    """The scoreboard's findings before the fork stay the parent's: the verdict holds
    only what the child found (the parent would list and count them twice), and the
    child's own first mismatch is still reported at once."""
    tb = fake_tb()
    tb.sb._mismatch(3, "host", 8, "found before the fork", 1, 2)
    j = ForkedJudge(tb)
    try:
        j.lines(host_read_lines(tb.model))
        j.control("mem", 0, b"")
        time.sleep(0.2)
        j.poll()
        assert tb.sb.errors == 1, "the child reported a mismatch it did not find"
        j.lines(host_read_lines(tb.model, data_wrong=True).replace(b"5 0", b"8 0")
                .replace(b"6 0", b"9 0"))
        wait_errors(j, tb, 2)
        v = end(j, tb)
    finally:
        j.close()
    assert [m.what[:24] for m in v["mismatches"]] == ["read data for read 0x012"], v
    assert v["errors"] == 1 and tb.sb.errors == 2, (v, tb.sb.errors)


def test_a_response_never_judged_is_undrained() -> None:
    tb = fake_tb()
    j = ForkedJudge(tb)
    try:
        j.lines(f"5 0 HR {ADDR:x}\n".encode())
        v = end(j, tb)
    finally:
        j.close()
    assert v["undrained"] == {"host": 1}, v


def test_a_failing_judge_is_a_clear_error_with_its_traceback() -> None:
    tb = fake_tb(feed_error=ValueError("recorder line not understood: 'zz'"))
    j = ForkedJudge(tb)
    j.lines(b"5 0 zz\n")
    with pytest.raises(JudgeError, match=r"(?s)judge process failed.*recorder line not understood"):
        end(j, tb)
    assert j.ended == "failed"
    assert_reaped(j)


def assert_reaped(j: ForkedJudge) -> None:
    """The child is gone and reaped, the pipes closed."""
    with pytest.raises(ChildProcessError):
        os.waitpid(j.pid, os.WNOHANG)
    assert j._cmd == -1 and j._res == -1 and j.status is not None


def test_a_long_crash_text_is_cut_and_cannot_block_the_pipes() -> None:
    """A failure whose text is longer than a pipe holds: the child sends its head and
    tail (CRASH_TEXT_MAX), which the pipe takes without the parent reading, so the
    parent's next line or its verdict gets the error instead of both waiting for ever."""
    tb = fake_tb(feed_error=ValueError("x" * 110_000))
    j = ForkedJudge(tb)
    old = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the judge's pipes blocked"))
    signal.alarm(20)
    try:
        with pytest.raises(JudgeError) as info:
            for _ in range(10_000):   # fills the stream pipe if the child stops reading
                j.lines(b"5 0 zz\n" * 100)
            end(j, tb)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    text = str(info.value)
    assert "characters ...]" in text and len(text) < CRASH_TEXT_MAX + 200, len(text)
    assert_reaped(j)


def test_close_lets_the_judge_finish_its_stream(capfd: pytest.CaptureFixture) -> None:
    """A test that ends before finish closes its judge with lines not judged yet: the
    judge still judges them and logs every mismatch, though nobody reads its answers
    any more, and ends cleanly (it had died at its first mismatch, writing to the
    closed answer pipe)."""
    tb = fake_tb(feed_delay=0.2)
    j = ForkedJudge(tb)
    for k in range(3):
        lines = host_read_lines(tb.model, data_wrong=True)
        j.lines(lines.replace(b"5 0", f"{5 + 3 * k:x} 0".encode())
                .replace(b"6 0", f"{6 + 3 * k:x} 0".encode()))
    j.close()
    out = capfd.readouterr().out
    assert out.count("MISMATCH") == 3, out
    assert j.status is not None and os.WIFEXITED(j.status) and os.WEXITSTATUS(j.status) == 0


def test_close_kills_a_judge_that_does_not_end(monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """A judge stuck in its work is killed by close after CLOSE_WAIT_S, so a test that
    ended early does not hang the next one's start."""
    monkeypatch.setattr(judge_mod, "CLOSE_WAIT_S", 0.3)
    tb = fake_tb(feed_hangs=True)
    j = ForkedJudge(tb)
    j.lines(b"5 0\n")
    t0 = time.monotonic()
    j.close()
    assert time.monotonic() - t0 < 5
    assert_reaped(j)
    assert os.WIFSIGNALED(j.status) and os.WTERMSIG(j.status) == signal.SIGKILL
    assert f"judge process {j.pid} killed" in caplog.text, caplog.text
    j.close()   # again: nothing left to do


def test_a_killed_judge_is_a_clear_error() -> None:
    tb = fake_tb()
    j = ForkedJudge(tb)
    os.kill(j.pid, signal.SIGKILL)
    with pytest.raises(JudgeError, match="killed by signal 9"):
        # the stream may take the lines before the pipe notices; the verdict cannot come
        j.lines(b"5 0\n")
        end(j, tb)


def test_nothing_is_sent_after_the_verdict() -> None:
    """finish's tail: lines and messages (an RTL quiesce completion, say) are dropped,
    not errors: inline, nothing that comes then changes the verdict either. Before the
    verdict, a stream that ends is an error."""
    tb = fake_tb()
    j = ForkedJudge(tb)
    end(j, tb)
    assert j.lines(b"8 0 Hr 0 0\n") == 0
    j.control("rtl_done", 8, 9)
    assert_reaped(j)
    with pytest.raises(JudgeError, match="given its verdict already: one finish per test"):
        end(j, tb)
    k = ForkedJudge(fake_tb())
    k.close()
    with pytest.raises(JudgeError, match="was closed: nothing more can be judged"):
        k.control("unsafe", 8, 1)


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


def test_framing_reads_back_what_send_wrote_however_it_arrives() -> None:
    """``send``'s framing, read back by both readers: ``recv`` from a blocking stream and
    ``split_messages`` from a buffer that non-blocking reads fill a piece at a time (the
    parent's side): cut at every byte, the same messages in order, a message never taken
    before it is whole. A stream that ends inside a message is an error, never a short
    message."""
    msgs = [(judge_mod.LINES, b"5 0 LR 10\n6 0 Lr 0 0\n"), (judge_mod.CTRL, b""),
            (judge_mod.CTRL, bytes(range(256)) * 3)]
    r, w = os.pipe()
    try:
        for kind, body in msgs:
            judge_mod.send(w, kind, body)
        os.close(w)
        w = -1
        assert [judge_mod.recv(r) for _ in msgs] == msgs
        assert judge_mod.recv(r) is None   # the stream's end, between messages
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    wire = b"".join(bytes((k,)) + len(b).to_bytes(4, "little") + b for k, b in msgs)
    for cut in range(len(wire) + 1):
        got, rest = judge_mod.split_messages(wire[:cut])
        whole = [m for m in msgs if sum(5 + len(b) for _, b in msgs[:msgs.index(m) + 1]) <= cut]
        assert got == whole, cut
        more, rest = judge_mod.split_messages(rest + wire[cut:])
        assert got + more == msgs and rest == b"", cut
    r, w = os.pipe()
    try:
        os.write(w, wire[:7])   # a header and two bytes of the first payload
        os.close(w)
        w = -1
        n = len(msgs[0][1])
        with pytest.raises(JudgeError, match=rf"stream ended inside a message \(2 of {n} bytes\)"):
            judge_mod.recv(r)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_an_answer_of_another_kind_is_refused() -> None:
    """The child answers with pickled control messages only (``_tell``): anything else in
    the parent's buffer is a protocol error, not a message unpickled at random."""
    j = ForkedJudge(fake_tb())
    try:
        j._buf = bytes((judge_mod.LINES,)) + (3).to_bytes(4, "little") + b"abc"
        with pytest.raises(JudgeError, match="message kind 0 not understood"):
            j._messages()
    finally:
        j.close()
