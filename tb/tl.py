"""Transaction-level lane (LANE=tl): the TB API with Python woken per transaction.

Why: in the VIP lane (tb/env.py TB) cocotbext-axi's channel coroutines and the edge
monitor resume Python on every clock edge, which caps the testbench at a few k
cycles/s. Here the simulation top tb/hdl/tb_dma_deleg_tl.v does everything per cycle
in HDL: AXI4-Lite master transactors (tl_axil_master.v) run queued accesses, the AXI4
memory (tl_axi_mem.v) answers the data mover with seeded backpressure, latency and
error zones, a status poller runs drivers' completion waits and their status reads
(TlTB.wait_status), and an event recorder writes per busy edge exactly what
tb/monitor.py's EdgeSample holds into a file. Python wakes only when a port's batch
of accesses completes, a requested number of cycles has passed, an interrupt line it
waits for rises, a memory dump is ready or a poller slot stops; every wake first drains
the recorder into the *same* scoreboard, predictor and checkers as the VIP lane, so
every rule is judged at its edge with the same code and the same mismatch lines.

What crosses the boundary per access: one write of the command queue and one of its
count; per batch, one `await` of the wake and one read of the completion counter and
of the response slots. Memory moves in bulk through files ($readmemh / $writememh).

The bit layouts below mirror the HDL headers (tl_axil_master.v, tl_axi_mem.v,
tb_dma_deleg_tl.v); queue depth, number of error zones and memory size are read from
the HDL (vector widths), never assumed.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, RisingEdge

from model.events import parsed_event, parsed_r, parsed_req, parsed_w
from model.hw import (
    ArHs,
    ArPresent,
    AwHs,
    AwPresent,
    BeatCols,
    BHs,
    HwModel,
    HwParams,
    LiteAccess,
    RBeat,
    WBeat,
)
from tb import knobs
from tb.env import FINISH_DRAIN, FINISH_TAIL, TB, Rsp, check_poll_args, strobe_lanes
from tb.faults import PROTOCOL_FAULTS, check_fault
from tb.judge import FORKED_LINE, ForkedJudge
from tb.monitor import EdgeSample, LiteResponse, int_reader, reader, writer
from tb.runner import (
    TL_FAST_ENV,
    TL_JUDGE_ENV,
    TL_MEM_IN_FILE,
    TL_MEM_OUT_FILE,
    TL_MEM_PATCH_FILE,
    TL_POLLER_ENV,
    TL_REC_FILE,
    TL_ROTATE_ENV,
    SimContext,
    tl_judge,
)
from tb.scoreboard import current_test_name, reproduce_command

# ---- tl_axil_master.v command / response slots
CMD_W = 72
CMD_DATA, CMD_STRB, CMD_WRITE, CMD_ORDER, CMD_DELAY = 16, 48, 52, 53, 55
RSP_W = 35
RSP_DATA, RSP_TMO = 2, 34
#: AW/W order of a write: both at once, AW first, W first (tl_axil_master.v `order`)
ORDERS = {"together": 0, "aw_first": 1, "w_first": 2}
ADDR_BITS = 16       # AXI4-Lite address width of both ports (SPEC 2)
DELAY_BITS = 16
# ---- tl_axi_mem.v
CHANNELS = ("ar", "r", "aw", "w", "b")   # index order of bp_thr / bp_seed / every / hold
#: the channels the memory drives (R, B): their `go` gates a registered VALID, so Python
#: may set it between edges to start a new throttle or hold at the next edge with
#: AxiRam's phase. The READYs (AR, AW, W) are combinational of `go`: written between
#: edges, a falling-edge sampler would see the old READY and the DUT the new one, so
#: the HDL takes those up at the next edge (as AxiRam's sinks, which drive READY at the
#: edge).
SOURCES = 1 << CHANNELS.index("r") | 1 << CHANNELS.index("b")
ZONE_W = 72
EVERY_MAX = 255
# ---- files, relative to the simulator's working directory (the run folder)
REC_FILE = TL_REC_FILE
#: bytes asked of one read of the recorder file (TlMonitor.drain): a wake usually finds
#: a few lines; a read of 1 MiB cost 25 us of allocation at every wake, of 64 KiB 1.5 us
READ_CHUNK = 1 << 16
MEM_IN_FILE = TL_MEM_IN_FILE
MEM_PATCH_FILE = TL_MEM_PATCH_FILE
WORD = 8             # bytes per word of tl_axi_mem.v's storage (one line of its files)
MEM_OUT_FILE = TL_MEM_OUT_FILE
ALL_ONES_64 = (1 << 64) - 1
#: the recorder file is reopened empty once Python has read this much of it (at a wake,
#: with nothing left unread), so it stays bounded however long the run is
REC_ROTATE_BYTES = knobs.REC_ROTATE_BYTES
#: environment: another rotation threshold in bytes (tests rotate often to prove that
#: no line is lost), and "1" to keep a copy of every line drained (REC_TRACE_FILE) for
#: trace comparisons -- a whole-run file, so only on request
ROTATE_ENV = TL_ROTATE_ENV
TRACE_ENV = knobs.TL_TRACE_ENV
FAST_ENV = TL_FAST_ENV
#: "0": the status poller stays off (every wait_status step in Python, as before it);
#: the reference tests/test_sim.py compares the poller's traces with
POLLER_ENV = TL_POLLER_ENV
# ---- tb_dma_deleg_tl.v status poller: p_cfg fields, p_why values, p_phase values
P_CFG_W = 96
P_CFG_PORT, P_CFG_PERIOD, P_CFG_ADDR, P_CFG_MATCH, P_CFG_ROUNDS = 8, 16, 32, 48, 80
P_WHY_READ, P_WHY_END = 1, 2
P_WAITING = 1
P_RSP_W = 35
M32 = (1 << 32) - 1
REC_TRACE_FILE = "tl_trace.txt"
_NL, _SLASH, _AT = ord("\n"), ord("/"), ord("@")
#: the bytes that are hexadecimal digits (parse_dump)
_HEX = np.zeros(256, dtype=bool)
_HEX[np.frombuffer(b"0123456789abcdefABCDEF", dtype=np.uint8)] = True


class TlError(RuntimeError):
    """Bad input to, or a broken promise of, the transaction-level lane."""


def _where(tb: TlTB) -> str:
    """Test, edge and seed of an error, and how to reproduce it."""
    name = current_test_name() or "?"
    return (f"test {name}, edge {tb.now()}, run seed {SimContext.from_env().seed} "
            f"(test seed {tb.seed}); reproduce: {reproduce_command()}")


def pack(values: Iterable[int], width: int) -> int:
    """Fields of ``width`` bits, the first lowest: one packed vector of the HDL (queue
    slots, error zones, per-channel or per-slot registers), written in one VPI write."""
    out = 0
    for k, v in enumerate(values):
        out |= v << (k * width)
    return out


def parse_line(line: str, irq_host_mask: int) -> EdgeSample:
    """One recorder line (format in tb_dma_deleg_tl.v) -> the EdgeSample the VIP
    lane's EdgeMonitor would have produced for that edge."""
    return parse_tokens(line.split(), line, irq_host_mask)


def parse_tokens(t: list[str], line: str, irq_host_mask: int) -> EdgeSample:
    """parse_line on the line's tokens ``t`` (``line`` only names it in an error)."""
    edge = int(t[0], 16)
    irq = int(t[1], 16)
    s = EdgeSample(edge=edge, irq_loc=bool(irq & 1), irq_host=(irq >> 1) & irq_host_mask)
    i = 2
    n = len(t)
    dma = s.dma
    while i < n:
        k = t[i]
        if k == "W":
            dma.append(parsed_w(int(t[i + 1], 16), int(t[i + 2], 16), t[i + 3] == "1"))
            i += 4
        elif k == "R":
            dma.append(parsed_r(int(t[i + 1], 16), int(t[i + 2], 16), int(t[i + 3], 16),
                                t[i + 4] == "1"))
            i += 5
        elif k == "AP" or k == "WP":
            dma.append(parsed_req(ArPresent if k == "AP" else AwPresent, int(t[i + 1], 16),
                                  int(t[i + 2], 16), int(t[i + 3], 16), int(t[i + 4], 16),
                                  int(t[i + 5], 16)))
            i += 6
        elif k == "AH":
            dma.append(parsed_event(ArHs, id=int(t[i + 1], 16)))
            i += 2
        elif k == "WH":
            dma.append(parsed_event(AwHs, id=int(t[i + 1], 16)))
            i += 2
        elif k == "B":
            dma.append(parsed_event(BHs, id=int(t[i + 1], 16), resp=int(t[i + 2], 16)))
            i += 3
        else:
            port = "loc" if k[0] == "L" else "host"
            op = k[1:]
            if op == "W":
                acc = LiteAccess(write=True, addr=int(t[i + 1], 16), data=int(t[i + 2], 16),
                                 strb=int(t[i + 3], 16))
                i += 4
            elif op == "R":
                acc = LiteAccess(write=False, addr=int(t[i + 1], 16))
                i += 2
            elif op == "A":  # a read handshaken beside the executed write (EdgeSample.*_also)
                setattr(s, f"{port}_also", LiteAccess(write=False, addr=int(t[i + 1], 16)))
                i += 2
                continue
            elif op == "b":  # every B and R of the edge, B first (as EdgeMonitor)
                rsp = LiteResponse(edge, True, int(t[i + 1], 16))
                setattr(s, f"{port}_resp", (*getattr(s, f"{port}_resp"), rsp))
                i += 2
                continue
            elif op == "r":
                rsp = LiteResponse(edge, False, int(t[i + 1], 16), int(t[i + 2], 16))
                setattr(s, f"{port}_resp", (*getattr(s, f"{port}_resp"), rsp))
                i += 3
                continue
            else:
                raise TlError(f"recorder line not understood at token {i} ({k!r}): {line!r}")
            setattr(s, port, acc)
    return s


#: a beat run's item of an *event edge* -> its fields (the first its kind letter)
_GROUP_FIELDS = {"a": 6, "v": 9, "b": 2}


def group_events(f: list[str]) -> list[object] | None:
    """The events of a beat run's event-edge item split at ``:`` (``f``, the kind
    first), in the monitor's order (the order a per-edge line lists them): ``a`` an AR
    presented and handshaken, ``v`` an AW presented and handshaken with a W beat, ``b``
    a B with OKAY; None when ``f`` is none of these."""
    k = f[0]
    if _GROUP_FIELDS.get(k) != len(f):
        return None
    if k == "b":
        return [parsed_event(BHs, id=int(f[1], 16), resp=0)]
    i = int(f[1], 16)
    req = parsed_req(ArPresent if k == "a" else AwPresent, i, int(f[2], 16), int(f[3], 16),
                     int(f[4], 16), int(f[5], 16))
    if k == "a":
        return [req, parsed_event(ArHs, id=i)]
    return [req, parsed_event(AwHs, id=i), parsed_w(int(f[6], 16), int(f[7], 16), f[8] == "1")]


def run_items(t: list[str], line: str) -> list[RBeat | WBeat | list | None]:
    """The items of a beat-run line (``<edge> <irq> Z item...``, tb_dma_deleg_tl.v), one
    per edge from its first: the R beat (OKAY; ``l:`` with RLAST, ``r:`` without) or the
    W beat of that edge, None (no event: a VALID waiting, or the edge after a
    handshake), or the list of events of an event edge (``group_events``)."""
    out: list[RBeat | WBeat | list | None] = []
    add = out.append
    for tok in t[3:]:
        if tok == "s":
            add(None)
            continue
        f = tok.split(":")
        k = f[0]
        if len(f) == 3 and (k == "r" or k == "l"):
            add(parsed_r(int(f[1], 16), int(f[2], 16), 0, k == "l"))
        elif len(f) == 4 and k == "w":
            add(parsed_w(int(f[1], 16), int(f[2], 16), f[3] == "1"))
        else:
            evs = group_events(f)
            if evs is None:
                raise TlError(f"beat-run item not understood ({tok!r}): {line!r}")
            add(evs)
    if not out:
        raise TlError(f"beat run without items: {line!r}")
    return out


#: a piece of a beat run (``run_pieces``): (offset of its first edge, edges, what)
Piece = tuple[int, int, "BeatCols | list | None"]


def run_pieces(t: list[str]) -> list[Piece] | None:
    """The items of a beat-run line (``run_items``) as *pieces*, in edge order: each
    event edge (``group_events``) a piece of its own, with its events; every stretch of
    beat edges between them as columns (``BeatCols``: R beats of one ID, RLAST on the
    stretch's last edge only, a stretch ending there, or W beats), or None when the
    stretch is stalls only. None for the whole run when a stretch cannot be columns (R
    and W mixed, two IDs) or an item is malformed: then ``run_items`` builds, or
    refuses, the items one by one.

    Why: a copy burst is its AR edge, its R beats, its AW edge with the first W beat,
    its W beats, its B and the edge after it (the mover's pick), and the recorder writes
    all of them on one line; each piece goes to the model's event-driven path in one
    call (tb/scoreboard.py ``on_run``), not as one sample per edge."""
    toks = t[3:]
    out: list[Piece] = []
    s0 = 0                   # first edge of the open stretch
    offs: list[int] = []
    datas: list[int] = []
    kind = ""
    rid = ""
    strbs: list[int] = []
    lasts: list[bool] = []
    for i, tok in enumerate(toks):
        if tok == "s":
            continue
        k = tok[0]
        # (the fields unpacked: a malformed item raises ValueError, caught below, and
        # costs nothing when none is)
        if k == "r" or k == "l":
            try:
                _, r, d = tok.split(":")
            except ValueError:
                return None
            if kind == "w" or (rid and r != rid):
                return None
            kind, rid = "r", r
            offs.append(i - s0)
            datas.append(int(d, 16))
            if k == "l":   # the burst's read ends: the stretch too
                out.append((s0, i + 1 - s0, BeatCols("r", i + 1 - s0, offs, datas,
                                                     int(rid, 16), True)))
                s0, offs, datas, kind, rid = i + 1, [], [], "", ""
        elif k == "w" and kind != "r":
            try:
                _, d, st, la = tok.split(":")
            except ValueError:
                return None
            kind = "w"
            offs.append(i - s0)
            datas.append(int(d, 16))
            strbs.append(int(st, 16))
            lasts.append(la == "1")
        else:
            f = tok.split(":")
            evs = group_events(f)
            if evs is None:
                return None
            if i > s0:
                out.append(_stretch(s0, i - s0, kind, offs, datas, rid, strbs, lasts))
            out.append((i, 1, evs))
            s0, offs, datas, kind, rid, strbs, lasts = i + 1, [], [], "", "", [], []
    if len(toks) > s0:
        out.append(_stretch(s0, len(toks) - s0, kind, offs, datas, rid, strbs, lasts))
    return out


def _stretch(s0: int, n: int, kind: str, offs: list[int], datas: list[int], rid: str,
             strbs: list[int], lasts: list[bool]) -> Piece:
    """The piece of a stretch of ``n`` beat edges from ``s0`` (``run_pieces``)."""
    if not kind:
        return (s0, n, None)
    if kind == "r":
        return (s0, n, BeatCols("r", n, offs, datas, int(rid, 16), False))
    return (s0, n, BeatCols("w", n, offs, datas, 0, False, strbs, lasts))


def beat_line_item(t: list[str]) -> tuple[bool, RBeat | WBeat | None]:
    """A per-edge recorder line's tokens ``t``: (True, its beat) when it is a beat edge,
    the kind the recorder puts in a beat run (no event: None; one R beat with OKAY; one
    W beat); else (False, None)."""
    n = len(t)
    if n == 2:
        return True, None
    if n == 7 and t[2] == "R" and t[5] == "0":
        return True, parsed_r(int(t[3], 16), int(t[4], 16), 0, t[6] == "1")
    if n == 6 and t[2] == "W":
        return True, parsed_w(int(t[3], 16), int(t[4], 16), t[5] == "1")
    return False, None


def _dma_of(x: RBeat | WBeat | list | None) -> list:
    """The DMA events of a beat run's item (``run_items``), as its edge's sample holds
    them."""
    if x is None:
        return []
    return list(x) if type(x) is list else [x]


def parse_dump(raw: bytes, nwords: int, first: int = 0) -> bytes:
    """The words of a ``$writememh`` dump of tl_axi_mem.v (``MEM_OUT_FILE``) from word
    address ``first`` on, in memory order: one word per line, exactly ``2 * WORD`` hex
    digits (no blanks, lines ended by LF, as both simulators write them), most
    significant byte first; empty lines and lines starting ``//`` (Icarus writes an
    address comment every 16 words) are not words, nor is an ``@`` address line, which
    must name the address of the word after it (neither simulator writes one today: a
    dump that jumps is refused, never read as contiguous). ValueError, saying what and
    which word, unless there are exactly ``nwords`` words. In numpy, over the whole
    file at once: about 3 ms for a dump of 475 KB of memory (a 1 MB file), where a
    parse per line took 18-19 ms."""
    a = np.frombuffer(raw if raw.endswith(b"\n") else raw + b"\n", dtype=np.uint8)
    ends = np.flatnonzero(a == _NL)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lens = ends - starts
    nxt = np.minimum(starts + 1, a.size - 1)   # the second character (only read when lens > 1)
    at = (lens > 0) & (a[starts] == _AT)
    skip = (lens == 0) | at | ((lens > 1) & (a[starts] == _SLASH) & (a[nxt] == _SLASH))
    n = lens[~skip]
    if n.size != nwords:
        raise ValueError(f"{n.size} words, expected {nwords}")
    for i in np.flatnonzero(at).tolist():   # a handful at most: each checked in Python
        k = int(np.count_nonzero(~skip[:i]))   # the words before it
        text = a[starts[i] + 1:ends[i]].tobytes().decode("ascii", "replace")
        try:
            addr = int(text, 16)
        except ValueError:
            addr = -1
        if addr != first + k:
            raise ValueError(f"address line @{text} before word {k}: expected "
                             f"@{first + k:x} (the words are contiguous from {first:#x})")
    bad = np.flatnonzero(n != 2 * WORD)
    if bad.size:
        raise ValueError(f"word {int(bad[0])} has {int(n[bad[0]])} characters, not {2 * WORD}")
    # the words' lines, each with its newline: one row per word
    digits = a[np.repeat(~skip, lens + 1)].reshape(nwords, 2 * WORD + 1)[:, :2 * WORD]
    try:   # fromhex skips blanks: a word holding one gives fewer bytes
        words = bytes.fromhex(digits.tobytes().decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        words = b""
    if len(words) != nwords * WORD:
        bad = int(np.flatnonzero(~_HEX[digits].all(axis=1))[0])
        raise ValueError(f"word {bad} is not {2 * WORD} hexadecimal digits: "
                         f"{digits[bad].tobytes()!r}")
    return np.frombuffer(words, dtype=np.uint8).reshape(-1, WORD)[:, ::-1].tobytes()


def rewrite(path: str, chunks: Iterable[bytes]) -> None:
    """Make file ``path`` hold exactly ``chunks``, written over what it held, then cut to
    their length: no truncation to zero. Why: on ext4 (``auto_da_alloc``) a file
    truncated to zero and written again has its blocks allocated and written out when it
    is closed, as a replace-by-truncate is; a test's ``write_memory`` took about 2 ms
    that way where this takes tens of microseconds (README "What a file costs")."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        n = 0
        for c in chunks:
            view = memoryview(c)
            while view:
                k = os.pwrite(fd, view, n)
                n += k
                view = view[k:]
        os.ftruncate(fd, n)
    finally:
        os.close(fd)


def read_new(fd: int, chunk: int = READ_CHUNK) -> bytes:
    """Everything file ``fd`` holds beyond its position (a regular file's read comes
    back short only at its end). Why not ``readall``: it asks the size and the position
    and reads once more to find the end, four system calls at each wake where one
    usually does."""
    data = os.read(fd, chunk)
    if len(data) < chunk:
        return data
    parts = [data]
    while len(parts[-1]) == chunk:
        parts.append(os.read(fd, chunk))
    return b"".join(parts)


class LineFeeder:
    """Judges recorder lines: every line becomes an EdgeSample for every callback, but a
    *beat line* (one R beat with OKAY, its burst's last too; one W beat; or no event
    at all: a VALID waiting, or the edge after a handshake; ``beat_line_item``), at the
    interrupt levels of the line before, goes straight to the scoreboard's ``on_beats``
    when the scoreboard is the only reader (no trace recorder, no edge trace): no sample
    is built, and the model takes it through its event-driven path when it can, or as a
    full edge otherwise (tb/scoreboard.py). Inside a copy about three lines in four are beat
    lines. ``fast=False`` (DD_TL_FAST=0) feeds every line as a sample: the reference
    tests/test_bench_sim.py compares it with, line for line.

    The recorder writes consecutive beat edges, and the event edges of a burst between
    them (its AR; its AW with the first W beat; its B), as one *beat-run* line (``Z``):
    on the fast path the whole run goes to the scoreboard, as pieces (``run_pieces``:
    ``on_run``; stretches of beats as columns, no event object per beat, and each event
    edge as its events) when every stretch's beats are R beats of one burst or W
    beats, else as items to ``on_beats`` (its first edge as a full sample when the
    levels of the line before are unknown); otherwise each of its edges becomes the
    sample its own line would have given."""

    def __init__(self, irq_host_mask: int, fast: bool = True) -> None:
        self.mask = irq_host_mask
        self.fast = fast
        self.samples = 0       # lines judged (after the reset)
        self.lines = 0         # lines read
        self.fast_lines = 0    # of the samples, those fed to on_beats / on_run
        self._irq_tok: str | None = None   # irq token of the last line the scoreboard saw

    def feed(self, lines: Iterable[str], after: int, callbacks: list, sb) -> None:
        """Judge ``lines`` in order; lines of edges up to ``after`` are dropped."""
        mask = self.mask
        fast = self.fast and sb is not None and callbacks == [sb.on_edge]
        irq_tok = self._irq_tok
        for line in lines:
            self.lines += 1
            t = line.split()
            if len(t) > 2 and t[2] == "Z":
                e0 = int(t[0], 16)
                if len(t) == 4 and t[3] == "s":   # one edge, no event (after a B: the pick)
                    irq_tok = self._beats(e0, t[1], [None], after, callbacks, sb, fast, irq_tok)
                    continue
                # the run as pieces, where _beats would hand it to on_beats whole
                pieces = run_pieces(t) if fast and irq_tok == t[1] and e0 > after else None
                if pieces is not None:
                    irq = int(t[1], 16)
                    n = len(t) - 3
                    self.samples += n
                    self.fast_lines += n
                    sb.on_run(e0, bool(irq & 1), (irq >> 1) & mask, pieces,
                              lambda t=t, line=line: run_items(t, line))
                    continue
                irq_tok = self._beats(e0, t[1], run_items(t, line), after,
                                      callbacks, sb, fast, irq_tok)
                continue
            if fast:   # a beat edge on a line of its own: a run of one
                is_beat, x = beat_line_item(t)
                if is_beat:
                    irq_tok = self._beats(int(t[0], 16), t[1], [x], after, callbacks, sb,
                                          fast, irq_tok)
                    continue
            s = parse_tokens(t, line, mask)
            if s.edge <= after:
                irq_tok = None   # the scoreboard never saw this line's levels
                continue
            irq_tok = t[1]
            self.samples += 1
            for cb in callbacks:
                cb(s)
        self._irq_tok = irq_tok

    def _beats(self, e0: int, irq_s: str, xs: list, after: int, callbacks: list, sb,
               fast: bool, irq_tok: str | None) -> str | None:
        """Beat edges ``e0``, ``e0 + 1``, ... with beats ``xs`` at the levels ``irq_s``
        (a beat run, or one beat line); returns the irq token the scoreboard saw last."""
        if e0 <= after:   # edges before the reset: dropped, as their own lines would be
            xs = xs[after - e0 + 1:]
            e0 = after + 1
            irq_tok = None
            if not xs:
                return None
        irq = int(irq_s, 16)
        il, ih = bool(irq & 1), (irq >> 1) & self.mask
        self.samples += len(xs)
        if fast and irq_tok != irq_s:
            # the levels of the edge before are not the scoreboard's: the first edge is
            # judged as a full sample, as its own line would be
            x = xs.pop(0)
            sb.on_edge(EdgeSample(edge=e0, irq_loc=il, irq_host=ih, dma=_dma_of(x)))
            e0 += 1
        if fast:
            if xs:
                self.fast_lines += len(xs)
                sb.on_beats(e0, il, ih, xs)
            return irq_s
        for i, x in enumerate(xs):
            s = EdgeSample(edge=e0 + i, irq_loc=il, irq_host=ih, dma=_dma_of(x))
            for cb in callbacks:
                cb(s)
        return irq_s


class TlMonitor:
    """Feeds recorder lines to its callbacks as EdgeSamples (stands in for EdgeMonitor:
    the scoreboard, the trace recorder and the coverage subscribe the same way)."""

    #: the monitor of the running test: a new test's monitor closes the last one's files
    #: (a test that ends in an exception never reaches TB.finish, which closes them)
    _live: TlMonitor | None = None

    def __init__(self, tb: TlTB) -> None:
        if TlMonitor._live is not None:
            TlMonitor._live.close()
        TlMonitor._live = self
        self.tb = tb
        self._callbacks: list = []
        self._fh = None   # opened at the first drain: the HDL opens it at time 0
        self._pos = 0     # bytes of it read (its position)
        self._closed = False
        self._tail = b""
        self.after = ALL_ONES_64        # drop lines up to this edge (before the reset)
        #: DD_TL_FAST=0 feeds every line as a full sample (on_edge): the reference the
        #: beat path is compared with, and a debugging aid
        self.feeder = LineFeeder((1 << tb.params.num_func) - 1,
                                 fast=knobs.flag(FAST_ENV))
        self._t0 = tb.now()
        #: read position beyond which ``rotate`` truncates the file (tests lower it)
        self.rotate_bytes = knobs.rotate_bytes()
        self._copy = open(REC_TRACE_FILE, "ab") if knobs.flag(TRACE_ENV) else None  # noqa: SIM115
        self.rotations = 0
        self._h = tb.dut
        self._trunc_ack = int_reader(tb.dut.rec_trunc_ack)
        # a truncation an earlier test asked for may still be due at the next edge
        self._trunc_req = int(tb.dut.rec_trunc.value)
        self._trunc_due = self._trunc_req != self._trunc_ack()

    @property
    def samples(self) -> int:
        return self.feeder.samples

    @property
    def lines(self) -> int:
        return self.feeder.lines

    @property
    def fast_lines(self) -> int:
        return self.feeder.fast_lines

    @property
    def cycles_seen(self) -> int:
        return self.tb.now() - self._t0

    def add_callback(self, fn) -> None:
        if getattr(self.tb, "judge", None) is not None:
            raise TlError(f"add_callback after fork_judge: the samples are judged in the judge "
                          f"process, which would never call it ({_where(self.tb)})")
        self._callbacks.append(fn)

    def reset(self) -> None:
        """Nothing to forget: the recorder pairs write halves in HDL and clears them in
        reset; lines before the reset are dropped by edge (``after``)."""

    def drain(self) -> None:
        """Parse every line flushed so far and feed it, in edge order, to the callbacks."""
        if self._closed:
            return
        if self._fh is None:
            self._fh = open(REC_FILE, "rb", buffering=0)  # noqa: SIM115 - closed by finish
            if not self._trunc_due:
                # lines of earlier tests (dropped anyway)
                self._pos = self._fh.seek(0, os.SEEK_END)
        if self._trunc_due:
            if self._trunc_ack() != self._trunc_req & 0xFFFFFFFF:
                return   # no rising edge since the request: nothing new was written
            self._pos = self._fh.seek(0)   # the HDL reopened the file empty before its next line
            self._trunc_due = False
        data = read_new(self._fh.fileno())
        if not data:
            return
        self._pos += len(data)
        data = self._tail + data
        cut = data.rfind(b"\n") + 1
        self._tail = data[cut:]
        if self._copy is not None:
            self._copy.write(data[:cut])
        judge = getattr(self.tb, "judge", None)
        if judge is not None:   # judged in the forked process (tb/judge.py)
            self.tb.sb.compared += judge.lines(data[:cut])
            return
        self.feeder.feed(data[:cut].decode().splitlines(), self.after, self._callbacks,
                         getattr(self.tb, "sb", None))

    def rotate(self) -> None:
        """At a wake, after ``drain``: once the file holds ``rotate_bytes`` already read,
        ask the HDL to reopen it empty at the next rising edge (before that edge's line).

        Why only here: the wake flushed every line up to this falling edge and ``drain``
        consumed them (no partial line left), and the HDL writes lines only at rising
        edges, so the truncation cannot lose one. ``drain`` resumes from the start once
        ``rec_trunc_ack`` shows it happened."""
        if (self._closed or self._fh is None or self._trunc_due or self._tail
                or self._pos < self.rotate_bytes):
            return
        self._trunc_req += 1
        self._h.rec_trunc.value = self._trunc_req & 0xFFFFFFFF
        self._trunc_due = True
        self.rotations += 1

    def close(self) -> None:
        self._closed = True
        judge = getattr(self.tb, "judge", None)
        if judge is not None:
            judge.close()   # (again) a test that ended before its verdict: the child ends too
        if self._fh is not None:
            self._fh.close()
        if self._copy is not None:
            self._copy.close()
        if TlMonitor._live is self:
            TlMonitor._live = None


@dataclass(eq=False)
class _Wait:
    """An interrupt wait of TlTB: ``bit`` of irq_levels, ``end`` edge (ALL_ONES_64 for a
    poller slot's wait, whose end the HDL keeps), ``key``: its place among the waits a
    wake resolves (the reference resolves them in the order they started); ``slot``:
    the poller slot that runs it, if any, with its result once it stops."""

    bit: int
    end: int
    ev: Event
    key: tuple[int, int]
    slot: int | None = None
    port: str = ""
    result: tuple | None = None


@dataclass(frozen=True)
class Access:
    """One queued AXI4-Lite access of a transactor (see tl_axil_master.v)."""

    write: bool
    addr: int
    data: int = 0
    strb: int = 0xF
    order: str = "together"
    delay: int = 0

    def encode(self) -> int:
        return (self.addr | self.data << CMD_DATA | self.strb << CMD_STRB
                | int(self.write) << CMD_WRITE | ORDERS[self.order] << CMD_ORDER
                | self.delay << CMD_DELAY)


class TlPort:
    """Register access on one AXI4-Lite port through its HDL transactor.

    Same API as tb/env.py Port (read -> Rsp, write -> resp) plus ``run`` for a batch of
    accesses with AW/W order and issue delays. One Python wake per batch: the HDL
    wakes Python when a completion empties the queue (tb_dma_deleg_tl.v ``wake_now``);
    a wake for another reason collects the completions made so far.
    """

    def __init__(self, tb: TlTB, name: str, handle) -> None:
        self.tb = tb
        self.name = name
        self.h = handle
        self.depth = len(handle.cmdq) // CMD_W
        if len(handle.rspq) != self.depth * RSP_W:
            raise TlError(f"{name} transactor: {len(handle.rspq)}-bit response slots for "
                          f"{self.depth} x {RSP_W} bits: tb/tl.py and tl_axil_master.v differ")
        self._slots = [0] * self.depth
        self._read_rd = int_reader(handle.rd)
        self._read_rsp = reader(handle.rspq)
        self._write_cmdq = writer(handle.cmdq)
        self._write_wr = writer(handle.wr)
        self.pushed = int(handle.wr.value)
        self.completed = self._read_rd()
        if self.completed != self.pushed:
            raise TlError(f"{name} transactor has {self.pushed - self.completed} access(es) "
                          f"of an earlier test still queued ({_where(tb)})")
        self._lock = _PortLock()
        self._queued: deque[Access] = deque()   # pushed, not yet completed, in order
        self._results: dict[int, Rsp | str] = {}  # completed: response, or watchdog message
        self._ev = Event()                        # set by TlTB._dispatch on completions

    def locked(self) -> bool:
        """A task is running a batch on this port (``run``)."""
        return self._lock.locked()

    def check(self, acc: Access) -> None:
        """A malformed access is refused before anything reaches the HDL."""
        bad = None
        if not 0 <= acc.addr < 1 << ADDR_BITS:
            bad = f"address {acc.addr:#x} is outside the {ADDR_BITS}-bit AXI4-Lite space"
        elif not 0 <= acc.strb <= 0xF:
            bad = f"strb {acc.strb:#x} is not a 4-bit byte mask"
        elif not 0 <= acc.data < 1 << 32:
            bad = f"data {acc.data:#x} is not 32-bit"
        elif acc.order not in ORDERS:
            bad = f"order {acc.order!r} is not one of {', '.join(ORDERS)}"
        elif not 0 <= acc.delay < 1 << DELAY_BITS:
            bad = f"issue delay {acc.delay} is outside 0..{(1 << DELAY_BITS) - 1} cycles"
        if bad:
            raise TlError(f"malformed {self.name} access {acc}: {bad} ({_where(self.tb)})")

    def _push(self, acc: Access) -> None:
        self.check(acc)
        if self.pushed - self.completed >= self.depth:
            raise TlError(f"{self.name} transactor queue overflow: {self.depth} access(es) "
                          f"already queued ({_where(self.tb)})")
        self._slots[self.pushed % self.depth] = acc.encode()
        self._queued.append(acc)
        self.pushed += 1
        self._write_cmdq(pack(self._slots, CMD_W))
        self._write_wr(self.pushed & 0xFFFFFFFF)
        self.tb._ensure_dispatcher()

    def _collect(self) -> None:
        """Called by TlTB._dispatch at a wake: take the completions the HDL made."""
        rd = self._read_rd()
        if rd == self.completed & 0xFFFFFFFF:
            return
        bits = self._read_rsp()
        while self.completed & 0xFFFFFFFF != rd:
            k = self.completed
            r = bits >> ((k % self.depth) * RSP_W)
            acc = self._queued.popleft()
            self.completed += 1
            if r >> RSP_TMO & 1:
                self._results[k] = (f"{self.name} {acc}: no {'B' if acc.write else 'R'} "
                                    f"response from the DUT within the transactor's watchdog")
            else:
                self._results[k] = Rsp(r & 3, r >> RSP_DATA & 0xFFFFFFFF)
        self._ev.set()

    async def run(self, accesses: Iterable[Access]) -> list[Rsp]:
        """Queue accesses (at most the queue depth), wait for all of them; responses
        in order. A response that never comes ends in TlError (the HDL watchdog)."""
        accs = list(accesses)
        async with self._lock:
            if len(accs) > self.depth - (self.pushed - self.completed):
                raise TlError(f"{self.name} transactor queue overflow: {len(accs)} access(es) "
                              f"for {self.depth - (self.pushed - self.completed)} free slot(s) "
                              f"({_where(self.tb)})")
            first = self.pushed
            for a in accs:
                self._push(a)
            target = self.pushed
            while self.completed < target:
                self._ev.clear()
                await self._ev.wait()
            for k in [k for k in self._results if k < first]:
                del self._results[k]   # earlier pushes, never awaited: collected, dropped
            out: list[Rsp] = []
            for k in range(first, target):
                r = self._results.pop(k)
                if isinstance(r, str):
                    raise TlError(f"{r} ({_where(self.tb)})")
                out.append(r)
            return out

    async def read(self, addr: int) -> Rsp:
        """As tb/env.py Port.read: the address as given (AxiLiteMaster.read(addr, 4)
        presents it unaligned too), so both lanes put the same ARADDR on the bus."""
        return (await self.run([Access(False, addr)]))[0]

    async def write(self, addr: int, data: int, strb: int = 0xF, *, order: str = "together",
                    delay: int = 0) -> int:
        """As tb/env.py Port.write: contiguous strobes carry only their bytes at the
        address of the first (as cocotbext-axi's AxiLiteMaster.write sends them), other
        patterns the whole word at the aligned address, so both lanes drive the same
        AWADDR, WDATA and WSTRB."""
        return (await self.run([self.write_access(addr, data, strb, order=order,
                                                  delay=delay)]))[0].resp

    async def write_all(self, writes: Iterable[tuple[int, int]]) -> list[int]:
        """Full-word writes ``(addr, data)`` in order, queued in batches of the queue's
        depth (one Python wake per batch); their responses. The bus sees what one
        ``write`` after another gives (the transactor starts a queued access at the
        edge after the last one's response, where a write queued at that response's
        wake starts too), so both lanes drive the same edges (tb/env.py Port.write_all)."""
        accs = [self.write_access(a, d) for a, d in writes]
        out: list[int] = []
        for i in range(0, len(accs), self.depth):
            out += [r.resp for r in await self.run(accs[i:i + self.depth])]
        return out

    def write_access(self, addr: int, data: int, strb: int = 0xF, *, order: str = "together",
                     delay: int = 0) -> Access:
        """The queued access ``write`` makes of its arguments."""
        lanes = strobe_lanes(strb)
        data &= 0xFFFFFFFF
        a = addr & ~3
        if lanes is not None:
            mask = 0
            for i in lanes:
                mask |= 0xFF << (8 * i)
            data &= mask
            a += lanes[0]
        return Access(True, a, data, strb, order, delay)


class _PortLock:
    """TlPort's one-batch-at-a-time lock: a free lock is taken at once. Why not cocotb's
    Lock: taking it suspends the task and resumes it through the scheduler even when it
    is free (cocotb 2.1), one more task resume per access (2,769 in the Verilator
    ``register`` run's 3,073 wakes). Waiters are served in order, as cocotb's."""

    def __init__(self) -> None:
        self._held = False
        self._waiters: deque[Event] = deque()

    def locked(self) -> bool:
        return self._held

    async def __aenter__(self) -> None:
        if self._held:
            ev = Event()
            self._waiters.append(ev)
            try:
                await ev.wait()   # the releasing task handed the lock over: still held
            except BaseException:   # cancelled while waiting: never to hold it
                if ev.is_set():
                    self._release()   # it was handed over already: on to the next
                else:
                    self._waiters.remove(ev)
                raise
        self._held = True

    async def __aexit__(self, *exc) -> None:
        self._release()

    def _release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()
        else:
            self._held = False


class TlMem:
    """Bulk access to the HDL memory: ``write`` now (applied at the next rising edge,
    before that edge's beats), ``await read`` through a dump file.

    The HDL stores 64-bit words, and its files hold one word per line: the bytes a
    load covers whole go in ``tl_mem_in.hex`` (``@`` segments), the words a byte range
    covers in part (its ragged ends) as byte-masked words in ``tl_mem_patch.hex``, so
    the bytes beside them keep what the HDL memory holds (tl_axi_mem.v)."""

    def __init__(self, tb: TlTB, handle, size: int) -> None:
        self.tb = tb
        self.h = handle
        self.size = size
        self.patch_cap = int(handle.patch_cap.value)
        self._load_req = int(handle.load_req.value)
        self._load_done = int_reader(handle.load_done)
        # the bytes of the load not yet applied, over the whole memory, and which are set
        self._pend = np.zeros(0, dtype=np.uint8)
        self._pmask = np.zeros(0, dtype=bool)
        self._plo = self._phi = 0
        self._dump_req = int(handle.dump_req.value)
        self._dump_done = int_reader(handle.dump_done)
        self._ev = Event()   # set by TlTB._dispatch when the requested dump is written
        # a new TB starts from zeroed memory, as the VIP lane's new AxiRam does
        handle.clear_req.value = (int(handle.clear_req.value) + 1) & 0xFFFFFFFF

    def _range(self, lo: int, n: int) -> None:
        if lo < 0 or n < 0 or lo + n > self.size:
            raise TlError(f"memory range [{lo:#x}, {lo + n:#x}) is outside the "
                          f"{self.size:#x}-byte memory ({_where(self.tb)})")

    def dumped(self) -> bool:
        return self._dump_done() == self._dump_req & 0xFFFFFFFF

    def _collect(self) -> None:
        """Called by TlTB._dispatch at a wake."""
        if self.dumped():
            self._ev.set()

    def load_pending(self) -> bool:
        return self._load_done() != self._load_req

    def write(self, lo: int, data) -> None:
        arr = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) \
            else np.asarray(data, dtype=np.uint8)
        self._range(lo, arr.size)
        if arr.size == 0:
            return
        saved = (self._pend, self._pmask, self._plo, self._phi, self._load_req)
        if self._load_done() == self._load_req:   # the previous files were loaded
            self._pend = np.zeros(self.size, dtype=np.uint8)
            self._pmask = np.zeros(self.size, dtype=bool)
            self._plo, self._phi = self.size, 0
            self._load_req += 1
        hi = lo + arr.size
        old = (self._pend[lo:hi].copy(), self._pmask[lo:hi].copy())
        self._pend[lo:hi] = arr          # a later write of the same bytes wins
        self._pmask[lo:hi] = True
        self._plo, self._phi = min(self._plo, lo), max(self._phi, hi)
        try:
            what, npatch = self._write_files()
        except TlError:   # refused whole: the pending load stays as it was
            self._pend[lo:hi], self._pmask[lo:hi] = old
            self._pend, self._pmask, self._plo, self._phi, self._load_req = saved
            raise
        self.h.load_lo.value = self._plo
        self.h.load_hi.value = self._phi
        self.h.load_what.value = what
        self.h.load_npatch.value = npatch
        self.h.load_req.value = self._load_req

    def _write_files(self) -> tuple[int, int]:
        """The pending bytes as whole words and byte-masked words (tl_axi_mem.v);
        returns (load_what, load_npatch)."""
        w0 = self._plo // WORD
        w1 = -(-self._phi // WORD)
        m = self._pmask[w0 * WORD:w1 * WORD].reshape(-1, WORD)
        d = self._pend[w0 * WORD:w1 * WORD].reshape(-1, WORD)
        full = m.all(axis=1)
        part = np.flatnonzero(m.any(axis=1) & ~full)
        if part.size > self.patch_cap:
            raise TlError(f"one memory load writes {part.size} words in part (the ends of "
                          f"its byte ranges); the HDL memory takes {self.patch_cap} per "
                          f"load: write fewer separate ranges between two edges "
                          f"({_where(self.tb)})")
        what = 0
        idx = np.flatnonzero(full)
        if idx.size:
            what |= 1
            out = []
            for run in np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1):
                out.append(f"@{w0 + int(run[0]):x}\n".encode())
                words = d[run[0]:run[-1] + 1, ::-1]      # most significant byte first
                hexd = np.frombuffer(words.tobytes().hex().encode(), dtype=np.uint8)
                lines = np.empty((run.size, 2 * WORD + 1), dtype=np.uint8)
                lines[:, :2 * WORD] = hexd.reshape(-1, 2 * WORD)
                lines[:, 2 * WORD] = ord("\n")
                out.append(lines.tobytes())
            rewrite(MEM_IN_FILE, out)
        if part.size:
            what |= 2
            strb = np.packbits(m[part], axis=1, bitorder="little")[:, 0]
            rewrite(MEM_PATCH_FILE, [
                f"{w0 + i:08x}{s:02x}{int.from_bytes(d[i].tobytes(), 'little'):016x}\n".encode()
                for i, s in zip(part.tolist(), strb.tolist(), strict=True)])
        return what, int(part.size)

    async def read(self, lo: int, n: int) -> bytes:
        self._range(lo, n)
        if n == 0:
            return b""
        # the simulator writes the dump anew ($writememh opens it for writing): the last
        # one is removed first, so it creates a file, never truncates one (``rewrite``)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(MEM_OUT_FILE)
        self._dump_req += 1
        self.h.dump_lo.value = lo
        self.h.dump_hi.value = lo + n - 1
        self.h.dump_req.value = self._dump_req & 0xFFFFFFFF
        self.tb._ensure_dispatcher()
        while not self.dumped():
            self._ev.clear()
            await self._ev.wait()
        w0, w1 = lo // WORD, (lo + n - 1) // WORD
        try:
            words = parse_dump(Path(MEM_OUT_FILE).read_bytes(), w1 - w0 + 1, w0)
        except ValueError as exc:
            raise TlError(f"memory dump of [{lo:#x}, {lo + n:#x}) is not {w1 - w0 + 1} "
                          f"{8 * WORD}-bit words: {exc} ({_where(self.tb)})") from None
        return words[lo - w0 * WORD:lo - w0 * WORD + n]   # parse_dump gave them all


class TlFaults:
    """tb/faults.py MemFaults for the HDL memory: error zones and R/B latency."""

    def __init__(self, tb: TlTB, handle) -> None:
        self.tb = tb
        self.h = handle
        self.nzones = len(handle.zones) // ZONE_W
        self.faults: list[tuple[int, int, int, str]] = []
        self._inj0 = (int(handle.inj_r.value), int(handle.inj_b.value))
        self._proto0 = int(handle.inj_proto.value)
        self._write()

    def _write(self) -> None:
        self.h.zones.value = pack((lo | hi << 32 | resp << 64 | int("r" in on) << 66
                                   | int("w" in on) << 67 for lo, hi, resp, on in self.faults),
                                  ZONE_W)

    def add(self, lo: int, hi: int, resp: int, on: str = "rw") -> None:
        check_fault(resp, on)
        if not 0 <= lo < hi < 1 << 32:
            raise TlError(f"error zone [{lo:#x}, {hi:#x}) must be a non-empty range below 4 GiB "
                          f"({_where(self.tb)})")
        if len(self.faults) == self.nzones:
            raise TlError(f"the HDL memory holds {self.nzones} error zones; all are in use "
                          f"({_where(self.tb)})")
        self.faults.append((lo, hi, resp, on))
        self._write()

    def clear(self) -> None:
        self.faults.clear()
        self._write()

    @property
    def injected(self) -> dict[str, int]:
        out = {"r": int(self.h.inj_r.value) - self._inj0[0],
               "b": int(self.h.inj_b.value) - self._inj0[1]}
        proto = int(self.h.inj_proto.value)
        for k, kind in enumerate(PROTOCOL_FAULTS):
            out[kind] = ((proto >> (8 * k)) - (self._proto0 >> (8 * k))) & 0xFF
        return out

    def protocol(self, kind: str) -> None:
        """Arm one protocol fault of the HDL memory, as tb/faults.py MemFaults.protocol:
        "rid", "bid" or "rlast" (tl_axi_mem.v proto_req)."""
        if kind not in PROTOCOL_FAULTS:
            raise ValueError(f"protocol fault must be one of {PROTOCOL_FAULTS}, got {kind!r}")
        k = PROTOCOL_FAULTS.index(kind)
        req = int(self.h.proto_req.value)
        n = ((req >> (8 * k)) + 1) & 0xFF
        self.h.proto_req.value = (req & ~(0xFF << (8 * k))) | n << (8 * k)

    @property
    def read_latency(self) -> int:
        return int(self.h.lat_r.value)

    @read_latency.setter
    def read_latency(self, n: int) -> None:
        self.h.lat_r.value = n

    @property
    def write_latency(self) -> int:
        return int(self.h.lat_b.value)

    @write_latency.setter
    def write_latency(self, n: int) -> None:
        self.h.lat_b.value = n


class TlTB(TB):
    """TB of the transaction-level lane: same API and the same checkers as tb/env.py TB
    (model, scoreboard, quiesce timer, copy checker, coverage), HDL transactors below."""

    def __init__(self, dut, *, params: HwParams | None = None,
                 model_cls: type[HwModel] = HwModel) -> None:
        # not TB.__init__: that builds the cocotbext-axi models this lane replaces
        self._begin(dut, params, model_cls, ", lane tl")
        self._cycle = reader(dut.cycle)
        self._irq_word = int_reader(dut.irq_word)
        self.mem = TlMem(self, dut.mem, self.params.mem_size)
        self._faults = TlFaults(self, dut.mem)  # type: ignore[assignment]  # tb.faults
        self.set_backpressure(0.0)
        self._write_wake_at = writer(dut.wake_at)
        self._write_irq_wake = writer(dut.irq_wake)
        self._write_wake_at(ALL_ONES_64)
        self._wake_at = ALL_ONES_64
        self._any_trig = dut.wake_any.value_change
        self._sleepers: dict[int, Event] = {}   # wake edge -> waiters
        # interrupt waits (poll_irq, poller slots), resolved in the order they started
        self._irq_waits: list[_Wait] = []
        self._irq_wake = 0
        self._wait_seq = 0
        self._init_poller(dut)
        self._write_irq_wake(0)
        self._dispatcher = None
        self.wakes = 0   # HDL wake-ups the dispatcher served (wake_any changes)
        self.judge: ForkedJudge | None = None   # fork_judge
        self.mon = TlMonitor(self)
        self.loc = TlPort(self, "loc", dut.loc_m)
        self.host = TlPort(self, "host", dut.host_m)
        self._attach_checkers()   # the same model, scoreboard and checkers as the VIP lane

    # ------------------------------------------------------------ lifecycle
    def _new_model(self, mem: np.ndarray | None = None) -> HwModel:
        """The predictor of this lane: the event-driven beat path on (HwModel.fast_beats,
        tests/test_hw_fast.py shows it answers as the per-edge engine, which the vip lane
        keeps as the reference)."""
        m = super()._new_model(mem)
        m.fast_beats = True
        return m

    def now(self) -> int:
        return self._cycle()

    def irq_levels(self) -> int:
        """TB.irq_levels in one signal read (``irq_word`` of tb_dma_deleg_tl.v): the
        drivers' polls and every wake with an interrupt wait read it."""
        return self._irq_word()

    def drain(self) -> None:
        """Bring the scoreboard up to the recorder's last flushed edge."""
        self.mon.drain()

    async def reset(self, cycles: int = 4) -> None:
        """Synchronous reset, as TB.reset; the recorder's lines up to the last reset edge
        are dropped (they belong to the time before this model)."""
        if self.judge is not None:
            raise TlError(f"reset after fork_judge: the judge process's model has no way "
                          f"back to a reset state ({_where(self)})")
        self.dut.rst.value = 1
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)
        # (not at construction: Verilator applies the HDL initial values after time 0)
        mem_bytes = 1 << int(self.dut.mem_aw.value)
        if mem_bytes != self.params.mem_size:
            raise TlError(f"the HDL memory holds {mem_bytes:#x} bytes, the model "
                          f"{self.params.mem_size:#x} ({_where(self)})")
        last_reset_edge = self.now()
        self.mon.after = ALL_ONES_64
        self.drain()
        self.model = self._new_model(self.model.mem)
        if last_reset_edge > 0:
            self.model.edge(last_reset_edge)
        self.reset_edge = last_reset_edge
        self.mon.after = last_reset_edge
        self.sb.attach(self.model)

    async def cycles(self, n: int) -> None:
        """Wait n clock periods: one HDL wake-up (wake_at), however long. Concurrent
        waits share one waker task, so a wake resumes only the waits that are due."""
        if n <= 0:
            return
        target = self.now() + n
        ev = self._sleepers.get(target)
        if ev is None:
            ev = self._sleepers[target] = Event()
            self._arm()
        self._ensure_dispatcher()
        await ev.wait()

    async def tick(self) -> None:
        """TB.tick on this lane: the next falling edge through the HDL timer (wake_at),
        so the recorder is drained up to it too."""
        await self.cycles(1)

    async def poll_irq(self, line: int, period: int, polls: int) -> int:
        """TB.poll_irq, the same answer at the same edge, without a wake per period:
        while the line is low, the HDL wakes Python at the first falling edge that finds
        it high (``irq_wake``) or at the last poll; then the poll due at or after that
        edge reads the line as the reference does. While the line stays high (another
        channel's interrupt not yet cleared) this wakes once per period, as the
        reference."""
        check_poll_args(line, period, polls, self.params.num_func)
        return await self._poll_from(self.now(), 1 << line, period, polls)

    async def _poll_from(self, t0: int, bit: int, period: int, polls: int) -> int:
        """poll_irq of polls that started at edge ``t0`` (now or earlier)."""
        end = t0 + period * polls
        while True:
            if not self.irq_levels() & bit:
                ev = Event()
                self._irq_waits.append(_Wait(bit, end, ev, self._next_key()))
                self._arm()
                self._ensure_dispatcher()
                await ev.wait()
            t = self.now()
            k = max(1, -(-(t - t0) // period))   # the poll due at or after t
            if t0 + period * k > t:
                await self.cycles(t0 + period * k - t)
            if k >= polls or self.irq_levels() & bit:
                return k

    def _next_key(self) -> tuple[int, int]:
        self._wait_seq += 1
        return (self.now(), self._wait_seq)

    # ------------------------------------------------------------ status poller
    def _init_poller(self, dut) -> None:
        """The HDL status poller's slots (tb_dma_deleg_tl.v): a new TB cancels any an
        earlier test left."""
        self.poller_on = knobs.flag(POLLER_ENV)
        self.poller_waits = 0    # waits handed to the HDL
        self.poller_reads = 0    # status reads it injected and completed
        self.poller_stops = {"read": 0, "end": 0, "irq": 0}   # how its waits came back
        n = len(dut.p_arm) // 32
        self._p_arm = [int(dut.p_arm.value) >> (32 * k) & M32 for k in range(n)]
        self._p_at0 = [0] * n
        self._p_cfg = [0] * n
        self._p_free = list(range(n - 1, -1, -1))
        self._p_live: dict[int, _Wait] = {}
        self._p_cancel = [0] * n
        self._p_write = {"p_cancel": writer(dut.p_cancel), "p_at0": writer(dut.p_at0),
                         "p_cfg": writer(dut.p_cfg), "p_arm": writer(dut.p_arm)}
        self._cancel_slots(range(n))
        self._p_read = {name: reader(getattr(dut, name))
                        for name in ("p_ack", "p_why", "p_phase", "p_reads", "p_rsp", "p_t0")}
        # what was read of them, kept while p_gen stands (the HDL changed none of them)
        self._pv: dict[str, int] = {}
        self._p_gen = int_reader(dut.p_gen)
        self._p_gen_seen = -1

    def _cancel_slots(self, slots: Iterable[int]) -> None:
        """The HDL stops these slots (p_cancel = p_arm): no more reads, no more waits."""
        for s in slots:
            self._p_cancel[s] = self._p_arm[s]
        self._p_write["p_cancel"](pack(self._p_cancel, 32))

    def _pget(self, name: str) -> int:
        v = self._pv.get(name)
        if v is None:
            v = self._pv[name] = self._p_read[name]()
        return v

    def _acked(self, s: int) -> bool:
        return self._pget("p_ack") >> (32 * s) & M32 == self._p_arm[s]

    async def _status_step(self, port, addr: int, line: int, period: int, n: int, m: int,
                           n_limit: int, running: int) -> tuple[int, Rsp | None]:
        """TB._status_step, the same reads at the same edges. When the wait ends in a
        forced read (the eighth poll), the port is idle and a slot is free, the HDL runs
        it: at the wait's last edge it injects the status read (if nothing else wakes
        Python there, so nothing else could have gone first), and while the status
        says "running" it starts the next wait of eight polls itself (if nothing wakes
        Python at that edge either), for as many rounds as the timeout leaves. Python is
        woken when a read ends it, when an end edge needs Python, or when the line goes
        high during a wait (Python then takes that wait over from its start)."""
        bit = 1 << line
        if not (self.poller_on and (n + m) % 8 == 7 and self._p_free
                and period < 1 << 16 and 0 <= addr < 1 << ADDR_BITS and 0 <= running < 1 << 32
                and port.pushed == port.completed and not port.locked()
                and not self.irq_levels() & bit):
            return await super()._status_step(port, addr, line, period, n, m, n_limit, running)
        s = self._p_free.pop()
        t0 = self.now()
        rounds = min((n_limit - n - m) // 8, 0xFFFE)   # p_reads (16 bits) counts rounds + 1
        self._p_arm[s] = (self._p_arm[s] + 1) & M32
        self._p_at0[s] = t0 + period * m
        self._p_cfg[s] = (line | int(port is self.host) << P_CFG_PORT | period << P_CFG_PERIOD
                          | addr << P_CFG_ADDR | running << P_CFG_MATCH | rounds << P_CFG_ROUNDS)
        put = self._p_write
        put["p_at0"](pack(self._p_at0, 64))
        put["p_cfg"](pack(self._p_cfg, P_CFG_W))
        put["p_arm"](pack(self._p_arm, 32))
        w = _Wait(bit, ALL_ONES_64, Event(), self._next_key(), s, port.name)
        self._p_live[s] = w
        self._irq_waits.append(w)
        self.poller_waits += 1
        self._arm()
        self._ensure_dispatcher()
        await w.ev.wait()
        self._p_free.append(s)
        kind, reads, t_last, rsp = w.result
        self.poller_reads += reads
        self.poller_stops[kind] += 1
        done = m + 8 * (reads - 1) if reads else 0   # polls up to the last read
        if kind == "read":      # the last read injected ended it: its status decides
            if rsp >> 34 & 1:
                raise TlError(f"{port.name} status read {addr:#06x} of the poller: no R "
                              f"response from the DUT within the transactor's watchdog "
                              f"({_where(self)})")
            return n + done, Rsp(rsp >> 32 & 3, rsp & 0xFFFFFFFF)
        if kind == "end":       # the wait after the last read ran out: the forced read
            return n + done + (m if reads == 0 else 8), await port.read(addr)
        # the line went high in the wait after the last read (started at t_last, or at
        # t0 before any): the rest of that wait as poll_irq, then the read if due
        k = await self._poll_from(t0 if reads == 0 else t_last, bit, period, m if reads == 0 else 8)
        n += done + k
        if self.irq_levels() & bit or n % 8 == 7:
            return n, await port.read(addr)
        return n, None

    def _slot_done(self, w: _Wait, kind: str) -> None:
        s = w.slot
        w.result = (kind, self._pget("p_reads") >> (16 * s) & 0xFFFF,
                    self._pget("p_t0") >> (64 * s) & ALL_ONES_64,
                    self._pget("p_rsp") >> (P_RSP_W * s) & ((1 << P_RSP_W) - 1))
        del self._p_live[s]
        w.ev.set()

    def _poller_reads_done(self, port: str) -> None:
        """At a wake, right after ``port``'s completions: the slot waits of that port
        that a status read ended resume here, where the reference's read completion
        resumes its driver."""
        for s, w in list(self._p_live.items()):
            if w.port == port and self._acked(s) and self._pget("p_why") >> (2 * s) & 3 == P_WHY_READ:
                self._irq_waits.remove(w)
                self._slot_done(w, "read")

    def _resolve_waits(self, now: int, levels: int) -> None:
        """The interrupt waits' turn at a wake, in the order they started (a wait the
        poller started after a read started at that read's edge, where Python was not
        woken, so no other wait started there but the other port's chained one)."""
        if self._p_live:
            reads, t0s = self._pget("p_reads"), self._pget("p_t0")
            for s, w in self._p_live.items():
                if reads >> (16 * s) & 0xFFFF:
                    w.key = (t0s >> (64 * s) & ALL_ONES_64, -2 if w.port == "loc" else -1)
            self._irq_waits.sort(key=lambda w: w.key)
        keep = []
        for w in self._irq_waits:
            s = w.slot
            if s is None:
                if levels & w.bit or now >= w.end:
                    w.ev.set()
                else:
                    keep.append(w)
            elif self._acked(s):
                self._slot_done(w, "end")   # (a read's stop went out after its port)
            elif levels & w.bit and self._pget("p_phase") >> (2 * s) & 3 == P_WAITING:
                # the line is high while the slot waits: Python takes the wait over
                self._cancel_slots([s])
                self._slot_done(w, "irq")
            else:
                keep.append(w)
        self._irq_waits = keep

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None:
            self._dispatcher = cocotb.start_soon(self._dispatch())

    async def _dispatch(self) -> None:
        """The one task the HDL wakes (wake_any): drain the recorder, then resume the
        waiting tasks in a fixed order (local port, host port, memory dump, timers by
        edge), never in the simulator's callback order."""
        while True:
            await self._any_trig
            self.wakes += 1
            self.drain()
            if self.judge is not None:
                self.judge.poll()
            self.mon.rotate()
            # the poller's vectors as read at an earlier wake stay valid while p_gen
            # stands; with no slot live nothing reads them, and they are read anew
            gen = self._p_gen() if self._p_live else -1
            if gen < 0 or gen != self._p_gen_seen:
                self._pv.clear()
                self._p_gen_seen = gen
            self.loc._collect()
            if self._p_live:
                self._poller_reads_done("loc")
            self.host._collect()
            if self._p_live:
                self._poller_reads_done("host")
            self.mem._collect()
            now = self.now()
            for t in sorted(t for t in self._sleepers if t <= now):
                self._sleepers.pop(t).set()
            if self._irq_waits:
                self._resolve_waits(now, self.irq_levels())
            self._arm()

    def _arm(self) -> None:
        at = min(self._sleepers) if self._sleepers else ALL_ONES_64
        mask = 0
        for w in self._irq_waits:   # (a poller slot's end is the HDL's: end = all ones)
            mask |= w.bit
            at = min(at, w.end)
        if at != self._wake_at:
            self._wake_at = at
            self._write_wake_at(at)
        if mask != self._irq_wake:
            self._irq_wake = mask
            self._write_irq_wake(mask)

    # ------------------------------------------------------------ memory and bus
    def set_backpressure(self, level: float, rng: random.Random | None = None) -> None:
        """Random stalls on every memory channel (0 = none); draws from `rng` (default
        tb.rng) exactly as the VIP lane does, and clears throttles and holds as it does."""
        rng = rng or self.rng
        h = self.dut.mem
        thr = min(0xFFFF, round(level * 0x10000)) if level > 0 else 0
        if level > 0:
            seeds = [rng.getrandbits(32) for _ in CHANNELS]
            h.bp_seed.value = pack(seeds, 32)
            h.bp_load.value = (int(h.bp_load.value) + 1) & 0xFFFFFFFF
        h.bp_thr.value = pack([thr] * len(CHANNELS), 16)
        h.every.value = 0
        h.hold.value = 0
        if level <= 0:   # as AxiRam, whose R and B move from the next edge on
            h.go.value = int(h.go.value) | SOURCES

    def _chan(self, ch: str) -> int:
        if ch not in CHANNELS:
            raise TlError(f"memory channel {ch!r} is not one of {', '.join(CHANNELS)} "
                          f"({_where(self)})")
        return CHANNELS.index(ch)

    def stall_every(self, ch: str, n: int) -> None:
        """Channel `ch` moves one cycle in n (replaces its random stalls)."""
        k = self._chan(ch)
        if not 1 <= n <= EVERY_MAX:
            raise TlError(f"stall_every: n={n} is outside 1..{EVERY_MAX} ({_where(self)})")
        h = self.dut.mem
        h.every.value = (int(h.every.value) & ~(0xFF << (8 * k))) | n << (8 * k)
        h.bp_thr.value = int(h.bp_thr.value) & ~(0xFFFF << (16 * k))
        h.hold.value = int(h.hold.value) & ~(1 << k)
        if SOURCES >> k & 1:
            # the count starts now, as the VIP lane's pause generator (tb/env.py _every):
            # the channel moves at the n-th edge from now and every n-th one after
            h.ecnt.value = (int(h.ecnt.value) & ~(0xFF << (8 * k))) | (1 % n) << (8 * k)
            h.go.value = (int(h.go.value) & ~(1 << k)) | int(n == 1) << k

    def hold(self, ch: str, on: bool) -> None:
        """Stop channel `ch` until released (release: no stalls on it at all)."""
        k = self._chan(ch)
        h = self.dut.mem
        h.hold.value = (int(h.hold.value) & ~(1 << k)) | int(on) << k
        h.every.value = int(h.every.value) & ~(0xFF << (8 * k))
        h.bp_thr.value = int(h.bp_thr.value) & ~(0xFFFF << (16 * k))
        if SOURCES >> k & 1:   # from the next edge on, as the VIP lane's pause
            h.go.value = (int(h.go.value) & ~(1 << k)) | int(not on) << k

    def write_memory(self, lo: int, data: np.ndarray) -> None:
        # the scoreboard first catches up with the recorder (complete up to this wake's
        # edge): the model's image must change at the same edge as the HDL memory, not
        # under the feet of edges it has yet to judge (an element rewritten mid-run)
        self.drain()
        data = np.asarray(data, dtype=np.uint8)
        self.mem.write(lo, data)
        self._model_memory(lo, data.tobytes())

    def _model_memory(self, lo: int, data: bytes) -> None:
        """The model's side of a memory write (``write_memory``, ``adopt_ram``): sent to
        the judge process when there is one (which applies it here, its copy of the TB
        having no judge)."""
        if self.judge is not None:
            self.judge.control("mem", lo, data)
            return
        self.model.mem[lo:lo + len(data)] = np.frombuffer(data, dtype=np.uint8)
        self.copies.memory_written(lo, lo + len(data))

    async def adopt_ram(self, lo: int, hi: int) -> None:  # type: ignore[override]
        """TB.adopt_ram, awaited here: the bytes come from an HDL memory dump."""
        self._model_memory(lo, bytes(await self.mem.read(lo, hi - lo)))

    def fork_judge(self) -> bool:
        """With DD_TL_JUDGE=fork: judge the rest of the test in a forked process
        (tb/judge.py), from here on (call it after the set-up, before the traffic);
        otherwise nothing. True when the judge process runs."""
        if self.judge is not None:
            raise TlError(f"fork_judge: the judge process already runs ({_where(self)})")
        if tl_judge() != "fork":
            return False
        if self.edge_trace is not None or self.mon._callbacks != [self.sb.on_edge]:
            raise TlError(f"fork_judge: another reader of the samples (an edge trace or a "
                          f"trace recorder) would see nothing in this process ({_where(self)})")
        self.drain()
        self.judge = ForkedJudge(self)
        self.log.info("%s %d on in process %d (%s=fork, tb/judge.py)",
                      FORKED_LINE, self.now(), self.judge.pid, TL_JUDGE_ENV)
        self.model = _NoModel(self)  # type: ignore[assignment]
        judge = self.judge
        self.timer._rtl_done = lambda g, e: judge.control("rtl_done", g, e)
        sb = self.sb

        def expect_unsafe(g: int, count: int = 1) -> None:
            if count < 1:   # refused here, where the test made the call, as inline
                raise ValueError(f"count must be >= 1, got {count}")
            judge.control("unsafe", g, count)
        sb.expect_unsafe = expect_unsafe  # type: ignore[method-assign]
        # an observer added now would never be called: the child has the observers
        sb.observers = _Closed(self, "tb.sb.observers")
        sb.beat_observers = _Closed(self, "tb.sb.beat_observers")
        return True

    def bus_snapshot(self) -> str:
        if self.judge is None:
            return super().bus_snapshot()
        return f"edge {self.now()}: {self._bus_signals()}; model: in the judge process"

    async def _judge_verdict(self) -> None:
        """finish's judging with the judge process, in inline's order: the coverage and
        the quiesce timer's end checks at this edge, the memory image, the HDL checkers,
        then the verdict, taken into this process's scoreboard and judged as inline."""
        self.drain()
        judge = self.judge
        judge.control("finalize", self.now())
        img = await self.image()
        self.drain()
        self.checkers.check()
        v = judge.verdict(self.now(), img.tobytes())
        sb = self.sb
        # in edge order, as one scoreboard would have found them (this process's own,
        # the HDL checkers', first at an edge: they are reported as the edge happens)
        sb.mismatches = sorted(sb.mismatches + v["mismatches"], key=lambda mm: mm.edge)
        sb.errors += v["errors"] - judge.child_errors   # (the rest came with the wakes)
        sb.compared = v["compared"]
        self.mon.feeder.samples = v["samples"]
        self.mon.feeder.fast_lines = v["fast_lines"]
        self.copies.verified, self.copies.skipped, self.copies.aborted = v["copies"]
        sb.check(v["undrained"])

    async def image(self) -> np.ndarray:
        """The whole HDL memory; only its watermark [wm_lo, wm_hi) (every byte loaded or
        written since the clear; the rest is 0) crosses the boundary."""
        h = self.dut.mem
        if self.mem.load_pending():
            await self.cycles(1)   # the load (and its watermark) applies at the next edge
        lo, hi = int(h.wm_lo.value), int(h.wm_hi.value)
        img = np.zeros(self.params.mem_size, dtype=np.uint8)
        if lo < hi:
            img[lo:hi] = np.frombuffer(await self.mem.read(lo, hi - lo), dtype=np.uint8)
        return img

    async def check_memory(self) -> None:  # type: ignore[override]
        """HDL memory must equal the model's memory image byte for byte."""
        self.compare_memory(await self.image(), self.now())

    async def finish(self) -> None:
        """End of test, as TB.finish: drain, then require a clean scoreboard; ends at
        the same edge as TB.finish (FINISH_TAIL covers the memory dump)."""
        end = self.now() + FINISH_DRAIN + FINISH_TAIL
        await self.cycles(FINISH_DRAIN)
        for p in (self.loc, self.host):
            if p.pushed != p.completed:
                raise TlError(f"{p.name} transactor: {p.pushed - p.completed} access(es) "
                              f"never awaited ({_where(self)})")
        if self.judge is not None:
            await self._judge_verdict()
        else:
            self.cov.export()
            self.timer.finalize()
            await self.check_memory()
            self.checkers.check()
            if self.edge_trace is not None:
                self.edge_trace.close()
            self.sb.check()
        self.log.info("scoreboard clean: %d responses compared over %d sampled edges "
                      "(%d cycles; %d lines through the beat path)", self.sb.compared,
                      self.mon.samples, self.mon.cycles_seen, self.mon.fast_lines)
        c = self.copies
        self.log.info("copy checker: %d verified, %d skipped, %d not completed",
                      c.verified, c.skipped, c.aborted)
        self.log.info("status poller: %d wait(s) run in HDL (back after a read %d, at an "
                      "end edge %d, taken over %d), %d status read(s) injected",
                      self.poller_waits, *self.poller_stops.values(), self.poller_reads)
        if self.now() < end:
            await self.cycles(end - self.now())
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            self._dispatcher = None
        if self._p_live:   # a wait left running stops here, as Python's own stops
            self._cancel_slots(self._p_live)   # with the dispatcher
        self.mon.close()


class _NoModel:
    """``tb.model`` after ``fork_judge``: the model lives in the judge process."""

    def __init__(self, tb: TlTB) -> None:
        self._tb = tb

    def __getattr__(self, name: str):
        raise TlError(f"tb.model.{name}: after fork_judge the model runs in the judge "
                      f"process (tb/judge.py), not here; {TL_JUDGE_ENV}=inline keeps it "
                      f"in the test's process ({_where(self._tb)})")


class _Closed(list):
    """The parent's scoreboard observer lists after ``fork_judge``: adding is an error."""

    def __init__(self, tb: TlTB, what: str) -> None:
        super().__init__()
        self._tb, self._what = tb, what

    def _refuse(self, *_a) -> None:
        raise TlError(f"{self._what}: after fork_judge the scoreboard runs in the judge "
                      f"process, which would never call an observer added here; add it "
                      f"before fork_judge ({_where(self._tb)})")

    append = extend = insert = __iadd__ = _refuse  # type: ignore[assignment]


def new_tb(dut, **kw) -> TB:
    """The TB of this run's lane (DD_LANE, set by tb/runner.py): TB or TlTB."""
    lane = SimContext.from_env().lane
    return TlTB(dut, **kw) if lane == "tl" else TB(dut, **kw)


__all__ = ["Access", "LineFeeder", "TlError", "TlTB", "new_tb", "parse_line"]
