"""Simulation speed: simulated cycles per wall second of the random test.

Runs tb/test_random.py (scoreboard on, every transaction checked) with a fixed
seed and size on each simulator and prints cycles/s from cocotb's own sim time
and real time for the test (build time excluded; builds are reused).

    python -m tools.bench_sim [--sims icarus,verilator] [--seed 1] [--ops 3000]
"""

from __future__ import annotations

import argparse
import os
import sys

from tb import runner


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", default=",".join(runner.SIMULATORS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ops", type=int, default=3000, help="DD_RANDOM_OPS (transactions)")
    ap.add_argument("--params", default="default")
    args = ap.parse_args(argv)
    runner.setup_tool_env()
    rows = []
    for sim in args.sims.split(","):
        res = runner.run(sim, "test_random", args.params, args.seed, log_to_file=True,
                         run_name="bench", extra_env={"DD_RANDOM_OPS": str(args.ops)})
        if not res.ok:
            print(res.report(), file=sys.stderr)
            return 1
        t = res.tests[0]
        cycles = t.sim_time_ns / runner.CLK_PERIOD_NS
        rows.append((sim, cycles, t.real_time_s, cycles / t.real_time_s))
    print(f"\nrandom test, seed {args.seed}, {args.ops} transactions, params {args.params}, "
          f"scoreboard on ({os.cpu_count()} cores)")
    print(f"{'simulator':<10} {'cycles':>10} {'wall s':>8} {'cycles/s':>10}")
    for sim, cycles, wall, rate in rows:
        print(f"{sim:<10} {cycles:>10.0f} {wall:>8.2f} {rate:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
