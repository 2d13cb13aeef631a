"""The transaction-level lane's own promises (LANE=tl only; tb/tl.py, tb/hdl/tl_*.v).

The features the register tests do not reach (AW/W order, issue delays, queued
batches) run here with the scoreboard judging every access, and each kind of bad
input is shown to end in a clear TlError naming the test, the edge and the seed,
never in a hang: a queue overflow, a malformed access, a response that never comes.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from model import regs
from model.epc import apci_epc_reclaim_dma_chan
from tb.agents import HostAgent
from tb.env import loc_win, own_reg
from tb.faults import OKAY
from tb.qharness import delegate
from tb.rtl_backend import rtl_epc
from tb.runner import TL_JUDGE_ENV
from tb.scoreboard import reproduce_command
from tb.test_directed import channels, split
from tb.tl import Access, TlError, TlTB, new_tb

LANES = ("tl",)
PARAM_SETS = ("default",)


async def setup(dut) -> TlTB:
    tb = new_tb(dut)
    assert isinstance(tb, TlTB), "run with LANE=tl"
    await tb.reset()
    return tb


def assert_names_where(exc: TlError, tb: TlTB) -> None:
    """The message must say which test, at which edge, with which seed, and how to rerun."""
    msg = str(exc)
    assert "test tb.test_tl_errors." in msg and "edge " in msg and "seed" in msg, msg
    # this run's own command, whatever knobs it runs with: the tl lane is the default (no
    # LANE=); a knob of the run comes before `make sim`, as the user sets it (a tree other
    # than hdl/, e.g. a mutant of `make mutate`: DD_HDL_DIR=; `DD_TL_JUDGE=fork make
    # sweep`: DD_TL_JUDGE=fork; a regex that knew only DD_HDL_DIR failed that sweep)
    assert f"reproduce: {reproduce_command()}" in msg, msg
    assert re.search(r"reproduce: ([A-Z][A-Z0-9_]*=\S+ )*make sim SIM=", msg), msg


async def lite_write_handshakes(dut, cycles: int = 64) -> tuple[int | None, int | None]:
    """The cycles (counted from the call) of the next AW and W handshakes on the local
    AXI4-Lite port, sampled between edges (VALID and READY as the next edge takes them)."""
    aw = w = None
    for k in range(cycles):
        await FallingEdge(dut.clk)
        if aw is None and int(dut.s_axil_loc_awvalid.value) and int(dut.s_axil_loc_awready.value):
            aw = k
        if w is None and int(dut.s_axil_loc_wvalid.value) and int(dut.s_axil_loc_wready.value):
            w = k
        if aw is not None and w is not None:
            break
    return aw, w


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_orders_delays_and_batches(dut):
    """Every AW/W order and an issue delay reach the DUT (the AW and W handshakes on one
    edge, AW first, W first: sampled on the port's wires); a full queue runs as one batch
    and wakes Python once, when its last access completes (tb_dma_deleg_tl.v wake_now);
    TlPort.write_all queues its writes so, in batches of the queue's depth."""
    tb = await setup(dut)
    g = 0
    a = loc_win(g, regs.SAR_LO)
    for i, order in enumerate(("together", "aw_first", "w_first")):
        seen = cocotb.start_soon(lite_write_handshakes(dut))
        assert await tb.loc.write(a, 0x100 + 8 * i, order=order) == OKAY
        aw, w = await seen
        assert aw is not None and w is not None, (order, aw, w)
        assert {"together": aw == w, "aw_first": aw < w, "w_first": w < aw}[order], \
            f"order {order}: AW handshake at cycle {aw}, W at {w}"
        assert (await tb.loc.read(a)).data == 0x100 + 8 * i
    t0 = tb.now()
    assert await tb.loc.write(a, 0x200, delay=40) == OKAY
    assert tb.sb.last_exec["loc"] >= t0 + 40, (t0, tb.sb.last_exec)
    batch = [Access(True, a, 0x300 + 8 * k) for k in range(tb.loc.depth - 1)]
    batch.append(Access(False, a))
    w0 = tb.wakes
    rsps = await tb.loc.run(batch)
    assert tb.wakes - w0 == 1, f"{tb.wakes - w0} wakes for one batch of {len(batch)}"
    assert [r.resp for r in rsps] == [OKAY] * tb.loc.depth
    assert rsps[-1].data == 0x300 + 8 * (tb.loc.depth - 2)
    assert tb.sb.compared == 7 + tb.loc.depth   # every access judged by the scoreboard
    n = tb.loc.depth + 2                        # two batches: one wake each
    w0 = tb.wakes
    assert await tb.loc.write_all((a, 0x400 + 8 * k) for k in range(n)) == [OKAY] * n
    assert tb.wakes - w0 == 2, f"{tb.wakes - w0} wakes for {n} writes in two batches"
    assert (await tb.loc.read(a)).data == 0x400 + 8 * (n - 1)
    assert tb.sb.compared == 7 + tb.loc.depth + n + 1
    await tb.finish()


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_queue_overflow_is_an_error(dut):
    """More accesses than the transactor queue holds: refused before any is sent."""
    tb = await setup(dut)
    n = tb.loc.depth + 1
    try:
        await tb.loc.run([Access(False, own_reg(0, regs.OWN_STAT))] * n)
    except TlError as exc:
        assert "queue overflow" in str(exc), exc
        assert_names_where(exc, tb)
    else:
        raise AssertionError(f"{n} accesses for {tb.loc.depth} slots were accepted")
    assert tb.loc.pushed == tb.loc.completed
    await tb.finish()


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_malformed_access_is_an_error(dut):
    """Address, order, issue delay out of range: TlError, nothing reaches the DUT."""
    tb = await setup(dut)
    bad = (
        (tb.loc.read(1 << 16), "outside the 16-bit"),
        (tb.host.write(0x0, 1, order="sideways"), "order 'sideways'"),
        (tb.loc.write(0x0, 1, delay=1 << 16), "issue delay"),
    )
    for coro, what in bad:
        try:
            await coro
        except TlError as exc:
            assert what in str(exc) and "malformed" in str(exc), exc
            assert_names_where(exc, tb)
        else:
            raise AssertionError(f"malformed access accepted ({what})")
    assert tb.sb.compared == 0
    await tb.finish()


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_missing_response_is_an_error(dut):
    """The DUT held in reset never answers: the HDL watchdog ends the wait with TlError."""
    tb = await setup(dut)
    dut.loc_m.timeout_cycles.value = 2000   # the watchdog is a register: a short one here
    dut.rst.value = 1
    t0 = tb.now()
    await expect_tl_error(tb, "no R response", tb.loc.read, own_reg(0, regs.OWN_STAT))
    assert tb.now() - t0 < 2 * int(dut.loc_m.timeout_cycles.value), "the wait was not bounded"
    dut.rst.value = 0
    dut.loc_m.timeout_cycles.value = 100_000
    tb.sb.enabled = False   # the model knows nothing of the reset held above


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_memory_byte_ranges(dut):
    """The HDL memory stores 64-bit words; byte ranges of any alignment and length,
    several between two edges (overlapping: the later wins; adjacent; single bytes),
    land byte for byte, and the bytes beside a ragged end keep what the memory held.
    Too many ragged words in one load is a TlError that leaves the pending load as it
    was."""
    tb = await setup(dut)
    rng = random.Random(tb.seed)
    ref = np.zeros(tb.params.mem_size, dtype=np.uint8)
    span = 0x3000
    base = 0x20000
    tb.fill_memory(base, base + span)
    ref[base:base + span] = tb.model.mem[base:base + span]
    for _ in range(12):
        for _ in range(rng.randint(1, 6)):
            lo = base + rng.randrange(span - 64)
            n = rng.choice((1, 2, 3, 7, 8, 9, 15, 17, rng.randint(1, 64)))
            data = np.frombuffer(rng.randbytes(n), dtype=np.uint8)
            tb.write_memory(lo, data)
            ref[lo:lo + n] = data
        await tb.cycles(rng.randint(1, 3))
        lo = base + rng.randrange(span - 100)
        n = rng.randint(1, 99)
        got = await tb.mem.read(lo, n)
        assert got == ref[lo:lo + n].tobytes(), (hex(lo), n)
    # one more ragged word than a load takes: refused whole, the rest still loads
    cap = tb.mem.patch_cap
    for k in range(cap):
        tb.write_memory(base + 8 * k + 3, np.array([k & 0xFF], dtype=np.uint8))
        ref[base + 8 * k + 3] = k & 0xFF
    await expect_tl_error(tb, "words in part", tb.write_memory, base + 8 * cap + 3,
                          np.array([0xEE], dtype=np.uint8))
    whole = np.arange(8, dtype=np.uint8) + 0x40   # a whole word joins the same load
    tb.write_memory(base + 8 * cap + 64, whole)
    ref[base + 8 * cap + 64:base + 8 * cap + 72] = whole
    await tb.cycles(2)
    got = await tb.mem.read(base, 8 * cap + 72)
    assert got == ref[base:base + 8 * cap + 72].tobytes()
    assert np.array_equal(await tb.image(), ref)
    await tb.finish()   # and the model's image is the memory's (check_memory)


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_poller_read_without_response_is_an_error(dut):
    """A status read the HDL poller injected (TlTB.wait_status) that never gets its R
    (the DUT held in reset): the transactor's watchdog ends it, and the wait ends in a
    TlError naming the test, the edge and the seed, never in a hang."""
    tb = await setup(dut)
    dut.host_m.timeout_cycles.value = 500
    dut.rst.value = 1
    t0 = tb.now()
    # line 1 (irq_host[0]) stays low: the wait's seventh poll is a forced read
    await expect_tl_error(tb, "of the poller: no R response", tb.wait_status, tb.host, 0x0100,
                          1, 4, 10_000, regs.CH_RUNNING)
    assert tb.poller_waits == 1 and tb.now() - t0 < 2000, (tb.poller_waits, tb.now() - t0)
    dut.rst.value = 0
    dut.host_m.timeout_cycles.value = 100_000
    tb.sb.enabled = False   # the model knows nothing of the reset held above


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_poller_ways_back(dut):
    """Each way a wait the status poller runs (TlTB.wait_status) comes back to Python,
    built on purpose (tests/test_sim.py compares the trace with DD_TL_POLLER=0):
    at its end edge, where another task's timer wakes Python anyway (Python does the
    status read); after a read that ends it (the copy done, its interrupts off, so
    the line stays low); and taken over when the line rises during a wait (the copy
    done, interrupts on)."""
    tb = await setup(dut)
    tb.fill_memory(0, 0x4000)
    epc, _ = rtl_epc(tb)
    g = channels(tb)[0]
    chan = await delegate(epc, tb, g, 0)
    agent = HostAgent(tb, 0)
    stat = agent.addr(g, regs.CH_STAT)
    for irq in (False, True):
        await agent.program(g, 0x0, 0x2000, 0x2000, irq=irq)
        await agent.start(g)
        # the first wait (n = 0) is 7 polls of 16 cycles; a timer ending with it
        timer = cocotb.start_soon(tb.cycles(7 * 16))
        st = await tb.wait_status(tb.host, stat, agent.irq_line, 16, 100_000, regs.CH_RUNNING)
        await timer
        assert st is not None and st.data == regs.CH_STOPPED, st
        await agent.read(g, regs.INT_STAT)
        await agent.write(g, regs.INT_CLEAR, regs.INT_CLEAR_STOP_MASK | regs.INT_CLEAR_ABORT_MASK)
    await apci_epc_reclaim_dma_chan(chan, True)
    if tb.poller_on:
        assert all(tb.poller_stops.values()) and tb.poller_reads > 10, (
            tb.poller_stops, tb.poller_reads)
    await tb.finish()


async def expect_tl_error(tb: TlTB, what: str, fn, *args, **kw) -> None:
    """fn(*args, **kw) (awaited when it returns a coroutine) must raise TlError saying *what*."""
    try:
        res = fn(*args, **kw)
        if hasattr(res, "__await__"):
            await res
    except TlError as exc:
        assert what in str(exc), exc
        assert_names_where(exc, tb)
    else:
        raise AssertionError(f"accepted: {fn.__name__}{args} (expected an error about {what!r})")


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_bad_memory_and_setup_input(dut):
    """Memory ranges, error zones, channel names, throttles, a memory of the wrong size and
    accesses left queued by an earlier TB: each a TlError, nothing half-done."""
    tb = await setup(dut)
    size = tb.params.mem_size
    await expect_tl_error(tb, "outside the", tb.mem.write, size - 1, b"\0\0")
    await expect_tl_error(tb, "outside the", tb.mem.read, 0, size + 1)
    for k in range(tb.faults.nzones):
        tb.faults.add(0x1000 * k, 0x1000 * k + 8, 2, on="r")
    await expect_tl_error(tb, "all are in use", tb.faults.add, 0x80000, 0x80008, 2, "w")
    tb.faults.clear()
    await expect_tl_error(tb, "non-empty range", tb.faults.add, 0x10, 0x10, 3, "r")
    await expect_tl_error(tb, "is not one of ar, r, aw, w, b", tb.hold, "x", True)
    await expect_tl_error(tb, "outside 1..", tb.stall_every, "r", 0)
    # a status wait on an address no 16-bit port has: the HDL poller does not take it
    # (its slot fields are 16 bits), and the read it comes to is refused as any other
    await expect_tl_error(tb, "outside the 16-bit", tb.wait_status, tb.host, 1 << 16, 1, 2,
                          1_000, regs.CH_RUNNING)
    assert tb.poller_waits == 0, tb.poller_waits
    await tb.finish()
    # a TB whose model memory differs from the HDL memory is refused at reset
    small = dataclasses.replace(tb.params, mem_size=tb.params.mem_size // 2)
    other = TlTB(dut, params=small)
    await expect_tl_error(other, "the HDL memory holds", other.reset)
    # an access pushed but never awaited: the next TB refuses to start on top of it
    other.loc._push(Access(False, own_reg(0, regs.OWN_STAT)))
    await RisingEdge(dut.clk)   # the push reaches the HDL; the access is still running
    try:
        TlTB(dut)
    except TlError as exc:
        assert "still queued" in str(exc), exc
    else:
        raise AssertionError("a TB started over a queued access of an earlier one")
    await other.loc.run([])   # collect it, so the transactor is idle for the next test


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_forked_judge(dut):
    """DD_TL_JUDGE=fork (tb/judge.py), for this test only: after fork_judge, a memory
    write of the test, a host copy out of it, an UNSAFE reclaim the test declares and
    its unfencing are judged in the forked process, whose verdict finish takes (a lost
    message would be a mismatch there: bytes the model never saw, an undeclared
    UNSAFE); tb.model, a reset and a second fork_judge are clear errors."""
    tb = await setup(dut)
    before = os.environ.get(TL_JUDGE_ENV)
    os.environ[TL_JUDGE_ENV] = "fork"
    try:
        assert tb.fork_judge(), "DD_TL_JUDGE=fork: no judge process"
    finally:
        if before is None:
            del os.environ[TL_JUDGE_ENV]
        else:
            os.environ[TL_JUDGE_ENV] = before
    await expect_tl_error(tb, "runs in the judge process", getattr, tb.model, "mem")
    await expect_tl_error(tb, "reset after fork_judge", tb.reset)
    await expect_tl_error(tb, "already runs", tb.fork_judge)
    await expect_tl_error(tb, "would never call an observer", tb.sb.observers.append, print)
    await expect_tl_error(tb, "would never call it", tb.mon.add_callback, print)
    epc, be = rtl_epc(tb)
    g = channels(tb)[0]
    tb.write_memory(0x2000, np.arange(256, dtype=np.uint8))
    chan = await delegate(epc, tb, g, 0)
    agent = HostAgent(tb, 0)
    res = await agent.copy(g, 0x2000, 0x3000, 256)
    assert res.ch_stat == regs.CH_STOPPED, res
    tb.sb.expect_unsafe(g)   # the host wrote the window: a plain reclaim fences it
    await apci_epc_reclaim_dma_chan(chan, False)
    await be.unfence(*split(g))
    await tb.finish()
    assert tb.sb.compared > 20 and tb.copies.verified == 1, (tb.sb.compared, tb.copies.verified)


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_port_lock_survives_a_cancelled_waiter(dut):
    """TlPort's lock (tb/tl.py _PortLock): a task cancelled while it waits for the lock
    leaves the queue, so the port is not wedged and the next waiter gets it (one
    cancelled after the hand-over: tests/test_tb_helpers.py)."""
    from cocotb.triggers import Timer

    from tb.tl import _PortLock
    lock = _PortLock()
    log: list[str] = []

    async def holder(t: int) -> None:
        async with lock:
            await Timer(t, "ns")

    async def waiter(name: str) -> None:
        async with lock:
            log.append(name)

    cocotb.start_soon(holder(100))
    await Timer(1, "ns")
    b = cocotb.start_soon(waiter("b"))
    c = cocotb.start_soon(waiter("c"))
    await Timer(1, "ns")
    b.cancel()                               # waiting: leaves the queue
    await Timer(200, "ns")
    assert log == ["c"] and not lock.locked(), (log, lock.locked())
    del c
