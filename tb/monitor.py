"""Edge monitor: turns the pins of tb_dma_deleg into edge-stamped samples.

Why one monitor for everything: the predictor (model.hw.HwModel) must see every
event of an edge together (a command and an access at the same edge judge
against the same old state), so the monitor reports whole edges, not
per-channel streams. It samples at the falling edge, where the signals show
exactly S(e) for the coming rising edge e (docs/microarch.md "Time"), reads the
packed handshake vector `mon` once per cycle and returns at once when nothing
moved. Sampling costs one signal read per idle cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cocotb.triggers import FallingEdge
from cocotb_bus.monitors import Monitor

from model.hw import (
    ArHs,
    ArPresent,
    AwHs,
    AwPresent,
    BHs,
    LiteAccess,
    RBeat,
    WBeat,
)
from tb import knobs

# Bit layout of tb_dma_deleg.mon (mirrors the Verilog concatenation).
MON_LOC = 0  # +0 aw_hs, +1 w_hs, +2 ar_hs, +3 b_hs, +4 r_hs
MON_HOST = 5
MON_ARVALID = 10
MON_AR_HS = 11
MON_R_HS = 12
MON_AWVALID = 13
MON_AW_HS = 14
MON_W_HS = 15
MON_B_HS = 16
MON_ARSIZE = 17  # 3 bits: ARSIZE while ARVALID, else 0
MON_AWSIZE = 20  # 3 bits: AWSIZE while AWVALID, else 0
MON_IRQ = 23  # irq_loc, then irq_host[f] at 24 + f
MON_ACTIVE = (1 << 17) - 1  # any handshake or pending request


def reader(handle):
    """A fast integer reader for one signal.

    `int(handle.value)` builds a LogicArray of one Logic object per bit, which
    dominated the monitor's cost (a 32-bit read per cycle, 64-bit data reads per
    beat). The binary string the GPI returns is parsed directly instead; an X or
    Z bit raises ValueError, as int(handle.value) does.
    """
    get = handle._handle.get_signal_val_binstr

    def read() -> int:
        return int(get(), 2)

    return read


def int_reader(handle):
    """``reader`` for a testbench register of at most 32 bits that its HDL initialises
    (a counter, a flag word: never X or Z): one integer VPI read (``vpiIntVal``), no
    binary string to build and parse. An X would read as 0 here, so never for the DUT's
    or a bus's signals, which ``reader`` reads."""
    n = len(handle)
    if n > 32:
        raise ValueError(f"{handle._path} has {n} bits: int_reader reads at most 32")
    get = handle._handle.get_signal_val_long
    mask = (1 << n) - 1   # the VPI integer is signed

    def read() -> int:
        return get() & mask

    return read


def writer(handle):
    """A fast deposit of integers into one signal: the counterpart of ``reader``.

    ``handle.value = v`` dispatches on the value's type, checks its range and, for a
    signal wider than 32 bits, formats its binary string at every write; the
    transaction lane writes its command queues, their counters and its wake time at
    every access. This keeps cocotb's write scheduling (``_schedule_write``: the write
    lands at the next ReadWrite phase and the last one of a time step wins, as with
    ``handle.value = v``) and does the rest once: a value outside ``0 .. 2**width - 1``
    raises ValueError, and a write in the ReadOnly phase RuntimeError, as cocotb's do.
    """
    from cocotb.handle import ReadOnly, _GPISetAction, _schedule_write, current_gpi_trigger

    n = len(handle)
    dep = _GPISetAction.DEPOSIT
    name = handle._path

    def bad(v: int) -> Exception:
        if v < 0 or v >> n:
            return ValueError(f"{v!r} does not fit the {n}-bit signal {name}")
        return RuntimeError(f"writing {name} during the ReadOnly phase")

    wide = n > 32   # cocotb writes a wider signal as its binary string
    put = handle._handle.set_signal_val_binstr if wide else handle._handle.set_signal_val_int
    fmt = f"0{n}b"

    def write(v: int) -> None:
        if v < 0 or v >> n or isinstance(current_gpi_trigger(), ReadOnly):
            raise bad(v)
        _schedule_write(handle, put, dep, format(v, fmt) if wide else v)

    return write


@dataclass
class LiteResponse:
    """A B or R handshake observed on one AXI4-Lite port."""

    edge: int
    write: bool
    resp: int
    data: int = 0


@dataclass
class EdgeSample:
    """Everything that happened at one rising edge (judged against S(edge)).

    Every handshake of the edge is here. `loc` / `host` is the access the port executed
    (the write when one executed); `loc_also` / `host_also` is a read whose AR handshake
    fell on that same edge. A slave that keeps SPEC's "one transaction at a time" never
    produces one (docs/microarch.md: ARREADY waits for AW/W), so the scoreboard reports it,
    but it is still sampled and its R compared: dropping it would let an arbitration bug
    through unseen. Likewise `*_resp` holds every B and R handshake of the edge (B first).
    """

    edge: int
    loc: LiteAccess | None = None
    host: LiteAccess | None = None
    loc_also: LiteAccess | None = None
    host_also: LiteAccess | None = None
    loc_resp: tuple[LiteResponse, ...] = ()
    host_resp: tuple[LiteResponse, ...] = ()
    dma: list = field(default_factory=list)
    irq_loc: bool = False
    irq_host: int = 0


class _LitePort:
    """Tracks AW/W halves so a write is reported at its execution edge."""

    def __init__(self, dut, prefix: str, base: int) -> None:
        self.base = base
        for name in ("awaddr", "wdata", "wstrb", "araddr", "bresp", "rdata", "rresp"):
            setattr(self, name, reader(getattr(dut, f"{prefix}_{name}")))
        self.aw: int | None = None
        self.w: tuple[int, int] | None = None

    def reset(self) -> None:
        self.aw = None
        self.w = None

    def sample(self, edge: int, bits: int) -> tuple[LiteAccess | None, LiteAccess | None,
                                                     tuple[LiteResponse, ...]]:
        """(executed access, a read handshaken beside an executed write, responses).

        Each handshake bit is read on its own (no `elif`): an AR on the edge a write
        executes and an R on the edge of a B are all reported."""
        wr = None
        rd = None
        if bits & 1:
            self.aw = self.awaddr()
        if bits & 2:
            self.w = (self.wdata(), self.wstrb())
        if self.aw is not None and self.w is not None:
            wr = LiteAccess(write=True, addr=self.aw, data=self.w[0], strb=self.w[1])
            self.aw = None
            self.w = None
        if bits & 4:
            rd = LiteAccess(write=False, addr=self.araddr())
        rsp: tuple[LiteResponse, ...] = ()
        if bits & 8:
            rsp += (LiteResponse(edge, True, self.bresp()),)
        if bits & 16:
            rsp += (LiteResponse(edge, False, self.rresp(), self.rdata()),)
        if wr is None:
            return rd, None, rsp
        return wr, rd, rsp


class EdgeMonitor(Monitor):
    """Samples tb_dma_deleg every cycle and emits one EdgeSample per busy edge.

    An edge is "busy" when any handshake happens, a request is pending, or an
    interrupt line changed; idle edges are skipped (the model's state cannot
    change on them except by its own internal transitions, which it replays).
    """

    def __init__(self, dut, num_func: int, callback=None) -> None:
        self.dut = dut
        self.num_func = num_func
        self._mon = dut.mon
        self._mon_read = reader(dut.mon)
        self._cycle = reader(dut.cycle)
        self._m = {n: reader(getattr(dut, f"m_axi_{n}")) for n in (
            "arid", "araddr", "arlen", "aruser", "rid", "rdata", "rresp", "rlast",
            "awid", "awaddr", "awlen", "awuser", "wdata", "wstrb", "wlast", "bid", "bresp")}
        self._rst = reader(dut.rst)
        self.loc = _LitePort(dut, "s_axil_loc", MON_LOC)
        self.host = _LitePort(dut, "s_axil_host", MON_HOST)
        self._prev = 0
        self.samples = 0
        self.cycles_seen = 0
        super().__init__(callback=callback)

    def reset(self) -> None:
        """Forget half-seen writes (called when the DUT is reset)."""
        self.loc.reset()
        self.host.reset()
        self._prev = 0

    async def _monitor_recv(self) -> None:
        falling = FallingEdge(self.dut.clk)
        while True:
            await falling
            self.cycles_seen += 1
            try:
                v = self._mon_read()
            except ValueError:
                raise RuntimeError(f"edge monitor: X/Z on handshake or irq lines at edge "
                                   f"{self._cycle() + 1}: mon={self._mon.value}") from None
            prev = self._prev
            self._prev = v
            if not (v & MON_ACTIVE) and v == prev:
                continue
            if self._rst():
                self.reset()
                continue
            edge = self._cycle() + 1
            s = EdgeSample(edge=edge, irq_loc=bool(v >> MON_IRQ & 1),
                           irq_host=(v >> (MON_IRQ + 1)) & ((1 << self.num_func) - 1))
            if v & 0x1F:
                s.loc, s.loc_also, s.loc_resp = self.loc.sample(edge, v & 0x1F)
            if v >> MON_HOST & 0x1F:
                s.host, s.host_also, s.host_resp = self.host.sample(edge, v >> MON_HOST & 0x1F)
            if v & (0x7F << MON_ARVALID):
                self._sample_dma(s, v, prev)
            self.samples += 1
            self._recv(s)

    def _sample_dma(self, s: EdgeSample, v: int, prev: int) -> None:
        m = self._m
        ev = s.dma
        # A request is "presented" on the first edge its VALID is high.
        if v >> MON_ARVALID & 1 and not (prev >> MON_ARVALID & 1 and not prev >> MON_AR_HS & 1):
            ev.append(ArPresent(id=m["arid"](), addr=m["araddr"](), len=m["arlen"](),
                                user=m["aruser"](), size=v >> MON_ARSIZE & 7))
        if v >> MON_AR_HS & 1:
            ev.append(ArHs(id=m["arid"]()))
        if v >> MON_R_HS & 1:
            ev.append(RBeat(id=m["rid"](), data=m["rdata"](),
                            resp=m["rresp"](), last=bool(m["rlast"]())))
        if v >> MON_AWVALID & 1 and not (prev >> MON_AWVALID & 1 and not prev >> MON_AW_HS & 1):
            ev.append(AwPresent(id=m["awid"](), addr=m["awaddr"](), len=m["awlen"](),
                                user=m["awuser"](), size=v >> MON_AWSIZE & 7))
        if v >> MON_AW_HS & 1:
            ev.append(AwHs(id=m["awid"]()))
        if v >> MON_W_HS & 1:
            ev.append(WBeat(data=m["wdata"](), strb=m["wstrb"](),
                            last=bool(m["wlast"]())))
        if v >> MON_B_HS & 1:
            ev.append(BHs(id=m["bid"](), resp=m["bresp"]()))


def format_sample(s: EdgeSample) -> str:
    """One EdgeSample as a line of the tl lane's recorder format (tb_dma_deleg_tl.v,
    parsed by tb/tl.py ``parse_line``; ``parse_line(format_sample(s)) == s``).

    Why here: both lanes write their samples in this one format for the
    lane-equivalence trace (``EDGE_TRACE_ENV``), so the two lanes' traces compare
    line by line, whatever produced the samples (the recorder or this monitor)."""
    out = [f"{s.edge:x}", f"{int(s.irq_loc) | s.irq_host << 1:x}"]
    for p, acc, also, rsps in (("L", s.loc, s.loc_also, s.loc_resp),
                               ("H", s.host, s.host_also, s.host_resp)):
        if acc is not None:
            if acc.write:
                out.append(f"{p}W {acc.addr:x} {acc.data:x} {acc.strb:x}")
            else:
                out.append(f"{p}R {acc.addr:x}")
        if also is not None:
            out.append(f"{p}A {also.addr:x}")
        for r in rsps:
            out.append(f"{p}b {r.resp:x}" if r.write else f"{p}r {r.resp:x} {r.data:x}")
    for x in s.dma:
        t = type(x)
        if t is ArPresent or t is AwPresent:
            out.append(f"{'AP' if t is ArPresent else 'WP'} {x.id:x} {x.addr:x} {x.len:x} "
                       f"{x.user:x} {x.size:x}")
        elif t is ArHs or t is AwHs:
            out.append(f"{'AH' if t is ArHs else 'WH'} {x.id:x}")
        elif t is RBeat:
            out.append(f"R {x.id:x} {x.data:x} {x.resp:x} {int(x.last)}")
        elif t is WBeat:
            out.append(f"W {x.data:x} {x.strb:x} {int(x.last)}")
        elif t is BHs:
            out.append(f"B {x.id:x} {x.resp:x}")
        else:
            raise TypeError(f"not a DMA event of an EdgeSample: {x!r}")
    return " ".join(out)


#: Environment knob: "1" makes both lanes write every sample the scoreboard judges, in
#: ``format_sample``'s format, to EDGE_TRACE_FILE in the run folder (a whole-run file,
#: on request only): tests/test_sim.py's lane-equivalence test compares them.
EDGE_TRACE_ENV = knobs.EDGE_TRACE_ENV
EDGE_TRACE_FILE = "edge_trace.txt"


class EdgeTrace:
    """A monitor callback writing each sample's line to EDGE_TRACE_FILE (appending:
    the runner deletes the file before each run, so the tests of a module follow
    one another in it)."""

    #: the trace of the running test: a new test's trace closes the last one (a test
    #: that ends in an exception never reaches TB.finish), so lines never interleave
    _live: EdgeTrace | None = None

    def __init__(self) -> None:
        if EdgeTrace._live is not None:
            EdgeTrace._live.close()
        EdgeTrace._live = self
        self._fh = open(EDGE_TRACE_FILE, "a", buffering=1 << 16)  # noqa: SIM115 - close()
        self.lines = 0

    def write(self, s: EdgeSample) -> None:
        if self._fh.closed:   # TB.finish closed it: the edges after it are not traced
            return
        self._fh.write(format_sample(s) + "\n")
        self.lines += 1

    def close(self) -> None:
        self._fh.close()
        if EdgeTrace._live is self:
            EdgeTrace._live = None

