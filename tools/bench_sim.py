"""Simulation speed: the cocotb testbench against pure harnesses of the same RTL.

One invocation (``make bench-sim``) measures, on each simulator:

* ``pure`` lane, ``dma`` workload: the reference harnesses with no Python at all --
  tb/hdl/bench_pure.v under Icarus, tb/cpp/bench_pure.cpp under Verilator
  (``verilator --cc --exe -O3 --build``) -- doing back-to-back checked 64 KiB copies on
  every channel (a mismatch fails the benchmark). Wall time is the harness process
  (build excluded; builds are reused when nothing changed).
* ``vip`` lane (the cocotb testbench with cocotbext-axi) and ``transaction`` lane
  (``LANE=tl``: HDL transactors, memory and recorder, tb/tl.py), the same cocotb tests,
  scoreboard and all checkers on, wall time as cocotb reports it for the test (build
  and simulator start excluded):
  ``register``: tb/test_random.py, seed 1, 3,000 transactions;
  ``dma``: tb/test_bench_dma.py, copies of 4..64 KiB on every channel, delegation, host
  programming and quiesced reclaims in between.
  The transaction lane runs each workload twice: judged in the simulator's process
  (``DD_TL_JUDGE=inline``) and in a forked second process (``fork``, tb/judge.py; the
  row ``transaction+fork``). Each cocotb row also gives the CPU seconds of its whole
  simulator run (start-up and the judge process included), so what the second core
  adds shows beside what it saves.
* the predictor alone replaying the edge trace recorded during the Icarus ``dma`` run
  (tb/trace.py): cycles/s and events/s, and its verdict must equal the live one.
* the RTL's own throughput in bytes per cycle (a property of the design, not of the
  simulator): a linked-list walk of 8 x 4 KiB elements next to a single-block copy of
  the same 32 KiB, zero added memory latency (tb/test_ll.py ``test_walk_throughput``,
  vip lane, scoreboard on).
* flat memory: the transaction lane's ``dma`` workload lengthened to about 1 M and
  10 M cycles (rounds derived from the measured cycles per round), judged in the
  simulator's process and in a forked one (RSS_JUDGES), the peak RSS of each run
  (tb/test_bench_dma.py writes it: the simulator process's, and with the judge forked
  the larger of it and the judge process's); the two lengths must differ by less than
  RSS_FLAT_LIMIT in each judging mode, else the benchmark fails.

It prints one table row per simulator x lane x workload (cycles, wall s, cycles/s, ratio
to the pure harness of the same simulator) and writes ``build/bench/bench.json``.

``--probe [N]`` runs only the per-access probe (tb/test_bench_probe.py, transaction
lane): microseconds per cycle with no Python (10 N cycles in one wait), per Python
wake, per local register read, per read in a batch of four, per local register write
and per refused host read, the median of five rounds of N each, and the cycles each
takes; the table, and ``build/bench/probe.json``.

    python -m tools.bench_sim [--sims icarus,verilator] [--seed 1] [--ops 3000]
    python -m tools.bench_sim --replay build/sim/icarus-default/runs/bench-dma/dma_trace.pkl
    python -m tools.bench_sim --probe [200]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tb import runner
from tb.judge import FORKED_LINE
from tb.test_bench_dma import RSS_FILE
from tb.trace import TRACE_ENV, TraceError, load, replay

BENCH_DIR = runner.ROOT / "build" / "bench"
PURE_V = runner.TB_DIR / "hdl" / "bench_pure.v"
PURE_CPP = runner.TB_DIR / "cpp" / "bench_pure.cpp"
C_INCLUDE = runner.ROOT / "include"
PURE_TOP = "bench_pure"

#: Rounds of the pure harnesses (one round = one 64 KiB copy per channel, about 82 k
#: cycles with the default parameters): a few seconds each on this machine.
PURE_ROUNDS = {"icarus": 2, "verilator": 40}
#: The dma workload of the vip lane: rounds per channel and the largest copy.
DMA_ROUNDS = 2
DMA_MAX = 64 * 1024

#: Target lengths of the flat-memory runs (cycles) and the largest allowed growth of the
#: simulator's peak RSS from the first to the last (issue 8: "differ by < 20 %").
RSS_CYCLES = (1_000_000, 10_000_000)
RSS_FLAT_LIMIT_PCT = 20
RSS_FLAT_LIMIT = RSS_FLAT_LIMIT_PCT / 100
#: wall-clock limit of one flat-memory run (the 10 M-cycle Icarus run takes minutes)
RSS_TIMEOUT_S = 4 * 3600
#: the judging modes (DD_TL_JUDGE) whose memory must stay flat: the speed targets are
#: met with the judge forked, whose process keeps the scoreboard and the model
RSS_JUDGES = ("inline", "fork")


def lane_label(lane: str, judge: str) -> str:
    """A lane as the tables name it: ``transaction+fork`` when judged in a forked process."""
    return f"{lane}+fork" if judge == "fork" else lane


_PASS = re.compile(r"^bench_pure: PASS cycles=(\d+) bytes=(\d+)$", re.M)


#: bench.json lane names; a cocotb lane (tb/runner.py LANES) is named by LANE_NAMES.
LANE_NAMES = {"vip": "vip", "tl": "transaction"}
BENCH_LANES = ("pure", *LANE_NAMES.values())


class BenchError(Exception):
    """A harness that failed to build, failed its check or printed no figure."""


@dataclasses.dataclass
class Record:
    """One row of the table and of bench.json."""

    sim: str
    lane: str        # "pure" | "vip" | "transaction"
    workload: str    # "register" | "dma"
    cycles: int
    wall_s: float
    ratio_to_pure: float | None = None
    #: every run's wall time when the row was measured more than once (``--repeat``):
    #: ``wall_s`` is then their median
    runs: list[float] = dataclasses.field(default_factory=list)
    #: with ``runs``: the median over the rounds of the ratio of this row's run to the
    #: pure harness's run of the same round (``add_ratios``)
    ratio_paired: float | None = None
    #: the transaction lane's DD_TL_JUDGE: "inline" (the scoreboard in the simulator's
    #: process) or "fork" (in a second process, tb/judge.py); "" for the other lanes
    judge: str = ""
    #: CPU seconds (user + system) of the whole simulator run, start-up and the judge
    #: process included, per run (the wall time's median run's CPU is not singled out)
    cpu_runs: list[float] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        """The lane as the table shows it: ``transaction+fork`` for the forked judge."""
        return lane_label(self.lane, self.judge)

    @property
    def cycles_per_s(self) -> float:
        return self.cycles / self.wall_s if self.wall_s > 0 else 0.0

    def again(self, other: Record) -> None:
        """Another run of this row (``--repeat``): its wall time joins ``runs`` and
        ``wall_s`` becomes the median. The cycle count must not change: every workload
        here is fixed by its seed, so another count means another workload."""
        if (other.sim, other.name, other.workload) != (self.sim, self.name, self.workload):
            raise ValueError(f"{other} is not a run of {self}")
        if other.cycles != self.cycles:
            raise BenchError(f"{self.sim} {self.name} {self.workload}: {other.cycles} cycles in "
                             f"a repeat against {self.cycles} in the first run: the workload "
                             "is not the same from run to run")
        if not self.runs:
            self.runs = [self.wall_s]
        self.runs.append(other.wall_s)
        self.wall_s = statistics.median(self.runs)
        self.cpu_runs += other.cpu_runs

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "sim": self.sim, "lane": self.lane, "workload": self.workload,
            "cycles": self.cycles, "wall_s": round(self.wall_s, 3),
            "cycles_per_s": round(self.cycles_per_s, 1),
            "ratio_to_pure": None if self.ratio_to_pure is None else round(self.ratio_to_pure, 6)}
        if self.runs:
            d["wall_s_runs"] = [round(w, 3) for w in self.runs]
        if self.ratio_paired is not None:
            d["ratio_paired_median"] = round(self.ratio_paired, 6)
        if self.judge:
            d["judge"] = self.judge
        if self.cpu_runs:
            d["sim_cpu_s_runs"] = [round(c, 3) for c in self.cpu_runs]
        return d


def add_ratios(records: Sequence[Record]) -> None:
    """ratio_to_pure = cycles/s of the row / cycles/s of the pure row of its simulator.
    A repeated row (``--repeat``) of a simulator whose pure row has as many runs also
    gets ratio_paired: the median over the rounds of its run's cycles/s over the pure
    harness's of the same round. Why: the rounds run one after the other, so a machine
    whose speed drifts moves both runs of a round alike; the ratio of the medians pairs
    runs from different moments."""
    pure = {r.sim: r for r in records if r.lane == "pure"}
    for r in records:
        p = pure.get(r.sim)
        base = p.cycles_per_s if p is not None else 0.0
        r.ratio_to_pure = r.cycles_per_s / base if base else None
        r.ratio_paired = None
        if p is not None and r is not p and r.runs and len(r.runs) == len(p.runs) \
                and all(w > 0 for w in (*r.runs, *p.runs)):
            r.ratio_paired = statistics.median((r.cycles / w) / (p.cycles / pw)
                                               for w, pw in zip(r.runs, p.runs, strict=True))


def _ratio_text(ratio: float | None, digits: int = 0) -> str:
    if ratio is None:
        return "-"
    if ratio >= 1:
        return f"{ratio:.2f}"
    return f"1/{1 / ratio:.{digits}f}" if ratio > 0 else "0"


def format_table(records: Sequence[Record]) -> str:
    lines = [f"{'simulator':<10} {'lane':<16} {'workload':<9} {'cycles':>10} {'wall s':>8} "
             f"{'cycles/s':>11} {'vs pure':>8}"]
    for r in records:
        paired = "" if r.ratio_paired is None else f"; paired {_ratio_text(r.ratio_paired, 1)}"
        runs = (f"  (median of {len(r.runs)}: {min(r.runs):.2f}-{max(r.runs):.2f} s{paired})"
                if r.runs else "")
        cpu = (f"  [simulator CPU {statistics.median(r.cpu_runs):.2f} s]" if r.cpu_runs else "")
        lines.append(f"{r.sim:<10} {r.name:<16} {r.workload:<9} {r.cycles:>10} {r.wall_s:>8.2f} "
                     f"{r.cycles_per_s:>11,.0f} {_ratio_text(r.ratio_to_pure):>8}{runs}{cpu}")
    return "\n".join(lines)


def write_json(records: Sequence[Record], path: Path, meta: dict[str, object]) -> None:
    """bench.json: {"records": [one per sim x lane x workload], **meta}."""
    for r in records:
        if r.lane not in BENCH_LANES or r.workload not in ("register", "dma"):
            raise ValueError(f"record {r} has an unknown lane or workload")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, "records": [r.as_dict() for r in records]}, indent=2) + "\n")


# ------------------------------------------------------------------ pure harnesses


def _pure_build_cmd(sim: str, bdir: Path) -> tuple[list[str], Path]:
    """Build command and the executable it produces (parameters: runner.DEFAULT_PARAMS)."""
    rtl = [str(p) for p in runner.rtl_sources()]   # the RTL, not the cocotb wrapper
    params = runner.DEFAULT_PARAMS
    if sim == "icarus":
        out = bdir / "bench_pure.vvp"
        return (["iverilog", "-g2012", f"-I{runner.HDL_DIR}", "-s", PURE_TOP, "-o", str(out),
                 *(f"-P{PURE_TOP}.{k}={v}" for k, v in params.items()), *rtl, str(PURE_V)], out)
    return (["verilator", "--cc", "--exe", "--build", "-O3", "-j", "2", "--top-module", runner.RTL_TOP,
             f"-I{runner.HDL_DIR}", "--Mdir", str(bdir / "obj"), "-o", "bench_pure",
             *(f"-G{k}={v}" for k, v in params.items()),
             "-CFLAGS", f"-O3 -I{C_INCLUDE}",
             # same fix as tb/runner.py build(): the wheel's verilated.mk leaves it empty
             "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include",
             *rtl, str(PURE_CPP)], bdir / "obj" / "bench_pure")


def build_pure(sim: str) -> Path:
    """Build (or reuse, by content stamp) the pure harness of *sim*; return the executable."""
    version = runner.check_simulator(sim)
    bdir = BENCH_DIR / f"pure-{sim}"
    cmd, exe = _pure_build_cmd(sim, bdir)
    h = hashlib.sha256(json.dumps([version, cmd]).encode())
    for p in [*runner.rtl_sources(), *sorted(runner.HDL_DIR.glob("*.vh")), PURE_V, PURE_CPP,
              *sorted(C_INCLUDE.glob("*.h"))]:
        h.update(p.read_bytes())
    stamp = bdir / ".stamp"
    # one builder at a time (pytest-xdist workers, a bench next to a test run)
    with runner._locked(BENCH_DIR / f".pure-{sim}.lock"):
        if exe.is_file() and stamp.is_file() and stamp.read_text() == h.hexdigest():
            print(f"[bench] reusing {exe.relative_to(runner.ROOT)}", flush=True)
            return exe
        bdir.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        print(f"[bench] building the pure {sim} harness ({version})", flush=True)
        t0 = time.monotonic()
        log = bdir / "build.log"
        with open(log, "w") as fh:
            rc = subprocess.run(cmd, cwd=bdir, stdout=fh, stderr=subprocess.STDOUT).returncode
        if rc != 0 or not exe.is_file():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise BenchError(f"pure {sim} harness build failed (exit {rc}); log {log}\n{tail}")
        stamp.write_text(h.hexdigest())
        print(f"[bench] built in {time.monotonic() - t0:.1f} s", flush=True)
    return exe


def run_pure(sim: str, exe: Path, rounds: int, seed: int = 1, corrupt: bool = False,
             copy: int | None = None) -> Record:
    """Run the harness; a failed copy check (or any non-PASS ending) raises BenchError.
    ``copy``: bytes per copy (the harness's default, 64 KiB, when None: the benchmark's
    work; the harness's own test copies less)."""
    if sim == "icarus":
        cmd = ["vvp", "-n", str(exe), f"+rounds={rounds}", f"+seed={seed}"]
        cmd += ["+corrupt"] if corrupt else []
        cmd += [f"+copy={copy}"] if copy is not None else []
    else:
        cmd = [str(exe), "--rounds", str(rounds), "--seed", str(seed)]
        cmd += ["--corrupt"] if corrupt else []
        cmd += ["--copy", str(copy)] if copy is not None else []
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=exe.parent, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    m = _PASS.search(proc.stdout)
    if proc.returncode != 0 or m is None:
        raise BenchError(f"pure {sim} harness failed (exit {proc.returncode}): "
                         + " | ".join(out.strip().splitlines()[-4:]))
    return Record(sim, "pure", "dma", int(m.group(1)), wall)


# ------------------------------------------------------------------ cocotb (vip) lane


def run_vip(sim: str, workload: str, seed: int, ops: int, params: str,
            trace: bool = False, lane: str = "vip", rounds: int = DMA_ROUNDS,
            run_name: str | None = None, timeout: float | None = None,
            judge: str = "inline") -> tuple[Record, runner.RunResult]:
    """One cocotb workload on *lane* (tb/runner.py LANES); the record names the lane as
    bench.json does (LANE_NAMES). ``rounds``: rounds per channel of the dma workload;
    ``judge``: DD_TL_JUDGE of the transaction lane (tb/judge.py)."""
    if workload == "register":
        test, env = "test_random", {"DD_RANDOM_OPS": str(ops)}
    elif workload == "dma":
        test = "test_bench_dma"
        env = {"DD_BENCH_DMA_ROUNDS": str(rounds), "DD_BENCH_DMA_MAX": str(DMA_MAX)}
    else:
        raise ValueError(f"unknown workload {workload!r}")
    env[TRACE_ENV] = "1" if trace else "0"
    if lane == "tl":
        env[runner.TL_JUDGE_ENV] = judge
    cpu0 = _children_cpu()
    res = runner.run(sim, test, params, seed, log_to_file=True,
                     run_name=run_name or f"bench-{workload}", extra_env=env, lane=lane,
                     timeout=timeout)
    cpu = _children_cpu() - cpu0
    if not res.ok:
        raise BenchError(f"{sim} {workload} workload (LANE={lane}) failed:\n{res.report()}")
    if lane == "tl" and judge == "fork" and \
            FORKED_LINE not in res.log_file.read_text(errors="replace"):
        raise BenchError(f"{sim} {workload} workload: {runner.TL_JUDGE_ENV}=fork, but no judge "
                         f"process was forked (no {FORKED_LINE!r} line in {res.log_file}; it "
                         "is logged at INFO, which a COCOTB_LOG_LEVEL above it hides)")
    t = res.tests[0]
    return Record(sim, LANE_NAMES[lane], workload, round(t.sim_time_ns / runner.CLK_PERIOD_NS),
                  t.real_time_s, judge=judge if lane == "tl" else "", cpu_runs=[cpu]), res


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (a simulator run, its judge
    process: the simulator reaps it, and its own time then counts here)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# ------------------------------------------------------------------ walk throughput

#: Element size of the walk-throughput figure (tb/test_ll.py DD_LL_BENCH_ELEM).
WALK_ELEM = 4096


def run_walk_throughput(sim: str, seed: int, params: str) -> dict[str, object]:
    """Bytes per cycle of a walk of 8 x WALK_ELEM and of one copy of the same bytes."""
    from tb.test_ll import ELEM_ENV, THROUGHPUT_FILE

    return run_for_json(sim, "test_ll.test_walk_throughput", params, seed, "bench-walk",
                        {ELEM_ENV: str(WALK_ELEM)}, THROUGHPUT_FILE, "walk-throughput test")


def run_for_json(sim: str, test: str, params: str, seed: int, run_name: str,
                 env: dict[str, str], fname: str, what: str,
                 lane: str | None = None) -> dict:
    """Run ``test`` and return the JSON file ``fname`` it writes into its run folder;
    BenchError (naming ``what``) when the test fails or writes nothing."""
    res = runner.run(sim, test, params, seed, log_to_file=True, run_name=run_name,
                     extra_env=env, lane=lane)
    f = res.run_dir / fname
    if not res.ok or not f.is_file():
        raise BenchError(f"{sim} {what} failed:\n{res.report()}")
    return json.loads(f.read_text())


# ------------------------------------------------------------------ flat memory


def rss_growth(first_kib: int, last_kib: int) -> float:
    """Relative growth of the peak RSS from the shorter run to the longer one."""
    if first_kib <= 0 or last_kib <= 0:
        raise BenchError(f"peak RSS must be positive, got {first_kib} and {last_kib} KiB")
    return last_kib / first_kib - 1


def check_lengths(lengths: Sequence[int]) -> None:
    if len(lengths) < 2 or list(lengths) != sorted(set(lengths)) or lengths[0] <= 0:
        raise BenchError(f"flat-memory run lengths must be at least two increasing cycle "
                         f"counts, got {list(lengths)}")


def run_rss(sim: str, seed: int, params: str, cycles_per_round: float,
            lengths: Sequence[int] = RSS_CYCLES, judge: str = "inline") -> dict[str, object]:
    """The tl dma workload at each of ``lengths`` (cycles, default RSS_CYCLES), judged as
    ``judge`` says (DD_TL_JUDGE): cycles, wall s, peak RSS (KiB) of the run (with the
    judge forked, the larger of the simulator's and the judge process's); BenchError
    when the RSS grows by RSS_FLAT_LIMIT or more from the first to the last."""
    check_lengths(lengths)
    runs = []
    for target in lengths:
        rounds = max(1, math.ceil(target / cycles_per_round))
        print(f"[bench] {sim}: transaction lane, dma workload judged {judge}, {rounds} rounds "
              f"(about {target:,} cycles) for the peak RSS", flush=True)
        rec, res = run_vip(sim, "dma", seed, 0, params, lane="tl", rounds=rounds,
                           run_name=f"bench-rss-{judge}-{target}", timeout=RSS_TIMEOUT_S,
                           judge=judge)
        kib = int((res.run_dir / RSS_FILE).read_text())
        runs.append({"rounds": rounds, "cycles": rec.cycles, "wall_s": round(rec.wall_s, 3),
                     "peak_rss_kib": kib})
    return rss_summary(sim, runs, judge)


def rss_summary(sim: str, runs: list[dict[str, int | float]],
                judge: str = "inline") -> dict[str, object]:
    """bench.json's peak_rss entry of one simulator and judging mode; BenchError when
    not flat."""
    first, last = int(runs[0]["peak_rss_kib"]), int(runs[-1]["peak_rss_kib"])
    growth = rss_growth(first, last)
    info = {"sim": sim, "lane": "transaction", "judge": judge, "workload": "dma",
            "runs": runs, "growth": round(growth, 4),
            "flat": 100 * last < (100 + RSS_FLAT_LIMIT_PCT) * first}  # exact, no float edge
    if not info["flat"]:
        raise BenchError(f"{sim}: peak RSS judged {judge} grew by {growth:.1%} from "
                         f"{runs[0]['cycles']:,} to {runs[-1]['cycles']:,} cycles "
                         f"(limit {RSS_FLAT_LIMIT:.0%}): {runs}")
    return info


def run_rss_all(sim: str, seed: int, params: str, cycles_per_round: float,
                lengths: Sequence[int] = RSS_CYCLES,
                each: Callable[[dict[str, object], bool], None] | None = None,
                ) -> list[dict[str, object]]:
    """``run_rss`` in every judging mode of RSS_JUDGES; ``each(entry, first)`` is called
    with each mode's entry as soon as it is measured (``first``: the simulator's first)."""
    infos: list[dict[str, object]] = []
    for judge in RSS_JUDGES:
        infos.append(run_rss(sim, seed, params, cycles_per_round, lengths, judge))
        if each is not None:
            each(infos[-1], len(infos) == 1)
    return infos


def format_rss(infos: Sequence[dict[str, object]]) -> str:
    lines = []
    for info in infos:
        parts = [f"{r['cycles']:,} cycles {r['peak_rss_kib'] / 1024:.1f} MiB ({r['wall_s']:.0f} s)"
                 for r in info["runs"]]  # type: ignore[attr-defined]
        lane = lane_label("transaction", str(info.get("judge", "inline")))
        lines.append(f"peak RSS {info['sim']} {lane} dma: " + ", ".join(parts)
                     + f"; growth {info['growth']:+.1%}")
    return "\n".join(lines)


# ------------------------------------------------------------------ per-access probe

#: operations per phase and round of the probe (tb/test_bench_probe.py DD_PROBE_N)
PROBE_N = 200


def run_probe(sim: str, seed: int, params: str, n: int = PROBE_N) -> dict[str, object]:
    """tb/test_bench_probe.py on *sim* (transaction lane): per phase, the time per
    operation (median over the rounds, and the fastest and slowest round) and the
    cycles per operation."""
    from tb.test_bench_probe import N_ENV, PROBE_FILE

    return probe_summary(sim, run_for_json(sim, "test_bench_probe", params, seed, "bench-probe",
                                           {N_ENV: str(n)}, PROBE_FILE, "probe", lane="tl"))


def probe_summary(sim: str, raw: dict[str, dict]) -> dict[str, object]:
    """The probe's ``probe.json`` (per phase: ops per round, wall_s and cycles per
    round) as per-operation figures; BenchError when a phase's rounds disagree on their
    cycles (each round does the same thing) or have no time."""
    phases: dict[str, dict[str, float | int]] = {}
    for name, v in raw.items():
        ops, walls, cycles = int(v["ops"]), list(v["wall_s"]), list(v["cycles"])
        if not walls or len(walls) != len(cycles) or ops < 1 or min(walls) <= 0:
            raise BenchError(f"{sim} probe phase {name}: no usable rounds: {v}")
        if len(set(cycles)) != 1:
            raise BenchError(f"{sim} probe phase {name}: rounds took different cycle "
                             f"counts {cycles}; every round does the same operations")
        phases[name] = {"ops": ops, "rounds": len(walls),
                        "us_per_op": round(1e6 * statistics.median(walls) / ops, 1),
                        "us_min": round(1e6 * min(walls) / ops, 1),
                        "us_max": round(1e6 * max(walls) / ops, 1),
                        "cycles_per_op": cycles[0] / ops}
    return {"sim": sim, "phases": phases}


def format_probe(infos: Sequence[dict[str, object]]) -> str:
    lines = ["| simulator | phase | us per operation (rounds' spread) | cycles per operation |",
             "|---|---|---:|---:|"]
    for info in infos:
        for name, p in info["phases"].items():  # type: ignore[attr-defined]
            lines.append(f"| {info['sim']} | {name} | {p['us_per_op']:.1f} "
                         f"({p['us_min']:.1f}-{p['us_max']:.1f}) | {p['cycles_per_op']:g} |")
    return "\n".join(lines)


def probe(sims: Sequence[str], seed: int, params: str, n: int = PROBE_N) -> int:
    """``--probe``: the probe on each simulator; the table, and build/bench/probe.json."""
    runner.setup_tool_env()
    infos = []
    for sim in sims:
        runner.build(sim, params, lane="tl")
        print(f"[bench] {sim}: per-access probe, {n} operations per phase and round",
              flush=True)
        infos.append(run_probe(sim, seed, params, n))
    print(format_probe(infos))
    out = BENCH_DIR / "probe.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seed": seed, "n": n, "probe": infos}, indent=2) + "\n")
    print(f"[bench] wrote {out.relative_to(runner.ROOT)}")
    return 0


# ------------------------------------------------------------------ replay


def do_replay(path: Path) -> dict[str, object]:
    """Replay a trace, print the figures; BenchError when the verdict differs from the live one."""
    trace = load(path)
    res = replay(trace)
    rate = res.cycles / res.wall_s if res.wall_s else 0.0
    ev_rate = res.events / res.wall_s if res.wall_s else 0.0
    print(f"predictor replay of {path}: {res.edges} busy edges, {res.events} events, "
          f"{res.cycles} cycles in {res.wall_s:.2f} s: {rate:,.0f} cycles/s, {ev_rate:,.0f} events/s; "
          f"verdict {res.verdict} mismatch(es), live run {trace.live_mismatches}")
    for mm in res.mismatches[:5]:
        print(f"  {mm}")
    if res.verdict != trace.live_mismatches:
        raise BenchError(f"replay verdict ({res.verdict} mismatches) differs from the live run's "
                         f"({trace.live_mismatches}): the trace or the predictor changed")
    return {"trace": str(path), "edges": res.edges, "events": res.events, "cycles": res.cycles,
            "wall_s": round(res.wall_s, 3), "cycles_per_s": round(rate, 1),
            "events_per_s": round(ev_rate, 1), "verdict": res.verdict}


# ------------------------------------------------------------------ main


def bench(sims: Sequence[str], seed: int, ops: int, params: str, rss: bool = True,
          repeat: int = 1) -> int:
    t_start = time.monotonic()
    runner.setup_tool_env()
    records: list[Record] = []
    exes = {sim: build_pure(sim) for sim in sims}
    for sim in sims:
        for lane in LANE_NAMES:
            runner.build(sim, params, lane=lane)
    trace_path = None
    for sim in sims:
        print(f"[bench] {sim}: pure harness, {PURE_ROUNDS[sim]} round(s)", flush=True)
        records.append(run_pure(sim, exes[sim], PURE_ROUNDS[sim], seed))
        print(f"[bench] {sim}: vip lane, register workload", flush=True)
        records.append(run_vip(sim, "register", seed, ops, params)[0])
        record_trace = sim == sims[0]
        print(f"[bench] {sim}: vip lane, dma workload{' (edge trace recorded)' if record_trace else ''}",
              flush=True)
        rec, res = run_vip(sim, "dma", seed, ops, params, trace=record_trace)
        records.append(rec)
        if record_trace:
            trace_path = res.run_dir / "dma_trace.pkl"
        for workload in ("register", "dma"):
            for judge in runner.TL_JUDGE_MODES:
                print(f"[bench] {sim}: transaction lane (LANE=tl, DD_TL_JUDGE={judge}), "
                      f"{workload} workload", flush=True)
                records.append(run_vip(sim, workload, seed, ops, params, lane="tl",
                                       judge=judge)[0])
        # --repeat: the pure harness and the transaction lane again, in turn, so a
        # machine whose speed moves between runs shows in the spread, not in the ratio
        # (and each round's runs pair up: Record.ratio_paired)
        rows = {(r.name, r.workload): r for r in records if r.sim == sim}
        for k in range(1, repeat):
            print(f"[bench] {sim}: repeat {k + 1} of {repeat} (pure, transaction lane)", flush=True)
            rows["pure", "dma"].again(run_pure(sim, exes[sim], PURE_ROUNDS[sim], seed))
            for workload in ("register", "dma"):
                for judge in runner.TL_JUDGE_MODES:
                    r = run_vip(sim, workload, seed, ops, params, lane="tl", judge=judge)[0]
                    rows[r.name, workload].again(r)
    walk: dict[str, object] = {}
    for sim in sims:
        print(f"[bench] {sim}: walk throughput (8 x {WALK_ELEM // 1024} KiB list vs one copy)",
              flush=True)
        walk[sim] = run_walk_throughput(sim, seed, params)
    add_ratios(records)
    replay_info = do_replay(trace_path) if trace_path else None
    rss_infos = []
    if rss:
        for sim in sims:
            tl_dma = next(r for r in records if r.sim == sim and r.lane == "transaction"
                          and r.workload == "dma" and r.judge == "inline")
            rss_infos += run_rss_all(sim, seed, params, tl_dma.cycles / DMA_ROUNDS)
    print(f"\nmake bench-sim: seed {seed}, params {params}, {os.cpu_count()} cores; "
          f"register = test_random {ops} transactions; dma = test_bench_dma {DMA_ROUNDS} round(s) x "
          f"2 copies of 4..{DMA_MAX // 1024} KiB per channel; pure = 64 KiB copies; "
          "vip and transaction lanes: scoreboard and all checkers on")
    print(format_table(records))
    for sim, w in walk.items():
        print(f"RTL throughput ({sim}, zero added latency): linked-list walk 8 x {WALK_ELEM} B "
              f"{w['walk_bytes_per_cycle']} B/cycle, single-block copy {8 * WALK_ELEM} B "
              f"{w['single_bytes_per_cycle']} B/cycle")
    if rss_infos:
        print(format_rss(rss_infos))
    meta = {"command": "make bench-sim", "seed": seed, "params": params, "cores": os.cpu_count(),
            "ops": ops, "dma_rounds": DMA_ROUNDS, "dma_max_bytes": DMA_MAX,
            "pure_rounds": {s: PURE_ROUNDS[s] for s in sims}, "repeat": repeat,
            "replay": replay_info,
            "walk_throughput": walk, "load_avg": [round(x, 2) for x in os.getloadavg()],
            "peak_rss": rss_infos if rss else None}
    out = BENCH_DIR / "bench.json"
    write_json(records, out, meta)
    print(f"[bench] wrote {out.relative_to(runner.ROOT)} ({time.monotonic() - t_start:.0f} s in all)")
    return 0


def rss_only(sims: Sequence[str], seed: int, params: str, lengths: list[int]) -> int:
    """The flat-memory runs alone (cycles per round from a DMA_ROUNDS tl dma run), in
    every judging mode, each merged into bench.json's ``peak_rss`` as it ends
    (``merge_rss``)."""
    check_lengths(lengths)
    runner.setup_tool_env()
    infos = []
    for sim in sims:
        runner.build(sim, params, lane="tl")
        print(f"[bench] {sim}: transaction lane, dma workload ({DMA_ROUNDS} rounds) for the "
              "cycles per round", flush=True)
        rec = run_vip(sim, "dma", seed, 0, params, lane="tl", run_name="bench-rss-calibrate")[0]
        infos += run_rss_all(sim, seed, params, rec.cycles / DMA_ROUNDS, lengths, each=merge_rss)
    print(format_rss(infos))
    return 0


def merge_rss(info: dict[str, object], replace_sim: bool) -> None:
    """Put one ``peak_rss`` entry into bench.json as soon as it is measured (a later run
    that fails, hours on, loses nothing measured before it); ``replace_sim``: first drop
    every entry of its simulator (an earlier run's; one without ``judge`` was judged
    inline and says so from now on). The file's other figures are kept."""
    out = BENCH_DIR / "bench.json"
    data = json.loads(out.read_text()) if out.is_file() else {"records": []}
    entries = [i for i in data.get("peak_rss") or []
               if not (replace_sim and i.get("sim") == info["sim"])]
    for i in entries:
        i.setdefault("judge", "inline")
    data["peak_rss"] = [*entries, info]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"[bench] merged the peak RSS of {info['sim']} judged {info['judge']} into "
          f"{out.relative_to(runner.ROOT) if out.is_relative_to(runner.ROOT) else out}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", default=",".join(runner.SIMULATORS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ops", type=runner.count_arg, default=3000,
                    help="register workload: DD_RANDOM_OPS")
    ap.add_argument("--no-rss", action="store_true",
                    help="skip the 1 M / 10 M-cycle flat-memory runs (quick measurements)")
    ap.add_argument("--rss-only", metavar="CYCLES",
                    help="only the flat-memory runs, at these comma-separated lengths "
                         "(e.g. 1000000,10000000); merged into bench.json's peak_rss")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run the pure harnesses and the transaction lane N times each, in "
                         "turn, and report the median wall time (a machine whose speed moves)")
    ap.add_argument("--replay", type=Path, metavar="FILE",
                    help="only replay an edge trace (tb/trace.py) into the predictor")
    ap.add_argument("--probe", nargs="?", const=PROBE_N, type=int, metavar="N",
                    help="only the per-access probe (tb/test_bench_probe.py): microseconds "
                         f"per idle cycle, per wake and per register access, N operations per phase and "
                         f"round (default {PROBE_N})")
    args = ap.parse_args(argv)
    try:
        if args.replay:
            do_replay(args.replay)
            return 0
        sims = [s.strip() for s in args.sims.split(",") if s.strip()]
        if not sims:
            raise BenchError(f"--sims {args.sims!r} names no simulator; valid: "
                             f"{', '.join(runner.SIMULATORS)}")
        for s in sims:
            if s not in runner.SIMULATORS:
                raise runner.RunnerError(f"unknown simulator {s!r}; valid: {', '.join(runner.SIMULATORS)}")
        # default parameters only: the pure harnesses and test_bench_dma are built for them
        if args.probe is not None:
            from tb.knobs import check_probe_n
            try:
                check_probe_n(args.probe, f"--probe {args.probe}")
            except ValueError as exc:
                raise BenchError(str(exc)) from None
            return probe(sims, args.seed, "default", args.probe)
        if args.rss_only:
            try:
                lengths = [int(x) for x in args.rss_only.split(",") if x.strip()]
            except ValueError:
                raise BenchError(f"--rss-only {args.rss_only!r}: expected comma-separated "
                                 "cycle counts") from None
            return rss_only(sims, args.seed, "default", lengths)
        if args.repeat < 1:
            raise BenchError(f"--repeat {args.repeat}: expected 1 or more runs")
        return bench(sims, args.seed, args.ops, "default", rss=not args.no_rss,
                     repeat=args.repeat)
    except (BenchError, TraceError, runner.RunnerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(runner.cli(main))
