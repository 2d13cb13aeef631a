"""tb/knobs.py: the environment knobs of a simulation, checked before any work.

A malformed knob used to surface inside the simulation, as a failed test with a
traceback (DD_TL_ROTATE_BYTES=abc, DD_RANDOM_OPS=0, DD_SWEEP=bogus), after a regression
had cleared its output folder; and an off-switch took only "0" (DD_TL_POLLER=off left
the poller on). Each rule is checked here on its own, then through the runner, the
regression and ``make report``, none of which may build, run or remove anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tb import knobs, runner
from tools import regress

#: knob -> (values it takes, with what they mean; values it refuses, with a word of the error)
RULES = {
    knobs.RANDOM_OPS_ENV: ({"": 1500, "3000": 3000, " 7 ": 7}, {"0": "at least 1", "-1": "at least 1",
                                                              "abc": "at least 1", "1.5": "at least 1"}),
    knobs.SWEEP_ENV: ({"": "reduced", "FULL": "full", "reduced": "reduced"},
                      {"bogus": "reduced, full", "fast": "reduced, full"}),
    knobs.PROBE_N_ENV: ({"": 100, "8": 8}, {"6": "multiple of 4", "0": "multiple of 4",
                                            "x": "an integer"}),
    knobs.LL_BENCH_ELEM_ENV: ({"": 1024, "0x1000": 4096, "8": 8},
                              {"4": "multiple of 8", "0x1008": "multiple of 8", "1k": "multiple of 8"}),
    knobs.TL_ROTATE_ENV: ({"": knobs.REC_ROTATE_BYTES, "0": 0, "4096": 4096},
                          {"abc": "byte count", "-5": "byte count", "1e3": "byte count"}),
}
READERS = {knobs.RANDOM_OPS_ENV: knobs.random_ops, knobs.SWEEP_ENV: knobs.sweep,
           knobs.PROBE_N_ENV: knobs.probe_n, knobs.LL_BENCH_ELEM_ENV: knobs.ll_bench_elem,
           knobs.TL_ROTATE_ENV: knobs.rotate_bytes}


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_rule_takes_its_values_and_refuses_the_rest(name: str) -> None:
    good, bad = RULES[name]
    for raw, want in good.items():
        assert READERS[name]({name: raw}) == want, (name, raw)
    for raw, word in bad.items():
        with pytest.raises(knobs.KnobError, match=rf"{name}=.*{word}"):
            READERS[name]({name: raw})


def test_the_dma_workload_knobs() -> None:
    r, m = knobs.BENCH_DMA_ROUNDS_ENV, knobs.BENCH_DMA_MAX_ENV
    assert knobs.bench_dma({}) == (1, 8 * 1024)
    assert knobs.bench_dma({r: "3", m: "0x10000"}) == (3, 64 * 1024)
    for env, word in (({r: "0"}, "at least one round"), ({r: "x"}, "integer number of rounds"),
                      ({m: "4097"}, "multiple of 8 in"), ({m: str(128 * 1024)}, "multiple of 8 in"),
                      ({m: "big"}, "multiple of 8 in")):
        with pytest.raises(knobs.KnobError, match=word):
            knobs.bench_dma(env)


@pytest.mark.parametrize("name", sorted(knobs.FLAGS))
def test_flags_take_the_usual_spellings_and_refuse_others(name: str) -> None:
    assert knobs.flag(name, {}) is knobs.FLAGS[name]
    assert knobs.flag(name, {name: "  "}) is knobs.FLAGS[name]
    for raw in ("1", "yes", "TRUE", "On"):
        assert knobs.flag(name, {name: raw}) is True, raw
    for raw in ("0", "no", "False", "OFF"):
        assert knobs.flag(name, {name: raw}) is False, raw
    for raw in ("2", "offf", "enabled"):
        with pytest.raises(knobs.KnobError, match=rf"{name}='{raw}': expected one of 1, yes"):
            knobs.flag(name, {name: raw})


def test_check_names_every_malformed_knob() -> None:
    runner.check_knobs({})
    runner.check_knobs({knobs.TL_POLLER_ENV: "off", knobs.RANDOM_OPS_ENV: "20"})
    with pytest.raises(runner.RunnerError) as err:
        runner.check_knobs({knobs.TL_POLLER_ENV: "offf", knobs.RANDOM_OPS_ENV: "0",
                            knobs.TL_ROTATE_ENV: "abc"})
    lines = str(err.value).splitlines()
    assert len(lines) == 3 and {ln.split("=")[0] for ln in lines} == {
        knobs.TL_POLLER_ENV, knobs.RANDOM_OPS_ENV, knobs.TL_ROTATE_ENV}, lines
    # every rule is in the check, and every stimulus knob of a reproduce line has a rule
    # here or in the runner
    assert len(knobs.CHECKS) == 6 + len(knobs.FLAGS)
    ruled = {*RULES, knobs.BENCH_DMA_ROUNDS_ENV, knobs.BENCH_DMA_MAX_ENV, *knobs.FLAGS,
             runner.TL_JUDGE_ENV, runner.SIM_TIMEOUT_ENV, runner.HDL_DIR_ENV}
    assert set(runner.STIMULUS_KNOBS) <= ruled, set(runner.STIMULUS_KNOBS) - ruled


def test_the_runner_checks_its_own_knobs_too(tmp_path: Path) -> None:
    runner.check_knobs({})
    with pytest.raises(runner.RunnerError) as err:
        runner.check_knobs({runner.TL_JUDGE_ENV: "bogus", runner.SIM_TIMEOUT_ENV: "soon",
                            runner.HDL_DIR_ENV: str(tmp_path), knobs.SWEEP_ENV: "bogus"})
    text = str(err.value)
    for name in (runner.TL_JUDGE_ENV, runner.SIM_TIMEOUT_ENV, runner.HDL_DIR_ENV, knobs.SWEEP_ENV):
        assert f"{name}=" in text, text


def test_a_build_refuses_a_malformed_ccache_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    """DD_CCACHE is read by every Verilator build, also the ones outside ``run`` (make
    build, bench-sim's, a regression's prebuilds): a RunnerError, not a traceback."""
    monkeypatch.setenv(knobs.CCACHE_ENV, "maybe")
    with pytest.raises(runner.RunnerError, match="DD_CCACHE='maybe'"):
        runner.objcache_env()
    assert runner.main(["--sim", "icarus", "--build-only"]) == 2
    monkeypatch.setenv(knobs.CCACHE_ENV, "off")
    assert runner.objcache_env() == {}


@pytest.mark.sim
@pytest.mark.icarus
def test_a_run_with_a_malformed_knob_builds_and_runs_nothing() -> None:
    name = "malformed-knob"
    run_dir = runner.build_dir_for("icarus", "default", False) / "runs" / name
    with pytest.raises(runner.RunnerError, match="DD_TL_POLLER='offf'"):
        runner.run("icarus", "test_reset_values", "default", 1, log_to_file=True, run_name=name,
                   extra_env={knobs.TL_POLLER_ENV: "offf"})
    assert not run_dir.exists(), f"{run_dir} was made for a run that was refused"


def test_a_regression_with_a_malformed_knob_keeps_its_last_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.txt").write_text("regression PASSED\n")
    monkeypatch.setenv(knobs.TL_ROTATE_ENV, "abc")
    rc = regress.main(["run", "--seeds", "1", "--sims", "icarus", "--params", "default",
                       "--out", str(out)])
    assert rc == 2, capsys.readouterr()
    assert "DD_TL_ROTATE_BYTES='abc'" in capsys.readouterr().err
    assert (out / "summary.txt").read_text() == "regression PASSED\n"


def test_make_report_refuses_bad_input_before_removing_the_last_report(tmp_path: Path) -> None:
    """``make report`` checks its arguments and knobs (tb/runner.py ``--check``) before it
    removes the last report; SEED=abc and DD_TL_JUDGE=bogus once wiped it first."""
    rep = tmp_path / "report"
    rep.mkdir()
    (rep / "report.md").write_text("the last report\n")
    for args, extra, word in ((["SEED=abc"], {}, "invalid int value: 'abc'"),
                              ([], {runner.TL_JUDGE_ENV: "bogus"}, "DD_TL_JUDGE='bogus'")):
        p = subprocess.run(["make", "-s", "report", f"REPORT_DIR={rep}", *args],
                           cwd=runner.ROOT, capture_output=True, text=True, timeout=300,
                           env={**os.environ, **extra})
        assert p.returncode != 0 and word in p.stderr, p.stdout + p.stderr
        assert (rep / "report.md").read_text() == "the last report\n", args
        assert not (rep / "raw").exists(), args
