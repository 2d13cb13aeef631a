"""TB: the test environment around tb_dma_deleg.

Owns the bus models (cocotbext-axi AxiLiteMaster on the local and host ports,
AxiRam as memory), the edge monitor, the predictor (model.hw.HwModel) and the
scoreboard, and gives tests register-level helpers for both ports. Randomness
comes only from `tb.rng`, seeded from cocotb's seed, which is printed.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Lock, RisingEdge, Timer

from model.addrmap import host_win_addr as host_win  # noqa: F401 - re-exported
from model.addrmap import loc_win_addr as loc_win  # noqa: F401
from model.addrmap import own_addr as own_reg  # noqa: F401
from model.hw import HwModel, HwParams
from tb import knobs
from tb.coverage import Coverage
from tb.faults import MemFaults
from tb.hdlcheck import HdlCheckers
from tb.memcheck import CopyChecker
from tb.monitor import EDGE_TRACE_ENV, EdgeMonitor, EdgeTrace
from tb.runner import CLK_PERIOD_NS, SimContext
from tb.scoreboard import DelegationScoreboard, reproduce_command
from tb.timing import QuiesceTimer
from tb.vip_warnings import install as _quiet_vip_deprecations

if TYPE_CHECKING:
    from cocotbext.axi import AxiLiteMaster, AxiRam

MEM_SIZE = 1 << 20
#: TB.finish waits FINISH_DRAIN cycles, runs its checks and ends FINISH_TAIL cycles
#: later on both lanes: the tl lane's memory compare takes up to 2 cycles (an HDL load
#: and dump), so the next test starts at the same edge on both (lane equivalence)
FINISH_DRAIN = 4
FINISH_TAIL = 2

_quiet_vip_deprecations()  # before the first bus model exists (tb/vip_warnings.py)


def stall_pattern(rng: random.Random, level: float):
    """Pause generator for cocotbext-axi channels: stall with probability `level`."""
    while True:
        yield rng.random() < level


def params_from_env() -> HwParams:
    """HDL parameters of this build, exported by tb.runner as DD_PARAMS (JSON)."""
    raw = json.loads(os.environ.get("DD_PARAMS", "{}"))
    return HwParams(
        wr_ch=int(raw.get("WR_CH", 2)),
        rd_ch=int(raw.get("RD_CH", 2)),
        num_func=int(raw.get("NUM_FUNC", 2)),
        max_burst=int(raw.get("MAX_BURST", 8)),
        mem_size=MEM_SIZE,
    )


def strobe_lanes(strb: int) -> list[int] | None:
    """The byte lanes of a contiguous WSTRB (what AxiLiteMaster.write can express: it
    presents them at the address of the first lane, carrying only their bytes); None
    for 0 and non-contiguous patterns (sent as the whole word at the aligned address).
    Both lanes' ports shape a write with it, so they drive the same AWADDR and WDATA."""
    if not 0 <= strb <= 0xF:
        raise ValueError(f"strb {strb:#x} is not a 4-bit byte mask")
    lanes = [i for i in range(4) if strb >> i & 1]
    return lanes if lanes and lanes == list(range(lanes[0], lanes[-1] + 1)) else None


@dataclass
class Rsp:
    resp: int
    data: int = 0


class Port:
    """Register access on one AXI4-Lite port with any WSTRB pattern.

    Contiguous strobes go through AxiLiteMaster.write (it derives WSTRB from
    the byte range); WSTRB=0 and non-contiguous patterns, which its API cannot
    express, are sent on its AW/W channels directly under a lock; an unaligned read
    goes on its AR channel directly (one read, the address as given).
    """

    def __init__(self, master: AxiLiteMaster, clk) -> None:
        self.m = master
        self._clk = clk
        self._raw = Lock()
        self._raw_rd = Lock()

    async def read(self, addr: int) -> Rsp:
        """One read of the word at ``addr``, presenting ``addr`` as given. An unaligned
        address goes on the AR channel directly: AxiLiteMaster.read would split the
        four bytes into two word reads (tb/tl.py TlPort.read presents the same one)."""
        if addr & 3:
            rsp = await self._raw_read(addr)
        else:
            if self._raw_rd.locked():   # a raw read owns the R channel until its R
                async with self._raw_rd:
                    pass
            r = await self.m.read(addr, 4)
            rsp = Rsp(int(r.resp), int.from_bytes(r.data, "little"))
        await self._resume()
        return rsp

    async def _resume(self) -> None:
        """Resume the caller where the tl lane resumes it (tb/tl.py): just after the
        falling edge that follows the response's handshake, with the monitor's sample of
        that edge fed (as TB.tick). The next access still goes out at the next rising
        edge, as straight from the handshake; what changes is only that a wait
        (TB.cycles) counts from the same point on both lanes, so a seed drives the same
        stimulus on both (tests/test_sim.py lane-equivalence test)."""
        await FallingEdge(self._clk)
        await Timer(1, "ps")

    async def _raw_read(self, addr: int) -> Rsp:
        ri = self.m.read_if
        async with self._raw_rd:
            await ri.wait()
            ar = ri.ar_channel._transaction_obj()
            ar.araddr = addr
            ar.arprot = 0
            await ri.ar_channel.send(ar)
            r = await ri.r_channel.recv()
            return Rsp(int(r.rresp), int(r.rdata))

    async def write(self, addr: int, data: int, strb: int = 0xF) -> int:
        lanes = strobe_lanes(strb)
        data &= 0xFFFFFFFF
        if lanes is not None:
            a = (addr & ~3) + lanes[0]
            payload = (data >> (8 * lanes[0])).to_bytes(4, "little")[: len(lanes)]
            async with self._raw:
                r = await self.m.write(a, payload)
            resp = int(r.resp)
        else:
            resp = await self._raw_write(addr, data, strb)
        await self._resume()
        return resp

    async def write_all(self, writes: Iterable[tuple[int, int]]) -> list[int]:
        """Full-word writes ``(addr, data)`` in order, one after the other; their
        responses (tb/tl.py TlPort.write_all queues them in batches instead, with the
        same bus timing)."""
        return [await self.write(a, d) for a, d in writes]

    async def _raw_write(self, addr: int, data: int, strb: int) -> int:
        wi = self.m.write_if
        async with self._raw:
            await wi.wait()
            aw = wi.aw_channel._transaction_obj()
            aw.awaddr = addr & ~3
            aw.awprot = 0
            w = wi.w_channel._transaction_obj()
            w.wdata = data
            w.wstrb = strb
            await wi.aw_channel.send(aw)
            await wi.w_channel.send(w)
            b = await wi.b_channel.recv()
            return int(b.bresp)


class VipMem:
    """Lane-neutral memory access (tb.mem) on AxiRam; tb/tl.py TlMem is the TL twin.

    ``write`` changes only the memory (not the model's image: use TB.write_memory for
    that); ``read`` is awaited because the TL lane dumps its HDL memory through a file.
    """

    def __init__(self, ram: AxiRam) -> None:
        self.ram = ram

    def write(self, lo: int, data) -> None:
        self.ram.write(lo, bytes(data))

    async def read(self, lo: int, n: int) -> bytes:
        return bytes(self.ram.read(lo, n))


#: AxiRam channels by lane-neutral name (tb/tl.py CHANNELS, same names).
def _ram_channel(ram: AxiRam, ch: str):
    chans = {"ar": ram.read_if.ar_channel, "r": ram.read_if.r_channel,
             "aw": ram.write_if.aw_channel, "w": ram.write_if.w_channel,
             "b": ram.write_if.b_channel}
    if ch not in chans:
        raise ValueError(f"memory channel {ch!r} is not one of {', '.join(chans)}")
    return chans[ch]


def _every(n: int):
    """Pause generator: stall n-1 cycles out of n."""
    while True:
        for i in range(n):
            yield i != 0


def check_poll_args(line: int, period: int, polls: int, num_func: int) -> None:
    """Arguments of TB.poll_irq: a clear error, never a wait that cannot end."""
    for name, v, lo, hi in (("line", line, 0, num_func), ("period", period, 1, 1 << 32),
                            ("polls", polls, 1, 1 << 32)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"poll_irq: {name}={v!r} must be an integer in {lo}..{hi}")


class TB:
    """Environment for one cocotb test: bus models, monitor, model, scoreboard."""

    def __init__(self, dut, *, params: HwParams | None = None,
                 model_cls: type[HwModel] = HwModel) -> None:
        self._begin(dut, params, model_cls, "")
        for name in ("cocotb.tb_dma_deleg.s_axil_loc", "cocotb.tb_dma_deleg.s_axil_host",
                     "cocotb.tb_dma_deleg.m_axi"):
            logging.getLogger(name).setLevel(logging.WARNING)
        if "verilator" in cocotb.SIM_NAME.lower():
            # The wrapper leaves the clock to us under Verilator (see tb_dma_deleg.v).
            cocotb.start_soon(Clock(dut.clk, CLK_PERIOD_NS, "ns").start())
        # imported here, on the VIP lane only: the transaction-level lane (tb/tl.py)
        # never uses the bus models, and their import was about 45 ms of every one of
        # its simulations' start-up
        from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiRam  # noqa: PLC0415

        self.loc_m = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil_loc"), dut.clk, dut.rst)
        self.host_m = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil_host"), dut.clk, dut.rst)
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, size=self.params.mem_size)
        self.loc = Port(self.loc_m, dut.clk)
        self.host = Port(self.host_m, dut.clk)
        self.mem = VipMem(self.ram)       # lane-neutral memory access (tb/tl.py TlMem)
        self._faults: MemFaults | None = None
        self.mon = EdgeMonitor(dut, self.params.num_func)
        self._attach_checkers()

    # ------------------------------------------- shared by both lanes (tb/tl.py TlTB)
    def _begin(self, dut, params: HwParams | None, model_cls: type[HwModel], lane: str) -> None:
        """Seed, RNG, logger and the run's first log line with its reproduce command."""
        self.dut = dut
        self.params = params or params_from_env()
        self.model_cls = model_cls
        self.seed = int(cocotb.RANDOM_SEED)
        self.rng = random.Random(self.seed)
        self.log = logging.getLogger("cocotb.tb")
        self.log.setLevel(logging.INFO)
        self.log.info("run seed %d (test seed %d), params %s%s; reproduce: %s",
                      SimContext.from_env().seed, self.seed, self.params, lane,
                      reproduce_command())

    def _new_model(self, mem: np.ndarray | None = None) -> HwModel:
        """A fresh predictor of this lane (at start and after each reset)."""
        return self.model_cls(self.params, mem=mem)

    def _attach_checkers(self) -> None:
        """The model and everything that judges the run against it, once `self.mon`
        exists: scoreboard, quiesce timer, copy checker, coverage, HDL checkers."""
        self.model = self._new_model()
        self.reset_edge: int | None = None  # last edge of the latest reset (TB.reset)
        self.sb = DelegationScoreboard(self.dut, self.model, self.mon, self.seed)
        self.timer = QuiesceTimer(self)   # quiesce timing on every reclaim (tb/timing.py)
        self.copies = CopyChecker(self)   # dst == src for every completed copy (tb/memcheck.py)
        # functional coverage, sampled by a scoreboard observer (tb/coverage.py)
        self.cov = Coverage(self)
        # HDL property and protocol checkers report into the scoreboard (tb/hdlcheck.py)
        self.checkers = HdlCheckers(self.dut, self.sb, self.log)
        # every judged sample in one lane-neutral format, on request (tb/monitor.py)
        self.edge_trace = EdgeTrace() if knobs.flag(EDGE_TRACE_ENV) else None
        if self.edge_trace is not None:
            self.mon.add_callback(self.edge_trace.write)

    # ------------------------------------------------- lane-neutral helpers
    @property
    def faults(self) -> MemFaults:
        """Error zones and latency of the memory (tb/faults.py), created on first use."""
        if self._faults is None:
            self._faults = MemFaults(self.ram, self.dut.clk)
        return self._faults

    async def tick(self) -> None:
        """Wait for the next falling edge, where the values the coming rising edge will
        act on are settled, and just past it (1 ps), so the monitor has fed that edge's
        sample to the scoreboard whatever order the simulator resumes tasks in.
        Lane-neutral per-cycle wait for the few tests that watch the RTL edge by edge;
        tb/tl.py TlTB wakes through its HDL timer instead."""
        await FallingEdge(self.dut.clk)
        await Timer(1, "ps")

    async def adopt_memory(self, lo: int, hi: int) -> None:
        """adopt_ram on either lane (awaited: on the tl lane the bytes come from a dump)."""
        r = self.adopt_ram(lo, hi)
        if r is not None:
            await r

    def stall_every(self, ch: str, n: int) -> None:
        """Memory channel `ch` ("ar", "r", "aw", "w", "b") moves one cycle in n."""
        _ram_channel(self.ram, ch).set_pause_generator(_every(n))

    def hold(self, ch: str, on: bool) -> None:
        """Stop memory channel `ch` until released (release: no stalls on it)."""
        c = _ram_channel(self.ram, ch)
        if on:
            c.set_pause_generator(iter(lambda: True, None))
        else:
            c.clear_pause_generator()
            c.pause = False

    # ------------------------------------------------------------ lifecycle
    async def reset(self, cycles: int = 4) -> None:
        """Synchronous reset; the model restarts from its reset state.

        The wrapper starts with rst=0, so raising it here is an edge the bus
        models see: they hold off until it falls and never sample the DUT's
        not-yet-reset (X) outputs.
        """
        self.dut.rst.value = 1
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)
        # S(cycle+1) is the first post-reset state; the model starts there.
        last_reset_edge = int(self.dut.cycle.value)
        self.model = self._new_model(self.model.mem)
        if last_reset_edge > 0:
            self.model.edge(last_reset_edge)
        self.reset_edge = last_reset_edge  # tb/trace.py replays from here
        self.sb.attach(self.model)
        self.mon.reset()

    def set_backpressure(self, level: float, rng: random.Random | None = None) -> None:
        """Random stalls on every AxiRam channel (0 = none); `rng` defaults to tb.rng."""
        rng = rng or self.rng
        ram = self.ram
        for ch in (ram.read_if.ar_channel, ram.read_if.r_channel, ram.write_if.aw_channel,
                   ram.write_if.w_channel, ram.write_if.b_channel):
            if level > 0:
                ch.set_pause_generator(stall_pattern(random.Random(rng.getrandbits(32)), level))
            else:
                # cocotbext-axi 0.1.28 leaves `pause` at the generator's last value when
                # the generator is cleared: the channel could stay stalled for ever.
                ch.clear_pause_generator()
                ch.pause = False

    def fill_memory(self, lo: int = 0, hi: int | None = None) -> None:
        """Same random bytes in AxiRam and in the model's memory image."""
        hi = self.params.mem_size if hi is None else hi
        data = np.random.default_rng(self.rng.getrandbits(32)).integers(0, 256, hi - lo, dtype=np.uint8)
        self.write_memory(lo, data)

    def write_memory(self, lo: int, data: np.ndarray) -> None:
        """The test writes memory: AxiRam and the model's image alike.

        Running copies whose source or destination this overlaps are no longer
        judged by the copy checker (their bytes changed under them, legitimately).
        """
        hi = lo + len(data)
        self.ram.write(lo, np.asarray(data, dtype=np.uint8).tobytes())
        self.model.mem[lo:hi] = data
        self.copies.memory_written(lo, hi)

    def adopt_ram(self, lo: int, hi: int) -> None:
        """Take AxiRam's bytes as the model's image of [lo, hi) (bytes the model cannot
        know, e.g. cut off mid-burst by a reset); running copies there are not judged."""
        self.model.mem[lo:hi] = np.frombuffer(self.ram.read(lo, hi - lo), dtype=np.uint8)
        self.copies.memory_written(lo, hi)

    async def cycles(self, n: int) -> None:
        """Wait n clock periods with a single Timer (cheaper than n edges)."""
        if n > 0:
            await Timer(n * CLK_PERIOD_NS, "ns")

    def irq_levels(self) -> int:
        """The interrupt lines now, as one word: bit 0 irq_loc, bit 1+f irq_host[f] (the
        recorder's irq token, tb/hdl/tb_dma_deleg_tl.v)."""
        return int(self.dut.irq_host.value) << 1 | int(self.dut.irq_loc.value)

    async def poll_irq(self, line: int, period: int, polls: int) -> int:
        """Poll interrupt line ``line`` (bit of ``irq_levels``) every ``period`` cycles, at
        most ``polls`` times: returns the number of periods waited, stopping at the
        first poll that finds the line high. This is the reference: a driver polling
        with ``cycles(period)`` and a level read, one Python wake per period. The
        transaction lane (tb/tl.py TlTB.poll_irq) gives the same answer at the same edge
        but wakes only when the line is high or the polls run out."""
        check_poll_args(line, period, polls, self.params.num_func)
        for k in range(1, polls + 1):
            await self.cycles(period)
            if self.irq_levels() >> line & 1:
                return k
        return polls

    async def wait_status(self, port, addr: int, line: int, period: int, timeout_cycles: int,
                          running: int) -> Rsp | None:
        """A driver's completion wait (tb/agents.py wait_done): poll interrupt line
        ``line`` every ``period`` cycles and read the status register ``addr`` on
        ``port`` when the line is high, at the start and after a poll, and at every
        eighth poll anyway (in case the channel's interrupts are masked); return the
        first status that is not OKAY ``running``, or None once ``timeout_cycles``
        have been waited without one. The reference: the transaction lane
        (tb/tl.py TlTB) reads the same statuses at the same edges but hands the waits
        and the reads between two Python wakes to the HDL (its status poller)."""
        check_poll_args(line, period, 1, self.params.num_func)
        bit = 1 << line
        n = 0   # polls so far
        n_limit = -(-timeout_cycles // period)   # the first poll with n * period >= timeout
        st = await port.read(addr) if self.irq_levels() & bit else None
        while st is None or (st.resp == 0 and st.data == running):
            if period * n >= timeout_cycles:
                return None
            # up to the next forced status read, and no further than the timeout
            m = min(7 - n % 8 if n % 8 != 7 else 8, n_limit - n)
            n, st = await self._status_step(port, addr, line, period, n, m, n_limit, running)
        return st

    async def _status_step(self, port, addr: int, line: int, period: int, n: int, m: int,
                           n_limit: int, running: int) -> tuple[int, Rsp | None]:
        """One wait of ``wait_status``: up to ``m`` polls, then the status read when the
        line is high or the eighth poll is reached; returns (polls so far, read or None)."""
        n += await self.poll_irq(line, period, m)
        if self.irq_levels() >> line & 1 or n % 8 == 7:
            return n, await port.read(addr)
        return n, None

    def fork_judge(self) -> bool:
        """Judging in a second process is the transaction lane's (tb/tl.py TlTB.fork_judge,
        DD_TL_JUDGE=fork); this lane judges every edge as it happens: False."""
        return False

    def bus_snapshot(self) -> str:
        """VALID/READY of the AXI4 master and the model's view, for hang reports."""
        busy = [g for g in self.params.channels if self.model.inflight(g)]
        return f"edge {self.now()}: {self._bus_signals()}; model: bursts in flight for channels {busy}"

    def _bus_signals(self) -> str:
        d = self.dut
        return " ".join(f"{n}={d._id('m_axi_' + n, extended=False).value}"
                        for n in ("arvalid", "arready", "rvalid", "rready", "awvalid", "awready",
                                  "wvalid", "wready", "bvalid", "bready"))

    def now(self) -> int:
        return int(self.dut.cycle.value)

    def drain(self) -> None:
        """Bring the scoreboard and the model up to the current edge: nothing to do on
        this lane, whose monitor judges every edge as it happens (the transaction-level
        lane's TlTB judges in batches and drains its recorder here)."""

    # --------------------------------------------------------------- checks
    def check_memory(self) -> None:
        """AxiRam must equal the model's memory image byte for byte."""
        self.compare_memory(np.frombuffer(self.ram.read(0, self.params.mem_size), dtype=np.uint8),
                            self.now())

    def compare_memory(self, ram: np.ndarray, edge: int) -> None:
        """The bus memory's image ``ram`` (read at ``edge``) against the model's: a
        mismatch names the first byte that differs and how many do."""
        diff = np.flatnonzero(ram != self.model.mem)
        if diff.size:
            a = int(diff[0])
            self.sb._mismatch(edge, "mem", None,
                              f"memory differs at {diff.size} byte(s), first {a:#x}",
                              int(self.model.mem[a]), int(ram[a]))

    async def finish(self) -> None:
        """End of test: let responses drain, then require a clean scoreboard."""
        await self.loc_m.wait()
        await self.host_m.wait()
        await self.cycles(FINISH_DRAIN)
        self.cov.export()  # coverage_<test>.yml in the run folder (tools/covmerge.py)
        self.timer.finalize()
        self.check_memory()
        self.checkers.check()
        if self.edge_trace is not None:
            self.edge_trace.close()
        self.sb.check()
        self.log.info("scoreboard clean: %d responses compared over %d sampled edges "
                      "(%d cycles)", self.sb.compared, self.mon.samples, self.mon.cycles_seen)
        c = self.copies
        # tools/regress.py (soak) sums these from the log: keep the wording.
        self.log.info("copy checker: %d verified, %d skipped, %d not completed",
                      c.verified, c.skipped, c.aborted)
        await self.cycles(FINISH_TAIL)
