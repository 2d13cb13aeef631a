"""Linked-list mode and MSI writes (SPEC v2 section 3) on the RTL, scoreboard on.

The channel is driven the way Linux drives it: model/llclient.py's ``HostLlClient``
("what the host's dw-edma HDMA driver does", through the owner function's BAR window)
and ``LocalLlClient`` (the endpoint's driver on a LOCAL channel, through the local
port), run here by a thin cocotb adapter (``TbLlPort``). The host handles each MSI
like the driver's interrupt handler: read INT_STAT, clear it, read CH_STAT.

Every element fetch, data burst and MSI write is predicted and judged at its edge by
the scoreboard (model/hw.py); dd_props.v checks the security properties; the asserts
below pin each scenario (that the case meant was hit) and compare every list's
destinations with its sources.
"""

from __future__ import annotations

import json

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from model import regs
from model.backend import BusError, run_async
from model.epc import apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from model.hw import ArHs, ArPresent, AwHs, AwPresent, BHs
from model.llclient import Block, HostLlClient, IrqStatus, LlRegion, LocalLlClient, MsiConfig
from model.timing import Q_IDLE_MAX
from model.walk import ELEM_SIZE, encode_data, encode_link
from tb import knobs
from tb.env import TB, host_win, loc_win
from tb.faults import DECERR, SLVERR
from tb.qharness import dump_latency, reclaim_checked, traffic, wait_dma_event
from tb.rtl_backend import rtl_epc
from tb.test_directed import channels, split
from tb.tl import new_tb

PARAM_SETS = ("default",)
PYTEST_MARKS = ("slow",)   # its cases take 3-12 s: run first (tests/conftest.py)
LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)
TIMEOUT = {"timeout_time": 2000, "timeout_unit": "ms"}

REGION = 0x8000        # linked-list regions: REGION + 0x800 * slot
REGION_SIZE = 0x800    # 84 elements
SRC_BASE = 0x10000     # sources below DST_BASE, destinations above
DST_BASE = 0x80000
MSI_BASE = 0xF000      # MSI targets: MSI_BASE + 0x10 * g (+4 for the abort MSI)
MSI_DATA = 0xC0DE0000


# --------------------------------------------------------------------- adapter
class TbLlPort:
    """Op port for model/llclient.py on the RTL: one AXI4-Lite port of the TB plus the
    testbench memory (a MemWrite lands in the memory and in the model's image alike)."""

    def __init__(self, tb: TB, port) -> None:
        self.tb = tb
        self.port = port

    async def read(self, addr: int) -> int:
        r = await self.port.read(addr)
        if r.resp != 0:
            raise BusError(addr, r.resp, False)
        return r.data

    async def write(self, addr: int, value: int) -> int:
        return await self.port.write(addr, value)

    async def wait(self, cycles: int) -> None:
        await self.tb.cycles(cycles)

    async def mem_write(self, addr: int, data: bytes) -> None:
        # one clock through the TB's own waiter first: on LANE=tl that wake flushes the
        # recorder, so the scoreboard has judged every earlier edge before the model's
        # image changes (a test woken by a bare FallingEdge would otherwise rewrite
        # elements under edges not yet judged)
        await self.tb.cycles(1)
        self.tb.write_memory(addr, np.frombuffer(data, dtype=np.uint8))


class MsiWatch:
    """The host's view of MSIs: every write with AWSIZE=2 on the AXI4 master (SPEC 3:
    MSIs are the only 4-byte writes), with its channel ID, address, AWUSER and AWLEN,
    recorded at the AW handshake, and its B edge; plus every AR handshake (``ars``), for
    the tests that pin how an element fetch is split.

    Taken from the edges the scoreboard judges (an observer, as tb/test_fence.py
    ``Requests``), not by sampling the bus: on the transaction-level lane Python then
    wakes per transaction, not per cycle, and both lanes see the same edges. The
    scoreboard has judged every edge up to the current one whenever a test resumes
    from the TB's own waits (``tb.cycles``, ``tb.tick``, an access)."""

    def __init__(self, tb: TB) -> None:
        self.tb = tb
        self.seen: list[dict] = []
        self.ars: list[tuple[int, int, int]] = []  # every AR handshake: (id, addr, len)
        self._open: dict[int, dict] = {}
        self._ar: dict[int, ArPresent] = {}   # id -> its AR presented, until the handshake
        self._aw: dict[int, AwPresent] = {}
        tb.sb.observers.append(self)

    def __call__(self, s, res, m) -> None:
        for x in s.dma:
            t = type(x)
            if t is ArPresent:
                self._ar[x.id] = x
            elif t is ArHs:
                a = self._presented(self._ar, "AR", x.id, s.edge)
                self.ars.append((x.id, a.addr, a.len))
            elif t is AwPresent:
                self._aw[x.id] = x
            elif t is AwHs:
                a = self._presented(self._aw, "AW", x.id, s.edge)
                if a.size == 2:
                    msi = {"g": x.id, "addr": a.addr, "user": a.user, "len": a.len,
                           "edge": s.edge, "b": None}
                    self.seen.append(msi)
                    self._open[x.id] = msi
            elif t is BHs:
                msi = self._open.pop(x.id, None)
                if msi is not None:
                    msi["b"] = s.edge

    @staticmethod
    def _presented(open_: dict, what: str, id_: int, edge: int):
        """The request of ID ``id_`` a handshake at ``edge`` ends (the scoreboard saw its
        presentation first: the monitors' "presented" rule)."""
        try:
            return open_.pop(id_)
        except KeyError:
            raise RuntimeError(f"MsiWatch: {what} handshake of ID {id_} at edge {edge} "
                               "without its presentation") from None

    def of(self, g: int) -> list[dict]:
        return [m for m in self.seen if m["g"] == g]

    async def wait(self, g: int, n: int, timeout: int = 400_000) -> dict:
        """Wait until channel g's n-th MSI (1-based) has been answered (B seen); a
        scoreboard mismatch meanwhile ends the wait (``stop_on_mismatch``)."""
        for _ in range(timeout // 16):
            mine = self.of(g)
            if len(mine) >= n and mine[n - 1]["b"] is not None:
                return mine[n - 1]
            stop_on_mismatch(self.tb, f"waiting for channel {g}'s MSI #{n}")
            await self.tb.cycles(16)
        raise TimeoutError(f"channel {g}: MSI #{n} not received within {timeout} cycles")


def stop_on_mismatch(tb: TB, what: str) -> None:
    """End a wait once the scoreboard has reported a mismatch: a walk that went wrong
    (the RTL fetching another element than the model) may never end, and the wait would
    run to its timeout, minutes on Icarus, before the test failed. The test fails now,
    with the scoreboard's report."""
    if tb.sb.errors:
        raise AssertionError(f"{what}: the scoreboard reported a mismatch meanwhile:\n"
                             f"{tb.sb.report()}")


def model_events(tb: TB, g: int) -> list:
    """The predictor's walk events of channel g, brought up to the current edge first
    (the transaction-level lane feeds the scoreboard in batches: ``drain``)."""
    tb.drain()
    return [x for x in tb.model.walk_events if x.g == g]


def msi_cfg(g: int) -> MsiConfig:
    return MsiConfig(stop=MSI_BASE + 0x10 * g, abort=MSI_BASE + 0x10 * g + 4,
                     data=MSI_DATA | g)


async def check_copied(tb: TB, snaps: list[tuple[Block, bytes]]) -> None:
    """Each block's destination holds the bytes its source held at start."""
    for b, want in snaps:
        got = await tb.mem.read(b.dar, b.size)
        assert got == want, f"block {b}: destination differs from the source"


def snapshot(tb: TB, blocks: list[Block]) -> list[tuple[Block, bytes]]:
    return [(b, bytes(tb.model.mem[b.sar:b.sar + b.size])) for b in blocks]


async def setup(dut):
    tb = new_tb(dut)
    await tb.reset()
    traffic(tb)   # before any stimulus: wait_dma_event counts from a START it saw
    tb.fill_memory(SRC_BASE, DST_BASE)
    epc, be = rtl_epc(tb)
    return tb, epc, be, MsiWatch(tb)


async def host_walker(tb: TB, epc, g: int) -> tuple[object, HostLlClient, TbLlPort]:
    """Channel g delegated to function 0, the host's driver for it (region REGION, the
    MSIs of ``msi_cfg``) and the host port it drives: (the delegation, client, port)."""
    d, n = split(g)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, d, n)
    return chan, HostLlClient(0, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g)), \
        TbLlPort(tb, tb.host)


async def host_run(tb: TB, cl: HostLlClient, blocks: list[Block], watch: MsiWatch,
                   g: int) -> IrqStatus:
    """Host: start the list, take the MSI, run the interrupt handler."""
    port = TbLlPort(tb, tb.host)
    n = len(watch.of(g))
    await run_async(cl.start_ops(blocks), port)
    m = await watch.wait(g, n + 1)
    assert m["user"] == cl.func and m["len"] == 0, m
    return await run_async(cl.handle_int_ops(), port)


async def wait_stat(tb: TB, addr: int, timeout: int = 400_000) -> int:
    """Poll a CH_STAT address on the local port until the channel is not RUNNING; a
    scoreboard mismatch meanwhile ends the wait (``stop_on_mismatch``)."""
    for _ in range(timeout // 16):
        st = (await tb.loc.read(addr)).data
        if st != regs.CH_RUNNING:
            return st
        stop_on_mismatch(tb, f"waiting for CH_STAT at {addr:#x} to leave RUNNING")
        await tb.cycles(16)
    raise TimeoutError(f"CH_STAT at {addr:#x} still RUNNING after {timeout} cycles")


def blocks_random(tb: TB, n: int, lo: int, hi: int, *, cross: bool = False) -> list[Block]:
    """n blocks of 8 B..hi B, disjoint sources and destinations; `cross` puts each
    source 8 bytes before a 4 KiB boundary (every copy crosses 4 KiB)."""
    rng = tb.rng
    out, s, d = [], SRC_BASE, DST_BASE
    for _ in range(n):
        size = 8 * rng.randint(max(1, lo // 8), hi // 8)
        if cross:
            s = (s + 0xFFF) // 0x1000 * 0x1000 + 0x1000 - 8
        out.append(Block(s, d + 8 * rng.randint(0, 3), size))
        s += size + 8
        d += size + 0x40
    assert s <= DST_BASE and d < tb.params.mem_size, "blocks do not fit the memory map"
    return out


# ------------------------------------------------------------------------ tests
@cocotb.test(**TIMEOUT)
async def test_host_lists(dut):
    """The host's driver runs lists of 1..16 elements (8 B..64 KiB, 4 KiB crossings)
    on a delegated channel: every element copied once, one done MSI per list, LLP ends
    at the final link element."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[-1]
    d, n = split(g)
    f = 1 % tb.params.num_func
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    cl = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    lists = [[Block(SRC_BASE, DST_BASE, 8)],
             blocks_random(tb, 3, 8, 0x1800, cross=True),
             blocks_random(tb, 16, 8, 0x200),
             [Block(SRC_BASE, DST_BASE, 0x10000)]]
    for blocks in lists:
        snaps = snapshot(tb, blocks)
        irq = await host_run(tb, cl, blocks, watch, g)
        assert irq.done and not irq.aborted and irq.ch_stat == regs.CH_STOPPED, irq
        llp = (await tb.host.read(host_win(f, g, regs.LLP_LO))).data
        assert llp == REGION + ELEM_SIZE * len(blocks), hex(llp)
        await check_copied(tb, snaps)
        assert watch.of(g)[-1]["addr"] == cl.msi.stop
    # regions whose first element crosses 4 KiB: fetched as 2+1 and 1+2 beats
    for base in (0x9FF0, 0xAFF8):
        cl2 = HostLlClient(f, d, n, LlRegion(base, 0x100), msi_cfg(g))
        cl2.configured = True  # same MSI registers
        blocks = blocks_random(tb, 2, 8, 0x100)
        snaps = snapshot(tb, blocks)
        k = len(watch.ars)
        irq = await host_run(tb, cl2, blocks, watch, g)
        assert irq.done, irq
        await check_copied(tb, snaps)
        first = [(a, ln) for gg, a, ln in watch.ars[k:] if gg == g and base <= a < base + ELEM_SIZE]
        want = [(base, 1), (base + 16, 0)] if base % 0x1000 == 0xFF0 else [(base, 0), (base + 8, 1)]
        assert first == want, (hex(base), first)
    await apci_epc_reclaim_dma_chan(chan, True)
    assert len(watch.of(g)) == len(lists) + 2
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_tcb_ring_and_cycle_mismatch(dut):
    """A ring closed by a link element with TCB is walked once: the toggled cycle state
    stops the walk at the ring's start (LLP, CCS read back); a first element whose CB
    differs from CCS ends the walk with no data moved."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    d, n = split(g)
    port = TbLlPort(tb, tb.loc)
    cl = LocalLlClient(d, n, LlRegion(REGION, REGION_SIZE))
    a, b = Block(SRC_BASE, DST_BASE, 0x40), Block(SRC_BASE + 0x100, DST_BASE + 0x100, 0x48)
    ring = (encode_data(a.size, a.sar, a.dar, cb=1) + encode_data(b.size, b.sar, b.dar, cb=1)
            + encode_link(REGION, cb=1, tcb=True))
    await port.mem_write(REGION, ring)
    snaps = snapshot(tb, [a, b])
    for reg, v in ((regs.CH_EN, 1), (regs.INT_SETUP, regs.INT_SETUP_LSTOP_EN_MASK),
                   (regs.CONTROL1, regs.CONTROL1_LLE_MASK), (regs.LLP_LO, REGION),
                   (regs.LLP_HI, 0), (regs.CYCLE_SYNC, regs.CYCLE_SYNC_CCS_MASK),
                   (regs.DOORBELL, regs.DOORBELL_START_MASK)):
        await tb.loc.write(loc_win(g, reg), v)
    assert await wait_stat(tb, loc_win(g, regs.CH_STAT)) == regs.CH_STOPPED
    assert (await tb.loc.read(loc_win(g, regs.LLP_LO))).data == REGION
    assert (await tb.loc.read(loc_win(g, regs.CYCLE_SYNC))).data & regs.CYCLE_SYNC_CCS_MASK == 0
    await check_copied(tb, snaps)
    irq = await run_async(cl.handle_int_ops(), port)
    assert irq.done and irq.ch_stat == regs.CH_STOPPED
    # the same ring again, CCS now 0: the first element's CB=1 mismatches at once
    ars = len(model_events(tb, g))
    await tb.loc.write(loc_win(g, regs.DOORBELL), regs.DOORBELL_START_MASK)
    assert await wait_stat(tb, loc_win(g, regs.CH_STAT)) == regs.CH_STOPPED
    ends = model_events(tb, g)[ars:]
    assert [x.kind for x in ends] == ["end"] and ends[0].addr == REGION, ends
    assert watch.seen == []  # a LOCAL channel never sends an MSI
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_bad_elements_abort_before_data(dut):
    """Every bad element and bad pointer aborts the walk before any of its data moves:
    size 0, size/SAR/DAR not 8-byte aligned, a link pointer not 8-byte aligned; an
    unaligned LLP or CH_EN=0 refuses the START. Each abort sends the abort MSI."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[1]
    d, n = split(g)
    f = 0
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    cl = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    port = TbLlPort(tb, tb.host)
    good = encode_data(0x40, SRC_BASE, DST_BASE, cb=1)
    bad = {"size 0": encode_data(0, SRC_BASE, DST_BASE),
           "size unaligned": encode_data(0x44, SRC_BASE, DST_BASE),
           "SAR unaligned": encode_data(0x40, SRC_BASE + 4, DST_BASE),
           "DAR unaligned": encode_data(0x40, SRC_BASE, DST_BASE + 4),
           "link pointer unaligned": encode_link(REGION + 4, cb=1, tcb=False)}
    for i, (why, el) in enumerate(bad.items()):
        # one good element first, then the bad one: the walk stops at the bad one
        await port.mem_write(REGION, good + el)
        await run_async(cl.ch_config_ops(), port)
        for reg, v in ((regs.CH_EN, 1), (regs.INT_SETUP, regs.INT_SETUP_RABORT_EN_MASK
                                         | regs.INT_SETUP_RSTOP_EN_MASK),
                       (regs.CONTROL1, regs.CONTROL1_LLE_MASK), (regs.LLP_LO, REGION),
                       (regs.LLP_HI, 0), (regs.CYCLE_SYNC, regs.CYCLE_SYNC_CCS_MASK),
                       (regs.DOORBELL, regs.DOORBELL_START_MASK)):
            await tb.host.write(host_win(f, g, reg), v)
        m = await watch.wait(g, i + 1)
        assert m["addr"] == cl.msi.abort, (why, m)
        irq = await run_async(cl.handle_int_ops(), port)
        assert irq.aborted and irq.ch_stat == regs.CH_ABORTED, (why, irq)
        llp = (await tb.host.read(host_win(f, g, regs.LLP_LO))).data
        assert llp == REGION + ELEM_SIZE, (why, hex(llp))
        kinds = [x.kind for x in model_events(tb, g)][-2:]
        assert kinds == ["data", "bad_pointer" if "link" in why else "bad_element"], (why, kinds)
    # START refused: unaligned LLP, channel disabled (no fetch at all)
    k = len(watch.of(g))
    for why, en, llp in (("LLP unaligned", 1, REGION + 4), ("CH_EN=0", 0, REGION)):
        before = len(model_events(tb, g))
        await tb.host.write(host_win(f, g, regs.CH_EN), en)
        await tb.host.write(host_win(f, g, regs.LLP_LO), llp)
        await tb.host.write(host_win(f, g, regs.DOORBELL), regs.DOORBELL_START_MASK)
        k += 1
        await watch.wait(g, k)
        irq = await run_async(cl.handle_int_ops(), port)
        assert irq.aborted and irq.ch_stat == regs.CH_ABORTED, (why, irq)
        assert len(model_events(tb, g)) == before, why
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_fetch_and_data_errors(dut):
    """An error response on an element fetch, on a data read and on a data write
    aborts the walk (abort MSI); the element fetch error leaves LLP at the element."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    d, n = split(g)
    f = 0
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    cl = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    blocks = [Block(SRC_BASE, DST_BASE, 0x100), Block(SRC_BASE + 0x1000, DST_BASE + 0x1000, 0x100)]
    second = REGION + ELEM_SIZE
    cases = (("fetch", second + 8, "r", SLVERR, "fetch_error", second),
             ("data read", blocks[1].sar + 0x40, "r", DECERR, "data_error", second),
             ("data write", blocks[1].dar, "w", SLVERR, "data_error", second))
    for what, addr, on, resp, kind, llp_want in cases:
        tb.faults.clear()
        tb.faults.add(addr, addr + 8, resp, on)
        irq = await host_run(tb, cl, blocks, watch, g)
        assert irq.aborted and irq.ch_stat == regs.CH_ABORTED, (what, irq)
        assert watch.of(g)[-1]["addr"] == cl.msi.abort
        ev = model_events(tb, g)[-1]
        assert ev.kind == kind and ev.addr == llp_want, (what, ev)
        llp = (await tb.host.read(host_win(f, g, regs.LLP_LO))).data
        assert llp == llp_want, (what, hex(llp))
    tb.faults.clear()
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_msi_on_off_masked(dut):
    """One MSI per done/abort event when enabled; none with address 0, with STOP
    masked or with the remote enable off; irq_host follows the event either way."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    d, n = split(g)
    f = 1 % tb.params.num_func
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    blocks = [Block(SRC_BASE, DST_BASE, 0x80)]
    cl = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    irq = await host_run(tb, cl, blocks, watch, g)
    assert irq.done and len(watch.of(g)) == 1
    port = TbLlPort(tb, tb.host)
    # address 0: no MSI; the level interrupt still says done
    cl0 = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), MsiConfig(0, 0, 0))
    for variant in ("no address", "masked", "remote off"):
        await run_async(cl0.ch_config_ops() if variant == "no address" else cl.ch_config_ops(),
                        port)
        await run_async((cl0 if variant == "no address" else cl).start_ops(blocks), port)
        if variant != "no address":
            s = (await tb.host.read(host_win(f, g, regs.INT_SETUP))).data
            s |= regs.INT_SETUP_SMASK_MASK if variant == "masked" else 0
            s &= ~regs.INT_SETUP_RSTOP_EN_MASK if variant == "remote off" else ~0
            await tb.host.write(host_win(f, g, regs.INT_SETUP), s)
        st = None
        for _ in range(2000):
            st = (await tb.host.read(host_win(f, g, regs.CH_STAT))).data
            if st != regs.CH_RUNNING:
                break
            await tb.cycles(8)
        assert st == regs.CH_STOPPED, (variant, st)
        await tb.cycles(20)
        assert len(watch.of(g)) == 1, (variant, watch.of(g))
        stat = (await tb.host.read(host_win(f, g, regs.INT_STAT))).data
        assert stat & regs.INT_STAT_STOP_MASK, variant
        await tb.host.write(host_win(f, g, regs.INT_CLEAR), regs.INT_CLEAR_STOP_MASK)
        cl.configured = cl0.configured = False
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


async def _reclaim_at(tb: TB, epc, be, watch: MsiWatch, phase: str, quiesce: bool) -> None:
    """Reclaim a walking channel at one constructed phase of its walk. With quiesce the
    timer checks Q_CYCLES against the bound (reclaim_checked) and the window must be
    scrubbed; a plain reclaim fences the channel (the host wrote it), the walk ends with
    no MSI after t0 (the scoreboard), and the endpoint unfences it."""

    async def reclaim():
        if quiesce:
            return await reclaim_checked(tb, be, chan)
        tb.sb.expect_unsafe(g)
        await apci_epc_reclaim_dma_chan(chan, False)
        return None

    chs = channels(tb)
    g, other = chs[0], chs[1]
    d, n = split(g)
    f = 0
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    cl = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    port = TbLlPort(tb, tb.host)
    blocks = [Block(SRC_BASE, DST_BASE, 0x40), Block(SRC_BASE + 0x200, DST_BASE + 0x200, 0x40)]
    if quiesce:
        tb.timer.tag = {"scenario": f"ll:{phase}", "state": phase, "size": 0x80, "bp": 0.0,
                        "lat": 0}
    n_msi = len(watch.of(g))
    if phase in ("fetch", "data", "final"):
        tb.faults.read_latency = 40  # the burst stays in flight while the reclaim executes
        await run_async(cl.start_ops(blocks), port)
        # ARs of the walk: fetch 0, data 0, fetch 1, data 1 (each element one burst)
        await wait_dma_event(tb, g, "ar", {"fetch": 0, "data": 1, "final": 3}[phase])
        rec = await reclaim()
        assert rec is None or (rec.out_bytes > 0 and rec.out_phase == "read"), rec
    elif phase == "between":
        # another channel's long read holds the mover while the walk sits between two
        # of its bursts, none in flight: element 0 done, element 1 fetched (its fetch
        # was picked at once after element 0's B), its data burst waiting for the mover
        dl, nl = split(other)
        lcl = LocalLlClient(dl, nl, LlRegion(REGION + REGION_SIZE, REGION_SIZE))
        await run_async(cl.start_ops(blocks), port)
        await wait_dma_event(tb, g, "b", 0)  # element 0's only data burst written
        tb.faults.read_latency = 60
        await run_async(lcl.start_ops([Block(SRC_BASE + 0x4000, DST_BASE + 0x4000, 0x40)]),
                        TbLlPort(tb, tb.loc))
        await wait_dma_event(tb, other, "ar", 0)
        rec = await reclaim()
        assert rec is None or rec.out_bytes == 0, rec
        tb.faults.read_latency = 0
        assert await wait_stat(tb, loc_win(other, regs.CH_STAT)) == regs.CH_STOPPED
    elif phase == "msi":
        # the done MSI presented and held at AW: quiesce completes after its B
        await run_async(cl.start_ops(blocks), port)
        await wait_dma_event(tb, g, "b", 1)  # the last data burst ends: the MSI is next
        tb.hold("aw", True)
        for _ in range(100):
            await FallingEdge(tb.dut.clk)
            if int(tb.dut.m_axi_awvalid.value) and int(tb.dut.m_axi_awsize.value) == 2:
                break
        else:
            raise TimeoutError("no MSI AW presented")
        cocotb.start_soon(_release_later(tb, "aw", 30))
        rec = await reclaim()
        if rec is None:  # plain: the MSI presented before t0 completes all the same
            await watch.wait(g, n_msi + 1)
        else:  # completion waited for the MSI's B (released 30 cycles on), the anchor
            msi = watch.of(g)[-1]
            assert len(watch.of(g)) == n_msi + 1 and msi["edge"] > rec.t0, watch.of(g)
            assert rec.last_resp == msi["b"] and rec.q_rtl > Q_IDLE_MAX, rec
    elif phase == "after":
        await host_run(tb, cl, blocks, watch, g)
        rec = await reclaim()
        assert rec is None or (rec.out_bytes == 0 and rec.q_rtl == 2), rec
    else:
        raise ValueError(phase)
    tb.faults.read_latency = 0
    if rec is None:
        assert await wait_stat(tb, loc_win(g, regs.CH_STAT)) in (regs.CH_ABORTED, regs.CH_STOPPED)
        assert len(watch.of(g)) == n_msi + (phase in ("msi", "after")), watch.of(g)
        await be.unfence(d, n)
        return
    if phase != "msi":  # (there the MSI presented before t0 is accepted after it)
        late = [m for m in watch.of(g) if m["edge"] > rec.t0]
        assert not late, f"MSI after t0: {late} {rec}"
    assert (await tb.loc.read(loc_win(g, regs.CH_STAT))).data == regs.CH_IDLE  # scrubbed


async def _release_later(tb: TB, ch: str, n: int) -> None:
    await tb.cycles(n)
    tb.hold(ch, False)


@cocotb.test(**TIMEOUT)
async def test_reclaim_each_walk_phase(dut):
    """RECLAIM+QUIESCE and plain RECLAIM during an element fetch, mid data burst,
    between two bursts (element 1 fetched, its data waiting while another channel holds
    the mover), mid the final element's data burst, with the done MSI presented, and
    after the end: the quiesce bound holds (tb/timing.py), no MSI or fetch follows t0, a quiesced
    window is scrubbed, a plain reclaim fences (tb/coverage.py ll.reclaim_phase_x_mode)."""
    tb, epc, be, watch = await setup(dut)
    for quiesce in (True, False):
        for phase in ("fetch", "data", "between", "final", "msi", "after"):
            await _reclaim_at(tb, epc, be, watch, phase, quiesce)
    # the quiesce samples, scenario "ll:<phase>": the linked-list family of make report
    assert dump_latency(tb, "test_reclaim_each_walk_phase") == 6
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_plain_reclaim_mid_walk_fences(dut):
    """A plain RECLAIM of a walking channel fences it: UNSAFE, the walk ends ABORTED
    with no MSI, no fetch after t0; unfencing scrubs the host's MSI addresses."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    d, n = split(g)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, d, n)
    tb.sb.expect_unsafe(g)
    cl = HostLlClient(0, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    tb.faults.read_latency = 30
    await run_async(cl.start_ops(blocks_random(tb, 4, 64, 512)), TbLlPort(tb, tb.host))
    await wait_dma_event(tb, g, "ar", 1)
    await apci_epc_reclaim_dma_chan(chan, False)
    tb.faults.read_latency = 0
    assert (await tb.loc.read(loc_win(g, regs.CH_STAT))).data in (regs.CH_RUNNING, regs.CH_ABORTED)
    assert await wait_stat(tb, loc_win(g, regs.CH_STAT)) == regs.CH_ABORTED
    assert watch.of(g) == []
    assert (await tb.loc.read(loc_win(g, regs.MSI_STOP_LO))).data == cl.msi.stop
    await be.unfence(d, n)
    assert (await tb.loc.read(loc_win(g, regs.MSI_STOP_LO))).data == 0
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_kernel_api_end_to_end(dut):
    """pci_epc_delegate_dma_chan -> the host's driver runs lists -> reclaim with
    quiesce mid-walk -> the endpoint's driver runs a list on the LOCAL channel."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[-1]
    d, n = split(g)
    f = 1 % tb.params.num_func
    chan = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
    cl = HostLlClient(f, d, n, LlRegion(REGION, REGION_SIZE), msi_cfg(g))
    blocks = blocks_random(tb, 6, 64, 1024)
    snaps = snapshot(tb, blocks)
    irq = await host_run(tb, cl, blocks, watch, g)
    assert irq.done
    await check_copied(tb, snaps)
    # a second list, reclaimed (quiesced) in the middle of its walk
    tb.faults.read_latency = 20
    await run_async(cl.start_ops(blocks_random(tb, 8, 256, 2048)), TbLlPort(tb, tb.host))
    await wait_dma_event(tb, g, "ar", 5)
    rec = await reclaim_checked(tb, be, chan)
    tb.faults.read_latency = 0
    assert rec.t0 is not None and not [m for m in watch.of(g) if m["edge"] > rec.t0]
    assert (await tb.host.read(host_win(f, g, regs.CH_STAT))).resp != 0  # host refused now
    # the endpoint's own driver on the LOCAL channel
    lc = LocalLlClient(d, n, LlRegion(REGION, REGION_SIZE))
    port = TbLlPort(tb, tb.loc)
    blocks = blocks_random(tb, 3, 8, 256)
    snaps = snapshot(tb, blocks)
    await run_async(lc.start_ops(blocks), port)
    assert await wait_stat(tb, loc_win(g, regs.CH_STAT)) == regs.CH_STOPPED
    irq = await run_async(lc.handle_int_ops(), port)
    assert irq.done
    await check_copied(tb, snaps)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_start_while_msi_in_flight(dut):
    """The host starts its next list while the done MSI of the last one is still in
    flight (its B delayed): the MSI's end does not touch the new walk (microarch
    Decision 22), which runs to its own done MSI."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    chan, cl, port = await host_walker(tb, epc, g)
    first = [Block(SRC_BASE, DST_BASE, 0x40)]
    await run_async(cl.start_ops(first), port)
    await wait_dma_event(tb, g, "b", 0)  # the data burst's B: the MSI comes next
    tb.faults.write_latency = 300
    for _ in range(200):
        if watch.of(g):
            break
        await tb.tick()
    assert watch.of(g) and watch.of(g)[0]["b"] is None, watch.of(g)
    second = [Block(SRC_BASE + 0x400, DST_BASE + 0x400, 0x40)]
    snaps = snapshot(tb, second)
    await run_async(cl.start_ops(second), port)
    assert watch.of(g)[0]["b"] is None, "the MSI ended before the START: nothing tested"
    tb.faults.write_latency = 0
    m = await watch.wait(g, 2)
    assert m["addr"] == cl.msi.stop
    irq = await run_async(cl.handle_int_ops(), port)
    assert irq.done and irq.ch_stat == regs.CH_STOPPED, irq
    await check_copied(tb, snaps)
    # again, and a STOP while only the MSI is in flight: the walk has no burst of its
    # own, so it is ABORTED at once, not at the MSI's B
    tb.faults.write_latency = 300
    await run_async(cl.start_ops(first), port)
    for _ in range(400):
        if len(watch.of(g)) == 3:
            break
        await tb.tick()
    await run_async(cl.start_ops(second), port)
    await run_async(cl.stop_ops(), port)
    st = (await tb.host.read(host_win(0, g, regs.CH_STAT))).data
    assert watch.of(g)[2]["b"] is None, "the MSI ended before the STOP: nothing tested"
    assert st == regs.CH_ABORTED, st
    tb.faults.write_latency = 0
    await watch.wait(g, 4)  # the abort MSI
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_start_ignored_while_the_msi_waits_for_the_mover(dut):
    """A START while the done MSI waits in its slot for the mover (another channel's
    burst holds it) is ignored (microarch Decision 16): the channel stays STOPPED, the
    MSI goes out once, and no element is fetched for the ignored START. Kills the
    mutant msi_start_while_full of `make mutate`, which no other test reached."""
    tb, epc, be, watch = await setup(dut)
    g, other = channels(tb)[0], channels(tb)[1]
    chan, cl, port = await host_walker(tb, epc, g)
    dl, nl = split(other)
    lcl = LocalLlClient(dl, nl, LlRegion(REGION + REGION_SIZE, REGION_SIZE))
    tb.faults.read_latency = 60   # every read burst stays 60 cycles in flight
    await run_async(cl.start_ops([Block(SRC_BASE, DST_BASE, 0x40)]), port)
    # fetch 0, data 0, then the final fetch (AR #2): while it is in flight, the other
    # channel asks for the mover, and the round robin serves it before g's MSI
    await wait_dma_event(tb, g, "ar", 2)
    await run_async(lcl.start_ops([Block(SRC_BASE + 0x4000, DST_BASE + 0x4000, 0x40)]),
                    TbLlPort(tb, tb.loc))
    await wait_dma_event(tb, other, "ar", 0)   # the mover is the other channel's now
    assert [x.kind for x in model_events(tb, g)][-1] == "end", model_events(tb, g)
    fetched = len([a for a in watch.ars if a[0] == g])   # g's AR handshakes so far
    assert fetched == 3, watch.ars
    assert watch.of(g) == [], "the MSI went out before the START: nothing tested"
    await tb.host.write(host_win(0, g, regs.DOORBELL), regs.DOORBELL_START_MASK)
    assert watch.of(g) == [], "the MSI went out before the START: nothing tested"
    tb.faults.read_latency = 0
    m = await watch.wait(g, 1)
    assert m["addr"] == cl.msi.stop, m
    assert (await tb.host.read(host_win(0, g, regs.CH_STAT))).data == regs.CH_STOPPED
    await tb.cycles(50)
    assert len([a for a in watch.ars if a[0] == g]) == fetched, "the ignored START fetched"
    assert len(watch.of(g)) == 1, watch.of(g)
    irq = await run_async(cl.handle_int_ops(), port)
    assert irq.done and irq.ch_stat == regs.CH_STOPPED, irq
    assert await wait_stat(tb, loc_win(other, regs.CH_STAT)) == regs.CH_STOPPED
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_msi_address_bits_1_0_are_ignored(dut):
    """MSI_STOP_LO's bits [1:0] are not part of the address (SPEC 2: address bits [1:0]
    are ignored; SPEC 3: the MSI address is 4-byte aligned): the MSI goes to the aligned
    address, and an address that is 0 but for those bits sends none. Kills the mutant
    msi_addr_low_bits of `make mutate`."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    d, n = split(g)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, d, n)
    want = msi_cfg(g)
    blocks = [Block(SRC_BASE, DST_BASE, 0x40)]
    cl = HostLlClient(0, d, n, LlRegion(REGION, REGION_SIZE), want)
    await run_async(cl.ch_config_ops(), TbLlPort(tb, tb.host))
    for stop, sends in ((want.stop | 3, True), (3, False)):
        # (the driver's MsiConfig refuses an unaligned address: written here directly)
        await tb.host.write(host_win(0, g, regs.MSI_STOP_LO), stop)
        await run_async(cl.start_ops(blocks), TbLlPort(tb, tb.host))
        for _ in range(2000):
            if (await tb.host.read(host_win(0, g, regs.CH_STAT))).data != regs.CH_RUNNING:
                break
            await tb.cycles(8)
        assert (await tb.host.read(host_win(0, g, regs.CH_STAT))).data == regs.CH_STOPPED
        await tb.cycles(30)
        got = watch.of(g)
        assert len(got) == 1, (hex(stop), got)   # the first list's only
        if sends:
            assert got[0]["addr"] == want.stop, (hex(stop), got)
        await tb.host.write(host_win(0, g, regs.INT_CLEAR), regs.INT_CLEAR_STOP_MASK)
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_walk_end_shows_its_own_llp_over_a_host_write(dut):
    """A walk that ends STOPPED shows its own LLP and CCS in the window (SPEC 3 step 2:
    LLP keeps this element's address), even after the host wrote LLP_LO and
    CYCLE_SYNC while the final fetch was in flight. Kills the mutant
    walk_end_no_writeback of `make mutate`, which simulation and formal had left."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[0]
    chan, cl, port = await host_walker(tb, epc, g)
    tb.faults.read_latency = 60
    await run_async(cl.start_ops([Block(SRC_BASE, DST_BASE, 0x40)]), port)
    await wait_dma_event(tb, g, "ar", 2)   # the final fetch, 60 cycles in flight
    junk = REGION + 0x300
    await tb.host.write(host_win(0, g, regs.LLP_LO), junk)
    await tb.host.write(host_win(0, g, regs.CYCLE_SYNC), 0)
    assert (await tb.host.read(host_win(0, g, regs.CH_STAT))).data == regs.CH_RUNNING, \
        "the walk ended before the host's writes: nothing tested"
    assert (await tb.host.read(host_win(0, g, regs.LLP_LO))).data == junk
    tb.faults.read_latency = 0
    await watch.wait(g, 1)
    assert (await tb.host.read(host_win(0, g, regs.CH_STAT))).data == regs.CH_STOPPED
    # the final element: the driver's closing link element, right after the data one
    assert (await tb.host.read(host_win(0, g, regs.LLP_LO))).data == REGION + ELEM_SIZE
    ccs = (await tb.host.read(host_win(0, g, regs.CYCLE_SYNC))).data & regs.CYCLE_SYNC_CCS_MASK
    assert ccs == regs.CYCLE_SYNC_CCS_MASK, hex(ccs)
    await run_async(cl.handle_int_ops(), port)
    await apci_epc_reclaim_dma_chan(chan, True)
    await tb.finish()


@cocotb.test(**TIMEOUT)
async def test_ll_registers_rw_and_scrubbed(dut):
    """CYCLE_SYNC and the MSI registers: RW with their WIN_WMASK bits through the owner's
    window, and zero again after the quiesced reclaim (scrub)."""
    tb, epc, be, watch = await setup(dut)
    g = channels(tb)[-1]
    d, n = split(g)
    chan = await apci_epc_delegate_dma_chan(epc, 0, 0, d, n)
    ll_regs = (regs.CYCLE_SYNC, regs.MSI_STOP_LO, regs.MSI_STOP_HI, regs.MSI_ABORT_LO,
               regs.MSI_ABORT_HI, regs.MSI_MSGDATA)
    for reg in ll_regs:
        assert await tb.host.write(host_win(0, g, reg), 0xFFFFFFFF) == 0
        assert (await tb.host.read(host_win(0, g, reg))).data == regs.WIN_WMASK[reg], hex(reg)
    await reclaim_checked(tb, be, chan)
    for reg in ll_regs:
        assert (await tb.loc.read(loc_win(g, reg))).data == 0, hex(reg)
    await tb.finish()


THROUGHPUT_FILE = "throughput.json"  # in the run folder; read by tools/bench_sim.py
ELEM_ENV = knobs.LL_BENCH_ELEM_ENV  # element size of the throughput test (make bench-sim: 4096)


def bench_elem() -> int:
    """Element size of test_walk_throughput: $DD_LL_BENCH_ELEM bytes (default 1 KiB, to
    keep make test short), a multiple of 8 in [8, 4096]."""
    return knobs.ll_bench_elem()


async def _bytes_per_cycle(tb: TB, g: int, start, nbytes: int) -> float:
    """Bytes per cycle of one transfer of channel g: from its first AR handshake to the
    edge its INT_STAT.STOP is set (the model's event log, judged on the RTL's traffic)."""
    task = cocotb.start_soon(start)
    first = await wait_dma_event(tb, g, "ar", 0)
    await task
    for _ in range(100_000):
        done = [ev for ev in model_int_events(tb, g) if ev.kind == "stop"]
        if done:
            return nbytes / (done[0].edge - first + 1)
        await tb.cycles(16)
    raise TimeoutError(f"channel {g}: no STOP event")


def model_int_events(tb: TB, g: int) -> list:
    tb.drain()
    return [x for x in tb.model.int_events if x.g == g]


@cocotb.test(**TIMEOUT)
async def test_walk_throughput(dut):
    """Throughput of the walk next to a single-block copy of the same bytes, zero added
    memory latency: a list of 8 elements of $DD_LL_BENCH_ELEM bytes (make bench-sim:
    4 KiB) and one copy of 8 times that, each on a fresh channel; bytes per cycle from
    the first AR to the done event. Written to throughput.json for make bench-sim; every
    byte is judged by the scoreboard."""
    elem = bench_elem()
    tb, epc, be, watch = await setup(dut)
    chs = channels(tb)
    gw, gc = chs[0], chs[-1]
    d, n = split(gw)
    lc = LocalLlClient(d, n, LlRegion(REGION, REGION_SIZE))
    blocks = [Block(SRC_BASE + 0x1000 * i, DST_BASE + 0x1000 * i, elem) for i in range(8)]
    snaps = snapshot(tb, blocks)
    walk = await _bytes_per_cycle(tb, gw, run_async(lc.start_ops(blocks), TbLlPort(tb, tb.loc)),
                                  8 * elem)
    await check_copied(tb, snaps)
    cd, cn = split(gc)
    src, dst = SRC_BASE + 0x10000, DST_BASE + 0x10000
    regs_prog = ((regs.SAR_LO, src), (regs.DAR_LO, dst), (regs.XFER_SIZE, 8 * elem),
                 (regs.CH_EN, 1), (regs.DOORBELL, regs.DOORBELL_START_MASK))

    async def copy():
        for reg, v in regs_prog:
            await tb.loc.write(loc_win(gc, reg), v)

    single = await _bytes_per_cycle(tb, gc, copy(), 8 * elem)
    tb.log.info("throughput: walk 8 x %d B %.3f B/cycle, single-block %d B %.3f B/cycle",
                elem, walk, 8 * elem, single)
    with open(THROUGHPUT_FILE, "w") as fh:
        json.dump({"elem_bytes": elem, "walk_bytes_per_cycle": round(walk, 4),
                   "single_bytes_per_cycle": round(single, 4)}, fh)
    # each element costs one 3-beat fetch burst on top of its data bursts
    assert 0.7 * single < walk <= single, (walk, single)
    await tb.finish()
