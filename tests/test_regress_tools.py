"""Self-checks of the regression tooling on synthetic data (no simulator involved):
coverage merging and report (tools/covmerge.py), the summary table, JUnit and
code-coverage handling (tools/regress.py), and tb/coverage.py's decoders."""

from __future__ import annotations

import dataclasses
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from model import regs
from model.hw import LiteAccess
from tb import coverage as fcov
from tb import runner
from tools import covmerge, regress


@pytest.fixture(autouse=True)
def _no_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run lists and reproduce lines here are those of a shell without ``LANE``."""
    monkeypatch.delenv("LANE", raising=False)


def _db(hits_a: dict, hits_b: dict) -> dict:
    def item(h: dict) -> dict:
        cov = sum(1 for v in h.values() if v)
        return {"type": "<class 'cocotb_coverage.coverage.CoverPoint'>", "size": len(h),
                "coverage": cov, "cover_percentage": round(100 * cov / len(h), 2),
                "weight": 1, "at_least": 1, "bins:_hits": dict(h)}

    a, b = item(hits_a), item(hits_b)
    top = {"type": "<class 'cocotb_coverage.coverage.CoverItem'>", "size": a["size"] + b["size"],
           "coverage": a["coverage"] + b["coverage"], "cover_percentage": 0.0}
    return {"dd": dict(top), "dd.default": dict(top), "dd.default.g": dict(top),
            "dd.default.g.a": a, "dd.default.g.b": b}


def test_covmerge_sums_bins_across_files(tmp_path: Path) -> None:
    f1, f2 = tmp_path / "coverage_1.yml", tmp_path / "coverage_2.yml"
    f1.write_text(yaml.dump(_db({"x": 1, "y": 0}, {"p": 0, "q": 0})))
    f2.write_text(yaml.dump(_db({"x": 2, "y": 0}, {"p": 3, "q": 0})))
    rep, text = covmerge.merge_and_report([f1, f2], tmp_path / "out", threshold=100)
    items = {i.name: i for i in rep.items}
    assert items["dd.default.g.a"].bins == {"x": 3, "y": 0}
    assert items["dd.default.g.b"].bins == {"p": 3, "q": 0}
    assert rep.group() == (2, 4) and rep.percent("dd.default") == 50.0
    assert "FAIL (below 100 %)" in text and "y" in text.splitlines()[1]
    assert (tmp_path / "out" / "coverage.txt").is_file()
    root = ET.parse(tmp_path / "out" / "coverage.xml").getroot()
    assert root.get("dd_default_percentage") == "50.00"
    assert covmerge.main([str(tmp_path / "out" / "coverage.yml"), "-o", str(tmp_path / "o2"),
                          "--threshold", "50"]) == 0


def _outcome(sim: str, seed: int, ok: bool, ns: float = 1000.0) -> regress.Outcome:
    job = regress.Job("tb.test_random", sim, "default", seed, "random")
    return regress.Outcome(job, ok, tests=1, failed=int(not ok), sim_ns=ns, wall_s=2.5,
                           first_mismatch="" if ok else "edge 12 port host channel 0: response")


def test_covmerge_missing_input_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert covmerge.main([str(tmp_path / "nope.yml"), "-o", str(tmp_path / "o")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_a_threshold_or_output_folder_that_cannot_be_used_is_refused(tmp_path: Path, capsys) -> None:
    """``--threshold`` (COV_MIN=) is a finite percentage from 0 to 100: ``nan`` once printed
    FAIL and exited 0, a negative one always passed. An output path that is a file is
    named before any work (it was a FileExistsError traceback)."""
    f = tmp_path / "coverage_x.yml"
    f.write_text("dd.x:\n  bins:_hits: {a: 1, b: 0}\n")
    for bad in ("nan", "-1", "101", "inf", "most"):
        with pytest.raises(SystemExit) as exc:
            covmerge.main([str(f), "-o", str(tmp_path / "o"), "--threshold", bad])
        assert exc.value.code == 2 and "expected a percentage from 0 to 100" in \
            capsys.readouterr().err, bad
        for cmd in ("run", "merge"):
            with pytest.raises(SystemExit) as exc:
                regress.main([cmd, *(["--sims", "icarus"] if cmd == "run" else [str(tmp_path)]),
                              "--threshold", bad])
            assert exc.value.code == 2 and "expected a percentage" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit) as exc:
        covmerge.main([str(f), "-o", str(f)])
    assert exc.value.code == 2 and "exists and is not a folder" in capsys.readouterr().err
    assert covmerge.main([str(f), "-o", str(tmp_path / "o"), "--threshold", "50"]) == 0


@pytest.mark.parametrize(("text", "says"), [
    ("", "hold no cover bins"),
    ("{}\n", "hold no cover bins"),
    ("a: 1\n", "not a cocotb-coverage database"),
    ("root:x:0:0:root:/root:/bin/bash\n", "not a cocotb-coverage database"),
    ("a: [1, 2\n", "not a readable YAML file"),
    (b"\xff\xfe\x00binary", "not a readable YAML file"),
    ("dd.x:\n  bins:_hits: [1, 2]\n", "is not a mapping of bins to hit counts"),
    ("dd.x:\n  bins:_hits: {a: many}\n", "is not a mapping of bins to hit counts"),
    ("dd.x:\n  at_least: x\n  bins:_hits: {a: 1}\n", "not a hit count of 1 or more"),
    ("dd.x:\n  at_least: 0\n  bins:_hits: {a: 1}\n", "not a hit count of 1 or more"),
    ("1:\n  bins:_hits: {a: 1}\n", "not a cocotb-coverage database")])
def test_covmerge_refuses_what_is_no_coverage(tmp_path: Path, capsys, text, says) -> None:
    """Input that holds no coverage or is not a coverage database: exit 2 with a line
    naming the file, nothing written. Before, an empty file passed a 100 % threshold
    (0 of 0 bins) and the others stopped in a traceback."""
    f = tmp_path / "coverage_x.yml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "o"
    assert covmerge.main([str(f), "-o", str(out), "--threshold", "100"]) == 2
    err = capsys.readouterr().err
    assert says in err and err.startswith("covmerge: "), err
    assert not out.exists()


def test_summary_table_and_failures() -> None:
    outs = [_outcome("icarus", 1, True), _outcome("icarus", 2, False), _outcome("verilator", 1, True)]
    table = regress.format_table(outs)
    lines = table.splitlines()
    assert lines[0].split()[:5] == ["test", "sim", "params", "lane", "result"]
    assert "FAIL 1/2" in lines[2] and "1,2" in lines[2] and "200" in lines[2]
    assert "PASS" in lines[3]
    assert "3 run(s), 1 failed" in lines[-1]
    fails = regress.format_failures(outs)
    assert "first mismatch: edge 12" in fails
    assert "reproduce: make sim SIM=icarus TEST=test_random PARAMS=default SEED=2" in fails


def test_repro_command_carries_nondefault_ops() -> None:
    job = regress.Job("tb.test_random", "verilator", "small", 9, "random", ops=20000)
    assert job.repro() == "DD_RANDOM_OPS=20000 make sim SIM=verilator TEST=test_random PARAMS=small SEED=9"


def test_dma_leg_runs_first_and_reproduces_with_its_knobs() -> None:
    seeds = regress.seed_list(5, 3)
    jobs = regress.make_jobs(seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS, dma_rounds=7)
    dma = [j for j in jobs if j.kind == "dma"]
    # one per seed, on the DMA simulators and the module's parameter sets, at the front
    assert [(j.sim, j.params, j.seed) for j in dma] == [("verilator", "default", s) for s in seeds]
    assert jobs[:len(dma)] == dma and all(j.module == regress.DMA_MODULE and j.cov for j in dma)
    assert dma[0].env() == {"DD_BENCH_DMA_ROUNDS": "7", "DD_BENCH_DMA_MAX": "65536"}
    # the job keeps the copy size it was made with: a checkout whose DMA_MAX_BYTES
    # differs reproduces the run as it ran
    assert dma[0].dma_max == regress.DMA_MAX_BYTES == 65536
    assert dataclasses.replace(dma[0], dma_max=4096).env()["DD_BENCH_DMA_MAX"] == "4096"
    assert dma[0].repro() == (f"DD_BENCH_DMA_ROUNDS=7 DD_BENCH_DMA_MAX=65536 make sim SIM=verilator "
                              f"TEST=test_bench_dma PARAMS=default SEED={seeds[0]}")
    assert regress.estimate_s(dma[0]) > max(regress.estimate_s(j) for j in jobs if j.kind != "dma")
    assert not [j for j in regress.make_jobs(seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS,
                                             dma_rounds=0) if j.kind == "dma"]
    assert not [j for j in regress.make_jobs(seeds, ["icarus"], ["default"]) if j.kind == "dma"]
    # the repeat command names a non-default round count; the default is the make line
    cfg = regress.make_cfg()
    assert regress.regress_command(4, 11, cfg) == "make regress SEEDS=4 SEED=11"
    assert regress.regress_command(4, 11, {**cfg, "dma_rounds": 0}).endswith(" --dma-rounds 0")
    assert regress.main(["run", "--seeds", "1", "--dma-rounds", "-1"]) == 2


def test_seed_list_is_a_function_of_the_base_seed() -> None:
    assert regress.seed_list(42, 4) == regress.seed_list(42, 4)
    assert regress.seed_list(42, 2) == regress.seed_list(42, 4)[:2]
    assert len(set(regress.seed_list(42, 16))) == 16


def test_junit(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    vip = _outcome("icarus", 1, True)
    vip = dataclasses.replace(vip, job=dataclasses.replace(vip.job, lane="vip"))
    regress.write_junit([_outcome("icarus", 1, True), _outcome("icarus", 2, False), vip], path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "1"
    cases = list(root.iter("testcase"))
    # a run of the VIP lane is its own case (a sweep of both lanes runs every seed twice)
    assert [c.get("name") for c in cases] == ["test_random[seed=1]", "test_random[seed=2]",
                                              "test_random[lane=vip,seed=1]"]
    assert cases[1].find("failure") is not None
    props = {p.get("name"): p.get("value") for p in cases[1].iter("property")}
    assert props["seed"] == "2" and props["reproduce"].startswith("make sim SIM=icarus")
    assert props["lane"] == "tl"
    props = {p.get("name"): p.get("value") for p in cases[2].iter("property")}
    assert props["lane"] == "vip" and props["reproduce"].startswith("LANE=vip make sim")
    # and a row of its own in the summary table
    rows = regress.format_table([_outcome("icarus", 1, True), vip]).splitlines()[2:4]
    assert [r.split()[3] for r in rows] == ["tl", "vip"]


def test_code_coverage_merge_and_summary(tmp_path: Path) -> None:
    rtl = str(regress.runner.HDL_DIR / "dma_deleg.v")
    tbw = str(regress.runner.TOPLEVEL_FILE)

    def pt(f: str, line: int, page: str) -> str:
        return f"\x01f\x02{f}\x01l\x02{line}\x01page\x02{page}/x\x01o\x02c"

    for i, counts in enumerate(((0, 5, 1), (3, 0, 0))):
        dat = tmp_path / f"c{i}.dat"
        dat.write_text("# SystemC::Coverage-3\n" + "".join(
            f"C '{k}' {c}\n" for k, c in zip((pt(rtl, 10, "v_line"), pt(rtl, 11, "v_toggle"),
                                              pt(tbw, 3, "v_line")), counts, strict=True)))
    merged = regress.merge_coverage_dat([tmp_path / "c0.dat", tmp_path / "c1.dat"], tmp_path / "m.dat")
    assert sorted(c for _, c in merged.values()) == [1, 3, 5]
    summary = regress.code_coverage_summary(merged)
    assert summary == {"hdl/dma_deleg.v": {"line": (1, 1), "toggle": (1, 1)}}  # tb wrapper excluded
    text = regress.format_code_coverage(summary)
    assert "hdl/ total" in text and "100.0%" in text
    files = regress.annotate(merged, tmp_path / "ann")
    assert [f.name for f in files] == ["dma_deleg.v"]
    assert files[0].read_text().splitlines()[9].startswith(" 000003")


def test_coverage_decoders() -> None:
    assert fcov.cmd_name(regs.CMD_DELEGATE | 1 << regs.OWN_CMD_FUNC_LSB, 2) == "DELEGATE"
    assert fcov.cmd_name(regs.CMD_DELEGATE | 5 << regs.OWN_CMD_FUNC_LSB, 2) == "BAD"
    assert fcov.cmd_name(regs.CMD_RECLAIM | regs.OWN_CMD_QUIESCE_MASK, 2) == "RECLAIM_Q"
    assert fcov.cmd_name(3, 2) == "BAD"
    assert [fcov.size_class(s, 8) for s in (8, 16, 64, 72)] == ["1_beat", "one_burst", "one_burst",
                                                                 "multi_burst"]


def test_model_classifies_host_accesses() -> None:
    """The predictor names the class of each host access it judges (LiteResult.why):
    tb/coverage.py samples that name instead of deriving the class again."""
    from model.addrmap import host_win_addr, own_addr
    from model.hw import HwModel, HwParams

    m = HwModel(HwParams())
    a = host_win_addr(1, 0, regs.SAR_LO)
    assert m.peek_host(a).why == "not_delegated"
    m.drive(loc=LiteAccess(True, own_addr(0, regs.OWN_CMD),
                           regs.CMD_DELEGATE << regs.OWN_CMD_CMD_LSB | 1 << regs.OWN_CMD_FUNC_LSB))
    assert m.peek_host(a).why == "allowed"
    assert m.peek_host(host_win_addr(0, 0, regs.SAR_LO)).why == "wrong_function"
    assert m.peek_host(0x7000).why == "decerr"                 # no function 7
    assert m.drive(host=LiteAccess(True, host_win_addr(1, 0, regs.FUNC_NUM), 0)).host.why == "spoof"
    assert m.drive(host=LiteAccess(True, host_win_addr(1, 0, regs.FUNC_NUM), 1)).host.why == "allowed"
    m.drive(loc=LiteAccess(True, own_addr(0, regs.OWN_CMD),
                           regs.CMD_RECLAIM << regs.OWN_CMD_CMD_LSB | regs.OWN_CMD_QUIESCE_MASK))
    assert m.peek_host(a).why == "quiescing"
    assert set(fcov.OUTCOMES) == {"allowed", "not_delegated", "wrong_function", "quiescing",
                                  "decerr", "spoof"}


def test_coverage_disagreement_with_the_model_is_an_error() -> None:
    """Coverage samples the model's class of a host access; a class that disagrees with
    the model's own response, or no class, is a scoreboard mismatch (the test fails),
    never a silently skipped sample."""
    import logging
    from types import SimpleNamespace

    from model.addrmap import host_win_addr
    from model.hw import EdgeResult, HwModel, HwParams, LiteResult, Resp
    from tb.monitor import EdgeSample

    class Sb:
        def __init__(self) -> None:
            self.observers: list = []
            self.mismatches: list[tuple] = []

        def _mismatch(self, *args) -> None:
            self.mismatches.append(args)

    tb = SimpleNamespace(params=HwParams(), sb=Sb(), log=logging.getLogger("covtest"))
    cov = fcov.Coverage(tb, paramset="covtest")
    assert cov.observe in tb.sb.observers
    m = HwModel(tb.params)
    acc = LiteAccess(False, host_win_addr(1, 0, regs.SAR_LO))
    cov.observe(EdgeSample(edge=5, host=acc), EdgeResult(host=LiteResult(Resp.SLVERR, 0, "not_delegated")), m)
    assert tb.sb.mismatches == []
    cov.observe(EdgeSample(edge=6, host=acc), EdgeResult(host=LiteResult(Resp.SLVERR, 0, "allowed")), m)
    assert len(tb.sb.mismatches) == 1
    edge, port, g, what, exp, act = tb.sb.mismatches[0]
    assert (edge, port, g) == (6, "host", 0) and "disagrees with its response" in what
    assert exp == "OKAY (class allowed)" and act == "SLVERR"
    cov.observe(EdgeSample(edge=7, host=acc), EdgeResult(host=LiteResult(Resp.OKAY, 0)), m)
    assert len(tb.sb.mismatches) == 2 and "no class" in tb.sb.mismatches[1][3]


def test_coverage_export_with_libyaml_writes_the_same_file(tmp_path: Path, monkeypatch) -> None:
    """Coverage.export writes through libyaml's emitter: the file is the one PyYAML's
    pure-Python emitter writes (cocotb-coverage's own export), and yaml.dump is the
    library's again afterwards."""
    import logging
    from types import SimpleNamespace

    from cocotb_coverage.coverage import coverage_db

    from model.addrmap import host_win_addr
    from model.hw import EdgeResult, HwModel, HwParams, LiteResult, Resp
    from tb.monitor import EdgeSample

    monkeypatch.setenv("DD_FCOV", "1")
    sb = SimpleNamespace(observers=[], _mismatch=lambda *a: pytest.fail(f"mismatch {a}"))
    tb = SimpleNamespace(params=HwParams(), sb=sb, log=logging.getLogger("covtest"))
    cov = fcov.Coverage(tb, paramset="yamltest")
    m = HwModel(tb.params)
    acc = LiteAccess(False, host_win_addr(1, 0, regs.SAR_LO))
    cov.observe(EdgeSample(edge=5, host=acc), EdgeResult(host=LiteResult(Resp.SLVERR, 0, "not_delegated")), m)
    plain = yaml.dump
    with fcov._libyaml_dump():   # what export writes through
        assert yaml.dump is not plain and yaml.dump.keywords == {"Dumper": yaml.CDumper}
    assert yaml.dump is plain
    fast = cov.export(tmp_path)
    assert yaml.dump is plain and fast is not None
    ref = tmp_path / "ref.yml"
    coverage_db.export_to_yaml(str(ref))
    text = fast.read_text()
    assert yaml.__with_libyaml__ and "yamltest" in text and text == ref.read_text()


def _tree(prefix: str) -> dict[str, tuple[object, int, dict]]:
    """Every item under ``prefix``: (name without prefix) -> (coverage, size, hits)."""
    from cocotb_coverage.coverage import coverage_db
    return {name[len(prefix):]: (item.coverage, item.size,
                                 dict(getattr(item, "_hits", {})))
            for name, item in coverage_db.items() if name.startswith(prefix + ".")}


def test_tallied_sampling_is_exact() -> None:
    """Tallied samples (tb/coverage.py _Tallied) give every bin the hit count, and every
    item the coverage, that sampling each call at once gives: the same seeded calls
    (repeats included, bins a call misses, crosses) into two trees, one sampled at once
    through the decorated functions, one tallied and flushed. A flush that dropped the
    repeats, or counted a bin the sample missed, fails here; so does a reset that kept a
    tally."""
    import random

    from model.hw import HwParams
    p = HwParams()
    a, b = fcov._Items("dd.tallyref", p), fcov._Items("dd.tallied", p)
    rng = random.Random(20261126)
    chans, funcs = list(p.channels), list(range(p.num_func))
    calls = []
    for _ in range(2000):
        k = rng.randrange(4)
        if k == 0:
            calls.append(("host", (rng.choice(fcov.KINDS), rng.choice(fcov.OUTCOMES),
                                   rng.choice(funcs), rng.choice(chans))))
        elif k == 1:
            calls.append(("dma", (rng.choice(chans + [99]), rng.choice(funcs))))
        elif k == 2:
            calls.append(("own", (rng.choice(fcov.CMDS), rng.choice(fcov.STATES), rng.choice(chans))))
        else:
            calls.append(("xfer", (rng.choice(["started", "refused"]), rng.choice(fcov.INITIATORS),
                                   rng.choice([*fcov.SIZES, None]), rng.choice(chans))))
    a.reset()   # coverage_db is per process: both trees start from zero hits
    b.dma(chans[0], funcs[0])
    b.reset()   # a test that ended without its export: its tally is dropped
    for name, args in calls:
        getattr(a, name).fn(*args)
        getattr(b, name)(*args)
    assert _tree("dd.tallied") != _tree("dd.tallyref")   # nothing handed over yet
    b.flush()
    got, want = _tree("dd.tallied"), _tree("dd.tallyref")
    assert got == want
    assert sum(h > 1 for _, _, hits in want.values() for h in hits.values()) > 10  # repeats
    assert all(not s.tally for s in b.sections())
    with pytest.raises(ValueError, match="at_least=1"):
        from cocotb_coverage.coverage import CoverPoint
        fcov._section(CoverPoint("dd.tallybad.x", bins=[1], at_least=2))(lambda x: None)


@pytest.mark.parametrize("jobs", ["auto", "3"])
def test_workers(jobs: str) -> None:
    assert regress._workers(regress.jobs_arg(jobs)) >= 1


@pytest.mark.parametrize("cmd", ["run", "sweep", "soak"])
@pytest.mark.parametrize("jobs", ["abc", "0", "-2"])
def test_bad_jobs_is_a_usage_error(cmd: str, jobs: str, tmp_path: Path, capsys) -> None:
    """JOBS= that is not a number of workers stops before any work with exit 2 (the
    Makefile's regress then skips formal), not a traceback."""
    with pytest.raises(SystemExit) as exc:
        regress.main([cmd, "--jobs", jobs, "--seeds", "1", "--sims", "icarus"])
    assert exc.value.code == 2 and "expected auto or a number of workers" in capsys.readouterr().err


def test_output_folder_is_replaced_only_when_the_tool_made_it(tmp_path: Path) -> None:
    """OUT= naming a folder this tool did not write (a typo: ``.``, ``docs``) is refused
    and nothing in it is deleted; a folder it made (its mark, or only its own files with
    a summary, from before the mark) is replaced; a new or empty one is made."""
    mine = tmp_path / "mine"
    regress._fresh_dir(mine)
    (mine / "summary.txt").write_text("old\n")
    (mine / "results").mkdir()
    regress._fresh_dir(mine)
    assert sorted(x.name for x in mine.iterdir()) == [regress.OUT_MARK]
    legacy = tmp_path / "legacy"
    (legacy / "results").mkdir(parents=True)
    (legacy / "summary.txt").write_text("old\n")
    regress._fresh_dir(legacy)
    assert sorted(x.name for x in legacy.iterdir()) == [regress.OUT_MARK]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "microarch.md").write_text("keep me\n")
    (docs / "summary.txt").write_text("keep me too\n")
    for out in (docs, tmp_path / "docs" / "microarch.md"):
        with pytest.raises(regress.RegressError, match="nothing was deleted|not a folder"):
            regress._fresh_dir(out)
    assert (docs / "microarch.md").read_text() == "keep me\n" and (docs / "summary.txt").is_file()
    half = tmp_path / "half"   # a folder of an older version that ended before its summary
    (half / "results").mkdir(parents=True)
    with pytest.raises(regress.RegressError, match="neither this tool's mark"):
        regress._fresh_dir(half)
    assert (half / "results").is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    regress._fresh_dir(empty)
    assert (empty / regress.OUT_MARK).is_file()
    # through a command, before any simulation
    assert regress.main(["sweep", "--seeds", "1", "--sims", "icarus", "--params", "default",
                         "--out", str(docs)]) == 2
    assert (docs / "microarch.md").read_text() == "keep me\n"


@pytest.mark.parametrize("args", [["--sims", "bogus"], ["--params", "bogus"], ["--sims", ","],
                                  ["--params", " , "]])
@pytest.mark.parametrize("cmd", ["run", "sweep", "soak"])
def test_bad_sims_or_params_refused_before_any_work(cmd: str, args: list[str],
                                                    tmp_path: Path) -> None:
    """An unknown or empty simulator or parameter list is exit 2, and (run, sweep: soak
    writes no output folder) the output folder of an earlier run is left as it was (run
    deleted it before checking; an empty list passed as a sweep of 0 runs)."""
    out = tmp_path / "out"
    regress._fresh_dir(out)
    (out / "summary.txt").write_text("earlier run\n")
    extra = ["--out", str(out)] if cmd != "soak" else []
    assert regress.main([cmd, "--seeds", "1", *args, *extra]) == 2
    assert (out / "summary.txt").read_text() == "earlier run\n"


@pytest.mark.parametrize("cmd", ["run", "sweep", "soak"])
def test_bad_sim_timeout_refused_before_any_work(cmd: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A DD_SIM_TIMEOUT every run would refuse stops the command before it clears its
    output folder or builds anything, with exit 2 (so make regress skips formal)."""
    monkeypatch.setenv("DD_SIM_TIMEOUT", "abc")
    monkeypatch.setattr(runner, "build", lambda *a, **k: pytest.fail("built"))
    out = tmp_path / "out"
    regress._fresh_dir(out)
    (out / "summary.txt").write_text("earlier run\n")
    extra = ["--out", str(out)] if cmd != "soak" else []
    assert regress.main([cmd, "--seeds", "1", "--sims", "icarus", *extra]) == 2
    assert (out / "summary.txt").read_text() == "earlier run\n"


# ---------------------------------------------------------------- seed sweep (make sweep)


def _sweep_gaps(jobs: list, min_seeds: int, lane: str | None = None) -> list[str]:
    """(module, simulator, parameter set) combinations that `make sweep` must run on
    *lane* (default: the default lane) and that *jobs* runs there on fewer than
    *min_seeds* seeds, derived from the discovered modules independently of
    tools/regress.py's own filter."""
    from tb import runner

    lane = lane or runner.DEFAULT_LANE
    seeds: dict[tuple[str, str, str], set[int]] = {}
    for j in jobs:
        if runner.check_lane(j.lane) == lane or runner.lane_skips(lane, j.params):
            seeds.setdefault((j.module, j.sim, j.params), set()).add(j.seed)
    gaps = []
    for m in runner.discover():
        if lane not in m.lanes:
            continue   # swept on its own lane (e.g. test_tl_errors on tl only)
        for sim in runner.SIMULATORS:
            if m.simulators is not None and sim not in m.simulators:
                continue
            sets = [p for p in regress.DEFAULT_PARAMS if m.param_sets is None or p in m.param_sets]
            if not sets:   # restricted to its own builds (the planted bugs): all of them
                sets = list(m.param_sets or ())
            assert sets, f"{m.short} runs on no parameter set"
            for p in sets:
                n = len(seeds.get((m.name, sim, p), ()))
                if n < min_seeds:
                    gaps.append(f"{m.short} {sim}/{p}: {n} seed(s)")
    return gaps


def test_sweep_run_list_covers_every_module() -> None:
    """`make sweep` (its default SEEDS, simulators and parameter sets) runs every cocotb
    module of the default lane on every simulator and parameter set it admits with at
    least 30 seeds, so a new module cannot be left out; a run list with one module
    dropped, or one seed short, is caught by the same check (the check can fail)."""
    assert regress.SWEEP_SEEDS_MIN >= 30
    seeds = regress.seed_list(1, regress.SWEEP_SEEDS_MIN)
    from tb import runner

    jobs = regress.make_sweep_jobs(seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS)
    assert _sweep_gaps(jobs, 30) == []
    assert all(j.kind == "sweep" and j.ops is None for j in jobs)
    mods = {j.module for j in jobs}
    assert {"tb.test_quiesce", "tb.test_faults", "tb.test_planted_rtl"} <= mods
    dropped = [j for j in jobs if j.module != "tb.test_fence"]
    assert any("test_fence" in g for g in _sweep_gaps(dropped, 30))
    short = [j for j in jobs if not (j.module == "tb.test_random" and j.seed == seeds[-1])]
    assert any(g.startswith("test_random ") for g in _sweep_gaps(short, 30))
    # a build whose tests all skip on the default lane (bug_lite_tie on tl: one
    # transactor per port) runs on the VIP lane, and says so in its reproduce line
    skips = runner.LANE_SKIPS.get(runner.DEFAULT_LANE, ())
    assert skips and {j.params for j in jobs if j.lane == runner.VIP_LANE} == set(skips)
    assert all(j.lane is None for j in jobs if j.params not in skips)
    assert all("LANE=vip " in j.repro() for j in jobs if j.params in skips)
    # the Makefile's defaults are the ones checked here
    mk = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "SWEEP_SIMS   ?= icarus,verilator" in mk and "SWEEP_PARAMS ?= default,small" in mk
    assert "$(or $(strip $(SEEDS)),30)" in mk.split("\nsweep: setup", 1)[1].split("\n\n", 1)[0]


def test_sweep_lanes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`make sweep SWEEP_LANES=vip` (or LANE=vip) sweeps the VIP lane: every module whose
    LANES admit it, on every simulator and parameter set, with its seeds, and no module
    that does not (a tl-only module failed there with a RunnerError before); each run
    names its lane in its reproduce line. Both lanes at once run each module of each
    lane, in the order simulator, parameter set, seed, lane, module, and a build both
    lanes send to the VIP lane (bug_lite_tie) once. A lane that does not exist, or none,
    is refused before anything runs."""
    from tb import runner

    seeds = regress.seed_list(7, regress.SWEEP_SEEDS_MIN)
    vip = regress.make_sweep_jobs(seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS, ["vip"])
    assert _sweep_gaps(vip, 30, "vip") == []
    assert {runner.check_lane(j.lane) for j in vip} == {"vip"}
    assert all(j.repro().startswith("LANE=vip ") for j in vip)
    only_tl = {m.name for m in runner.discover() if "vip" not in m.lanes}
    assert only_tl and not only_tl & {j.module for j in vip}
    both = regress.make_sweep_jobs(seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS, ["tl", "vip"])
    assert len(both) == len(set(both))
    tl = regress.make_sweep_jobs(seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS)
    assert set(both) == set(vip) | set(tl)
    assert _sweep_gaps(both, 30) == [] and _sweep_gaps(both, 30, "vip") == []
    skipped = runner.LANE_SKIPS[runner.DEFAULT_LANE]
    assert sum(j.params in skipped for j in both) == sum(j.params in skipped for j in vip)

    def pos(j: regress.Job) -> tuple:
        base = "default" if j.params in runner.BUG_SETS else j.params
        return (runner.SIMULATORS.index(j.sim), regress.DEFAULT_PARAMS.index(base),
                seeds.index(j.seed), ["tl", "vip"].index(runner.check_lane(j.lane)))
    assert [pos(j) for j in both if j.params not in skipped] == sorted(
        pos(j) for j in both if j.params not in skipped)
    # the same run list from LANE=vip, the lane `make sim` takes, with no SWEEP_LANES
    monkeypatch.setenv("LANE", "vip")
    assert {(j.module, j.sim, j.params, j.seed) for j in regress.make_sweep_jobs(
        seeds, runner.SIMULATORS, regress.DEFAULT_PARAMS)} == {
        (j.module, j.sim, j.params, j.seed) for j in vip}
    # ... and with LANE=vip in the environment, SWEEP_LANES=tl runs name their lane
    tl_here = regress.make_sweep_jobs(seeds, runner.SIMULATORS, ["default"], ["tl"])
    assert {j.lane for j in tl_here if j.params not in skipped} == {"tl"}
    assert all(runner.check_lane(j.lane) == "vip" for j in tl_here if j.params in skipped)
    monkeypatch.delenv("LANE")
    for bad, what in ((["tl", "gate"], "unknown lane 'gate'"), ([], "names no lane")):
        with pytest.raises(regress.RegressError, match=what):
            regress.make_sweep_jobs(seeds, runner.SIMULATORS, ["default"], bad)
    out = tmp_path / "sweep"
    for arg in ("tl,gate", ","):
        assert regress.main(["sweep", "--lanes", arg, "--seeds", "1", "--sims", "icarus",
                             "--params", "default", "--out", str(out)]) == 2
    assert not out.exists()
    mk = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    rule = mk.split("\nsweep: setup", 1)[1].split("\n\n", 1)[0]
    assert "--lanes '$(strip $(or $(SWEEP_LANES),$(LANE)))'" in rule


def test_soak_cycle_budget_per_simulator() -> None:
    """``make soak`` (no budget: SOAK_CYCLES_DEFAULT per simulator) draws from the
    simulators still below the cycle budget, and its figures split the cycles per
    simulator; a negative budget is refused before anything runs."""
    combos = [("icarus", "default"), ("icarus", "small"), ("verilator", "default")]
    assert regress.soak_combos(combos, {}, None) == combos
    assert regress.soak_combos(combos, {"icarus": 10, "verilator": 0}, 10) == [("verilator", "default")]
    assert regress.soak_combos(combos, {"icarus": 9, "verilator": 10}, 10) == combos[:2]
    assert regress.soak_combos(combos, {"icarus": 10, "verilator": 11}, 10) == []
    assert regress.SOAK_CYCLES_DEFAULT == 10_000_000
    outs = [_outcome("icarus", 1, True), _outcome("icarus", 2, True), _outcome("verilator", 1, True)]
    fig = regress.soak_figures(outs, 5.0)
    per = {o.job.sim: 0 for o in outs}
    for o in outs:
        per[o.job.sim] += o.cycles
    assert f"icarus {per['icarus']:,}, verilator {per['verilator']:,}" in fig, fig
    assert regress.sim_cycles(outs) == per
    for bad in (["--cycles", "-1"], ["--seeds", "-2"]):
        assert regress.main(["soak", "--sims", "icarus", *bad]) == 2


@pytest.mark.parametrize(("cmd", "arg", "value", "says"), [
    ("run", "--seeds", "0", "expected a whole number, at least 1"),
    ("run", "--seeds", "-1", "expected a whole number, at least 1"),
    ("run", "--ops", "0", "expected a whole number, at least 1"),
    ("soak", "--ops", "x", "expected a whole number, at least 1"),
    ("sweep", "--hours", "-1", "expected a number of hours, 0 or more"),
    ("sweep", "--hours", "nan", "expected a number of hours, 0 or more"),
    ("soak", "--hours", "inf", "expected a number of hours, 0 or more"),
    ("soak", "--hours", "-1", "expected a number of hours, 0 or more")])
def test_a_budget_of_nothing_is_a_usage_error(cmd: str, arg: str, value: str, says: str,
                                               capsys) -> None:
    """SEEDS=0 on a regression, a negative, ``nan`` or ``inf`` HOURS=: refused with exit 2
    before any work. Before, ``make regress SEEDS=0`` replaced the last report with an
    empty one, failed with exit 1 and so went on to `make formal`; a sweep with HOURS=-1
    ran nothing and replaced its summary; HOURS=nan never ended."""
    with pytest.raises(SystemExit) as exc:
        regress.main([cmd, arg, value, "--sims", "icarus"])
    assert exc.value.code == 2 and says in capsys.readouterr().err


def test_make_refuses_a_yes_no_value_it_would_ignore() -> None:
    """WAVES=, MUTATE_KEEP=, MUTATE_HINTS= and REGRESS_FORMAL= take 0/1, yes/no, true/false,
    on/off (or nothing): WAVES=2 once gave no waveform and no word, MUTATE_KEEP=on kept
    nothing, REGRESS_FORMAL=off still ran make formal; now make stops before anything
    runs, as for SIM=."""
    def dry(target: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-n", target, "TEST=test_reset_values", *args],
                              cwd=regress.ROOT, capture_output=True, text=True, timeout=60)
    for bad in ("WAVES=2", "WAVES=enabled", "WAVES=1 1", "SIM=xcelium", "MUTATE_KEEP=keep",
                "MUTATE_HINTS=2", "REGRESS_FORMAL=skip"):
        p = dry("sim", bad)
        assert p.returncode != 0 and "is not valid; valid values:" in p.stderr, (bad, p.stderr)
    for on in ("WAVES=1", "WAVES=on", "WAVES=yes"):
        assert "--waves" in dry("sim", on).stdout, on
    assert "--waves" not in dry("sim", "WAVES=0").stdout
    assert "--waves" not in dry("sim", "WAVES=off").stdout
    assert "--keep" in dry("mutate", "MUTATE_KEEP=on").stdout
    assert "--no-hints" in dry("mutate", "MUTATE_HINTS=off").stdout
    assert "tools.formal" not in dry("regress", "REGRESS_FORMAL=off").stdout
    assert "tools.formal" in dry("regress", "REGRESS_FORMAL=on").stdout


def test_sweep_bad_input_is_refused() -> None:
    assert regress.main(["sweep", "--seeds", "0", "--sims", "icarus"]) == 2
    assert regress.main(["sweep", "--seeds", "1", "--sims", "xcelium"]) == 2


def test_sweep_report_passes_only_whole_and_names_each_failed_test(tmp_path: Path) -> None:
    """The sweep's summary: a failed run's own cocotb test reproduce lines (a sweep point
    keeps its point), runs.txt with a reproduce line per run, and exit 1 on a failure or
    on runs never started; exit 0 only when every run of the list passed."""
    from tb import runner

    jobs = regress.make_sweep_jobs([11, 12], ["icarus"], ["small"])
    ok = [regress.Outcome(j, True, tests=1, sim_ns=100.0, wall_s=1.0) for j in jobs]
    rc, text = regress.write_sweep_reports(ok, jobs, tmp_path, n_seeds=2, wall=3.0, base=5,
                                           repeat="make sweep")
    assert rc == 0 and "sweep PASSED" in text and f"{len(jobs)} of {len(jobs)} run(s), 0 failed" in text
    runs = (tmp_path / "runs.txt").read_text().splitlines()
    assert len(runs) == len(jobs) and all("reproduce: make sim SIM=icarus TEST=" in r for r in runs)
    rc, text = regress.write_sweep_reports(ok[:-1], jobs, tmp_path, n_seeds=2, wall=3.0, base=5,
                                           repeat="make sweep")
    assert rc == 1 and "INCOMPLETE: 1 run(s) not started" in text
    point = "test_quiesce_states/state=idle"
    msg = (f"FAILED tb.test_quiesce.{point} (icarus, params=small, seed=11)\n  | boom\n"
           f"  reproduce: {runner.repro_command('icarus', 'small', 11, point)}\n")
    bad = [*ok[:-1], regress.Outcome(jobs[-1], False, tests=1, failed=1, message=msg)]
    rc, text = regress.write_sweep_reports(bad, jobs, tmp_path, n_seeds=2, wall=3.0, base=5,
                                           repeat="make sweep")
    assert rc == 1 and "sweep FAILED" in text and "1 failed" in text
    assert f"reproduce: make sim SIM=icarus TEST={point} PARAMS=small SEED=11" in text
