"""DMA-heavy workload: back-to-back host copies of 4 KiB .. DD_BENCH_DMA_MAX on every
channel, with delegation, host programming and quiesced reclaims in between.

This is the ``dma`` workload of ``make bench-sim`` (tools/bench_sim.py) and an ordinary
test of the suite: scoreboard, copy checker, quiesce timer and coverage are all on, and
every copy must be verified end to end (``tb.copies``), so the test cannot pass by
moving nothing. Each channel works in its own memory region (source half, destination
half), so no copy is tainted by another channel's writes.

Per channel and round: delegate the channel to a random function, the host driver
programs and runs COPIES_PER_ROUND copies back to back (interrupt-driven), then the
endpoint reclaims it with quiesce. All channels run at once.

Knobs (environment): DD_BENCH_DMA_ROUNDS (default 1) rounds per channel;
DD_BENCH_DMA_MAX (bytes, default 8 KiB, at most 64 KiB) largest copy; the benchmark
sets 64 KiB. DD_TRACE=1 records the monitor's edge trace into the run folder
(tb/trace.py) for ``python -m tools.bench_sim --replay``.
"""

from __future__ import annotations

import resource
from pathlib import Path

import cocotb
from cocotb.triggers import gather

from model import regs
from model.epc import apci_epc_delegate_dma_chan, apci_epc_reclaim_dma_chan
from tb import knobs as tb_knobs
from tb.agents import HostAgent
from tb.env import TB
from tb.rtl_backend import rtl_epc
from tb.test_directed import channels, split
from tb.tl import new_tb
from tb.trace import TraceRecorder

PARAM_SETS = ("default",)
LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)

MIN_COPY = tb_knobs.BENCH_DMA_MIN_COPY
MAX_COPY = tb_knobs.BENCH_DMA_MAX_COPY   # the workload's upper bound; a region holds one copy
REGION = 2 * MAX_COPY         # per channel: source half, destination half
COPIES_PER_ROUND = 2
ROUNDS_ENV = tb_knobs.BENCH_DMA_ROUNDS_ENV
MAX_ENV = tb_knobs.BENCH_DMA_MAX_ENV
TRACE_FILE = "dma_trace.pkl"
#: written at the end of the test (run folder): the simulator process's peak resident
#: set in KiB (cocotb runs inside it), for the flat-memory figure of make bench-sim
RSS_FILE = "peak_rss_kib.txt"


def knobs() -> tuple[int, int]:
    """(rounds, largest copy in bytes) from the environment, validated (tb/knobs.py)."""
    return tb_knobs.bench_dma()


async def channel_worker(tb: TB, epc, g: int, base: int, rounds: int, top: int, stats: dict) -> None:
    rng = tb.rng.__class__(tb.rng.getrandbits(32))   # per channel, seeded from tb.rng
    d, n = split(g)
    for _ in range(rounds):
        f = rng.randrange(tb.params.num_func)
        handle = await apci_epc_delegate_dma_chan(epc, f, 0, d, n)
        agent = HostAgent(tb, f)
        for _ in range(COPIES_PER_ROUND):
            size = 8 * rng.randint(MIN_COPY // 8, top // 8)
            src = base + 8 * rng.randrange(0, (MAX_COPY - size) // 8 + 1)
            dst = base + MAX_COPY + 8 * rng.randrange(0, (MAX_COPY - size) // 8 + 1)
            res = await agent.copy(g, src, dst, size, timeout_cycles=1_000_000)
            assert res.ch_stat == regs.CH_STOPPED, (
                f"channel {g}: copy of {size} B {src:#x} -> {dst:#x} ended with CH_STAT {res.ch_stat}")
            stats["copies"] += 1
            stats["bytes"] += size
        await apci_epc_reclaim_dma_chan(handle, True)
        stats["quiesces"] += 1


@cocotb.test(timeout_time=3000, timeout_unit="ms")
async def test_bench_dma(dut):
    """Back-to-back checked copies on every channel, delegations and quiesces between."""
    rounds, top = knobs()
    tb = new_tb(dut)
    await tb.reset()
    chs = channels(tb)
    if len(chs) * REGION > tb.params.mem_size:
        raise ValueError(f"{len(chs)} channels x {REGION} B regions exceed the "
                         f"{tb.params.mem_size} B memory")
    tb.fill_memory(0, len(chs) * REGION)
    rec = TraceRecorder(tb) if TraceRecorder.enabled() else None
    epc, _be = rtl_epc(tb, timeout=200_000)
    if rec is None:
        tb.fork_judge()   # DD_TL_JUDGE=fork: the scoreboard in a second process (tb/judge.py)
    stats = {"copies": 0, "bytes": 0, "quiesces": 0}
    tb.log.info("dma workload: %d channel(s) x %d round(s) x %d copies of %d..%d B",
                len(chs), rounds, COPIES_PER_ROUND, MIN_COPY, top)
    await gather(*(channel_worker(tb, epc, g, k * REGION, rounds, top, stats)
                   for k, g in enumerate(chs)))
    try:
        await tb.finish()
    finally:
        if rec is not None:
            path = Path.cwd() / TRACE_FILE
            trace = rec.save(path, "test_bench_dma")
            tb.log.info("edge trace: %s (%d busy edges, %d events, %d cycles)", path,
                        len(trace.samples), trace.events, trace.cycles)
    # KiB on Linux; with DD_TL_JUDGE=fork the judge process (reaped by finish) too
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    Path(RSS_FILE).write_text(f"{peak}\n")
    tb.log.info("dma stats: %s; copies verified %d, skipped %d; simulator peak RSS %d KiB",
                stats, tb.copies.verified, tb.copies.skipped, peak)
    want = len(chs) * rounds * COPIES_PER_ROUND
    assert stats["copies"] == want and stats["quiesces"] == len(chs) * rounds, stats
    assert tb.copies.verified == want and tb.copies.skipped == 0, (
        f"copy checker verified {tb.copies.verified} of {want} copies "
        f"(skipped {tb.copies.skipped}, aborted {tb.copies.aborted})")
