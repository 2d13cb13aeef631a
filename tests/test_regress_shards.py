"""Sharded regression (tools/regress.py ``run --shard k/N`` and ``merge``; README "CI").

The cheap tests check the partition, the SHARD parser and the command-line errors
without a simulator. ``test_shards_merged_equal_unsharded_run`` runs a real but small
regression (Icarus, ``small``, 2 seeds at 300 random ops, one directed module: 3 runs)
once unsharded and once as 3 shards, merges the shards and compares runs, seeds,
verdicts, simulated cycles, exit status and functional coverage bins; then it shows that
merging a wrong set of shard folders is refused before anything is written.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tb import runner
from tools import covmerge, regress

ROOT = regress.ROOT
SMALL = ["--sims", "icarus", "--params", "small", "--seeds", "2", "--ops", "300", "--jobs", "1"]


def _tool(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.regress", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


# ---------------------------------------------------------------- no simulator


def test_parse_shard() -> None:
    assert regress.parse_shard("2/4") == (2, 4)
    assert regress.parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ("3/2", "0/4", "x", "1/0", "", "2/2/2", "-1/2"):
        with pytest.raises(argparse.ArgumentTypeError, match="SHARD="):
            regress.parse_shard(bad)


def _full_run_list() -> list[regress.Job]:
    return regress.make_jobs(regress.seed_list(7, 4), runner.SIMULATORS, regress.DEFAULT_PARAMS)


def test_partition_is_exact_ordered_and_deterministic() -> None:
    jobs = _full_run_list()
    n_dir = len(regress.DIRECTED_MODULES)
    # 4 seeds x 2 sims x 2 params random + directed + the DMA-heavy leg (4 seeds, 1 sim)
    assert len(jobs) == 16 + 4 * n_dir + 4
    for n in range(1, len(jobs) + 1):
        parts = regress.partition(jobs, n)
        assert len(parts) == n and all(parts)
        assert Counter(j for p in parts for j in p) == Counter(jobs)  # each run exactly once
        for p in parts:  # each shard keeps the run-list order
            idx = [jobs.index(j) for j in p]
            assert idx == sorted(idx)
        assert regress.partition(list(jobs), n) == parts
    with pytest.raises(regress.RegressError, match=f"only {len(jobs)} run"):
        regress.partition(jobs, len(jobs) + 1)


def test_every_listed_run_is_one_the_runner_accepts() -> None:
    """No run of the regression's list is one tb/runner.py refuses before building (a
    module off its LANES): a refused run would fail the regression on correct RTL. (A
    module's PARAM_SETS only choose where it runs by default: the regression runs the
    directed test_ll on `small` too, whose cover bins it closes.)"""
    known = {m.name: m for m in runner.discover()}
    jobs = _full_run_list() + regress.make_jobs([5], runner.SIMULATORS, ["default", "small", "bug_leak"])
    for j in jobs:
        assert runner.check_lane(j.lane) in known[j.module].lanes, j
    assert any(j.module == "tb.test_ll" and j.params == "small" for j in jobs)


def test_partition_balances_expected_time() -> None:
    # heavy and light runs interleaved: dealing them out in turn would put every heavy
    # run on shard 1; balancing by estimate must not
    heavy = [regress.Job("tb.test_random", "icarus", "default", s, "random", ops=20000) for s in (1, 2, 3)]
    light = [regress.Job("tb.test_random", "icarus", "default", s, "random") for s in (4, 5, 6)]
    jobs = [j for pair in zip(heavy, light, strict=True) for j in pair]
    assert regress.estimate_s(heavy[0]) > 5 * regress.estimate_s(light[0])
    parts = regress.partition(jobs, 3)
    assert [sum(j.ops == 20000 for j in p) for p in parts] == [1, 1, 1]
    loads = [sum(map(regress.estimate_s, p)) for p in regress.partition(_full_run_list(), 4)]
    assert max(loads) - min(loads) <= max(map(regress.estimate_s, _full_run_list()))


def test_regress_command() -> None:
    cfg = regress.make_cfg()
    assert regress.regress_command(4, 99, cfg, (2, 4)) == "make regress SEEDS=4 SEED=99 SHARD=2/4"
    cmd = regress.regress_command(2, 5, {**cfg, "sims": ["icarus"], "ops": 300}, (1, 3))
    assert cmd.endswith("run --seeds 2 --seed 5 --sims icarus --params default,small --ops 300 --shard 1/3")
    one = regress.regress_command(2, 5, {**cfg, "directed": ["tb.test_ll"]})
    none = regress.regress_command(2, 5, {**cfg, "directed": []})
    assert one.endswith(" --directed tb.test_ll") and none.endswith(" --no-directed")
    for line, mods in ((one, ["tb.test_ll"]), (none, [])):  # the line parses back to its cfg
        ns = regress.parser().parse_args(line.split("tools.regress ")[1].split())
        assert regress.cfg_of(ns) == {**cfg, "directed": mods}


def test_directed_modules_option(tmp_path: Path) -> None:
    """--directed picks directed modules (``tb.`` optional, run in DIRECTED_MODULES order);
    an unknown one is an error naming the known ones, before any work."""
    assert regress.parse_directed("test_ll, tb.test_directed") == list(regress.DIRECTED_MODULES)
    assert regress.parse_directed("") == []
    jobs = regress.make_jobs([3], ["icarus"], ["small"], directed=["tb.test_ll"], dma_rounds=0)
    assert [j.module for j in jobs if j.kind == "directed"] == ["tb.test_ll"]
    with pytest.raises(regress.RegressError, match="unknown directed module.s. test_nope; known: "
                       + ", ".join(regress.DIRECTED_MODULES)):
        regress.parse_directed("test_ll,test_nope")
    p = _tool("run", *SMALL, "--directed", "test_nope", "--out", str(tmp_path / "o"), timeout=120)
    assert p.returncode == 2 and "unknown directed module(s) test_nope" in p.stderr, p.stdout + p.stderr
    assert "[runner]" not in p.stdout and not (tmp_path / "o").exists()


@pytest.mark.parametrize(("shard", "message"), [
    ("3/2", "SHARD=3/2: need 1 <= k <= N"),
    ("0/4", "SHARD=0/4: need 1 <= k <= N"),
    ("x", "SHARD='x' is not of the form k/N"),
    ("9/9", f"9 shards but the regression has only {2 + len(regress.DIRECTED_MODULES)} run(s)"),
])
def test_bad_shard_is_an_error_before_any_work(tmp_path: Path, shard: str, message: str) -> None:
    out = tmp_path / "out"
    p = _tool("run", *SMALL, "--shard", shard, "--out", str(out), timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr
    assert "[runner]" not in p.stdout and not out.exists()  # nothing built, run or written


def test_rebase_coverage_dat(tmp_path: Path) -> None:
    elsewhere = "/ci/elsewhere/checkout"
    key = f"\x01f\x02{elsewhere}/hdl/dma_deleg.v\x01l\x0210\x01page\x02v_line/x"
    src = tmp_path / "c.dat"
    src.write_text(f"# SystemC::Coverage-3\nC '{key}' 4\n")
    merged = regress.merge_coverage_dat([regress.rebase_coverage_dat(src, tmp_path / "r.dat", elsewhere)],
                                        tmp_path / "m.dat")
    assert regress.code_coverage_summary(merged) == {"hdl/dma_deleg.v": {"line": (1, 1)}}
    # without the rebase the point lies outside this checkout's hdl/ and is not counted
    assert regress.code_coverage_summary(regress.merge_coverage_dat([src], tmp_path / "n.dat")) == {}


# ---------------------------------------------------------------- real regression


def _write_shard(d: Path, part: list, run_list: list, cfg: dict, shard: tuple[int, int],
                 n_seeds: int) -> None:
    """Shard folder ``d`` holding the runs ``part`` of ``run_list``, every one passed with
    an empty run folder (manifest and folders only: no simulator)."""
    outs = []
    for i, j in enumerate(part):
        run_dir = d / "runs" / str(i)
        run_dir.mkdir(parents=True)
        outs.append(regress.Outcome(j, True, tests=1, sim_ns=1000.0 * (i + 1), run_dir=str(run_dir)))
    regress.write_manifest(d, n_seeds=n_seeds, base=7, cfg=cfg, shard=shard, run_list=run_list,
                           outcomes=outs, wall_s=1.0, rc=0)


def _as_format_2(mf: dict) -> dict:
    """A format-3 manifest as a format-2 checkout wrote it: no dma_max anywhere."""
    mf["format"] = 2
    for d in [*mf["run_list"], *(o["job"] for o in mf["outcomes"])]:
        del d["dma_max"]
    return mf


def test_shard_with_a_dma_run_round_trips_through_its_manifest(tmp_path: Path) -> None:
    """write_manifest -> load_shard -> check_shards keeps a DMA-heavy run (its rounds, its
    reproduce line, its copy size) without a simulator; a format-2 shard (no copy size:
    64 KiB) and a format-1 shard (no DMA leg) still load."""
    cfg = {**regress.make_cfg(), "directed": [], "dma_rounds": 3}
    run_list = regress.make_jobs([11], runner.SIMULATORS, regress.DEFAULT_PARAMS, directed=(),
                                 dma_rounds=3)
    dma = [j for j in run_list if j.kind == "dma"]
    assert len(dma) == 1 and dma[0].dma_rounds == 3
    _write_shard(tmp_path, run_list, run_list, cfg, (1, 1), n_seeds=1)
    shard = regress.load_shard(tmp_path)
    assert [o.job for o in shard.outcomes] == run_list and regress.check_shards([shard]) == run_list
    back = next(o.job for o in shard.outcomes if o.job.kind == "dma")
    assert back == dma[0] and "DD_BENCH_DMA_ROUNDS=3 " in back.repro()
    assert "--dma-rounds 3" in shard.manifest["reproduce"]
    # a format-2 shard (no dma_max): its DMA runs copied up to FORMAT2_DMA_MAX bytes
    v3 = (tmp_path / "manifest.json").read_text()
    (tmp_path / "manifest.json").write_text(json.dumps(_as_format_2(json.loads(v3))))
    back2 = next(o.job for o in regress.load_shard(tmp_path).outcomes if o.job.kind == "dma")
    assert back2.dma_max == regress.FORMAT2_DMA_MAX and back2 == back
    # a format-3 shard made with another copy size reproduces with that size
    mf = json.loads(v3)
    for d in [*mf["run_list"], *(o["job"] for o in mf["outcomes"])]:
        if d["kind"] == "dma":
            d["dma_max"] = 4096
    (tmp_path / "manifest.json").write_text(json.dumps(mf))
    back3 = next(o.job for o in regress.load_shard(tmp_path).outcomes if o.job.kind == "dma")
    assert "DD_BENCH_DMA_MAX=4096 " in back3.repro()
    (tmp_path / "manifest.json").write_text(v3)
    # a shard written before the DMA leg (format 1: no dma_rounds anywhere) still loads
    mf = _as_format_2(json.loads((tmp_path / "manifest.json").read_text()))
    mf["format"] = 1
    del mf["config"]["dma_rounds"]
    mf["run_list"] = [{k: v for k, v in d.items() if k != "dma_rounds"} for d in mf["run_list"]
                      if d["kind"] != "dma"]
    mf["outcomes"] = [o for o in mf["outcomes"] if o["job"]["kind"] != "dma"]
    for o in mf["outcomes"]:
        del o["job"]["dma_rounds"]
    (tmp_path / "manifest.json").write_text(json.dumps(mf))
    old = regress.load_shard(tmp_path)
    assert old.manifest["config"]["dma_rounds"] == 0 and regress.check_shards([old])
    mf["format"] = 9
    (tmp_path / "manifest.json").write_text(json.dumps(mf))
    with pytest.raises(regress.RegressError, match="manifest format 9, expected one of 1, 2, 3"):
        regress.load_shard(tmp_path)
    # a shard written before --directed says true / false: every directed module / none
    for flag, mods in ((False, []), (True, list(regress.DIRECTED_MODULES))):
        mf = json.loads(v3)
        mf["config"]["directed"] = flag
        (tmp_path / "manifest.json").write_text(json.dumps(mf))
        assert regress.load_shard(tmp_path).manifest["config"]["directed"] == mods


def test_shards_written_in_formats_2_and_3_are_one_regression(tmp_path: Path) -> None:
    """Shards of one regression written by checkouts on either side of manifest format 3
    (format 2 has no dma_max) still make up that regression for check_shards."""
    cfg = {**regress.make_cfg(), "directed": [], "dma_rounds": 3}
    run_list = regress.make_jobs([11, 12], runner.SIMULATORS, regress.DEFAULT_PARAMS,
                                 directed=(), dma_rounds=3)
    for k, part in enumerate(regress.partition(run_list, 2), 1):
        _write_shard(tmp_path / f"s{k}", part, run_list, cfg, (k, 2), n_seeds=2)
    path = tmp_path / "s2" / "manifest.json"
    path.write_text(json.dumps(_as_format_2(json.loads(path.read_text()))))
    shards = [regress.load_shard(tmp_path / f"s{k}") for k in (1, 2)]
    assert regress.check_shards(shards) == run_list


def test_run_defaults_are_the_make_regress_config() -> None:
    """`make regress` prints its short repeat line only when the command line's defaults
    are make_cfg(): the parser takes them from there."""
    assert regress.cfg_of(regress.parser().parse_args(["run"])) == regress.make_cfg()
    ns = regress.parser().parse_args(["run", "--sims", "icarus", "--no-directed", "--dma-rounds", "2"])
    assert regress.cfg_of(ns) == {**regress.make_cfg(), "sims": ["icarus"], "directed": [],
                                  "dma_rounds": 2}


def _runs(out: Path) -> dict[tuple[str, str], dict]:
    """junit.xml -> {(classname, name): verdict and properties except wall-clock ones}."""
    cases = {}
    for tc in ET.parse(out / "junit.xml").getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in tc.iter("property")}
        props.pop("run_dir")
        cases[(tc.get("classname"), tc.get("name"))] = {"failed": tc.find("failure") is not None, **props}
    return cases


def _bins(out: Path) -> dict[str, dict[str, int]]:
    db = yaml.safe_load((out / "coverage" / "coverage.yml").read_text())
    return {i.name: i.bins for i in covmerge.load(db).items}


def _totals(out: Path) -> str:
    """'N run(s), F failed, C simulated cycles' of summary.txt (without wall times)."""
    line = next(ln for ln in (out / "summary.txt").read_text().splitlines() if " run(s), " in ln)
    return line.split(" simulated cycles")[0]


@pytest.mark.parametrize(("text", "says"), [
    ("[]", "unreadable manifest (TypeError: a JSON list, not an object)"),
    ("7", "unreadable manifest (TypeError: a JSON int, not an object)"),
    ("{", "unreadable manifest (JSONDecodeError"),
    ('{"format": 99}', "manifest format 99, expected one of")])
def test_a_manifest_that_is_no_manifest_is_refused(tmp_path: Path, text: str, says: str) -> None:
    """``merge`` of a folder whose manifest.json is not a regression's: a clear error
    (exit 2), never a traceback (a JSON list once raised AttributeError); a file named as a
    shard folder is said to be a file."""
    (tmp_path / regress.MANIFEST).write_text(text)
    with pytest.raises(regress.RegressError, match=re.escape(says)):
        regress.load_shard(tmp_path)
    with pytest.raises(regress.RegressError, match="is a file, not a folder"):
        regress.load_shard(tmp_path / regress.MANIFEST)


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.slow
def test_shards_merged_equal_unsharded_run(tmp_path: Path, sim_seed: int) -> None:
    # one directed module (tb.test_ll alone took 7 s of the 16 s unsharded run): the
    # merge sees both kinds of run, random and directed
    base = ["run", *SMALL, "--seed", str(sim_seed), "--threshold", "100",
            "--directed", "test_directed"]
    full = _tool(*base, "--out", str(tmp_path / "full"))
    n = 3  # runs: 2 random seeds + tb.test_directed
    assert f"[regress] {n} run(s)" in full.stdout, full.stdout + full.stderr
    shards = [tmp_path / f"s{k}" for k in range(1, n + 1)]
    for k, d in enumerate(shards, 1):
        p = _tool(*base, "--shard", f"{k}/{n}", "--out", str(d))
        assert "repeat this shard: " in p.stdout and f"--shard {k}/{n}" in p.stdout, p.stdout + p.stderr
        manifest = json.loads((d / "manifest.json").read_text())
        failed = sum(not o["ok"] for o in manifest["outcomes"])
        # a shard judges its runs only: its part of the coverage is below 100 % and it passes
        assert p.returncode == (1 if failed else 0), p.stdout + p.stderr
        assert len(manifest["outcomes"]) == 1 and manifest["exit"] == p.returncode
    merged = tmp_path / "merged"
    m = _tool("merge", *map(str, shards), "--threshold", "100", "--out", str(merged))
    assert m.returncode == full.returncode, m.stdout + m.stderr  # same verdict (incl. coverage)
    assert f"regression ({n} shards merged)" in m.stdout
    # both verdicts come from the merged runs and coverage: three runs of correct RTL
    # pass, and their coverage holds only part of the bins, so the 100 % threshold fails
    # them (exit 1) and a threshold of 0 passes them (exit 0) -- a merge that always
    # answered 1 would fail here
    assert not any(v["failed"] for v in _runs(tmp_path / "full").values()), full.stdout
    assert full.returncode == 1 and "below" in full.stdout, full.stdout
    m0 = _tool("merge", *map(str, shards), "--threshold", "0", "--out", str(tmp_path / "m0"))
    assert m0.returncode == 0 and "PASSED" in m0.stdout, m0.stdout + m0.stderr

    a, b = tmp_path / "full", merged
    assert _runs(a) == _runs(b) and len(_runs(a)) == n  # runs, seeds, verdicts, cycles, repro
    assert sorted(f.name for f in (a / "results").iterdir()) == \
        sorted(f.name for f in (b / "results").iterdir())
    assert _bins(a) == _bins(b)  # every cover bin's hit count
    assert (a / "coverage" / "coverage.txt").read_text() == (b / "coverage" / "coverage.txt").read_text()
    assert _totals(a) == _totals(b)  # runs, failed, simulated cycles

    # a wrong set of shard folders is refused before anything is written
    def refused(dirs: list[Path], message: str) -> None:
        out = tmp_path / "refused"
        p = _tool("merge", *map(str, dirs), "--out", str(out), timeout=120)
        assert p.returncode == 2 and message in p.stderr, p.stdout + p.stderr
        assert not out.exists()

    refused(shards[:-1], f"missing shard(s) {n}/{n}")
    refused([shards[0], shards[0], *shards[1:]], "given twice")
    refused([*shards[:-1], tmp_path / "nope"], "does not exist")
    for key, value, message in (("base_seed", sim_seed + 1, "base seed (SEED=)"),
                                ("seeds", 3, "seed count (SEEDS=)")):
        other = tmp_path / f"other-{key}"
        shutil.copytree(shards[-1], other)
        mf = json.loads((other / "manifest.json").read_text())
        mf[key] = value
        (other / "manifest.json").write_text(json.dumps(mf))
        refused([*shards[:-1], other], message)
    cut = tmp_path / "cut"  # a shard that lost a run
    shutil.copytree(shards[-1], cut)
    mf = json.loads((cut / "manifest.json").read_text())
    mf["outcomes"] = []
    (cut / "manifest.json").write_text(json.dumps(mf))
    refused([*shards[:-1], cut], "not its part of the run list")
    shutil.rmtree(tmp_path / "other-seeds" / "runs")  # an upload that lost the run files
    refused([*shards[:-1], tmp_path / "other-seeds"], "is incomplete")
