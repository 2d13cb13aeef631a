"""Per-transaction cost probe of the transaction-level lane: the wall time of one cycle
with no Python at all (one ``tb.cycles(10 N)``: the simulated HDL's own cost), of one
Python wake (``tb.cycles(1)``), of one local register read, of a read inside a batch of
four (one wake for the four), of a local register write (the model's full edge) and of
a refused host read, each timed inside the test with the scoreboard, the model and
every checker on.

Why: the ``register`` workloads of ``make bench-sim`` are bound by what each access
costs in Python (README "Simulation speed"); these are the figures a change to that
path moves. ``make bench-sim BENCH_ARGS=--probe`` (tools/bench_sim.py ``run_probe``)
runs this test on both simulators and prints microseconds and cycles per operation.

The phases run in ROUNDS rounds, one after the other within each round, and
``probe.json`` in the run folder holds each phase's time per round, so a machine whose
speed moves shows in the spread of the rounds, not between phases. As a test of the
suite it checks what each phase did: every access answered (the local reads OKAY with
VERSION's value, the local writes OKAY, the host reads SLVERR), every phase took the
same cycles in every round (tools/bench_sim.py refuses a probe.json where one did not)
and the scoreboard is clean at the end.

Knob (environment): DD_PROBE_N (default 100) operations per phase and round, a multiple
of four.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cocotb

from model import regs
from tb import knobs
from tb.env import host_win, loc_win
from tb.faults import SLVERR
from tb.tl import Access, new_tb

PARAM_SETS = ("default",)
LANES = ("tl",)   # the batch phase uses the transactor queue (TlPort.run)

N_ENV = knobs.PROBE_N_ENV
ROUNDS = 5
PROBE_FILE = "probe.json"
#: the phases in the order each round runs them
PHASES = ("idle_cycle", "wake", "read", "read_batch4", "write", "host_refused_read")
#: cycles of the idle phase per operation of the others
IDLE_PER_OP = 10


def probe_n() -> int:
    """DD_PROBE_N, validated: operations per phase and round."""
    return knobs.probe_n()


@cocotb.test()
async def test_probe(dut):
    """Time each phase's operations; every one checked, the scoreboard judging all."""
    n = probe_n()
    tb = new_tb(dut)
    await tb.reset()
    # channel 0's window, as function 0 sees it: refused while the channel is LOCAL
    refused = host_win(0, 0, regs.CH_STAT)
    setup = loc_win(0, regs.INT_SETUP)   # channel 0 is LOCAL: the endpoint's write, OKAY
    result: dict[str, dict[str, list[float] | int]] = {
        p: {"ops": n * (IDLE_PER_OP if p == "idle_cycle" else 1), "wall_s": [], "cycles": []}
        for p in PHASES}

    async def idle_cycle() -> None:
        await tb.cycles(n * IDLE_PER_OP)

    async def wake() -> None:
        for _ in range(n):
            await tb.cycles(1)

    async def read() -> None:
        for _ in range(n):
            r = await tb.loc.read(regs.VERSION)
            assert (r.resp, r.data) == (0, regs.VERSION_VALUE), r

    async def read_batch4() -> None:
        for _ in range(n // 4):
            for r in await tb.loc.run([Access(False, regs.VERSION)] * 4):
                assert (r.resp, r.data) == (0, regs.VERSION_VALUE), r

    async def write() -> None:
        for _ in range(n):
            assert await tb.loc.write(setup, 0) == 0

    async def host_refused_read() -> None:
        for _ in range(n):
            r = await tb.host.read(refused)
            assert r.resp == SLVERR, r

    bodies = {"idle_cycle": idle_cycle, "wake": wake, "read": read, "read_batch4": read_batch4,
              "write": write, "host_refused_read": host_refused_read}
    for _ in range(ROUNDS):
        for p in PHASES:
            c0, t0 = tb.now(), time.perf_counter()
            await bodies[p]()
            result[p]["wall_s"].append(time.perf_counter() - t0)   # type: ignore[union-attr]
            result[p]["cycles"].append(tb.now() - c0)                # type: ignore[union-attr]
    await tb.finish()
    assert tb.sb.compared >= ROUNDS * 4 * n, tb.sb.compared
    for p in PHASES:   # the same operations every round: the same cycles
        assert len(set(result[p]["cycles"])) == 1, (p, result[p]["cycles"])  # type: ignore[arg-type]
    Path(PROBE_FILE).write_text(json.dumps(result, indent=1))   # the run folder (cwd)
    tb.log.info("probe: %s", ", ".join(
        f"{p} {1e6 * sorted(result[p]['wall_s'])[ROUNDS // 2] / result[p]['ops']:.1f} us/op"  # type: ignore[index,operator]
        for p in PHASES))
