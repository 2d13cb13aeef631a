"""CI regression: random tests over many seeds, both simulators, both parameter sets.

``make regress SEEDS=4`` (this module's ``run`` command) does, in order:

1. derives the seed list from one base seed (``SEED=`` or random; always printed), so
   ``make regress SEEDS=<n> SEED=<base>`` repeats the same regression;
2. builds every (simulator, parameter set) model once (Verilator: the ``-cov`` build
   with line + toggle coverage, see ``tb/runner.py COV_BUILD_ARGS``);
3. runs every random test module (``RANDOM_MODULES`` plus any cocotb module whose
   ``PYTEST_MARKS`` lists ``random``) for each seed, and the directed module(s)
   (``DIRECTED_MODULES``, first seed only) as extra coverage contributors, and per seed
   the DMA-heavy leg (``DMA_MODULE`` on Verilator, ``--dma-rounds`` rounds of copies up
   to 64 KiB: most of the simulated cycles), longest runs first, in a process pool (one
   worker per core; ``JOBS=``);
4. writes ``build/regress/junit.xml`` (one testcase per run, properties: simulator,
   parameters, seed, simulated cycles, reproduce command) and copies each cocotb
   ``results.xml`` to ``build/regress/results/``;
5. prints the summary table (test x simulator x parameters: pass/fail, seeds,
   simulated cycles, wall time) and, for each failure, its first scoreboard mismatch
   and the one-line reproduce command;
6. merges functional coverage (``tools/covmerge.py``) into ``build/regress/coverage/``
   and code coverage of the Verilator runs into ``build/regress/code_coverage/``
   (annotated sources under ``annotated/``, summary for ``hdl/`` only);
7. exits 1 on any failing run or functional coverage below ``--threshold``.

``run --shard K/N`` (``make regress SHARD=K/N``) runs only part K of that run list (a
partition balanced by expected run time, the same on every machine) into a
self-contained shard folder with a ``manifest.json``; ``merge`` (``make regress-merge
DIRS=...``) checks that the N folders belong together and writes the outputs of steps
4-7 from them, applying the coverage threshold to the whole (README "CI").

``soak`` loops random seeds (bigger ``DD_RANDOM_OPS``) until the time or seed budget
is used, stopping at the first failure with its reproduce command. ``repro-check``
runs the random test on a planted-bug build and re-runs the printed reproduce command,
showing that both report the same first mismatch at the same edge.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tb import runner  # noqa: E402
from tools import covmerge  # noqa: E402

OUT = ROOT / "build" / "regress"
RANDOM_MODULES = ("tb.test_random",)
DIRECTED_MODULES = ("tb.test_directed", "tb.test_ll")
DEFAULT_PARAMS = ("default", "small")
RANDOM_OPS_DEFAULT = 1500  # tb/test_random.py default of DD_RANDOM_OPS
#: The DMA-heavy leg: per seed, tb/test_bench_dma.py (make bench-sim's ``dma`` workload:
#: copies of 4-64 KiB on every channel, host programming and quiesced reclaims between
#: them, scoreboard, copy checker and coverage on) for DMA_ROUNDS_DEFAULT rounds, on the
#: simulators of DMA_SIMS and the parameter sets the module runs (its PARAM_SETS). Why:
#: the random test is register-heavy (4 to 6 cycles per operation), so the regression's
#: cycles come from this leg; Verilator runs it at tens of thousands of cycles per second
#: (README "Regression and coverage"), Icarus at a fifth of that, so Icarus runs it in
#: `make test` and the sweeps.
DMA_MODULE = "tb.test_bench_dma"
DMA_SIMS = ("verilator",)
DMA_ROUNDS_DEFAULT = 10
DMA_MAX_BYTES = 64 * 1024
#: Seed sweep (``make sweep``, issue 9 item 7): every cocotb module of each swept lane
#: (``SWEEP_LANES``, default the lane ``LANE`` names, else the default lane), at least
#: SWEEP_SEEDS_MIN seeds per simulator and parameter set (tests/test_regress_tools.py
#: checks the run list), so a test that hopes for an outcome instead of constructing it
#: shows up as a failing seed.
SWEEP_OUT = ROOT / "build" / "sweep"
SWEEP_SEEDS_MIN = 30
MISMATCH_RE = re.compile(r"MISMATCH (edge \d+ .*)")
COPY_RE = re.compile(r"copy checker: (\d+) verified, (\d+) skipped")  # TB.finish's line

#: Cover bins the regression cannot reach, with the reason (see README "Regression and
#: coverage"). tb/coverage.py does not define them; listed here for the printed report.
UNREACHABLE_NOTES = (
    "host outcome wrong_function with PARAMS=small: one function only",
    "host read x spoof: spoofing is a FUNC_NUM write",
)


@dataclasses.dataclass(frozen=True)
class Job:
    module: str
    sim: str
    params: str
    seed: int
    kind: str  # "random" | "directed" | "dma"
    ops: int | None = None  # DD_RANDOM_OPS (None: the test's default)
    cov: bool = False  # Verilator code coverage build
    tag: str = "regress"
    lane: str | None = None  # testbench lane (None: LANE, else the default lane)
    dma_rounds: int | None = None  # DD_BENCH_DMA_ROUNDS of a "dma" run
    dma_max: int | None = None     # DD_BENCH_DMA_MAX of a "dma" run: its largest copy, in bytes

    @property
    def short(self) -> str:
        return self.module.rsplit(".", 1)[-1]

    @property
    def run_name(self) -> str:
        return f"{self.tag}/{self.short}-{self.seed}"

    def env(self) -> dict[str, str]:
        """The stimulus knobs of this run (environment of its simulator process)."""
        env = {"DD_RANDOM_OPS": str(self.ops)} if self.ops is not None else {}
        if self.dma_rounds is not None:
            # the size the run was made with (a shard merged on a checkout whose
            # DMA_MAX_BYTES differs still reproduces it)
            size = self.dma_max if self.dma_max is not None else DMA_MAX_BYTES
            env.update(DD_BENCH_DMA_ROUNDS=str(self.dma_rounds), DD_BENCH_DMA_MAX=str(size))
        return env

    @property
    def run_lane(self) -> str:
        """The lane the run uses: its own, else the one ``LANE`` names, else the default."""
        return runner.check_lane(self.lane)

    def repro(self) -> str:
        knobs = {k: v for k, v in self.env().items()
                 if k != "DD_RANDOM_OPS" or self.ops != RANDOM_OPS_DEFAULT}
        return runner.repro_command(self.sim, self.params, self.seed, self.short, knobs=knobs,
                                    lane=self.run_lane)


@dataclasses.dataclass
class Outcome:
    job: Job
    ok: bool
    tests: int = 0
    failed: int = 0
    sim_ns: float = 0.0
    wall_s: float = 0.0
    run_dir: str = ""
    results_xml: str = ""
    first_mismatch: str = ""
    message: str = ""
    copies_verified: int = 0  # tb/memcheck.py: completed copies judged dst == src
    copies_skipped: int = 0   # completed copies whose bytes legitimately changed under them

    @property
    def cycles(self) -> int:
        return int(self.sim_ns // runner.CLK_PERIOD_NS)


# --------------------------------------------------------------------------- seeds


def seed_list(base: int, n: int) -> list[int]:
    """The regression's seeds: a pure function of the printed base seed."""
    rng = random.Random(base)
    return [rng.randrange(1, 2**31) for _ in range(n)]


def random_modules() -> list[str]:
    mods = [m for m in runner.discover() if m.name in RANDOM_MODULES or "random" in m.marks]
    return [m.name for m in mods]


def make_jobs(seeds: Sequence[int], sims: Sequence[str], params: Sequence[str], *,
              directed: Sequence[str] = DIRECTED_MODULES, ops: int | None = None,
              code_cov: bool = True, tag: str = "regress",
              dma_rounds: int = DMA_ROUNDS_DEFAULT) -> list[Job]:
    """The run list: the DMA-heavy leg first (the longest runs start first), then the
    random tests, then the directed modules ``directed`` (of ``DIRECTED_MODULES``, in
    that order); ``dma_rounds=0`` leaves the leg out."""
    jobs = []
    known = {m.name: m for m in runner.discover()}
    dma = known.get(DMA_MODULE)
    if dma_rounds and dma is not None:
        for sim in sims:
            for p in params:
                if sim in DMA_SIMS and (dma.param_sets is None or p in dma.param_sets):
                    jobs += [Job(DMA_MODULE, sim, p, s, "dma", None, code_cov and sim == "verilator",
                                 tag, dma_rounds=dma_rounds, dma_max=DMA_MAX_BYTES) for s in seeds]
    for mod in random_modules():
        for sim in sims:
            for p in params:
                for s in seeds:
                    jobs.append(Job(mod, sim, p, s, "random", ops, code_cov and sim == "verilator", tag))
    if directed and seeds:
        for mod in DIRECTED_MODULES:
            if mod in directed and mod in known:
                for sim in sims:
                    for p in params:
                        jobs.append(Job(mod, sim, p, seeds[0], "directed", None,
                                        code_cov and sim == "verilator", tag))
    return jobs


def sweep_modules(lane: str = runner.DEFAULT_LANE) -> list[runner.TestModule]:
    """Every cocotb module that runs on *lane* (its LANES literal, tb/runner.py); a module
    that does not (test_tl_errors on the VIP lane: it drives the tl lane's transactors)
    is swept on its own lane."""
    return [m for m in runner.discover() if lane in m.lanes]


def sweep_param_sets(mod: runner.TestModule, params: Sequence[str]) -> list[str]:
    """Parameter sets *mod* runs on in a sweep over *params*: those it admits; a module
    restricted to the planted-bug builds (BUG_SETS: the default parameters plus one bug)
    runs on each of them when "default" is swept."""
    if mod.param_sets is None:
        return list(params)
    mine = [p for p in params if p in mod.param_sets]
    if mine:
        return mine
    bugs = [p for p in mod.param_sets if p in runner.BUG_SETS]
    return bugs if "default" in params else []


def sweep_lanes(lanes: Sequence[str] | None = None) -> list[str]:
    """The lanes a sweep runs, in the order given, each once; None: the one ``LANE``
    names, else the default lane. RegressError for a lane that does not exist or an
    empty list (``--lanes ,``), before anything runs."""
    if lanes is None:
        return [runner.check_lane(None)]
    out: list[str] = []
    for ln in lanes:
        if ln not in runner.LANES:
            raise RegressError(f"unknown lane {ln!r} in SWEEP_LANES / --lanes; valid: "
                               f"{', '.join(runner.LANES)}")
        if ln not in out:
            out.append(ln)
    if not out:
        raise RegressError("SWEEP_LANES / --lanes names no lane; valid: "
                           f"{', '.join(runner.LANES)}")
    return out


def make_sweep_jobs(seeds: Sequence[int], sims: Sequence[str], params: Sequence[str],
                    lanes: Sequence[str] | None = None) -> list[Job]:
    """The sweep's run list: one run (one simulator process, every test of the module)
    per lane x module x simulator x parameter set x seed, the modules of each lane
    (``sweep_modules``; ``lanes``: see ``sweep_lanes``). Ordered simulator, parameter
    set, seed, lane, module, so a sweep cut short by its time budget has whole seeds done
    on the first simulator and parameter set. A run names its lane unless it is the one
    the environment gives (LANE, else the default lane), so its reproduce line says it."""
    lanes = sweep_lanes(lanes)
    env_lane = runner.check_lane(None)
    mods = {ln: sweep_modules(ln) for ln in lanes}
    jobs: list[Job] = []
    for sim in sims:
        for p in params:
            for s in seeds:
                for ln in lanes:
                    for m in mods[ln]:
                        if m.simulators is not None and sim not in m.simulators:
                            continue
                        for ps in sweep_param_sets(m, [p]):
                            # a build whose tests all skip on this lane runs on the VIP
                            # lane (runner.lane_skips), once when both lanes are swept
                            on = runner.VIP_LANE if runner.lane_skips(ln, ps) else ln
                            jobs.append(Job(m.name, sim, ps, s, "sweep", None, False, "sweep",
                                            None if on == env_lane else on))
    return list(dict.fromkeys(jobs))   # each run once, in order


# --------------------------------------------------------------------------- running


def first_mismatch(text: str) -> str:
    m = MISMATCH_RE.search(text)
    return m.group(1).strip() if m else ""


def run_job(job: Job) -> Outcome:
    """Run one simulator process (in a pool worker); never raises."""
    t0 = time.monotonic()
    try:
        res = runner.run(job.sim, job.short, job.params, job.seed, modules=[job.module],
                         log_to_file=True, run_name=job.run_name, extra_env=job.env(), cov=job.cov,
                         lane=job.lane)
    except Exception as exc:  # build or usage problem: report as a failed run
        return Outcome(job, False, wall_s=time.monotonic() - t0, message=f"{type(exc).__name__}: {exc}")
    log = res.log_file.read_text(errors="replace") if res.log_file and res.log_file.is_file() else ""
    msg = "" if res.ok else res.report()
    copies = [tuple(map(int, m)) for m in COPY_RE.findall(log)]
    return Outcome(job, res.ok, tests=len(res.tests), failed=len(res.failed),
                   sim_ns=sum(t.sim_time_ns for t in res.tests), wall_s=time.monotonic() - t0,
                   run_dir=str(res.run_dir), results_xml=str(res.results_xml),
                   first_mismatch=first_mismatch(log) if not res.ok else "", message=msg,
                   copies_verified=sum(v for v, _ in copies), copies_skipped=sum(k for _, k in copies))


def run_pool(jobs: Sequence[Job], workers: int, *, stop_on_fail: bool = False,
             deadline: float | None = None, progress: bool = True) -> list[Outcome]:
    """Run *jobs* on *workers* processes; optionally stop submitting at the first failure
    or after *deadline* (time.monotonic())."""
    out: list[Outcome] = []
    pending = list(jobs)
    running: dict = {}
    n = len(jobs)
    with ProcessPoolExecutor(max_workers=max(1, workers), initializer=_worker_init) as pool:
        try:
            _run_pool_loop(pool, pending, running, out, n, workers, stop_on_fail, deadline,
                           progress)
        except BaseException:   # Ctrl-C, SIGTERM (runner.cli): no worker finishes its run
            _stop_workers(pool)
            raise
    return out


def _worker_init() -> None:
    """A worker leaves Ctrl-C to the main process, which ends the workers
    (``_stop_workers``): an idle worker's KeyboardInterrupt was a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now (their simulators end with them: runner.sim_cmd_prefix)
    instead of waiting for each to finish the run it holds."""
    terminate = getattr(pool, "terminate_workers", None)   # Python 3.14
    if terminate is not None:
        terminate()
        return
    # 3.11: the same by hand (the worker processes, taken before shutdown forgets them)
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.kill()


def _run_pool_loop(pool, pending: list, running: dict, out: list, n: int, workers: int,
                   stop_on_fail: bool, deadline: float | None, progress: bool) -> None:
    """run_pool's submitting and collecting, until every job ran or it stopped."""
    stop = False
    while pending or running:
        while pending and not stop and len(running) < max(1, workers):
            if deadline is not None and time.monotonic() >= deadline:
                stop = True
                break
            job = pending.pop(0)
            running[pool.submit(run_job, job)] = job
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in done:
            running.pop(fut)
            o = fut.result()
            out.append(o)
            if progress:
                j = o.job
                print(f"[regress] {len(out):>3}/{n} {'PASS' if o.ok else 'FAIL'} {j.short} "
                      f"{j.sim}/{j.params}/{j.run_lane} seed={j.seed} "
                      f"{o.cycles} cycles {o.wall_s:.1f} s", flush=True)
            if not o.ok and stop_on_fail:
                stop = True
        if stop:
            pending.clear()


def prebuild(jobs: Iterable[Job]) -> None:
    for sim, params, cov in sorted({(j.sim, j.params, j.cov) for j in jobs}):
        runner.build(sim, params, cov=cov)


# --------------------------------------------------------------------------- reports


def summary_rows(outcomes: Sequence[Outcome]) -> list[dict]:
    """One row per (test module, simulator, parameter set, testbench lane)."""
    groups: dict[tuple[str, str, str, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[(o.job.short, o.job.sim, o.job.params, o.job.run_lane)].append(o)
    rows = []
    for (test, sim, params, lane), os_ in sorted(groups.items()):
        fails = [o for o in os_ if not o.ok]
        rows.append({
            "test": test, "sim": sim, "params": params, "lane": lane,
            "result": "PASS" if not fails else f"FAIL {len(fails)}/{len(os_)}",
            "seeds": ",".join(str(o.job.seed) for o in os_),
            "cycles": sum(o.cycles for o in os_),
            "wall_s": sum(o.wall_s for o in os_),
        })
    return rows


def format_table(outcomes: Sequence[Outcome], seed_width: int = 36) -> str:
    rows = summary_rows(outcomes)
    head = ("test", "sim", "params", "lane", "result", "seeds", "sim cycles", "wall s")
    cells = []
    for r in rows:
        seeds = r["seeds"] if len(r["seeds"]) <= seed_width else r["seeds"][: seed_width - 3] + "..."
        cells.append((r["test"], r["sim"], r["params"], r["lane"], r["result"], seeds,
                      f"{r['cycles']:,}", f"{r['wall_s']:.1f}"))
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)]
    right = {6, 7}

    def fmt(row: Sequence[str]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs)

    lines = [fmt(head), fmt(["-" * w for w in widths])]
    lines += [fmt(c) for c in cells]
    tot_c = sum(r["cycles"] for r in rows)
    tot_w = sum(r["wall_s"] for r in rows)
    n_fail = sum(1 for o in outcomes if not o.ok)
    lines.append(f"{len(outcomes)} run(s), {n_fail} failed, {tot_c:,} simulated cycles, "
                 f"{tot_w:.1f} s simulator wall time (summed over workers)")
    return "\n".join(lines)


def format_failures(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.ok:
            continue
        j = o.job
        lines.append(f"FAILED {j.short} {j.sim}/{j.params}/{j.run_lane} seed={j.seed}")
        if o.first_mismatch:
            lines.append(f"  first mismatch: {o.first_mismatch}")
        elif o.message:
            lines.append("  " + o.message.strip().splitlines()[0][:300])
        lines.append(f"  reproduce: {j.repro()}")
        if o.run_dir:
            lines.append(f"  log: {Path(o.run_dir) / 'sim.log'}")
    return "\n".join(lines)


def write_junit(outcomes: Sequence[Outcome], path: Path) -> None:
    """JUnit XML: one testsuite per (simulator, parameter set), one testcase per run."""
    suites: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        suites[f"regress.{o.job.sim}.{o.job.params}"].append(o)
    top = ET.Element("testsuites", name="regress", tests=str(len(outcomes)),
                     failures=str(sum(not o.ok for o in outcomes)))
    for name, os_ in sorted(suites.items()):
        ts = ET.SubElement(top, "testsuite", name=name, tests=str(len(os_)),
                           failures=str(sum(not o.ok for o in os_)),
                           time=f"{sum(o.wall_s for o in os_):.3f}")
        for o in os_:
            j = o.job
            lane = j.run_lane
            # a run of another lane than the default names it (a sweep of both lanes
            # runs each module and seed on each)
            where = f"seed={j.seed}" if lane == runner.DEFAULT_LANE else f"lane={lane},seed={j.seed}"
            tc = ET.SubElement(ts, "testcase", classname=f"{j.module}.{j.sim}.{j.params}",
                               name=f"{j.short}[{where}]", time=f"{o.wall_s:.3f}")
            props = ET.SubElement(tc, "properties")
            for k, v in (("simulator", j.sim), ("params", j.params), ("lane", lane),
                         ("seed", j.seed), ("kind", j.kind), ("sim_cycles", o.cycles),
                         ("reproduce", j.repro()), ("run_dir", o.run_dir)):
                ET.SubElement(props, "property", name=k, value=str(v))
            if not o.ok:
                f = ET.SubElement(tc, "failure", message=o.first_mismatch or "run failed")
                f.text = (o.message or "") + f"\nreproduce: {j.repro()}\n"
    ET.indent(top)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(top).write(path, encoding="unicode", xml_declaration=True)


def copy_results(outcomes: Sequence[Outcome], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for o in outcomes:
        src = Path(o.results_xml) if o.results_xml else None
        if src and src.is_file():
            j = o.job
            shutil.copy(src, dest / f"{j.sim}-{j.params}-{j.short}-{j.seed}.xml")


def coverage_files(outcomes: Iterable[Outcome]) -> list[Path]:
    files: list[Path] = []
    for o in outcomes:
        if o.run_dir:
            files += sorted(Path(o.run_dir).glob("coverage_*.yml"))
    return files


# ----------------------------------------------------------------- code coverage

_KV = re.compile("\x01([^\x02]*)\x02([^\x01']*)")


def parse_coverage_dat(path: Path) -> dict[str, tuple[dict[str, str], int]]:
    """Verilator ``coverage.dat``: {point key: (attributes, count)}."""
    pts: dict[str, tuple[dict[str, str], int]] = {}
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("C '"):
            continue
        key, _, cnt = line[2:].rpartition(" ")
        key = key.strip("'")
        attrs = dict(_KV.findall("\x01" + key.lstrip("\x01")))
        pts[key] = (attrs, int(cnt))
    return pts


def merge_coverage_dat(files: Sequence[Path], out: Path) -> dict[str, tuple[dict[str, str], int]]:
    """Sum the counts of the same points over runs; writes a merged coverage.dat."""
    merged: dict[str, tuple[dict[str, str], int]] = {}
    for f in files:
        for key, (attrs, cnt) in parse_coverage_dat(f).items():
            old = merged.get(key)
            merged[key] = (attrs, cnt + (old[1] if old else 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        fh.write("# SystemC::Coverage-3\n")
        for key, (_, cnt) in merged.items():
            fh.write(f"C '{key}' {cnt}\n")
    return merged


def code_coverage_summary(merged: dict[str, tuple[dict[str, str], int]],
                          include: Path = runner.HDL_DIR) -> dict[str, dict[str, tuple[int, int]]]:
    """{file: {"line"|"toggle"|...: (points hit, points)}} for files under *include*."""
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for attrs, cnt in merged.values():
        f = attrs.get("f", "")
        if not f or not Path(f).resolve().is_relative_to(include.resolve()):
            continue
        kind = attrs.get("page", "v_other/").split("/", 1)[0].removeprefix("v_")
        c = out[str(Path(f).resolve().relative_to(ROOT))][kind]
        c[1] += 1
        c[0] += int(cnt > 0)
    return {f: {k: (v[0], v[1]) for k, v in kinds.items()} for f, kinds in sorted(out.items())}


def annotate(merged: dict[str, tuple[dict[str, str], int]], dest: Path,
             include: Path = runner.HDL_DIR) -> list[Path]:
    """Annotated copies of the RTL: each line prefixed with its minimum line-point count
    (``%000000`` marks a line point never executed, like verilator_coverage --annotate)."""
    per_line: dict[str, dict[int, int]] = defaultdict(dict)
    for attrs, cnt in merged.values():
        f = attrs.get("f", "")
        if not f or not attrs.get("page", "").startswith("v_line"):
            continue
        if not Path(f).resolve().is_relative_to(include.resolve()):
            continue
        lines = [int(attrs.get("l", 0))]
        for rng in attrs.get("S", "").split(","):
            a, _, b = rng.partition("-")
            if a.isdigit():
                lines += list(range(int(a), int(b or a) + 1))
        for ln in set(lines):
            d = per_line[str(Path(f).resolve())]
            d[ln] = min(cnt, d.get(ln, cnt))
    written = []
    dest.mkdir(parents=True, exist_ok=True)
    for f, counts in sorted(per_line.items()):
        src = Path(f)
        if not src.is_file():
            continue
        out = dest / src.name
        with open(out, "w") as fh:
            for i, text in enumerate(src.read_text(errors="replace").splitlines(), 1):
                if i in counts:
                    mark = "%" if counts[i] == 0 else " "
                    fh.write(f"{mark}{counts[i]:06d}  {text}\n")
                else:
                    fh.write(f"         {text}\n")
        written.append(out)
    return written


def format_code_coverage(summary: dict[str, dict[str, tuple[int, int]]]) -> str:
    kinds = sorted({k for v in summary.values() for k in v})
    lines = ["file".ljust(28) + "".join(f"{k:>18}" for k in kinds)]
    tot: dict[str, list[int]] = {k: [0, 0] for k in kinds}
    for f, v in summary.items():
        row = f.ljust(28)
        for k in kinds:
            h, n = v.get(k, (0, 0))
            tot[k][0] += h
            tot[k][1] += n
            row += f"{f'{h}/{n}':>11} {100 * h / n if n else 100:5.1f}%"
        lines.append(row)
    row = "hdl/ total".ljust(28)
    for k in kinds:
        h, n = tot[k]
        row += f"{f'{h}/{n}':>11} {100 * h / n if n else 100:5.1f}%"
    lines.append(row)
    return "\n".join(lines)


def code_coverage(outcomes: Sequence[Outcome], out_dir: Path,
                  files: Sequence[Path] | None = None) -> str | None:
    """Merge the Verilator runs' coverage.dat (*files*, default: those of *outcomes*)."""
    if files is None:
        files = [Path(o.run_dir) / "coverage.dat" for o in outcomes if o.job.cov and o.run_dir]
    files = [f for f in files if f.is_file()]
    if not files:
        return None
    merged = merge_coverage_dat(files, out_dir / "coverage.dat")
    annotate(merged, out_dir / "annotated")
    summary = code_coverage_summary(merged)
    text = format_code_coverage(summary)
    (out_dir / "summary.txt").write_text(text + "\n")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return text + f"\n(from {len(files)} Verilator run(s); annotated RTL: {out_dir / 'annotated'})"


# --------------------------------------------------------------------------- shards
#
# `make regress SHARD=k/N` runs part k of the run list that `make regress` (same SEEDS,
# SEED and options) would run; `make regress-merge DIRS=...` turns the N shard folders
# back into the unsharded outputs. A shard folder is self-contained (it is what CI
# uploads): manifest.json (configuration, the whole run list, this shard's outcomes) and
# runs/ (per run: results.xml, coverage_*.yml, coverage.dat; sim.log of failed runs).

SHARDS_OUT = ROOT / "build" / "regress-shards"
MANIFEST = "manifest.json"
#: 2: config and runs carry dma_rounds (the DMA-heavy leg); 3: a DMA run carries its
#: copy size (dma_max)
MANIFEST_FORMAT = 3
#: formats ``load_shard`` reads: a format-1 shard ran no DMA-heavy leg (dma_rounds 0); a
#: format-2 one ran its DMA runs at FORMAT2_DMA_MAX, the only size that format shipped with
MANIFEST_FORMATS = (1, 2, MANIFEST_FORMAT)
FORMAT2_DMA_MAX = 64 * 1024
MANIFEST_KEYS = ("base_seed", "seeds", "config", "shard", "root", "wall_s", "reproduce", "run_list",
                 "outcomes")
RUN_FILES = ("results.xml", "coverage.dat", "coverage_*.yml")  # archived for every run
FAILED_RUN_FILES = ("sim.log",)  # archived for failed runs only (the log the report cites)

#: Expected wall time of one run in seconds, for balancing shards (not a limit). Measured
#: with `python -m tools.regress run --seeds 1 --jobs 1` at DD_RANDOM_OPS 300, 1500 and
#: 6000 on both simulators and parameter sets (README "CI"): a run costs a start-up
#: (simulator launch, cocotb, model and scoreboard set-up) plus, for the random test, a
#: cost per operation; the directed module costs a fixed time. The parameter sets
#: differed by less than the noise of the measurement, so they carry no weight.
EST_START_S = 2.5
EST_PER_OP_S = {"icarus": 0.0012, "verilator": 0.0010}
EST_DIRECTED_S = {"icarus": 5.5, "verilator": 5.0}
#: per round of the DMA-heavy leg (DMA_MODULE): Verilator -cov build measured (10 rounds:
#: 11.6-12.6 s), Icarus from its speed on the same workload (about a fifth)
EST_DMA_ROUND_S = {"icarus": 5.0, "verilator": 1.0}


class RegressError(Exception):
    """Bad command-line input or inconsistent shard folders; reported before any work."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"k/N"`` -> ``(k, N)`` with ``1 <= k <= N`` (argparse type: checked before any work)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"SHARD={text!r} is not of the form k/N (e.g. SHARD=2/4)")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise argparse.ArgumentTypeError(
            f"SHARD={text}: need 1 <= k <= N (shard k of N; here k={k}, N={n})")
    return k, n


def parse_directed(text: str) -> list[str]:
    """``--directed``'s comma list -> the modules in ``DIRECTED_MODULES`` order (``tb.``
    may be left out); an unknown name is a RegressError naming the known ones."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    full = [n if n.startswith("tb.") else f"tb.{n}" for n in names]
    bad = [n for n, f in zip(names, full, strict=True) if f not in DIRECTED_MODULES]
    if bad:
        raise RegressError(f"--directed {text}: unknown directed module(s) {', '.join(bad)}; "
                           f"known: {', '.join(DIRECTED_MODULES)}")
    return [m for m in DIRECTED_MODULES if m in full]


def estimate_s(job: Job) -> float:
    """Expected wall time of *job* (seconds); only the ratios between jobs matter."""
    if job.kind == "directed":
        return EST_DIRECTED_S.get(job.sim, max(EST_DIRECTED_S.values()))
    if job.kind == "dma":
        per_round = EST_DMA_ROUND_S.get(job.sim, max(EST_DMA_ROUND_S.values()))
        return EST_START_S + per_round * (job.dma_rounds or 1)
    ops = job.ops if job.ops is not None else RANDOM_OPS_DEFAULT
    return EST_START_S + EST_PER_OP_S.get(job.sim, max(EST_PER_OP_S.values())) * ops


def partition(jobs: Sequence[Job], n: int) -> list[list[Job]]:
    """Split the run list into *n* shards balanced by ``estimate_s``.

    Longest-first greedy (LPT): jobs by decreasing estimate (ties: run-list order) each go
    to the shard with the least estimated time so far (ties: lowest k). A pure function
    of the run list, so every shard machine computes the same split; each shard keeps
    the run-list order.
    """
    if n < 1:
        raise RegressError(f"shard count must be >= 1, got {n}")
    if n > len(jobs):
        raise RegressError(f"SHARD=k/{n}: {n} shards but the regression has only {len(jobs)} run(s); "
                           f"use at most {len(jobs)} shards or more SEEDS")
    load = [0.0] * n
    where: dict[int, int] = {}
    for i in sorted(range(len(jobs)), key=lambda i: (-estimate_s(jobs[i]), i)):
        k = min(range(n), key=lambda s: (load[s], s))
        where[i] = k
        load[k] += estimate_s(jobs[i])
    return [[j for i, j in enumerate(jobs) if where[i] == k] for k in range(n)]


def shard_dir(k: int, n: int) -> Path:
    return SHARDS_OUT / f"shard-{k}-of-{n}"


def make_cfg() -> dict:
    """The configuration of `make regress` as the manifest stores it: the one place that
    names it (``parser`` takes the defaults of ``run`` from here; ``cfg_of`` maps a
    command line back)."""
    return {"sims": list(runner.SIMULATORS), "params": list(DEFAULT_PARAMS), "ops": None,
            "directed": list(DIRECTED_MODULES), "code_cov": True,
            "dma_rounds": DMA_ROUNDS_DEFAULT}


def regress_command(n_seeds: int, base: int, cfg: dict, shard: tuple[int, int] | None = None) -> str:
    """The command that repeats this regression (or one shard of it): the `make` line when
    the options are the Makefile's, else the equivalent `tools.regress` line."""
    tail = f" SHARD={shard[0]}/{shard[1]}" if shard else ""
    if cfg == make_cfg():
        return f"make regress SEEDS={n_seeds} SEED={base}{tail}"
    cmd = (f".venv/bin/python -m tools.regress run --seeds {n_seeds} --seed {base} "
           f"--sims {','.join(cfg['sims'])} --params {','.join(cfg['params'])}")
    cmd += f" --ops {cfg['ops']}" if cfg["ops"] is not None else ""
    if cfg["directed"] != list(DIRECTED_MODULES):
        cmd += f" --directed {','.join(cfg['directed'])}" if cfg["directed"] else " --no-directed"
    cmd += "" if cfg["code_cov"] else " --no-code-cov"
    cmd += "" if cfg["dma_rounds"] == DMA_ROUNDS_DEFAULT else f" --dma-rounds {cfg['dma_rounds']}"
    return cmd + (f" --shard {shard[0]}/{shard[1]}" if shard else "")


def archive_runs(outcomes: Sequence[Outcome], dest: Path) -> list[Outcome]:
    """Copy each run's result files into ``dest/runs/`` (the run folders under build/sim
    are shared with later runs and are not uploaded); returns the outcomes pointing there."""
    out = []
    for o in outcomes:
        src = Path(o.run_dir) if o.run_dir else None
        if src is None or not src.is_dir():  # the run never started (build or usage error)
            out.append(dataclasses.replace(o, run_dir="", results_xml=""))
            continue
        parts = src.relative_to(runner.BUILD_ROOT).parts  # <build>/runs/<tag>/<run>
        to = dest / "runs" / parts[0] / Path(*parts[2:])
        to.mkdir(parents=True, exist_ok=True)
        for pattern in RUN_FILES + (() if o.ok else FAILED_RUN_FILES):
            for f in src.glob(pattern):
                shutil.copy2(f, to / f.name)
        xml = to / "results.xml"
        out.append(dataclasses.replace(o, run_dir=str(to), results_xml=str(xml) if xml.is_file() else ""))
    return out


def _rel(path: str, base: Path) -> str:
    return str(Path(path).relative_to(base)) if path else ""


def write_manifest(out: Path, *, n_seeds: int, base: int, cfg: dict, shard: tuple[int, int],
                   run_list: Sequence[Job], outcomes: Sequence[Outcome], wall_s: float, rc: int) -> Path:
    """manifest.json: everything `regress-merge` needs besides the archived run files."""
    rows = []
    for o in outcomes:
        d = dataclasses.asdict(o)
        d["run_dir"], d["results_xml"] = _rel(o.run_dir, out), _rel(o.results_xml, out)
        rows.append(d)
    data = {
        "format": MANIFEST_FORMAT, "base_seed": base, "seeds": n_seeds, "config": cfg,
        "shard": list(shard), "root": str(ROOT), "wall_s": round(wall_s, 3), "exit": rc,
        "reproduce": regress_command(n_seeds, base, cfg, shard),
        "run_list": [dataclasses.asdict(j) for j in run_list], "outcomes": rows,
    }
    path = out / MANIFEST
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


@dataclasses.dataclass
class Shard:
    """One shard folder as read back by `regress-merge`."""

    path: Path
    manifest: dict
    outcomes: list[Outcome]

    @property
    def k(self) -> int:
        return int(self.manifest["shard"][0])

    @property
    def n(self) -> int:
        return int(self.manifest["shard"][1])


def load_shard(path: Path) -> Shard:
    if not path.is_dir():
        raise RegressError(f"shard folder {path} " + ("is a file, not a folder" if path.exists()
                                                      else "does not exist"))
    mf = path / MANIFEST
    if not mf.is_file():
        raise RegressError(f"{path} has no {MANIFEST}: not a shard folder, or its shard did not finish")
    try:
        data = json.loads(mf.read_text())
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__}, not an object")
        if data.get("format") not in MANIFEST_FORMATS:
            raise RegressError(f"{mf}: manifest format {data.get('format')!r}, expected one of "
                               f"{', '.join(map(str, MANIFEST_FORMATS))}")
        if data["format"] == 1 and isinstance(data.get("config"), dict):
            data["config"].setdefault("dma_rounds", 0)
        if isinstance(data.get("config"), dict) and type(data["config"].get("directed")) is bool:
            # written before --directed: true ran every directed module, false none
            data["config"]["directed"] = list(DIRECTED_MODULES) if data["config"]["directed"] else []
        absent = [k for k in MANIFEST_KEYS if k not in data]
        if absent:
            raise RegressError(f"{mf}: manifest lacks {', '.join(absent)}")
        # every job as the current format writes it, so that shards of one regression
        # written in different formats compare equal (check_shards): a format-2 DMA run
        # copied up to FORMAT2_DMA_MAX bytes; a field a format lacks is None otherwise
        for d in [*data["run_list"], *(o["job"] for o in data["outcomes"])]:
            d.setdefault("dma_rounds", None)
            d.setdefault("dma_max", FORMAT2_DMA_MAX if data["format"] == 2 and d["kind"] == "dma"
                         else None)
        outcomes = []
        for row in data["outcomes"]:
            row = dict(row)
            job = Job(**row.pop("job"))
            for key in ("run_dir", "results_xml"):
                row[key] = str(path / row[key]) if row[key] else ""
            if row["run_dir"] and not Path(row["run_dir"]).is_dir():
                raise RegressError(f"{path} is incomplete: the files of run {job.run_name} "
                                   f"({job.sim}/{job.params}) are missing from {row['run_dir']}")
            outcomes.append(Outcome(job, **row))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RegressError(f"{mf}: unreadable manifest ({type(exc).__name__}: {exc})") from None
    return Shard(path, data, outcomes)


def check_shards(shards: Sequence[Shard]) -> list[Job]:
    """All shards come from one regression and together hold exactly its run list, each
    shard exactly its part; returns the run list. Raises RegressError otherwise."""
    if not shards:
        raise RegressError("no shard folders given (DIRS= is empty)")
    ref = shards[0]
    keys = ("base_seed", "seeds", "config", "run_list")
    for s in shards[1:]:
        for key in keys:
            if s.manifest[key] != ref.manifest[key]:
                what = {"base_seed": "base seed (SEED=)", "seeds": "seed count (SEEDS=)",
                        "config": "options (simulators, parameter sets, ops, directed, code "
                                  "coverage, DMA rounds)",
                        "run_list": "run list (different sources?)"}[key]
                raise RegressError(f"{s.path} and {ref.path} are shards of different regressions: "
                                   f"{what} {s.manifest[key]!r} vs {ref.manifest[key]!r}"[:600])
        if s.n != ref.n:
            raise RegressError(f"{s.path} is shard {s.k}/{s.n} but {ref.path} is shard {ref.k}/{ref.n}")
    seen: dict[int, Path] = {}
    for s in shards:
        if s.k in seen:
            raise RegressError(f"shard {s.k}/{s.n} given twice: {seen[s.k]} and {s.path}")
        seen[s.k] = s.path
    n = ref.n
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in seen]
    if missing:
        raise RegressError(f"missing shard(s) {', '.join(missing)}: pass all {n} shard folders in DIRS=")
    run_list = [Job(**d) for d in ref.manifest["run_list"]]
    parts = partition(run_list, n)
    for s in shards:
        got = [o.job for o in s.outcomes]
        if Counter(got) != Counter(parts[s.k - 1]):
            raise RegressError(f"{s.path}: shard {s.k}/{n} holds {len(got)} run(s), not its part of the "
                               f"run list ({len(parts[s.k - 1])} run(s)): an interrupted or edited shard")
    return run_list


def rebase_coverage_dat(src: Path, dst: Path, old_root: str, new_root: str = str(ROOT)) -> Path:
    """Copy of a coverage.dat whose source paths (``f`` attributes) point into *new_root*:
    a shard made on another machine or checkout names its own paths."""
    text = src.read_text(errors="replace").replace(f"\x02{old_root}/", f"\x02{new_root}/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(text)
    return dst


# --------------------------------------------------------------------------- commands


def _workers(jobs: str | int | None) -> int:
    if jobs in (None, "", "auto"):
        return os.cpu_count() or 1
    return int(jobs)


#: argparse type of ``--hours`` (HOURS=): a finite number of hours, 0 or more (0: no time
#: budget); a negative one ran nothing and replaced the last report, ``nan`` never ended.
hours_arg = runner.number_arg("a number of hours, 0 or more (0: no time budget)", 0)


def jobs_arg(s: str) -> str:
    """argparse type of ``--jobs`` (JOBS=): ``auto`` or a whole number of workers, at least 1;
    anything else is a usage error (exit 2) before any work."""
    if s.strip() in ("", "auto"):
        return "auto"
    try:
        return str(runner.count_arg(s))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{s!r}: expected auto or a number of workers, "
                                         "at least 1") from None


def _csv(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


def sims_params(sims: str, params: str) -> tuple[list[str], list[str]]:
    """The simulators and parameter sets of comma lists, validated before any work: an
    unknown one, or an empty list, is a RegressError (exit 2); so is a malformed knob of
    the environment (``runner.check_knobs``: DD_SIM_TIMEOUT, DD_TL_JUDGE, the stimulus
    sizes, the flags; a RunnerError, exit 2), which every run would refuse or fail on,
    after the output folder was cleared."""
    runner.check_knobs()
    ss, ps = _csv(sims), _csv(params)
    for what, opt, given, got in (("simulator", "sims", sims, ss),
                                  ("parameter set", "params", params, ps)):
        if not got:
            raise RegressError(f"no {what} given ({opt} {given!r})")
    for sim in ss:
        if sim not in runner.SIMULATORS:
            raise RegressError(f"unknown simulator {sim!r}; valid: {', '.join(runner.SIMULATORS)}")
    for p in ps:
        runner.resolve_params(p)
    return ss, ps


def write_reports(outcomes: Sequence[Outcome], out: Path, *, base: int, threshold: float | None,
                  wall_line: str, label: str = "regression", extra: Sequence[str] = (),
                  cc_files: Sequence[Path] | None = None) -> tuple[int, str]:
    """Write junit.xml, results/, coverage/, code_coverage/ and summary.txt into *out*;
    returns (exit status, summary text). One writer for `run`, a shard and `merge`.

    *threshold* None (a shard): coverage is reported but not judged, because a shard
    holds only part of the bins; `merge` applies the threshold to the whole.
    """
    write_junit(outcomes, out / "junit.xml")
    copy_results(outcomes, out / "results")
    text = ["", "==== regression summary " + "=" * 50, format_table(outcomes), wall_line]
    fails = format_failures(outcomes)
    if fails:
        text += ["", fails]
    text += list(extra)
    rc = 1 if any(not o.ok for o in outcomes) else 0
    cov_files = coverage_files(outcomes)
    if cov_files:
        rep, cov_text = covmerge.merge_and_report(cov_files, out / "coverage", threshold)
        text += ["", "==== functional coverage (tb/coverage.py) " + "=" * 32, cov_text,
                 "not modelled (unreachable): " + "; ".join(UNREACHABLE_NOTES),
                 f"files: {out / 'coverage'}/coverage.{{txt,yml,xml}}"]
        if threshold is None:
            text.append("(this shard's part only: COV_MIN is applied by `make regress-merge`)")
        elif rep.percent() < threshold:
            rc = 1
    elif threshold is None:
        text += ["", "no functional coverage files in this shard"]
    else:
        text += ["", f"no functional coverage files found: FAIL (threshold {threshold} %)"]
        rc = 1
    cc = code_coverage(outcomes, out / "code_coverage", cc_files)
    if cc:
        text += ["", "==== code coverage (Verilator line/toggle, hdl/ only) " + "=" * 20, cc]
    text += ["", f"JUnit: {out / 'junit.xml'}; cocotb results: {out / 'results'}",
             f"{label} {'PASSED' if rc == 0 else 'FAILED'} (base seed {base})"]
    report = "\n".join(text)
    (out / "summary.txt").write_text(report + "\n")
    return rc, report


#: written into every output folder this tool makes (``_fresh_dir``)
OUT_MARK = ".dd-regress-out"
#: what the tool writes into an output folder: one made before OUT_MARK existed is known
#: by holding only these, a summary or a shard manifest among them
OUT_NAMES = frozenset({OUT_MARK, "summary.txt", "junit.xml", "runs.txt", "results", "coverage",
                       "code_coverage", "manifest.json", "runs"})


def _fresh_dir(out: Path) -> None:
    """An empty output folder at *out*: a folder this tool made before is replaced; any
    other folder that holds something is refused (RegressError, nothing deleted), so a
    mistyped ``OUT=`` (``.``, ``docs``, a home folder) never wipes it."""
    if out.exists():
        if not out.is_dir():
            raise RegressError(f"output folder {out} exists and is not a folder")
        names = {p.name for p in out.iterdir()}
        ours = OUT_MARK in names or (names <= OUT_NAMES and names & {"summary.txt", "manifest.json"})
        if names and not ours:
            foreign = sorted(names - OUT_NAMES)[:5]
            why = (f"holds files this tool did not write ({', '.join(foreign)})" if foreign else
                   f"has neither this tool's mark {OUT_MARK} nor a summary.txt or manifest.json")
            raise RegressError(f"output folder {out} exists and {why}; nothing was deleted: "
                               "name a new or empty folder (OUT= / --out), or delete it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / OUT_MARK).write_text("written by tools/regress.py: the next run with this output "
                                "folder replaces it\n")


def cfg_of(ns: argparse.Namespace) -> dict:
    """The manifest's configuration of a ``run`` command line (``make_cfg()`` for its
    defaults)."""
    return {"sims": _csv(ns.sims), "params": _csv(ns.params), "ops": ns.ops,
            "directed": [] if ns.no_directed else parse_directed(ns.directed),
            "code_cov": not ns.no_code_cov,
            "dma_rounds": ns.dma_rounds}


def cmd_run(ns: argparse.Namespace) -> int:
    runner.setup_tool_env()
    base = ns.seed if ns.seed is not None else runner.new_seed()
    seeds = seed_list(base, ns.seeds)
    if ns.dma_rounds < 0:
        raise RegressError(f"--dma-rounds {ns.dma_rounds}: must be 0 (no DMA-heavy leg) or more")
    cfg = cfg_of(ns)
    sims, params = sims_params(ns.sims, ns.params)
    run_list = make_jobs(seeds, sims, params, directed=cfg["directed"], ops=cfg["ops"],
                         code_cov=cfg["code_cov"], dma_rounds=cfg["dma_rounds"])
    jobs = run_list
    if ns.shard:  # checked before any build or run
        k, n = ns.shard
        parts = partition(run_list, n)
        jobs = parts[k - 1]
    workers = _workers(ns.jobs)
    print(f"[regress] base seed {base} -> seeds {seeds}", flush=True)
    print(f"[regress] repeat this regression: {regress_command(ns.seeds, base, cfg)}", flush=True)
    if ns.shard:
        est = [sum(estimate_s(j) for j in p) for p in parts]
        print(f"[regress] shard {k}/{n}: {len(jobs)} of {len(run_list)} run(s); estimated "
              f"{est[k - 1]:.0f} s, per shard {[round(e) for e in est]} s (README \"CI\")", flush=True)
        print(f"[regress] repeat this shard: {regress_command(ns.seeds, base, cfg, ns.shard)}", flush=True)
    n_dma = sum(j.kind == "dma" for j in jobs)
    print(f"[regress] {len(jobs)} run(s) on {workers} worker(s): modules {random_modules()} "
          f"(+ directed {cfg['directed']}"
          f"{f', + {n_dma} DMA-heavy {DMA_MODULE} at {ns.dma_rounds} round(s)' if n_dma else ''}), "
          f"sims {sims}, params {params}", flush=True)
    out = Path(ns.out) if ns.out else shard_dir(*ns.shard) if ns.shard else OUT
    _fresh_dir(out)
    t0 = time.monotonic()
    prebuild(jobs)
    outcomes = run_pool(jobs, workers)
    wall = time.monotonic() - t0
    order = {j: i for i, j in enumerate(run_list)}
    outcomes.sort(key=lambda o: order[o.job])  # run-list order, not completion order
    if not ns.shard:
        rc, report = write_reports(outcomes, out, base=base, threshold=ns.threshold,
                                   wall_line=f"wall clock {wall:.1f} s (builds included), base seed {base}")
        print(report, flush=True)
        return rc
    outcomes = archive_runs(outcomes, out)
    extra = ["", f"reproduce this shard: {regress_command(ns.seeds, base, cfg, ns.shard)}"]
    rc, report = write_reports(outcomes, out, base=base, threshold=None, label=f"shard {k}/{n}",
                               wall_line=f"wall clock {wall:.1f} s (builds included), base seed {base}",
                               extra=extra)
    write_manifest(out, n_seeds=ns.seeds, base=base, cfg=cfg, shard=ns.shard, run_list=run_list,
                   outcomes=outcomes, wall_s=wall, rc=rc)
    print(report, flush=True)
    print(f"[regress] shard folder (upload it; merge with `make regress-merge DIRS=...`): {out}", flush=True)
    return rc


def cmd_merge(ns: argparse.Namespace) -> int:
    """Merge shard folders into the outputs of the unsharded regression; no simulation."""
    shards = [load_shard(Path(d)) for d in ns.dirs]
    run_list = check_shards(shards)
    out = Path(ns.out)
    for s in shards:
        if s.path.resolve().is_relative_to(out.resolve()):
            raise RegressError(f"shard folder {s.path} is inside the output folder {out}, which the "
                               "merge replaces: move it or pass another --out")
    ref = shards[0].manifest
    base, n_seeds, cfg, n = ref["base_seed"], ref["seeds"], ref["config"], shards[0].n
    order = {j: i for i, j in enumerate(run_list)}
    shards = sorted(shards, key=lambda s: s.k)
    outcomes = sorted((o for s in shards for o in s.outcomes), key=lambda o: order[o.job])
    print(f"[regress-merge] {n} shard(s) of {regress_command(n_seeds, base, cfg)}: "
          f"{len(outcomes)} run(s)", flush=True)
    extra = [""]
    for s in shards:
        bad = sum(not o.ok for o in s.outcomes)
        extra.append(f"shard {s.k}/{n}: {len(s.outcomes)} run(s), {bad} failed, wall clock "
                     f"{s.manifest['wall_s']:.1f} s, {s.path}"
                     + (f"; reproduce: {s.manifest['reproduce']}" if bad else ""))
    walls = [float(s.manifest["wall_s"]) for s in shards]
    wall_line = (f"wall clock {max(walls):.1f} s (longest of {n} shards, builds included; "
                 f"{sum(walls):.1f} s summed), base seed {base}")
    _fresh_dir(out)
    with tempfile.TemporaryDirectory(prefix="regress-merge-") as tmp:
        root_of = {o.job: str(s.manifest["root"]) for s in shards for o in s.outcomes}
        cc_files = []
        for o in outcomes:  # in run-list order, as the unsharded run merges them
            f = Path(o.run_dir) / "coverage.dat" if o.job.cov and o.run_dir else None
            if f is None or not f.is_file():
                continue
            if root_of[o.job] != str(ROOT):
                f = rebase_coverage_dat(f, Path(tmp) / f"{len(cc_files)}.dat", root_of[o.job])
            cc_files.append(f)
        rc, report = write_reports(outcomes, out, base=base, threshold=ns.threshold, wall_line=wall_line,
                                   label=f"regression ({n} shards merged)", extra=extra, cc_files=cc_files)
    print(report, flush=True)
    return rc


def cmd_sweep(ns: argparse.Namespace) -> int:
    """Seed sweep: every module x simulator x parameter set x seed (make_sweep_jobs)."""
    runner.setup_tool_env()
    if ns.seeds < 1:
        raise RegressError(f"--seeds {ns.seeds}: at least 1 seed")
    base = ns.seed if ns.seed is not None else runner.new_seed()
    seeds = seed_list(base, ns.seeds)
    sims, params = sims_params(ns.sims, ns.params)
    lanes = sweep_lanes(_csv(ns.lanes) if ns.lanes is not None else None)
    jobs = make_sweep_jobs(seeds, sims, params, lanes)
    workers = _workers(ns.jobs)
    budget = ns.hours * 3600 if ns.hours else None
    repeat = (f"make sweep SEEDS={ns.seeds} SEED={base} SWEEP_SIMS={','.join(sims)} "
              f"SWEEP_PARAMS={','.join(params)} SWEEP_LANES={','.join(lanes)}")
    print(f"[sweep] base seed {base} -> {len(seeds)} seed(s); {len(jobs)} run(s) of "
          f"{len({j.module for j in jobs})} module(s) on {workers} worker(s), sims {sims}, "
          f"params {params}, lanes {lanes}" + (f", budget {ns.hours} h" if budget else ""),
          flush=True)
    print(f"[sweep] repeat: {repeat}", flush=True)
    out = Path(ns.out) if ns.out else SWEEP_OUT
    _fresh_dir(out)
    t0 = time.monotonic()
    # no prebuild of every model up front (14 Verilator builds would eat a time budget
    # before the first run): each run builds its model on first use (tb/runner.py locks)
    outcomes = run_pool(jobs, workers, deadline=t0 + budget if budget else None)
    wall = time.monotonic() - t0
    order = {j: i for i, j in enumerate(jobs)}
    outcomes.sort(key=lambda o: order[o.job])
    rc, report = write_sweep_reports(outcomes, jobs, out, n_seeds=len(seeds), wall=wall,
                                     base=base, repeat=repeat)
    print(report, flush=True)
    return rc


def write_sweep_reports(outcomes: Sequence[Outcome], jobs: Sequence[Job], out: Path, *,
                        n_seeds: int, wall: float, base: int, repeat: str) -> tuple[int, str]:
    """junit.xml, runs.txt (one line per run with its reproduce command) and summary.txt
    of a sweep; returns (exit status, summary). Exit 1 on a failed run, or when runs of
    *jobs* were never started (a time budget ran out): a sweep only passes whole."""
    done = {o.job for o in outcomes}
    left = [j for j in jobs if j not in done]
    write_junit(outcomes, out / "junit.xml")
    with open(out / "runs.txt", "w") as fh:   # one line per run: verdict and reproduce command
        for o in outcomes:
            fh.write(f"{'PASS' if o.ok else 'FAIL'} {o.cycles} cycles {o.wall_s:.1f} s  "
                     f"reproduce: {o.job.repro()}\n")
    n_fail = sum(not o.ok for o in outcomes)
    per = Counter((o.job.sim, "default" if o.job.params in runner.BUG_SETS else o.job.params,
                   o.job.seed) for o in outcomes)
    text = ["", "==== seed sweep summary " + "=" * 50, format_table(outcomes, seed_width=24)]
    fails = format_failures(outcomes)
    if fails:
        text += ["", fails]
        # each failed cocotb test (a sweep point too) reruns alone with its own line
        tests = [ln.strip() for o in outcomes if not o.ok for ln in o.message.splitlines()
                 if ln.strip().startswith(("FAILED ", "reproduce: "))]
        if tests:
            text += ["", "failed cocotb tests and their own reproduce lines:", *tests]
    text += ["", f"sweep: {len(outcomes)} of {len(jobs)} run(s), {n_fail} failed, "
                 f"{n_seeds} seed(s), {len(per)} simulator x parameters x seed combination(s), "
                 f"{sum(o.cycles for o in outcomes):,} simulated cycles, wall {wall:.0f} s "
                 f"(builds included), base seed {base}"]
    if left:
        text.append(f"INCOMPLETE: {len(left)} run(s) not started (time budget), first: "
                    f"{left[0].repro()}")
    text += [f"per-run verdicts and reproduce lines: {out / 'runs.txt'}; JUnit: {out / 'junit.xml'}",
             f"repeat: {repeat}",
             f"sweep {'FAILED' if n_fail else 'INCOMPLETE' if left else 'PASSED'}"]
    report = "\n".join(text)
    (out / "summary.txt").write_text(report + "\n")
    return (1 if n_fail or left else 0), report


#: `make soak` without a budget: this many simulated cycles on each simulator (issue 8)
SOAK_CYCLES_DEFAULT = 10_000_000


def sim_cycles(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Simulated cycles per simulator over ``outcomes``."""
    out: dict[str, int] = {}
    for o in outcomes:
        out[o.job.sim] = out.get(o.job.sim, 0) + o.cycles
    return out


def soak_combos(combos: Sequence[tuple[str, str]], cycles: dict[str, int],
                budget: int | None) -> list[tuple[str, str]]:
    """The (simulator, parameter set) pairs a soak still draws from: all of them, or with
    a cycle budget those whose simulator has simulated fewer than ``budget`` cycles."""
    if budget is None:
        return list(combos)
    return [c for c in combos if cycles.get(c[0], 0) < budget]


def cmd_soak(ns: argparse.Namespace) -> int:
    runner.setup_tool_env()
    base = ns.seed if ns.seed is not None else runner.new_seed()
    sims, params = sims_params(ns.sims, ns.params)
    if ns.cycles < 0 or ns.seeds < 0:   # (HOURS= is checked by its argparse type, hours_arg)
        raise RegressError("soak: CYCLES= and SEEDS= must not be negative")
    budget_s = ns.hours * 3600 if ns.hours else None
    budget_c = ns.cycles or (None if budget_s or ns.seeds else SOAK_CYCLES_DEFAULT)
    max_seeds = ns.seeds or None
    deadline = time.monotonic() + budget_s if budget_s else None
    workers = _workers(ns.jobs)
    budgets = [f"{ns.hours} h" if budget_s else "", f"{max_seeds} seed(s)" if max_seeds else "",
               f"{budget_c:,} cycles per simulator" if budget_c else ""]
    print(f"[soak] base seed {base}, DD_RANDOM_OPS={ns.ops}, budget "
          f"{' / '.join(b for b in budgets if b)}, sims {sims}, params {params}", flush=True)
    print(f"[soak] repeat: make soak SEED={base} SEEDS={max_seeds or ''} HOURS={ns.hours or ''} "
          f"CYCLES={budget_c or ''}", flush=True)
    rng = random.Random(base)
    t_start = time.monotonic()
    combos = [(s, p) for s in sims for p in params]
    outcomes: list[Outcome] = []
    mods = random_modules()
    i = 0  # seeds drawn so far
    while True:
        left = None if max_seeds is None else max_seeds - i
        todo = soak_combos(combos, sim_cycles(outcomes), budget_c)
        if ((left is not None and left <= 0) or (deadline and time.monotonic() >= deadline)
                or not todo):
            break
        jobs = []
        for _ in range(workers if left is None else min(workers, left)):
            sim, p = todo[i % len(todo)]
            i += 1
            seed = rng.randrange(1, 2**31)
            jobs += [Job(mod, sim, p, seed, "random", ns.ops, False, "soak") for mod in mods]
        prebuild(jobs)
        res = run_pool(jobs, workers, stop_on_fail=True, deadline=deadline)
        outcomes += res
        bad = [o for o in res if not o.ok]
        if bad:
            print("\n[soak] stopped at the first failure:\n" + format_failures(bad[:1]), flush=True)
            print("\n" + format_table(outcomes), flush=True)
            print(f"[soak] {soak_figures(outcomes, time.monotonic() - t_start)}", flush=True)
            return 1
    print("\n" + format_table(outcomes), flush=True)
    print(f"[soak] {soak_figures(outcomes, time.monotonic() - t_start)}", flush=True)
    print(f"[soak] PASSED: {len(outcomes)} run(s), base seed {base}", flush=True)
    return 0


def soak_figures(outcomes: Sequence[Outcome], wall_s: float) -> str:
    """The soak's headline figures (README "Regression and coverage")."""
    ver = sum(o.copies_verified for o in outcomes)
    skp = sum(o.copies_skipped for o in outcomes)
    split = ", ".join(f"{sim} {c:,}" for sim, c in sorted(sim_cycles(outcomes).items()))
    return (f"{len(outcomes)} run(s), {sum(o.cycles for o in outcomes):,} simulated cycles "
            f"({split}), {wall_s:.0f} s wall; copies verified {ver:,}, skipped {skp:,} "
            f"(source or destination written under the copy)")


def cmd_repro_check(ns: argparse.Namespace) -> int:
    """Planted bug: the printed reproduce command must fail at the same edge."""
    runner.setup_tool_env()
    seed = ns.seed if ns.seed is not None else runner.new_seed()
    job = Job("tb.test_random", ns.sim, ns.params, seed, "random", None, False, "repro-check")
    print(f"[repro-check] {ns.params} on {ns.sim}, seed {seed}", flush=True)
    runner.build(ns.sim, ns.params)
    first = run_job(job)
    if first.ok:
        print("[repro-check] the planted bug went unnoticed: FAIL", flush=True)
        return 1
    cmd = job.repro()
    print(f"[repro-check] run 1 first mismatch: {first.first_mismatch}", flush=True)
    print(f"[repro-check] reproduce: {cmd}", flush=True)
    p = subprocess.run(cmd, shell=True, cwd=ROOT, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")})
    again = first_mismatch(p.stdout + p.stderr)
    print(f"[repro-check] run 2 first mismatch: {again} (make exit {p.returncode})", flush=True)
    same = bool(again) and again == first.first_mismatch and p.returncode != 0
    print(f"[repro-check] {'SAME failure at the same edge: PASS' if same else 'DIFFERENT: FAIL'}", flush=True)
    return 0 if same else 1


def parser() -> argparse.ArgumentParser:
    """The command line of every subcommand (``run``'s defaults from ``make_cfg``)."""
    d = make_cfg()
    ap = argparse.ArgumentParser(prog="python -m tools.regress", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=None, help="base seed (default: random, printed)")
    common.add_argument("--sims", default=",".join(d["sims"]))
    common.add_argument("--params", default=",".join(d["params"]))
    common.add_argument("--jobs", type=jobs_arg, default="auto",
                        help="worker processes (default: one per core)")
    r = sub.add_parser("run", parents=[common], help="the CI regression")
    r.add_argument("--seeds", type=runner.count_arg, default=4,
                   help="seeds per (test, simulator, parameters)")
    r.add_argument("--ops", type=runner.count_arg, default=d["ops"],
                   help="DD_RANDOM_OPS (default: the test's)")
    r.add_argument("--threshold", type=covmerge.percent_arg, default=100.0,
                   help="functional coverage target, %% (0 to 100)")
    r.add_argument("--no-directed", action="store_true", help="random tests only")
    r.add_argument("--directed", default=",".join(d["directed"]), metavar="MODULES",
                   help="the directed modules to run, of "
                        f"{','.join(DIRECTED_MODULES)} (default: all)")
    r.add_argument("--no-code-cov", action="store_true", help="plain Verilator builds, no coverage.dat")
    r.add_argument("--dma-rounds", type=int, default=d["dma_rounds"],
                   help=f"rounds of the DMA-heavy leg per seed ({DMA_MODULE} on "
                        f"{', '.join(DMA_SIMS)}; 0: none; default {DMA_ROUNDS_DEFAULT})")
    r.add_argument("--shard", type=parse_shard, default=None, metavar="K/N",
                   help="run only shard K of N of the run list (balanced by expected time)")
    r.add_argument("--out", default=None,
                   help=f"output folder (default: {OUT.relative_to(ROOT)}, sharded: "
                        f"{SHARDS_OUT.relative_to(ROOT)}/shard-K-of-N)")
    m = sub.add_parser("merge", help="merge shard folders into the outputs of the unsharded run")
    m.add_argument("dirs", nargs="*", help="shard folders (each with manifest.json)")
    m.add_argument("--threshold", type=covmerge.percent_arg, default=100.0,
                   help="functional coverage target, %% (0 to 100)")
    m.add_argument("--out", default=str(OUT))
    s = sub.add_parser("soak", parents=[common], help="long random soak, stops at the first failure")
    s.add_argument("--hours", type=hours_arg, default=0.0, help="time budget (0: none)")
    s.add_argument("--seeds", type=int, default=0, help="seed budget (0: none)")
    s.add_argument("--cycles", type=int, default=0,
                   help=f"simulated cycles per simulator (0: none; no budget at all: "
                        f"{SOAK_CYCLES_DEFAULT:,})")
    s.add_argument("--ops", type=runner.count_arg, default=20000, help="DD_RANDOM_OPS per run")
    w = sub.add_parser("sweep", parents=[common],
                       help="seed sweep: every cocotb module x simulator x parameters x seed")
    w.add_argument("--seeds", type=int, default=SWEEP_SEEDS_MIN,
                   help=f"seeds per simulator x parameter set (default {SWEEP_SEEDS_MIN})")
    w.add_argument("--hours", type=hours_arg, default=0.0,
                   help="time budget (0: none); runs not started are listed, exit 1")
    w.add_argument("--out", default=None, help=f"output folder (default {SWEEP_OUT.relative_to(ROOT)})")
    w.add_argument("--lanes", default=None,
                   help=f"testbench lanes, comma list of {', '.join(runner.LANES)} "
                        "(default: LANE, else the default lane)")
    c = sub.add_parser("repro-check", help="planted bug: the reproduce command repeats the failure")
    c.add_argument("--seed", type=int, default=None)
    c.add_argument("--sim", default="icarus")
    c.add_argument("--params", default="bug_leak")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return {"run": cmd_run, "soak": cmd_soak, "repro-check": cmd_repro_check,
                "merge": cmd_merge, "sweep": cmd_sweep}[ns.cmd](ns)
    except (runner.RunnerError, RegressError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(runner.cli(main))
