"""`make mutate`: the mutation regression of the RTL (catalogue: tools/mutants.py).

Why: every check of this project was shown to catch its own planted bug, which says
nothing about the mistakes nobody planted. Each catalogue mutant is a realistic
single-point RTL change; the regression applies it to a scratch copy of ``hdl/`` (never
the working tree), builds it (tb/runner.py ``DD_HDL_DIR``, its own build folder) and
runs the cocotb suites on it, stage by stage (``STAGES``: cheapest and most-killing
first), stopping at the first stage with a failing test. The mutant's kill hint
(tools/mutants.py ``HINTS``: the test that killed it last time) runs alone before the
stages; a hint that no longer kills is marked stale and the stages decide as before.
A mutant no simulation kills then gets a bounded formal check of the same tree
(tools/formal.py ``--src``, task ``bmc``: every dd_props/axi4_check assertion from reset
to ``FORMAL_DEPTH`` steps).

Before any mutant, the unmutated copy must pass every stage and every hint (else a
kill would mean nothing). The report (``build/mutate/report.{md,json}``) gives per mutant its family,
file:line, the change, what killed it (test or property), sim or formal, and the time;
the printed summary the killed percentages by simulation alone and with formal.

Exit status: 0 when every mutant is killed except those documented as equivalent (which
must survive); 1 when a mutant survives undocumented, a documented-equivalent one is
killed, or the unmutated tree fails; 2 on bad input (unknown ``MUTANTS=`` id, a catalogue
entry whose original text is not found exactly once, a mutant that does not build).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tb import runner
from tools.formal import BMC_DEPTH
from tools.mutants import FAMILIES, MUTANTS, Mutant

ROOT = runner.ROOT
OUT = ROOT / "build" / "mutate"
#: Simulator of the campaign. Icarus: a build of this design takes well under a second
#: (Verilator: about a minute, README "Mutation regression"), and a mutant's hint runs
#: in 2 to 3 s on it, so per mutant (each one a new build) Icarus is far cheaper.
SIM = "icarus"
PARAMS = "default"
#: Fixed run seed: the report is reproducible (cocotb derives each test's seed from it).
DEFAULT_SEED = 1
#: Test stages, each one simulator process, in order: the directed modules first (a few
#: seconds, they kill most mutants), the random and fault suites, the linked-list suite,
#: then the long ones,
#: then the transaction-level lane's own module (its AXI4-Lite master presents W before
#: AW and AW before W, which the VIP lane's masters never do). Every module that runs on
#: the VIP lane with the default parameters appears once (tb/test_ll.py, the linked-list
#: walks and MSIs, since the "walk" and "msi" families). A stage is a ``TEST`` value
#: (tb/runner.py ``select``), optionally prefixed by ``<lane>:`` (default: the VIP lane).
#: A mutant's ``hint`` (tools/mutants.py) runs alone before these stages.
STAGES: tuple[str, ...] = (
    "test_directed,test_fence,test_protocol,test_memcheck",
    "test_random,test_faults",
    "test_ll",
    "test_quiesce,test_bench_dma,test_planted_model",
    "tl:test_tl_errors",
)
FORMAL_DEPTH = BMC_DEPTH   # tools/formal.py: steps of the bounded check of a survivor
#: Wall-clock limit of one stage's simulator (a mutant that hangs the mover is killed by
#: the limit, reported as a timeout) and of one formal check, seconds.
STAGE_TIMEOUT = 300
FORMAL_TIMEOUT = 900


class MutateError(Exception):
    """Bad input or a catalogue entry that does not apply: exit 2 with this message."""


@dataclasses.dataclass
class Outcome:
    """What happened to one mutant (a row of the report)."""

    id: str
    family: str
    file: str
    line: int
    orig: str
    repl: str
    what: str
    equivalent: str | None
    verdict: str = "survived"      # killed-sim | killed-formal | survived | error
    by: str = ""                   # test (sim) or property (formal) that killed it
    detail: str = ""               # first lines of the failure / formal summary
    stage: int | None = None       # stage that killed it: 1-based, 0 = the mutant's hint
    stale_hint: bool = False       # its hint ran and did not kill it (update the catalogue)
    seconds: float = 0.0
    sim_seconds: float = 0.0
    formal_seconds: float = 0.0
    formal_status: str = ""
    reproduce: str = ""

    @property
    def killed(self) -> bool:
        return self.verdict.startswith("killed")


# --------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------


def locate(m: Mutant, hdl: Path = runner.HDL_DIR) -> int:
    """1-based line of *m*'s original text in *hdl*/<file>; MutateError unless it occurs
    exactly once (an entry that no longer matches the RTL must not become a no-op)."""
    path = hdl / m.file
    if not path.is_file():
        raise MutateError(f"mutant {m.id}: file hdl/{m.file} not found")
    text = path.read_text()
    n = text.count(m.orig)
    if n != 1:
        raise MutateError(f"mutant {m.id}: original text found {n} times in hdl/{m.file} "
                          f"(must be exactly once; re-anchor the entry): {m.orig!r}")
    return text[:text.index(m.orig)].count("\n") + 1


def check_catalogue(mutants: Sequence[Mutant] | None = None, hdl: Path = runner.HDL_DIR) -> None:
    """Every entry (default: the catalogue) applies to *hdl*, ids are unique, families
    known, the text really changes."""
    seen: set[str] = set()
    for m in MUTANTS if mutants is None else mutants:
        if m.id in seen:
            raise MutateError(f"mutant id {m.id} appears twice in the catalogue")
        seen.add(m.id)
        if m.family not in FAMILIES:
            raise MutateError(f"mutant {m.id}: unknown family {m.family!r}; "
                              f"valid: {', '.join(FAMILIES)}")
        if m.orig == m.repl:
            raise MutateError(f"mutant {m.id}: replacement equals the original text")
        locate(m, hdl)


def select(ids: str | None, mutants: Sequence[Mutant] | None = None) -> list[Mutant]:
    """The mutants (default: the catalogue) named by a comma list (``MUTANTS=``), all
    when empty."""
    mutants = MUTANTS if mutants is None else mutants
    if not ids or not ids.strip():
        return list(mutants)
    by_id = {m.id: m for m in mutants}
    out: list[Mutant] = []
    for i in (s.strip() for s in ids.split(",")):
        if not i:
            continue
        if i not in by_id:
            raise MutateError(f"unknown mutant {i!r}; valid: {', '.join(by_id)}")
        if by_id[i] not in out:
            out.append(by_id[i])
    if not out:   # MUTANTS=',' once ran the baseline and replaced the report with 0 of 0
        raise MutateError(f"MUTANTS={ids!r} names no mutant; valid: {', '.join(by_id)}")
    return out


def make_tree(m: Mutant | None, dest: Path) -> Path:
    """A scratch copy of hdl/ at *dest*/hdl with *m* applied (None: unmutated)."""
    if dest.exists():
        shutil.rmtree(dest)
    hdl = dest / "hdl"
    shutil.copytree(runner.HDL_DIR, hdl)
    if m is not None:
        path = hdl / m.file
        text = path.read_text()
        if text.count(m.orig) != 1:  # checked before; the copy must agree
            raise MutateError(f"mutant {m.id}: original text not found once in the copy")
        path.write_text(text.replace(m.orig, m.repl, 1))
    return hdl


# --------------------------------------------------------------------------------------
# One stage in a child process (runner.run changes os.environ: one process per stage)
# --------------------------------------------------------------------------------------


def split_stage(stage: str) -> tuple[str, str]:
    """``"tl:test_x"`` -> ("tl", "test_x"); no prefix: the VIP lane (the lane the
    campaign's stages and kill hints were measured on, whichever lane ``make sim``
    defaults to). Raises MutateError for an unknown lane."""
    lane, colon, test = stage.partition(":")
    if not colon:
        return runner.VIP_LANE, stage
    if lane not in runner.LANES:
        raise MutateError(f"stage {stage!r}: unknown lane {lane!r}; valid: {', '.join(runner.LANES)}")
    return lane, test


def _stage_child(stage: str, seed: int, out: Path) -> int:
    """Run *stage* on the tree named by DD_HDL_DIR and write a JSON verdict to *out*."""
    res: dict[str, object]
    try:
        lane, test = split_stage(stage)
        r = runner.run(SIM, test, PARAMS, seed, log_to_file=True, lane=lane)
        prefix = "" if lane == runner.VIP_LANE else f"{lane}:"   # a valid hint
        failed = r.failed
        first = failed[0] if failed else None
        res = {
            "ok": r.ok, "tests": [t.name for t in r.tests],
            "failed": [t.name for t in failed],
            "killer": (prefix + runner.short_test_name(first.name) if first else
                       "timeout" if r.timeout else "simulator exit" if r.sim_exit else ""),
            "detail": _prop_line(r.log_file) or _brief(first.message if first else r.report()),
            "reproduce": r.repro(runner.short_test_name(first.name) if first else test),
            "log": str(r.log_file or ""),
        }
    except (runner.RunnerError, MutateError) as exc:
        res = {"error": str(exc)}
    out.write_text(json.dumps(res))
    return 0


def _prop_line(log: Path | None) -> str:
    """The first HDL property report of a simulation log ("PROPERTY <name> at edge ..."):
    it names the check that killed a mutant better than the test's assertion does."""
    if log is None or not log.is_file():
        return ""
    for ln in log.read_text(errors="replace").splitlines():
        if "PROPERTY " in ln:
            return ln[ln.index("PROPERTY "):][:300]
    return ""


def _brief(msg: str) -> str:
    """The most telling line of a failure: a PROPERTY / mismatch line if any, else the last."""
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    for key in ("PROPERTY", "PROTOCOL", "mismatch", "MISMATCH", "AssertionError"):
        for ln in lines:
            if key in ln:
                return ln[:300]
    return lines[-1][:300] if lines else ""


def run_stage(hdl: Path, test: str, seed: int, work: Path, timeout: float) -> dict:
    """One stage on the tree *hdl* in a child process; its JSON verdict."""
    out = work / ("stage-" + "".join(c if c.isalnum() else "_" for c in test)[:100] + ".json")
    out.unlink(missing_ok=True)
    env = {**os.environ, runner.HDL_DIR_ENV: str(hdl), "DD_SIM_TIMEOUT": str(int(timeout))}
    cmd = [sys.executable, "-m", "tools.mutate", "--stage-child", test, "--seed", str(seed),
           "--child-out", str(out)]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if not out.is_file():
        return {"error": f"stage process exited {p.returncode} without a verdict:\n"
                         + (p.stdout + p.stderr)[-2000:]}
    return json.loads(out.read_text())


# --------------------------------------------------------------------------------------
# Formal
# --------------------------------------------------------------------------------------


def run_formal(hdl: Path, out: Path, depth: int, timeout: float) -> dict:
    """tools/formal.py ``bmc`` on the tree *hdl*; its summary entry."""
    cmd = [sys.executable, "-m", "tools.formal", "--src", str(hdl), "--out", str(out),
           "--tasks", "bmc", "--depth", str(depth), "--timeout", str(int(timeout))]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    summary = out / "summary.json"
    if not summary.is_file():
        return {"status": "ERROR", "failed": [], "seconds": 0.0,
                "log": (p.stdout + p.stderr)[-2000:]}
    return json.loads(summary.read_text())[0]


def _prop_name(failed: Sequence[str]) -> str:
    """The property of smtbmc's 'failed assertion <module>.<name> at <file>:<line>'."""
    if not failed:
        return "assertion"
    words = failed[0].split()
    name = next((w for w in words if "." in w and ":" not in w), words[-1])
    return name.rsplit(".", 1)[-1]       # dd_formal_top.dut.u_props.host_okay -> host_okay


# --------------------------------------------------------------------------------------
# Campaign
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Plan:
    """How each mutant is judged (tests may shrink it: one quick stage, no formal)."""

    stages: Sequence[str] = STAGES
    seed: int = DEFAULT_SEED
    formal: bool = True
    formal_depth: int = FORMAL_DEPTH
    stage_timeout: float = STAGE_TIMEOUT
    formal_timeout: float = FORMAL_TIMEOUT
    hints: bool = True            # run each mutant's hint before the stages
    out: Path = OUT
    keep: bool = False            # keep the scratch trees and builds


def simulate(m: Mutant, plan: Plan, line: int, log: Callable[[str], None]) -> Outcome:
    """Apply *m* to a scratch tree (plan.out/work/<id>/hdl) and run the stages until one
    fails. The tree stays for the formal phase; its simulation builds are removed."""
    o = Outcome(m.id, m.family, m.file, line, m.orig, m.repl, m.what, m.equivalent)
    t0 = time.monotonic()
    work = plan.out / "work" / m.id
    hdl = make_tree(m, work)
    # the hint (the test that killed this mutant before) first, as stage 0: most mutants
    # die there in seconds; when it no longer kills, the full stages decide as before
    order = ([(0, m.hint)] if m.hint and plan.hints else []) + list(enumerate(plan.stages, 1))
    try:
        for k, test in order:
            r = run_stage(hdl, test, plan.seed, work, plan.stage_timeout)
            if "error" in r:
                o.verdict, o.detail = "error", r["error"]
                break
            if not r["ok"]:
                o.verdict, o.by, o.stage = "killed-sim", r["killer"], k
                o.detail, o.reproduce = r["detail"], r["reproduce"]
                break
            if k == 0:
                o.stale_hint = True
    finally:
        if not plan.keep:
            shutil.rmtree(runner.build_root(hdl), ignore_errors=True)
    o.sim_seconds = o.seconds = round(time.monotonic() - t0, 1)
    log(f"[mutate] {m.id:<30} {o.verdict:<13} {o.by:<40} {o.seconds:6.1f} s")
    return o


def prove_kill(o: Outcome, plan: Plan, log: Callable[[str], None]) -> Outcome:
    """Formal phase of a simulation survivor: bmc of its scratch tree."""
    hdl = plan.out / "work" / o.id / "hdl"
    t1 = time.monotonic()
    f = run_formal(hdl, plan.out / "work" / o.id / "formal", plan.formal_depth, plan.formal_timeout)
    o.formal_seconds = round(time.monotonic() - t1, 1)
    o.seconds = round(o.sim_seconds + o.formal_seconds, 1)
    o.formal_status = f["status"]
    if f["status"] == "FAIL":
        o.verdict, o.by = "killed-formal", _prop_name(f.get("failed", []))
        o.detail = "; ".join(f.get("failed", []))[:300]
        o.reproduce = (f"make formal FORMAL_SRC={hdl} FORMAL_TASKS=bmc "
                       f"FORMAL_DEPTH={plan.formal_depth}")
    elif f["status"] != "PASS":
        o.detail = f"formal bmc {f['status']}: {f.get('log', '')}"[:300]
    log(f"[mutate] {o.id:<30} {o.verdict:<13} {o.by:<40} {o.seconds:6.1f} s (formal "
        f"{o.formal_status} in {o.formal_seconds} s)")
    return o


def hint_stages(mutants: Sequence[Mutant]) -> list[str]:
    """The distinct hints of *mutants* as stages, one per lane (the unmutated tree runs
    them too: a hint that fails on it would 'kill' every mutant)."""
    by_lane: dict[str, list[str]] = {}
    for m in mutants:
        if m.hint:
            lane, test = split_stage(m.hint)
            if test not in by_lane.setdefault(lane, []):
                by_lane[lane].append(test)
    return [(f"{lane}:" if lane != runner.VIP_LANE else "") + ",".join(tests)
            for lane, tests in by_lane.items()]


def _baseline_sim(plan: Plan, hints: Sequence[str] = ()) -> dict:
    """The unmutated copy through every stage (and the mutants' hints): must pass, or no
    kill means anything."""
    t0 = time.monotonic()
    work = plan.out / "work" / "_unmutated"
    hdl = make_tree(None, work)
    base: dict[str, object] = {"ok": True}
    try:
        for test in [*hints, *plan.stages]:
            r = run_stage(hdl, test, plan.seed, work, plan.stage_timeout)
            if "error" in r or not r["ok"]:
                base = {"ok": False, "stage": test, "detail": r.get("error") or r.get("detail"),
                        "reproduce": r.get("reproduce", "")}
                break
    finally:
        if not plan.keep:
            shutil.rmtree(runner.build_root(hdl), ignore_errors=True)
    base["seconds"] = round(time.monotonic() - t0, 1)
    return base


def _baseline_formal(plan: Plan) -> dict:
    """The unmutated copy's bmc: must PASS, or a formal kill means nothing."""
    work = plan.out / "work" / "_unmutated"
    hdl = work / "hdl" if (work / "hdl").is_dir() else make_tree(None, work)
    return run_formal(hdl, work / "formal", plan.formal_depth, plan.formal_timeout)


def campaign(mutants: Sequence[Mutant], plan: Plan, jobs: int = 2,
             baseline: bool = True, log: Callable[[str], None] = print) -> tuple[list[Outcome], dict]:
    """Simulate every mutant (*jobs* at a time; the unmutated tree alongside), then run
    formal on the simulation survivors (with the unmutated tree's bmc alongside).

    Returns the outcomes (catalogue order) and the baseline record ({"ok": False, ...}
    when the unmutated tree fails: the outcomes are then void). Raises MutateError on
    catalogue problems before anything runs."""
    lines = {m.id: locate(m) for m in mutants}
    for st in [*plan.stages, *(m.hint for m in mutants if m.hint)]:
        # an unknown lane or test (a renamed test in a hint) is bad input before anything
        # runs, not an "error" verdict of every mutant that names it
        lane, test = split_stage(st)
        try:
            runner.select(test)
        except runner.RunnerError as exc:
            raise MutateError(f"stage or hint {st!r}: {exc}") from exc
    plan.out.mkdir(parents=True, exist_ok=True)
    base: dict[str, object] = {"ok": True, "seconds": 0.0}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        hints = hint_stages(mutants) if plan.hints else []
        fb = pool.submit(_baseline_sim, plan, hints) if baseline else None
        futs = [pool.submit(simulate, m, plan, lines[m.id], log) for m in mutants]
        if fb is not None:
            base = fb.result()
            log(f"[mutate] unmutated tree: {'passes every stage' if base['ok'] else 'FAILS'} "
                f"({base['seconds']} s)")
        outcomes = [f.result() for f in futs]
    if not base["ok"]:
        return outcomes, base
    survivors = [o for o in outcomes if o.verdict == "survived"]
    if plan.formal and survivors:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            fg = pool.submit(_baseline_formal, plan)
            ffs = [pool.submit(prove_kill, o, plan, log) for o in survivors]
            gate = fg.result()
            for f in ffs:
                f.result()
        base["formal"] = {k: gate.get(k) for k in ("status", "seconds", "log")}
        log(f"[mutate] unmutated tree, formal bmc depth {plan.formal_depth}: {gate['status']} "
            f"({gate.get('seconds')} s)")
        if gate["status"] != "PASS":
            for o in survivors:
                o.verdict = "error"
                o.detail = f"the unmutated tree's formal bmc is {gate['status']}: {gate.get('log')}"
    if not plan.keep:
        shutil.rmtree(plan.out / "work", ignore_errors=True)
    return outcomes, base


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far: with the wall
    time it tells how much of a run's duration was the machine's other load."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def summarize(outcomes: Sequence[Outcome], wall: float, cpu: float = 0.0) -> dict:
    counted = [o for o in outcomes if not o.equivalent]
    n = len(counted)
    sim = sum(o.verdict == "killed-sim" for o in counted)
    both = sum(o.killed for o in counted)
    return {
        "mutants": len(outcomes), "equivalent": len(outcomes) - n, "counted": n,
        "killed_sim": sim, "killed_total": both,
        "killed_sim_pct": round(100.0 * sim / n, 1) if n else 0.0,
        "killed_total_pct": round(100.0 * both / n, 1) if n else 0.0,
        "survivors": [o.id for o in counted if not o.killed and o.verdict != "error"],
        "errors": [o.id for o in outcomes if o.verdict == "error"],
        "equivalent_killed": [o.id for o in outcomes if o.equivalent and o.killed],
        "stale_hints": [o.id for o in outcomes if o.stale_hint],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
    }


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ⏎ ")


def write_report(outcomes: Sequence[Outcome], summary: dict, meta: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = [dataclasses.asdict(o) for o in outcomes]
    (out / "report.json").write_text(json.dumps({"summary": summary, "run": meta,
                                                  "mutants": rows}, indent=2) + "\n")
    md = [
        "# Mutation regression (`make mutate`)", "",
        f"Simulator {meta['sim']}, parameters {meta['params']}, SEED={meta['seed']}, "
        f"{meta['jobs']} jobs, {'hints first' if meta.get('hints', True) else 'no hints'}, "
        f"formal bmc depth {meta['formal_depth']}"
        f"{'' if meta['formal'] else ' (formal off)'}; stages: "
        + "; ".join(f"{k}. `{s}`" for k, s in enumerate(meta["stages"], 1)) + ".", "",
        f"**{summary['killed_sim']}/{summary['counted']} killed by simulation "
        f"({summary['killed_sim_pct']} %), {summary['killed_total']}/{summary['counted']} by "
        f"simulation + formal ({summary['killed_total_pct']} %)**; "
        f"{summary['equivalent']} documented equivalent; wall {summary['wall_seconds']} s, "
        f"CPU {summary['cpu_seconds']} s (all child processes).", "",
        "| mutant | family | where | change | verdict | killed by | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        verdict = o.verdict + (" (equivalent)" if o.equivalent else "")
        stage = (" (hint)" if o.stage == 0 else f" (stage {o.stage})" if o.stage else "")
        stage += " (stale hint)" if o.stale_hint else ""
        md.append(f"| `{o.id}` | {o.family} | `{o.file}:{o.line}` | {_md_cell(o.what)} | "
                  f"{verdict} | {_md_cell(o.by)}{stage} | {o.seconds} |")
    md += ["", "## Details", ""]
    for o in outcomes:
        md.append(f"- `{o.id}`: `{_md_cell(o.orig)}` → `{_md_cell(o.repl) or '(removed)'}`")
        if o.detail:
            md.append(f"  - {_md_cell(o.detail)}")
        if o.reproduce:
            md.append(f"  - reproduce (on a scratch tree made with `make mutate MUTANTS={o.id} "
                      f"MUTATE_KEEP=1`): `{o.reproduce}`")
        if o.equivalent:
            md.append(f"  - equivalent: {o.equivalent}")
    (out / "report.md").write_text("\n".join(md) + "\n")


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutants", default="", help="comma list of mutant ids (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="mutants judged at once (default 2)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="run seed of every stage")
    ap.add_argument("--no-formal", action="store_true", help="simulation only")
    ap.add_argument("--formal-depth", type=int, default=FORMAL_DEPTH)
    ap.add_argument("--keep", action="store_true", help="keep scratch trees and their builds")
    ap.add_argument("--no-hints", action="store_true",
                    help="ignore the catalogue's hints: every mutant goes through the stages")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--list", action="store_true", help="list the catalogue and exit")
    ap.add_argument("--stage-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stage_child is not None:
        return _stage_child(args.stage_child, args.seed, args.child_out)
    try:
        if args.jobs < 1:
            raise MutateError(f"--jobs {args.jobs}: must be at least 1")
        if args.formal_depth < 1:
            raise MutateError(f"--formal-depth {args.formal_depth}: must be at least 1")
        check_catalogue()
        chosen = select(args.mutants)
        if args.list:
            for m in MUTANTS:
                print(f"{m.id:<30} {m.family:<9} {m.file}:{locate(m)}  {m.what}"
                      f"{'  [equivalent]' if m.equivalent else ''}")
            return 0
        runner.check_simulator(SIM)
    except (MutateError, runner.RunnerError) as exc:
        print(f"[mutate] error: {exc}", file=sys.stderr)
        return 2
    plan = Plan(seed=args.seed, formal=not args.no_formal, formal_depth=args.formal_depth,
                out=args.out.resolve(), keep=args.keep, hints=not args.no_hints)
    print(f"[mutate] {len(chosen)} mutant(s) on {SIM}/{PARAMS} SEED={plan.seed}, {args.jobs} jobs, "
          f"formal {'bmc depth ' + str(plan.formal_depth) if plan.formal else 'off'}", flush=True)
    t0, cpu0 = time.monotonic(), children_cpu()
    try:
        outcomes, base = campaign(chosen, plan, jobs=args.jobs,
                                  log=lambda s: print(s, flush=True))
    except MutateError as exc:
        print(f"[mutate] error: {exc}", file=sys.stderr)
        return 2
    wall = time.monotonic() - t0
    if not base["ok"]:
        print(f"[mutate] the unmutated tree fails stage {base.get('stage')!r}: "
              f"{base.get('detail')}\n  reproduce: {base.get('reproduce')}", file=sys.stderr)
        return 1
    summary = summarize(outcomes, wall, children_cpu() - cpu0)
    meta = {"sim": SIM, "params": PARAMS, "seed": plan.seed, "jobs": args.jobs,
            "formal": plan.formal, "formal_depth": plan.formal_depth,
            "stages": list(plan.stages), "hints": plan.hints, "baseline": base}
    write_report(outcomes, summary, meta, plan.out)
    print(f"[mutate] killed by simulation: {summary['killed_sim']}/{summary['counted']} "
          f"({summary['killed_sim_pct']} %); by simulation + formal: "
          f"{summary['killed_total']}/{summary['counted']} ({summary['killed_total_pct']} %); "
          f"{summary['equivalent']} documented equivalent; {wall:.0f} s wall, "
          f"{summary['cpu_seconds']:.0f} s CPU")
    print(f"[mutate] report: {plan.out / 'report.md'} and report.json")
    bad = False
    if summary["errors"]:
        builds = [o for o in outcomes if o.verdict == "error"]
        for o in builds:
            print(f"[mutate] error in {o.id}: {o.detail[:500]}", file=sys.stderr)
        return 2
    for i in summary["stale_hints"]:
        print(f"[mutate] note: {i}'s hint no longer kills it (the stages did or did not); "
              "update its hint in tools/mutants.py to the test that killed it", file=sys.stderr)
    for i in summary["survivors"]:
        print(f"[mutate] SURVIVOR {i}: no test or property kills it and the catalogue does "
              "not document it as equivalent", file=sys.stderr)
        bad = True
    for i in summary["equivalent_killed"]:
        print(f"[mutate] {i} is documented as equivalent but was killed: fix the catalogue",
              file=sys.stderr)
        bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
