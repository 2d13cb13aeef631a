"""Fault paths: memory errors, STOP racing completion, reset mid-transfer and
mid-quiesce, host hammering a quiescing channel.

The scoreboard judges every response and DMA beat against model.hw, the
QuiesceTimer (tb/timing.py) times every quiesce against SPEC 2.3, the copy checker
(tb/memcheck.py) verifies every completed copy; the asserts pin the scenario.
"""

from __future__ import annotations

import cocotb

from model import regs
from tb.agents import HostAgent, LocalDma
from tb.env import TB, host_win, loc_win, own_reg
from tb.faults import DECERR, OKAY, SLVERR
from tb.qharness import (
    DmaEdgeLog,
    burst_count,
    delegate,
    dst_of,
    dump_latency,
    rand_src,
    reclaim_checked,
    set_load,
    setup,
    wait_dma_event,
)
from tb.rtl_backend import rtl_epc
from tb.test_directed import channels, together

PARAM_SETS = ("default",)
LANES = ("vip", "tl")   # testbench lanes this module runs on (tb/runner.py LANES)
TIMEOUT = {"timeout_time": 1000, "timeout_unit": "ms"}
RESP_NAME = {SLVERR: "SLVERR", DECERR: "DECERR"}


async def same_bytes(tb: TB, src: int, dst: int, size: int) -> bool:
    """The memory (not the model's image) holds the source's bytes at the destination."""
    return await tb.mem.read(src, size) == await tb.mem.read(dst, size)


#: Sweep points (item 8 of issue 9): each is its own cocotb test, named as cocotb
#: parametrize names it (``test_mem_error_aborts_one_channel/resp=SLVERR/on=r/during=True``),
#: so it reruns alone with its own reproduce line; all points still run in one simulator
#: process per module.
FAULT_RESPS = tuple(cocotb.Param(value=r, name=n) for r, n in RESP_NAME.items())
HAMMER_LOADS = ((0.0, 16), (0.5, 32))


@cocotb.test(**TIMEOUT)
@cocotb.parametrize(resp=FAULT_RESPS, on=("r", "w"), during=(False, True))
async def test_mem_error_aborts_one_channel(dut, resp: int, on: str, during: bool):
    """SLVERR/DECERR on a read or a write aborts that channel only (``during``: the
    channel is quiesced while the failing burst is outstanding, and the quiesce
    completes)."""
    tb, faults, epc, be = await setup(dut)
    rng = tb.rng
    p = tb.params
    chs = channels(tb)
    local_g, victim, other = chs[0], chs[1], chs[2]
    size = 2048
    tb.timer.tag = {"scenario": f"fault:{RESP_NAME[resp]}:{on}", "state":
                    "in-flight" if during else "aborted", "size": size, "bp": 0.0,
                    "lat": 8 if during else 0}
    set_load(tb, faults, rng, 0.0, 8 if during else 0)
    hv = await delegate(epc, tb, victim, 0)
    ho = await delegate(epc, tb, other, 1 % p.num_func)
    av, ao, dma = HostAgent(tb, 0), HostAgent(tb, 1 % p.num_func), LocalDma(tb)
    # disjoint source quarters: only the victim's traffic hits the fault
    srcs = {g: rand_src(rng, size, i * 0x10000, (i + 1) * 0x10000)
            for i, g in enumerate((local_g, victim, other))}
    # the faulty word: in the first burst when quiescing during it, else mid-copy
    off = 0 if during else 0x400
    bad = (srcs[victim] if on == "r" else dst_of(tb, victim)) + off
    faults.clear()
    faults.add(bad, bad + 8, resp, on)
    before = dict(faults.injected)
    for g, a in ((local_g, dma), (victim, av), (other, ao)):
        await a.program(g, srcs[g], dst_of(tb, g), size)
    await av.start(victim)
    if during:
        # quiesce while the failing burst is outstanding
        # (a write error needs the write under way: a quiesce during the read
        # drops the fetched data, microarch Decision 2)
        await wait_dma_event(tb, victim, "ar" if on == "r" else "aw", 0)
        rec = await reclaim_checked(tb, be, hv)
        assert rec.out_bytes > 0, f"no burst outstanding at t0: {rec}"
        await dma.copy(local_g, srcs[local_g], dst_of(tb, local_g), size)
        await ao.copy(other, srcs[other], dst_of(tb, other), size)
    else:
        await dma.start(local_g)
        await ao.start(other)
        rv, ro, rl = await together(av.wait_done(victim), ao.wait_done(other),
                                    dma.wait_done(local_g))
        assert rv.ch_stat == regs.CH_ABORTED and rv.int_stat & regs.INT_STAT_ABORT_MASK, rv
        assert ro.ch_stat == regs.CH_STOPPED and rl.ch_stat == regs.CH_STOPPED, (
            ro, rl, srcs, hex(bad), faults.faults)
        await reclaim_checked(tb, be, hv)
    kind = "r" if on == "r" else "b"
    assert faults.injected[kind] > before[kind], f"no {kind} error injected"
    for g in (local_g, other):
        assert await same_bytes(tb, srcs[g], dst_of(tb, g), size), f"channel {g} data"
    await reclaim_checked(tb, be, ho)
    faults.clear()
    await tb.finish()
    dump_latency(tb, "test_mem_error_aborts_one_channel")


async def _stop_run(tb: TB, host: HostAgent, log: DmaEdgeLog, g: int, src: int, size: int,
                    final: int, delay: int | None) -> dict:
    """One copy; STOP (unless `delay` is None) `delay` cycles after the scoreboard saw
    the last R beat of the burst before the final one. Returns the RTL's edges relative
    to that last R beat (STOP execution, that burst's B, the final burst's AR handshake
    and B; None if absent) and the final CH_STAT."""
    await host.program(g, src, dst_of(tb, g), size)
    await host.start(g)
    a = await wait_dma_event(tb, g, "rlast", final - 1)
    stop = None
    if delay is not None:
        await tb.cycles(delay)
        await host.stop(g)
        stop = tb.sb.last_exec["host"] - a
    res = await host.wait_done(g)

    def rel(e: int | None) -> int | None:
        return None if e is None else e - a

    return {"stop": stop, "b_prev": rel(log.first("b", a)), "ar": rel(log.first("ar", a)),
            "b": rel(log.last("b", a)), "ch_stat": res.ch_stat}


@cocotb.test(**TIMEOUT)
async def test_stop_races_completion(dut):
    """STOP placed on every edge around the final burst of a copy. A STOP never drops
    fetched data (SPEC 2.1 "outstanding ones complete", docs/microarch.md Decision 21):
    the burst in flight is written whole, so the race is STOP against the pick of the
    final burst, at the edge after the previous burst's B (d): STOP up to d+1 -> the
    final burst is never presented, ABORTED; from d+2 on -> it is presented, written,
    and the copy completes, STOPPED, including STOP on the very edge of the final B
    (completion wins, microarch "Data mover").

    Constructed, not hoped for: the edges are taken relative to the last R beat of the
    burst before the final one (burst count derived from the split rule, so a 4 KiB
    split of the random source cannot move the race out of the sweep), and the sweep
    runs one STOP edge at a time until the edge after the final B."""
    tb, faults, epc, be = await setup(dut)
    rng = tb.rng
    g = channels(tb)[1]
    chan = await delegate(epc, tb, g, 0)
    host = HostAgent(tb, 0)
    log = DmaEdgeLog(tb, g)
    size = 16 * tb.params.max_burst            # two bursts at least
    src = rand_src(rng, size)
    final = burst_count(tb, src, dst_of(tb, g), size) - 1
    assert final >= 1, f"{size} bytes from {src:#x}: one burst, no race to construct"
    ref = await _stop_run(tb, host, log, g, src, size, final, None)
    assert ref["ch_stat"] == regs.CH_STOPPED, ref
    d_prev, b_end = ref["b_prev"], ref["b"]
    assert None not in (d_prev, ref["ar"], b_end) and d_prev < ref["ar"] < b_end, ref
    outcomes: dict[int, int] = {}
    delay = 0
    while not outcomes or max(outcomes) <= b_end:
        assert delay <= b_end + 16, f"STOP never reached the edge after the final B: {outcomes}"
        run = await _stop_run(tb, host, log, g, src, size, final, delay)
        k = run["stop"]
        assert run["b_prev"] == d_prev, f"the burst in flight at STOP moved: {run} vs {ref}"
        if delay == 0:
            assert k <= d_prev + 1, (f"first STOP at +{k} is after the final pick +{d_prev + 1}: "
                                     f"no ABORTED side")
        want = regs.CH_ABORTED if k <= d_prev + 1 else regs.CH_STOPPED
        assert run["ch_stat"] == want, f"STOP at +{k} (B +{d_prev}, final B +{b_end}): {run}"
        if want == regs.CH_STOPPED:
            assert run["b"] == b_end and run["ar"] == ref["ar"], f"final burst moved: {run} vs {ref}"
        else:
            assert run["ar"] is None and run["b"] == d_prev, f"a burst after the STOP: {run}"
        outcomes[k] = run["ch_stat"]
        delay += 1
    tb.log.info("STOP edge -> CH_STAT (relative to the last R beat of burst %d; its B +%d, "
                "final B +%d; %d bursts): %s", final - 1, d_prev, b_end, final + 1, outcomes)
    missing = {d_prev + 1, d_prev + 2, b_end, b_end + 1} - set(outcomes)
    assert not missing, f"race edges {sorted(missing)} not hit: {outcomes}"
    # STOP and RECLAIM+QUIESCE issued together while a copy runs
    tb.timer.tag = {"scenario": "fault:stop+quiesce", "state": "running", "size": 4096,
                    "bp": 0.0, "lat": 0}
    await host.program(g, rand_src(rng, 4096), dst_of(tb, g), 4096)
    await host.start(g)
    await wait_dma_event(tb, g, "r", 3)
    await together(host.stop(g), reclaim_checked(tb, be, chan))
    await tb.finish()
    dump_latency(tb, "test_stop_races_completion")


@cocotb.test(**TIMEOUT)
async def test_int_clear_races_completion(dut):
    """INT_CLEAR.STOP placed on every edge around the end of a copy: a clear up to and on
    the edge of the final B leaves INT_STAT.STOP set (hardware sets win over same-edge
    clears, microarch), one after it clears the bit.

    Constructed like the STOP sweep above: edges relative to the final burst's AR
    handshake, one clear edge at a time until the edge after the final B, so the
    same-edge case is always hit (mutant irq_clear_beats_set of tools/mutants.py)."""
    tb, faults, epc, be = await setup(dut)
    g = channels(tb)[1]
    chan = await delegate(epc, tb, g, 0)
    host = HostAgent(tb, 0)
    log = DmaEdgeLog(tb, g)
    size = 64
    src = rand_src(tb.rng, size)
    final = burst_count(tb, src, dst_of(tb, g), size) - 1
    # reference run without a clear: the final B's edge relative to the final AR handshake
    await host.program(g, src, dst_of(tb, g), size)
    await host.start(g)
    a = await wait_dma_event(tb, g, "ar", final)
    ref = await host.wait_done(g)
    b_last = log.last("b", a)
    assert ref.ch_stat == regs.CH_STOPPED and b_last is not None, (ref, b_last)
    b_end = b_last - a
    outcomes: dict[int, bool] = {}
    delay = 0
    while not outcomes or max(outcomes) <= b_end:
        assert delay <= b_end + 16, f"INT_CLEAR never reached the edge after the final B: {outcomes}"
        await host.program(g, src, dst_of(tb, g), size)
        await host.start(g)
        a = await wait_dma_event(tb, g, "ar", final)
        await tb.cycles(delay)
        assert await host.write(g, regs.INT_CLEAR, regs.INT_CLEAR_STOP_MASK) == OKAY
        k = tb.sb.last_exec["host"] - a
        res = await host.wait_done(g)
        assert res.ch_stat == regs.CH_STOPPED and log.last("b", a) - a == b_end, (res, b_end)
        stop_set = bool(res.int_stat & regs.INT_STAT_STOP_MASK)
        assert stop_set == (k <= b_end), f"INT_CLEAR at +{k} (final B +{b_end}): INT_STAT {res.int_stat:#x}"
        outcomes[k] = stop_set
        delay += 1
    tb.log.info("INT_CLEAR edge -> INT_STAT.STOP (relative to the final AR; B +%d): %s",
                b_end, outcomes)
    missing = {b_end, b_end + 1} - set(outcomes)
    assert not missing, f"race edges {sorted(missing)} not hit: {outcomes}"
    await reclaim_checked(tb, be, chan)
    await tb.finish()


async def no_dma_requests(tb: TB, cycles: int) -> None:
    d = tb.dut
    for _ in range(cycles):
        await tb.tick()
        assert not int(d.m_axi_arvalid.value) and not int(d.m_axi_awvalid.value), (
            f"AR/AW request at edge {int(d.cycle.value) + 1} after reset without a new START")


async def check_reset_values(tb: TB) -> None:
    for a in (regs.VIOL_COUNT, regs.VIOL_LAST, regs.OWN_IRQ_STAT, regs.OWN_IRQ_EN):
        assert (await tb.loc.read(a)).data == 0, hex(a)
    for g in channels(tb):
        st = await tb.loc.read(own_reg(g, regs.OWN_STAT))
        q = await tb.loc.read(own_reg(g, regs.Q_CYCLES))
        assert (st.data, q.data) == (0, 0), f"channel {g}: OWN_STAT {st.data:#x} Q_CYCLES {q.data}"
        for off in (regs.CH_EN, regs.XFER_SIZE, regs.SAR_LO, regs.DAR_LO, regs.CH_STAT,
                    regs.INT_STAT, regs.INT_SETUP):
            r = await tb.loc.read(loc_win(g, off))
            assert (r.resp, r.data) == (OKAY, 0), f"channel {g} off {off:#x}: {r}"
        assert (await tb.host.read(host_win(0, g, regs.CH_STAT))).resp != OKAY
    assert int(tb.dut.irq_loc.value) == 0 and int(tb.dut.irq_host.value) == 0


async def resync_image(tb: TB, lo: int, hi: int) -> None:
    """Bytes a reset cut off mid-burst are undefined: take the memory's as the image."""
    await tb.adopt_memory(lo, hi)


@cocotb.test(**TIMEOUT)
async def test_reset_during_transfer(dut):
    """Reset mid-copy (one local, one delegated): reset values, no stray traffic, usable."""
    tb, faults, epc, be = await setup(dut)
    rng = tb.rng
    chs = channels(tb)
    lg, hg = chs[0], chs[2]
    await delegate(epc, tb, hg, 1 % tb.params.num_func)
    dma, host = LocalDma(tb), HostAgent(tb, 1 % tb.params.num_func)
    size = 8192
    set_load(tb, faults, rng, 0.3, 4)
    await dma.program(lg, rand_src(rng, size), dst_of(tb, lg), size)
    await host.program(hg, rand_src(rng, size), dst_of(tb, hg), size)
    await dma.start(lg)
    await host.start(hg)
    await wait_dma_event(tb, hg, "r", 20)
    assert (await dma.read(lg, regs.CH_STAT)).data == regs.CH_RUNNING
    await tb.reset()
    set_load(tb, faults, rng, 0.0, 0)
    for g in (lg, hg):
        await resync_image(tb, dst_of(tb, g), dst_of(tb, g) + size)
    await no_dma_requests(tb, 200)
    await check_reset_values(tb)
    await no_dma_requests(tb, 50)
    # usable again: a local copy and a delegated one (fresh backend: the old one's
    # bookkeeping died with the reset)
    epc, be = rtl_epc(tb, timeout=400_000)
    before = tb.copies.verified
    res = await dma.copy(lg, rand_src(rng, 1024), dst_of(tb, lg), 1024)
    assert res.ch_stat == regs.CH_STOPPED
    chan = await delegate(epc, tb, hg, 0)
    res = await HostAgent(tb, 0).copy(hg, rand_src(rng, 1024), dst_of(tb, hg), 1024)
    assert res.ch_stat == regs.CH_STOPPED
    assert tb.copies.verified == before + 2
    tb.timer.tag = {"scenario": "fault:after-reset", "state": "done_irq", "size": 1024,
                    "bp": 0.0, "lat": 0}
    await reclaim_checked(tb, be, chan)
    await tb.finish()
    dump_latency(tb, "test_reset_during_transfer")


@cocotb.test(**TIMEOUT)
async def test_reset_during_quiesce(dut):
    """Reset while a quiesce waits for an outstanding burst: everything back to reset."""
    tb, faults, epc, be = await setup(dut)
    rng = tb.rng
    g = channels(tb)[1]
    chan = await delegate(epc, tb, g, 0)
    host = HostAgent(tb, 0)
    size = 4096
    set_load(tb, faults, rng, 0.0, 64)
    await host.program(g, rand_src(rng, size), dst_of(tb, g), size)
    await host.start(g)
    await wait_dma_event(tb, g, "ar", 2)
    cmd = (regs.CMD_RECLAIM << regs.OWN_CMD_CMD_LSB) | regs.OWN_CMD_QUIESCE_MASK
    assert await tb.loc.write(own_reg(g, regs.OWN_CMD), cmd) == OKAY
    await tb.cycles(4)
    assert g in tb.timer.pending(), "quiesce not pending before the reset"
    st = await tb.loc.read(own_reg(g, regs.OWN_STAT))
    assert (st.data & regs.OWN_STAT_STATE_MASK) >> regs.OWN_STAT_STATE_LSB == regs.OWN_QUIESCING
    del chan  # its delegation dies with the reset
    await tb.reset()
    set_load(tb, faults, rng, 0.0, 0)
    await resync_image(tb, dst_of(tb, g), dst_of(tb, g) + size)
    assert not tb.timer.pending()
    await no_dma_requests(tb, 200)
    await check_reset_values(tb)
    epc, be = rtl_epc(tb, timeout=400_000)
    chan = await delegate(epc, tb, g, 0)
    tb.timer.tag = {"scenario": "fault:after-reset", "state": "running", "size": size,
                    "bp": 0.0, "lat": 0}
    await host.program(g, rand_src(rng, size), dst_of(tb, g), size)
    await host.start(g)
    await wait_dma_event(tb, g, "r", 5)
    await reclaim_checked(tb, be, chan)
    await tb.finish()
    dump_latency(tb, "test_reset_during_quiesce")


async def _hammer(tb: TB, g: int, funcs: tuple[int, ...], stop: list, count: dict,
                  refused: list) -> None:
    """Host accesses to g's window as fast as the port takes them (one every few
    cycles); *refused* gets the edge each refused access of the owner (funcs[0])
    executed at."""
    i = 0
    while not stop:
        f = funcs[i % len(funcs)]
        if i % 2:
            r = (await tb.host.read(host_win(f, g, regs.CH_STAT))).resp
        else:
            r = await tb.host.write(host_win(f, g, regs.SAR_LO), 0x1000 + 8 * i)
        count[r] = count.get(r, 0) + 1
        if f == funcs[0] and r != OKAY:
            refused.append(tb.sb.last_exec["host"])
        if f == funcs[0] and r != OKAY:
            count["owner_refused"] = count.get("owner_refused", 0) + 1
        i += 1


@cocotb.test(**TIMEOUT)
@cocotb.parametrize((("bp", "lat"), HAMMER_LOADS))
async def test_host_hammer_during_quiesce(dut, bp: float, lat: int):
    """The host hammers the window (an access every few cycles, its owner's and another
    function's) during quiesce under one memory load: refused while QUIESCING (at least
    one of the owner's accesses executes between t0 and the RTL's completion),
    counted, bounded."""
    tb, faults, epc, be = await setup(dut)
    rng = tb.rng
    p = tb.params
    g = channels(tb)[3]
    tb.timer.tag = {"scenario": f"fault:hammer:bp{bp}:lat{lat}", "state": "running",
                    "size": 4096, "bp": bp, "lat": lat}
    chan = await delegate(epc, tb, g, 0)
    host = HostAgent(tb, 0)
    set_load(tb, faults, rng, bp, lat)
    await host.program(g, rand_src(rng, 4096), dst_of(tb, g), 4096)
    await host.start(g)
    assert await tb.loc.write(regs.VIOL_COUNT, 0) == OKAY
    await wait_dma_event(tb, g, "ar", 1)
    stop: list = []
    count: dict = {}
    refused: list[int] = []
    funcs = (0, 1) if p.num_func > 1 else (0,)
    t = cocotb.start_soon(_hammer(tb, g, funcs, stop, count, refused))
    await tb.cycles(3)
    rec = await reclaim_checked(tb, be, chan)
    await tb.cycles(20)
    stop.append(True)
    await t
    viol = (await tb.loc.read(regs.VIOL_COUNT)).data
    tb.log.info("hammer: %s, VIOL_COUNT %d, quiesce %d cycles (bound %d)", count, viol,
                rec.measured, rec.bound)
    assert count.get("owner_refused", 0) > 0, count
    during = [e for e in refused if rec.t0 < e <= rec.rtl_qdone]
    assert during, (f"no refused owner access while QUIESCING (t0 {rec.t0}, completion "
                    f"{rec.rtl_qdone}; refused at {refused}): the hammer missed the quiesce")
    assert viol == count.get(2, 0), f"VIOL_COUNT {viol} != refused accesses {count}"
    last = (await tb.loc.read(regs.VIOL_LAST)).data
    assert last & regs.VIOL_LAST_VALID_MASK
    set_load(tb, faults, rng, 0.0, 0)
    await tb.finish()
    dump_latency(tb, "test_host_hammer_during_quiesce")
