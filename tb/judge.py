"""Judging in a second process (LANE=tl, ``DD_TL_JUDGE=fork``): the simulation and the
test's Python on one core, the scoreboard, the predictor and every observer on the other.

Why: on the transaction-level lane the test's Python wakes per transaction, and judging
the recorder's lines (parsing them, stepping the predictor, the observers) is about half
of what a register-heavy run costs (docs/performance-log.md). Nothing the test decides
depends on the verdict, so judging need not hold the simulation up: it only has to see
every line in order, with the test's own declarations and memory writes at the points in
that order where the test made them.

How: ``TlTB.fork_judge()`` (a test calls it after its set-up, before its traffic) forks
the simulator process. The child is an exact copy of the TB at that moment -- model,
scoreboard, quiesce timer, copy checker, coverage -- and never touches the simulator
again: it reads one ordered stream from a pipe, the recorder's complete lines as the
parent drains them at each wake, and between them the test's messages (``expect_unsafe``,
memory writes, the RTL's quiesce completions, the end of the test with the HDL memory
image), and feeds them to the same LineFeeder and scoreboard the inline lane uses. The
parent keeps what the test itself reads: ``sb.compared`` is counted from the response
tokens of the lines it forwards (the scoreboard compares exactly one per response on a
clean run), ``sb.errors`` adds the child's mismatches as the child reports them. The
child writes its log lines (the MISMATCH lines among them) straight into the
simulator's output as it judges, stamped with the time of the edge it judges (it may
not ask the simulator), so a test that fails before ``finish`` still shows them. At
``finish`` the parent has the child run the end-of-test checks of the quiesce timer and
export the coverage at the edge inline judging does, then sends the memory image and
waits for the verdict: the child's mismatches (those since the fork), counters and the
copy checker's figures.

What the test gives up: ``tb.model`` (the parent's copy stops at the fork; reading it
raises), ``tb.reset`` after the fork, observers or monitor callbacks added after it
(refused), and the parent's copies of the scoreboard's, timer's, copy checker's and
coverage's state, which stop at the fork (the figures ``finish`` logs come from the
child); a first error stops a test that polls ``sb.errors`` a few wakes later than
inline. What it keeps: every check, the same mismatch lines and reproduce commands. The
child ends when the stream ends (the test finished, failed or the simulator exited);
the parent's ``close`` reaps it, and kills one that does not end within
``CLOSE_WAIT_S``. Each process has the runner's CPU limit (``DD_SIM_TIMEOUT``) of its own.
"""

from __future__ import annotations

import atexit
import logging
import mmap
import os
import pickle
import signal
import time
import traceback
from typing import Any

import numpy as np

from tb.runner import CLK_PERIOD_NS

#: message kinds of the stream: recorder lines (raw bytes), a pickled control tuple
LINES, CTRL = 0, 1
#: response tokens of a recorder line (tb_dma_deleg_tl.v): one per AXI4-Lite B or R
RSP_TOKENS = (b" Lb ", b" Lr ", b" Hb ", b" Hr ")
#: the longest crash text the child sends, in characters (at most 4 bytes each in UTF-8):
#: well inside a pipe's 64 KiB, so its write never waits for the parent (which reads
#: only once the shared byte moved)
CRASH_TEXT_MAX = 8 * 1024
#: how the simulator's log says a judge process was forked (tb/tl.py fork_judge; tests and
#: tools/bench_sim.py look for it)
FORKED_LINE = "judging from edge"
#: seconds ``close`` waits for a child that has not given its verdict, then kills it
CLOSE_WAIT_S = 10.0


class JudgeError(RuntimeError):
    """The judge process failed or broke the protocol; the message says how."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes | None:
    """n bytes, or None at the end of the stream (a partial message is an error)."""
    parts = []
    left = n
    while left:
        b = os.read(fd, left)
        if not b:
            if left == n:
                return None
            raise JudgeError(f"stream ended inside a message ({n - left} of {n} bytes)")
        parts.append(b)
        left -= len(b)
    return b"".join(parts)


#: a message's header: its kind (one byte), then its payload's length (four bytes,
#: little-endian); the payload follows. ``send`` writes it, ``recv`` (a blocking stream)
#: and ``split_messages`` (a buffer filled by non-blocking reads) read it.
HDR = 5


def _header(hdr: bytes) -> tuple[int, int]:
    """(kind, payload length) of a message header."""
    return hdr[0], int.from_bytes(hdr[1:HDR], "little")


def send(fd: int, kind: int, payload: bytes) -> None:
    _write_all(fd, bytes((kind,)) + len(payload).to_bytes(HDR - 1, "little") + payload)


def recv(fd: int) -> tuple[int, bytes] | None:
    hdr = _read_exact(fd, HDR)
    if hdr is None:
        return None
    kind, n = _header(hdr)
    body = _read_exact(fd, n)
    if body is None:
        raise JudgeError("stream ended after a message header")
    return kind, body


def split_messages(buf: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete messages at the head of ``buf`` as (kind, payload), and the bytes
    after them (a message not complete yet)."""
    out = []
    pos = 0
    while len(buf) - pos >= HDR:
        kind, n = _header(buf[pos:pos + HDR])
        if len(buf) - pos - HDR < n:
            break
        out.append((kind, buf[pos + HDR:pos + HDR + n]))
        pos += HDR + n
    return out, buf[pos:]


class _LiveLog(logging.Handler):
    """The child's log: each record written at once to the simulator's output (fd 1, one
    ``os.write`` per line), in cocotb's layout, its logger named with ``[judge]``, the
    time that of the last edge the model stepped (the edge being judged, or the one
    before it): cocotb's own formatter would ask the simulator for the time, which the
    child may not do."""

    def __init__(self, model: Any, fd: int = 1) -> None:
        super().__init__()
        self.model, self.fd = model, fd

    def emit(self, record: logging.LogRecord) -> None:
        try:
            t = self.model.cycle * CLK_PERIOD_NS
            line = f"{t:>9.2f}ns {record.levelname:<8} {record.name + '[judge]':<34} " \
                   f"{record.getMessage()}\n"
            _write_all(self.fd, line.encode(errors="replace"))
        except Exception:   # noqa: BLE001 - logging must not end the judging
            self.handleError(record)


def _crash_text() -> str:
    """The traceback being handled, its head and tail when it is long (CRASH_TEXT_MAX)."""
    text = traceback.format_exc()
    if len(text) > CRASH_TEXT_MAX:
        half = CRASH_TEXT_MAX // 2
        text = f"{text[:half]}\n[... {len(text) - 2 * half} characters ...]\n{text[-half:]}"
    return text


class ForkedJudge:
    """The parent's end: forwards lines and messages, counts responses, reads errors."""

    def __init__(self, tb: Any) -> None:
        self.tb = tb
        self.child_errors = 0     # mismatches the child reported so far
        self.ended = ""           # why nothing more can be sent ("" while it can)
        self.given = False        # the verdict came: later lines are the test's tail
        r_cmd, w_cmd = os.pipe()
        r_res, w_res = os.pipe()
        # one shared byte: the child bumps it after each message it sends, so the parent
        # reads its pipe only when there is something to read (a read of an empty pipe
        # at every wake cost about 7 us)
        self._said = mmap.mmap(-1, mmap.PAGESIZE)
        self._heard = 0
        pid = os.fork()
        if pid == 0:   # the child: judge, then leave without running anything of the parent
            code = 1
            try:
                os.close(w_cmd)
                os.close(r_res)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                # a write to a closed output or to a parent gone is an error, never death
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
                code = _child(tb, r_cmd, w_res, self._said)
            except BaseException:   # noqa: BLE001 - reported to the parent, then exit
                try:
                    _tell(w_res, self._said, ("crash", _crash_text()))
                except OSError:
                    pass
            finally:
                os._exit(code)   # no atexit, no stdio flush of the simulator's buffers
        os.close(r_cmd)
        os.close(w_res)
        # a write to a judge that died must be an error here (BrokenPipeError), not a
        # SIGPIPE that kills the simulator without a word
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.pid = pid
        self._cmd = w_cmd
        self._res = r_res
        os.set_blocking(r_res, False)
        self._buf = b""
        self.status: int | None = None   # the child's wait status, once reaped
        # a test that fails before finish, the simulation's last, is closed at exit
        atexit.register(self.close)

    # ------------------------------------------------------------ parent -> child
    def _send(self, kind: int, payload: bytes) -> None:
        if self.given:
            return   # finish's tail: inline, nothing that comes now changes the verdict
        if self.ended:
            raise JudgeError(f"the judge process {self.ended}: nothing more can be judged")
        try:
            send(self._cmd, kind, payload)
        except BrokenPipeError:
            self.poll()   # a judge that failed said why before it went: raises with that
            self.ended = "is gone"
            raise JudgeError(f"the judge process (pid {self.pid}) is gone: "
                             f"{self._exit_text()}") from None

    def lines(self, data: bytes) -> int:
        """Forward complete recorder lines; the number of responses they hold. After the
        verdict (finish's tail) they are dropped: inline they are judged, but nothing
        judged then changes the verdict."""
        if self.given or not data:
            return 0
        self._send(LINES, data)
        n = 0
        for tok in RSP_TOKENS:
            n += data.count(tok)
        return n

    def control(self, *msg: Any) -> None:
        self._send(CTRL, pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))

    # ------------------------------------------------------------ child -> parent
    def _messages(self) -> list[tuple]:
        """The complete messages received so far (taken out of the buffer)."""
        msgs, self._buf = split_messages(self._buf)
        out = []
        for kind, body in msgs:
            if kind != CTRL:   # the child sends nothing else (_tell)
                raise JudgeError(f"judge answer: message kind {kind} not understood")
            out.append(pickle.loads(body))
        return out

    def poll(self) -> None:
        """Take what the child said so far (non-blocking): its first mismatch, or the
        traceback it failed with (raised here)."""
        if self._res < 0 or self._said[0] == self._heard:
            return
        self._heard = self._said[0]
        try:
            data = os.read(self._res, 1 << 16)
        except BlockingIOError:
            return
        self._buf += data
        for msg in self._messages():
            self._take(msg)

    def _take(self, msg: tuple) -> dict | None:
        if msg[0] == "errors":
            # the child's first mismatch: the test's sb.errors counts it at once (the
            # rest come with the verdict)
            self.tb.sb.errors += msg[1] - self.child_errors
            self.child_errors = msg[1]
            return None
        if msg[0] == "crash":
            self.ended = "failed"
            self.close()   # it has exited: reap it, close the pipes
            raise JudgeError(f"the judge process failed:\n{msg[1]}")
        if msg[0] == "verdict":
            return msg[1]
        raise JudgeError(f"judge process: message not understood: {msg[0]!r}")

    def verdict(self, edge: int, image: bytes) -> dict:
        """End of the test (after ``finalize``): the memory image dumped at ``edge``; wait
        for the verdict."""
        if self.given:
            raise JudgeError("the judge process has given its verdict already: one finish "
                             "per test")
        self.control("finish", edge, image)
        os.set_blocking(self._res, True)
        try:
            while True:
                for msg in self._messages():
                    out = self._take(msg)
                    if out is not None:
                        self.given = True
                        self.ended = "has given its verdict"
                        return out
                data = os.read(self._res, 1 << 16)
                if not data:
                    self.ended = "ended without a verdict"
                    raise JudgeError(f"the judge process ended without a verdict: "
                                     f"{self._exit_text()}")
                self._buf += data
        finally:
            self.close()

    def _exit_text(self) -> str:
        self._reap(wait=True)
        st = self.status
        if st is None:
            return "already reaped"
        if os.WIFSIGNALED(st):
            return f"killed by signal {os.WTERMSIG(st)}"
        return f"exit status {os.WEXITSTATUS(st)}"

    def _reap(self, wait: bool) -> bool:
        """Reap the child if it ended (``wait``: wait for it); True once reaped."""
        if self.status is not None:
            return True
        try:
            pid, st = os.waitpid(self.pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:
            return True   # reaped elsewhere
        if pid == 0:
            return False
        self.status = st
        return True

    def close(self) -> None:
        """Close the stream (the child judges what is left of it, then ends) and reap the
        child, its answer pipe open meanwhile; one that has not ended within CLOSE_WAIT_S
        is killed, and the log says so. Safe to call again."""
        if self._cmd >= 0:
            os.close(self._cmd)
            self._cmd = -1
        deadline = time.monotonic() + CLOSE_WAIT_S
        while not self._reap(wait=False):
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                self._reap(wait=True)
                logging.getLogger("cocotb.tb").warning(
                    "judge process %d killed: it had not ended %.0f s after its stream "
                    "closed, so what it had not judged yet is not judged (tb/judge.py)",
                    self.pid, CLOSE_WAIT_S)
                break
            time.sleep(0.005)
        if self._res >= 0:
            os.close(self._res)
            self._res = -1
        if not self._said.closed:
            self._said.close()
        self.ended = self.ended or "was closed"
        atexit.unregister(self.close)


def _tell(wfd: int, said: mmap.mmap, msg: tuple) -> None:
    """The child's message to the parent, then the shared byte bumped (ForkedJudge.poll)."""
    send(wfd, CTRL, pickle.dumps(msg))
    said[0] = (said[0] + 1) & 0xFF


def _child(tb: Any, rfd: int, wfd: int, said: mmap.mmap) -> int:
    """The judge loop (runs in the forked child; never calls into the simulator)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for name in list(logging.root.manager.loggerDict):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.propagate = True
    root.addHandler(_LiveLog(tb.model))
    mon, sb = tb.mon, tb.sb
    feeder, after, callbacks = mon.feeder, mon.after, mon._callbacks
    # what the scoreboard held at the fork is the parent's too: the verdict and the
    # early error report count only what the child found
    n0, e0 = len(sb.mismatches), sb.errors
    told = finalized = False
    while True:
        m = recv(rfd)
        if m is None:
            return 0   # the parent ended the test without a verdict: nothing to say
        kind, body = m
        if kind == LINES:
            feeder.feed(body.decode().splitlines(), after, callbacks, sb)
        else:
            op, *args = pickle.loads(body)
            if op == "unsafe":
                sb.expect_unsafe(*args)
            elif op == "mem":
                tb._model_memory(*args)
            elif op == "rtl_done":
                tb.timer._rtl_done(*args)
            elif op == "finalize":
                (now,) = args
                tb.now = lambda now=now: now   # the child's clock: the parent's edge
                tb.cov.export()
                tb.timer.finalize()
                finalized = True
            elif op == "finish":
                if not finalized:
                    raise JudgeError("judge stream: finish before finalize")
                edge, image = args
                _tell(wfd, said, ("verdict", _verdict(tb, edge, image, n0, e0)))
                return 0
            else:
                raise JudgeError(f"judge stream: message not understood: {op!r}")
        if not told and sb.errors > e0:
            # the first mismatch only: one small message, so this pipe never fills while
            # the parent waits to write into the other one
            told = True
            try:
                _tell(wfd, said, ("errors", sb.errors - e0))
            except OSError:
                pass   # the parent no longer listens (its test ended): judge on, logging


def _verdict(tb: Any, edge: int, image: bytes, n0: int, e0: int) -> dict:
    """TlTB.finish's judging after the memory dump (at ``edge``), in the child: the image
    compared, the scoreboard's findings since the fork (``n0`` mismatches and ``e0``
    errors before it)."""
    tb.compare_memory(np.frombuffer(image, dtype=np.uint8), edge)
    sb, c = tb.sb, tb.copies
    return {
        "mismatches": sb.mismatches[n0:],
        "errors": sb.errors - e0,
        "undrained": sb.undrained(),
        "compared": sb.compared,
        "samples": tb.mon.feeder.samples,
        "fast_lines": tb.mon.feeder.fast_lines,
        "copies": (c.verified, c.skipped, c.aborted),
    }
