"""Testbench helpers that run without a simulator: a wait that runs out must fail loudly.

`tb.test_directed.until` used to return silently when its condition never held, so the
asserts after it judged the wrong moment; these tests pin that it raises, with what it
waited for, how long, the edge, the seed and the reproduce command.
"""

from __future__ import annotations

import asyncio

import pytest

from tb.test_directed import until


class FakeTB:
    """The part of tb.env.TB that until() uses: time advances only through cycles()."""

    seed = 42

    def __init__(self) -> None:
        self.t = 0

    async def cycles(self, n: int) -> None:
        self.t += n

    def now(self) -> int:
        return self.t


def test_until_returns_the_cycles_waited() -> None:
    tb = FakeTB()
    assert asyncio.run(until(tb, lambda: tb.t >= 12, "t reaches 12", cycles=100, step=4)) == 12
    assert asyncio.run(until(tb, lambda: True, "already true")) == 0


def test_until_awaits_an_async_condition() -> None:
    tb = FakeTB()

    async def cond() -> bool:
        return tb.t >= 8

    assert asyncio.run(until(tb, cond, "async condition", cycles=100, step=8)) == 8


def test_until_raises_with_what_cycles_edge_seed_and_reproduce() -> None:
    """(the reproduce command carries the knobs set in the environment first, e.g.
    DD_SIM_TIMEOUT= for a slow machine: the check allows them)"""
    tb = FakeTB()
    with pytest.raises(TimeoutError, match=r"until: irq_loc high not true after 40 cycles "
                                           r"\(edge 40, seed 42\); reproduce: "
                                           r"([A-Z][A-Z0-9_]*=\S+ )*make sim "):
        asyncio.run(until(tb, lambda: False, "irq_loc high", cycles=40, step=4))


@pytest.mark.parametrize(("cycles", "step"), [(10, 0), (10, -1), (-1, 4)])
def test_until_rejects_bad_arguments(cycles: int, step: int) -> None:
    with pytest.raises(ValueError, match="until: step"):
        asyncio.run(until(FakeTB(), lambda: True, "x", cycles=cycles, step=step))


# ---------------------------------------------------------------- edge-sample lines
# Both lanes write the samples their scoreboard judges in one line format (the tl
# recorder's): the lane-equivalence test compares them, so the format must lose nothing.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from model.hw import ArHs, ArPresent, AwHs, AwPresent, BHs, LiteAccess, RBeat, WBeat  # noqa: E402
from tb.monitor import EdgeSample, LiteResponse, format_sample  # noqa: E402
from tb.tl import parse_line  # noqa: E402

_u = st.integers
_acc_w = st.builds(LiteAccess, write=st.just(True), addr=_u(0, 0xFFFF), data=_u(0, 2**32 - 1),
                   strb=_u(0, 15))
_acc_r = st.builds(LiteAccess, write=st.just(False), addr=_u(0, 0xFFFF))
_dma = st.one_of(
    st.builds(ArPresent, id=_u(0, 15), addr=_u(0, 2**64 - 1), len=_u(0, 255), user=_u(0, 15),
              size=_u(0, 7)),
    st.builds(AwPresent, id=_u(0, 15), addr=_u(0, 2**64 - 1), len=_u(0, 255), user=_u(0, 15),
              size=_u(0, 7)),
    st.builds(ArHs, id=_u(0, 15)), st.builds(AwHs, id=_u(0, 15)),
    st.builds(RBeat, id=_u(0, 15), data=_u(0, 2**64 - 1), resp=_u(0, 3), last=st.booleans()),
    st.builds(WBeat, data=_u(0, 2**64 - 1), strb=_u(0, 255), last=st.booleans()),
    st.builds(BHs, id=_u(0, 15), resp=_u(0, 3)))


@st.composite
def _samples(draw) -> EdgeSample:
    edge = draw(_u(1, 2**40))
    s = EdgeSample(edge=edge, irq_loc=draw(st.booleans()), irq_host=draw(_u(0, 3)),
                   dma=draw(st.lists(_dma, max_size=7)))
    for port in ("loc", "host"):
        acc = draw(st.one_of(st.none(), _acc_w, _acc_r))
        setattr(s, port, acc)
        if acc is not None and acc.write:   # a read beside an executed write
            setattr(s, f"{port}_also", draw(st.one_of(st.none(), _acc_r)))
        rsps = draw(st.lists(st.builds(LiteResponse, edge=st.just(edge), write=st.booleans(),
                                       resp=_u(0, 3), data=_u(0, 2**32 - 1)), max_size=2))
        rsps.sort(key=lambda r: not r.write)   # B before R, as the monitor and recorder
        setattr(s, f"{port}_resp", tuple(LiteResponse(r.edge, r.write, r.resp,
                                                      0 if r.write else r.data) for r in rsps))
    return s


@settings(max_examples=300, deadline=None)
@given(_samples())
def test_format_sample_round_trips_through_the_recorder_parser(s: EdgeSample) -> None:
    line = format_sample(s)
    assert parse_line(line, 3) == s
    assert format_sample(parse_line(line, 3)) == line


def test_format_sample_rejects_an_unknown_event() -> None:
    with pytest.raises(TypeError, match="not a DMA event"):
        format_sample(EdgeSample(edge=1, dma=["bogus"]))


def test_run_pieces_are_the_run_items() -> None:
    """A beat run as pieces (tb/tl.py run_pieces) holds exactly what its items hold:
    stretches of beats as columns (R beats with OKAY, W beats, stalls at their
    offsets; an R stretch ends with RLAST), stalls alone as None, each event edge (AR,
    AW with a W beat, B) as its events in the monitor's order; runs whose stretches
    cannot be columns (R and W mixed, two IDs) give None, so they go item by item; a
    malformed item gives None here and a clear error from run_items."""
    from model.hw import ArHs, ArPresent, AwHs, AwPresent, BHs, WBeat
    from tb.tl import TlError, run_items, run_pieces

    def both(line: str):
        t = line.split()
        return run_pieces(t), run_items(t, line)

    def expand(pieces, n):
        """The items the pieces stand for (None for a stall)."""
        out = [None] * n
        for off, k, p in pieces:
            if type(p) is list:
                assert k == 1
                out[off] = p
            elif p is not None:
                assert p.n == k
                for j, o in enumerate(p.offs):
                    out[off + o] = (p.kind, p.datas[j], p.rid if p.kind == "r" else
                                    (p.strbs[j], p.lasts[j]))
        return out

    def same(pieces, xs):
        for a, x in zip(expand(pieces, len(xs)), xs, strict=True):
            if x is None or type(x) is list:
                assert a == x
            elif type(x) is WBeat:
                assert a == ("w", x.data, (x.strb, x.last))
            else:
                assert a == ("r", x.data, x.id) and x.resp == 0

    ps, xs = both("10 0 Z s r:8:5 r:8:ff s l:8:1")
    assert ps is not None and len(ps) == 1 and ps[0][:2] == (0, 5) and len(xs) == 5
    cols = ps[0][2]
    assert cols.kind == "r" and cols.offs == [1, 2, 4] and cols.rlast and cols.rid == 8
    same(ps, xs)
    ps, xs = both("10 0 Z w:5:ff:0 s w:7:f:1")
    assert ps is not None and ps[0][2].kind == "w" and (ps[0][2].n, ps[0][2].offs) == (3, [0, 2])
    assert (ps[0][2].datas, ps[0][2].strbs, ps[0][2].lasts) == ([5, 7], [0xFF, 0xF], [False, True])
    same(ps, xs)
    # a whole burst: pick, AR, R beats, AW with the first W beat, W beats, B, pick
    line = ("10 0 Z s a:8:1000:1:2:3 s r:8:5 l:8:6 v:8:2000:1:2:3:5:ff:0 s w:6:ff:1 b:8 s s")
    ps, xs = both(line)
    assert ps is not None and [(o, k) for o, k, _ in ps] == [
        (0, 1), (1, 1), (2, 3), (5, 1), (6, 2), (8, 1), (9, 2)]
    assert ps[0][2] is None and ps[6][2] is None and ps[2][2].rlast
    a, v, b = ps[1][2], ps[3][2], ps[5][2]
    assert [type(x) for x in a] == [ArPresent, ArHs] and (a[0].id, a[0].addr, a[0].len,
                                                          a[0].user, a[0].size) == (8, 0x1000, 1, 2, 3)
    assert [type(x) for x in v] == [AwPresent, AwHs, WBeat] and v[2].data == 5 and not v[2].last
    assert [type(x) for x in b] == [BHs] and (b[0].id, b[0].resp) == (8, 0)
    same(ps, xs)
    # RLAST ends a stretch: beats after it start another
    ps, xs = both("10 0 Z l:8:5 s")
    assert ps is not None and [(o, k) for o, k, _ in ps] == [(0, 1), (1, 1)] and ps[1][2] is None
    same(ps, xs)
    for line in ("10 0 Z r:8:5 w:5:ff:0", "10 0 Z w:5:ff:0 r:8:5", "10 0 Z r:8:5 r:9:5"):
        assert run_pieces(line.split()) is None and len(run_items(line.split(), line)) == 2
    for line in ("10 0 Z r:8", "10 0 Z b:8:0", "10 0 Z a:8:1000:1:2", "10 0 Z q:1",
                 "10 0 Z v:8:2000:1:2:3:5:ff"):
        assert run_pieces(line.split()) is None, line
        with pytest.raises(TlError, match="not understood"):
            run_items(line.split(), line)


def test_read_new_reads_to_the_end_in_chunks(tmp_path) -> None:
    """tb/tl.py read_new (the recorder drain): everything past the position, whether it
    is shorter than a chunk, exactly a chunk or several, or nothing."""
    import os

    from tb.tl import read_new

    f = tmp_path / "rec.txt"
    f.write_bytes(b"")
    fd = os.open(f, os.O_RDONLY)
    try:
        with open(f, "ab", buffering=0) as w:
            assert read_new(fd, 8) == b""
            for n in (3, 8, 16, 21, 0, 1):
                data = bytes(range(n))
                w.write(data)
                assert read_new(fd, 8) == data, n
    finally:
        os.close(fd)


def test_rewrite_leaves_exactly_the_new_bytes_without_truncating(tmp_path, monkeypatch) -> None:
    """tb/tl.py ``rewrite`` (the tl lane's memory load files): the file holds exactly the
    chunks afterwards, whether it was absent, longer, shorter or the chunks are empty,
    and it is never opened with O_TRUNC (ext4 writes a file truncated to zero out at its
    close: about 2 ms a load on the CI-like machine, README "What a file costs")."""
    import os

    from tb import tl

    flags = []
    real_open = os.open

    def spy_open(path, fl, *a):
        flags.append(fl)
        return real_open(path, fl, *a)

    monkeypatch.setattr(tl.os, "open", spy_open)
    f = tmp_path / "x.hex"
    for chunks in ([b"@0\n", b"0123456789abcdef\n" * 40], [b"@3\n0000000000000001\n"],
                   [b"", b"ab", b"", b"cd\n"], [], [b"z" * 100_000]):
        tl.rewrite(str(f), chunks)
        assert f.read_bytes() == b"".join(chunks)
    assert flags and not any(fl & os.O_TRUNC for fl in flags), flags
    # a write that takes part of a chunk (allowed of pwrite) is carried on, not lost
    real_pwrite = os.pwrite
    monkeypatch.setattr(tl.os, "pwrite", lambda fd, b, off: real_pwrite(fd, bytes(b)[:7], off))
    tl.rewrite(str(f), [b"0123456789abcdef\n" * 3, b"@10\n"])
    assert f.read_bytes() == b"0123456789abcdef\n" * 3 + b"@10\n"


def test_the_tl_lanes_files_are_the_ones_the_hdl_opens() -> None:
    """The tl lane's file names live in tb/runner.py (which clears them before a run) and
    tb/tl.py takes them from there; the HDL names them as literals: the same names, each
    file the HDL opens being one of them."""
    import re

    from tb import runner, tl

    names = {runner.TL_REC_FILE, runner.TL_MEM_IN_FILE, runner.TL_MEM_PATCH_FILE,
             runner.TL_MEM_OUT_FILE}
    assert {tl.REC_FILE, tl.MEM_IN_FILE, tl.MEM_PATCH_FILE, tl.MEM_OUT_FILE} == names
    hdl = runner.TB_DIR / "hdl"
    opened = set()
    for f in ("tb_dma_deleg_tl.v", "tl_axi_mem.v"):
        opened |= set(re.findall(r'\$(?:fopen|readmemh|writememh)\("([^"]+)"', (hdl / f).read_text()))
    assert opened == names, opened


def test_parse_dump_reads_both_simulators_layouts() -> None:
    """tb/tl.py parse_dump (the tl lane's memory dumps): the words of Icarus's layout (an
    address comment every 16 words) and Verilator's (none), with empty lines and ``@``
    lines that name the next word's address skipped and no newline at the end, in memory
    order (least significant byte of each word first); a dump with a word too many or
    missing, a short or long word, a non-hex digit, a blank or an ``@`` line that jumps
    is refused, naming the word."""
    import random

    from tb.tl import WORD, parse_dump

    rng = random.Random(7)
    words = [rng.getrandbits(8 * WORD) for _ in range(40)]
    want = b"".join(w.to_bytes(WORD, "little") for w in words)
    lines = [f"{w:016x}" for w in words]
    icarus = "".join((f"// 0x{i:08x}\n" if i % 16 == 0 else "") + ln + "\n"
                     for i, ln in enumerate(lines))
    verilator = "\n".join(lines) + "\n"
    odd = "@0\n\n" + "\n".join(lines[:20]) + "\n\n@14\n" + "\n".join(lines[20:])  # no final \n
    for text in (icarus, verilator, odd, verilator + "// 0x00000028"):   # a comment, no newline
        assert parse_dump(text.encode(), len(words)) == want
    assert parse_dump(b"00000000000000ff", 1) == bytes([0xFF]) + bytes(WORD - 1)
    # the dump of a range from word 0x100 on (TlMem.read): its @ lines count from there
    assert parse_dump(("@100\n" + verilator + "@128\n").encode(), len(words), 0x100) == want
    for text, first, why in ((odd.replace("@14", "@15"), 0, "@15 before word 20: expected @14"),
                             (odd, 0x100, "@0 before word 0: expected @100"),
                             ("@x\n" + verilator, 0, "@x before word 0: expected @0"),
                             ("@\n" + verilator, 0, "@ before word 0: expected @0"),
                             (verilator + "@29\n", 0, "@29 before word 40: expected @28")):
        with pytest.raises(ValueError, match=why):
            parse_dump(text.encode(), len(words), first)
    for text, n, why in ((verilator, 41, "40 words, expected 41"),
                         (verilator, 39, "40 words, expected 39"),
                         (verilator.replace(lines[3], lines[3][1:]), 40, "word 3 has 15 characters"),
                         (verilator.replace(lines[5], lines[5] + "0"), 40, "word 5 has 17 characters"),
                         (verilator.replace(lines[6], "x" + lines[6][1:]), 40, "word 6 is not 16 hex"),
                         (verilator.replace(lines[7], "/" + lines[7][1:]), 40, "word 7 is not 16 hex"),
                         (verilator.replace(lines[8], "00 00" + lines[8][5:]), 40, "word 8 is not 16 hex"),
                         (verilator.replace(lines[9], "00\t0" + lines[9][4:]), 40, "word 9 is not 16 hex"),
                         # blanks that leave an even count of digits: still not a word
                         (verilator.replace(lines[10], lines[10][:8] + "  " + lines[10][8:14]), 40,
                          "word 10 is not 16 hex"),
                         (verilator.replace(lines[11], lines[11] + "\r"), 40, "word 11 has 17"),
                         (verilator + "/\n", 40, "41 words"),       # a lone "/" is no comment
                         ("", 1, "0 words, expected 1")):
        with pytest.raises(ValueError, match=why):
            parse_dump(text.encode(), n)


class _FakeGpi:
    """The GPI side of a signal handle that ``writer`` uses."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, object]] = []

    def set_signal_val_int(self, action: int, v: int) -> None:
        self.calls.append(("int", action, v))

    def set_signal_val_binstr(self, action: int, v: str) -> None:
        self.calls.append(("binstr", action, v))


class _FakeHandle:
    def __init__(self, width: int) -> None:
        self._handle = _FakeGpi()
        self._path = f"tb.sig{width}"
        self.width = width

    def __len__(self) -> int:
        return self.width


def test_writer_deposits_like_a_value_assignment(monkeypatch: pytest.MonkeyPatch) -> None:
    """tb.monitor.writer goes through cocotb's write scheduling as ``handle.value = v``
    does (a deposit; a signal wider than 32 bits as its binary string) and refuses a
    value the signal cannot hold, and a write in the ReadOnly phase, naming the signal."""
    import cocotb.handle

    from tb.monitor import writer

    scheduled = []

    def schedule(handle, func, action, value) -> None:
        scheduled.append((handle, action))
        func(action.value, value)

    class FakeReadOnly:
        pass

    phase: list[object] = [object()]
    monkeypatch.setattr(cocotb.handle, "_schedule_write", schedule)
    monkeypatch.setattr(cocotb.handle, "ReadOnly", FakeReadOnly)
    monkeypatch.setattr(cocotb.handle, "current_gpi_trigger", lambda: phase[0])
    narrow, wide = _FakeHandle(32), _FakeHandle(72)
    w32, w72 = writer(narrow), writer(wide)
    w32(0xFFFFFFFF)
    w72(5 << 64 | 3)
    assert narrow._handle.calls == [("int", 0, 0xFFFFFFFF)]
    assert wide._handle.calls == [("binstr", 0, f"{5 << 64 | 3:072b}")]
    assert scheduled == [(narrow, cocotb.handle._GPISetAction.DEPOSIT),
                         (wide, cocotb.handle._GPISetAction.DEPOSIT)]
    for w, v in ((w32, 1 << 32), (w32, -1), (w72, 1 << 72), (w72, -5)):
        with pytest.raises(ValueError, match=r"does not fit the (32|72)-bit signal tb\.sig"):
            w(v)
    phase[0] = FakeReadOnly()
    for w in (w32, w72):
        with pytest.raises(RuntimeError, match=r"writing tb\.sig(32|72) during the ReadOnly phase"):
            w(1)
    assert len(scheduled) == 2, "a refused write was scheduled"


def test_int_reader_reads_unsigned_and_only_narrow_registers() -> None:
    """tb/monitor.py int_reader: VPI's integer is signed, the registers it reads are not
    (a 32-bit counter past 2**31 reads as such); a register wider than 32 bits is refused."""
    from types import SimpleNamespace

    from tb.monitor import int_reader

    class Handle(SimpleNamespace):
        def __len__(self) -> int:
            return self.n

    h = Handle(n=32, _path="top.rd", _handle=SimpleNamespace(get_signal_val_long=lambda: -2))
    assert int_reader(h)() == 0xFFFF_FFFE
    h3 = Handle(n=3, _path="top.irq_word", _handle=SimpleNamespace(get_signal_val_long=lambda: 5))
    assert int_reader(h3)() == 5
    with pytest.raises(ValueError, match="top.cycle has 64 bits: int_reader reads at most 32"):
        int_reader(Handle(n=64, _path="top.cycle", _handle=None))


def test_port_lock_passes_on_a_hand_over_its_waiter_never_took() -> None:
    """tb/tl.py _PortLock: a waiter cancelled after the lock was handed to it but before
    it resumed passes the lock on to the next waiter (else the port stays locked for
    ever); the coroutines are driven by hand, as cocotb's scheduler would."""
    from tb.tl import _PortLock

    lock = _PortLock()
    first = lock.__aenter__()
    with pytest.raises(StopIteration):
        first.send(None)                 # free: taken at once, no suspension
    assert lock.locked()
    d, e = lock.__aenter__(), lock.__aenter__()
    d.send(None)                         # both wait
    e.send(None)
    rel = lock.__aexit__(None, None, None)
    with pytest.raises(StopIteration):
        rel.send(None)                   # handed to d
    with pytest.raises(asyncio.CancelledError):
        d.throw(asyncio.CancelledError())   # d is cancelled before it resumes
    with pytest.raises(StopIteration):
        e.send(None)                     # e was handed the lock in turn
    assert lock.locked()
    rel = lock.__aexit__(None, None, None)
    with pytest.raises(StopIteration):
        rel.send(None)
    assert not lock.locked()
