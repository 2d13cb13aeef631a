"""The mutation regression's catalogue and pipeline (tools/mutants.py, tools/mutate.py).

Fast: the catalogue must apply to the RTL as it is now (after an edit of hdl/ these
tests name the entries that need re-anchoring), bad input must be refused with exit 2,
and one short end-to-end run shows both outcomes the tool can report: a real mutant
killed by a quick test, and an identity "mutant" reported as surviving (so the
regression can fail).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from tb import runner
from tools import mutate
from tools.mutants import FAMILIES, MUTANTS, Mutant

#: The 8 survivor families of the campaign of issue 9 that the catalogue must keep.
SURVIVOR_FAMILIES = {
    "spoof": ("spoof_bit3_ignored", "spoof_wstrb_ignored", "spoof_not_counted"),
    "counters": ("viol_clear_wins", "viol_write_stuck", "viol_addr_no_window"),
    "scrub": ("scrub_keeps_llp_hi",),
    "irq": ("irq_clear_both_keeps_abort",),
    "axil": ("axil_wdata_wrong_hold", "axil_addr_wrong_hold", "axil_ar_ignores_w"),
}


def _tree_digest(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(d)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_catalogue_applies_to_current_rtl() -> None:
    mutate.check_catalogue()  # raises naming the entry that does not apply
    assert len(MUTANTS) >= 25
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assert {m.family for m in MUTANTS} == set(FAMILIES)
    for fam, ids in SURVIVOR_FAMILIES.items():
        for i in ids:
            assert mutate.select(i)[0].family == fam
    for m in MUTANTS:
        text = (runner.HDL_DIR / m.file).read_text()
        assert text.count(m.orig) == 1, m.id
        assert text.replace(m.orig, m.repl, 1) != text, m.id


def test_equivalents_say_why() -> None:
    eq = [m for m in MUTANTS if m.equivalent is not None]
    assert all(len(m.equivalent or "") > 40 for m in eq)
    assert len(eq) <= len(MUTANTS) // 10


@pytest.mark.parametrize("bad, msg", [
    (Mutant("x", "access", "dma_deleg.v", "no such text here", "y", "w"), "found 0 times"),
    (Mutant("x", "access", "dma_deleg.v", "begin", "end", "w"), "must be exactly once"),
    (Mutant("x", "nofamily", "dma_deleg.v", "h_allow", "h_allow", "w"), "unknown family"),
    (Mutant("x", "access", "nofile.v", "a", "b", "w"), "not found"),
    (Mutant("x", "access", "dma_deleg.v", "wire        h_viol", "wire        h_viol", "w"),
     "equals the original"),
])
def test_catalogue_errors_are_named(bad: Mutant, msg: str) -> None:
    with pytest.raises(mutate.MutateError, match=msg):
        mutate.check_catalogue([bad])


def test_a_selection_of_no_mutant_is_refused() -> None:
    """MUTANTS=',' once selected nothing, ran the unmutated baseline and replaced the
    report with 0 of 0 mutants killed."""
    for ids in (",", " , ,"):
        with pytest.raises(mutate.MutateError, match="names no mutant"):
            mutate.select(ids)
    assert mutate.select(f"{MUTANTS[0].id},") == [MUTANTS[0]]


def test_duplicate_id_is_an_error() -> None:
    with pytest.raises(mutate.MutateError, match="twice"):
        mutate.check_catalogue([MUTANTS[0], MUTANTS[0]])


def test_cli_bad_input_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert mutate.main(["--mutants", "acc_no_func_check,not_a_mutant"]) == 2
    assert "unknown mutant 'not_a_mutant'" in capsys.readouterr().err
    stale = Mutant("stale", "access", "dma_deleg.v", "text that was re-written", "x", "w")
    monkeypatch.setattr(mutate, "MUTANTS", (*MUTANTS, stale))
    assert mutate.main(["--mutants", "acc_no_func_check"]) == 2
    assert "mutant stale: original text found 0 times" in capsys.readouterr().err


def test_scratch_tree_and_its_build_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = mutate.select("acc_no_func_check")[0]
    hdl = mutate.make_tree(m, tmp_path / "t")
    assert m.repl + "\n" in (hdl / m.file).read_text() or m.orig not in (hdl / m.file).read_text()
    assert m.orig in (runner.HDL_DIR / m.file).read_text()
    assert runner.build_root(hdl) != runner.BUILD_ROOT
    assert runner.build_root(runner.HDL_DIR) == runner.BUILD_ROOT
    monkeypatch.setenv(runner.HDL_DIR_ENV, str(hdl))
    assert runner.hdl_dir() == hdl.resolve()
    assert runner.rtl_sources()[0].is_relative_to(hdl.resolve())
    assert runner.build_dir_for("icarus", "default", False).parent == runner.build_root(hdl)
    monkeypatch.setenv(runner.HDL_DIR_ENV, str(tmp_path))  # no sources.f there
    with pytest.raises(runner.RunnerError, match="not an RTL tree"):
        runner.hdl_dir()


@pytest.mark.sim
@pytest.mark.icarus
def test_pipeline_kills_a_mutant_and_reports_an_identity_survivor(tmp_path: Path) -> None:
    """End to end on one quick test: the real mutant is killed by it, the identity change
    survives, the working tree is untouched and the scratch builds are removed."""
    before = _tree_digest(runner.HDL_DIR)
    real = mutate.select("acc_no_func_check")[0]
    assert real.hint == "test_access_rules"
    # the same change with a hint that does not kill it: the stages must still decide
    stale = dataclasses.replace(real, id="stale_hint", hint="test_reset_values")
    ident = Mutant("identity", "access", real.file, real.orig, real.orig, "no change")
    plan = mutate.Plan(stages=("test_access_rules",), formal=False, out=tmp_path)
    logs: list[str] = []
    outs, base = mutate.campaign([real, stale, ident], plan, jobs=2, baseline=False,
                                 log=logs.append)
    by = {o.id: o for o in outs}
    assert by["acc_no_func_check"].verdict == "killed-sim", by["acc_no_func_check"]
    assert by["acc_no_func_check"].by == "test_access_rules"
    assert by["acc_no_func_check"].stage == 0 and not by["acc_no_func_check"].stale_hint
    assert by["stale_hint"].verdict == "killed-sim" and by["stale_hint"].stage == 1
    assert by["stale_hint"].stale_hint, by["stale_hint"]
    assert by["identity"].verdict == "survived", by["identity"]
    s = mutate.summarize(outs, 1.0)
    assert s["survivors"] == ["identity"] and s["killed_sim"] == 2
    assert s["stale_hints"] == ["stale_hint"]
    mutate.write_report(outs, s, {"sim": "icarus", "params": "default", "seed": 1, "jobs": 2,
                                  "formal": False, "formal_depth": 1, "stages": list(plan.stages)},
                        tmp_path)
    assert "| `identity` |" in (tmp_path / "report.md").read_text()
    assert _tree_digest(runner.HDL_DIR) == before
    for o in outs:
        assert not runner.build_root(tmp_path / "work" / o.id / "hdl").exists()
    assert os.environ.get(runner.HDL_DIR_ENV) is None


#: Checks added because a mutant survived the first full campaign, each with the mutant
#: it kills and the text its failure must contain (the check is shown to fail).
NEW_CHECKS = [
    ("spoof_not_counted", "test_access_rules", "assert 0 == 1"),
    # the spoof answered OKAY: the HDL property host_okay fires on the edge after its B,
    # while the access still resumes its caller (at the falling edge after the B, on
    # both lanes), so it is named before the test's own `== SLVERR` assert
    ("spoof_bit3_ignored", "test_access_rules", "PROPERTY host_okay"),
    ("irq_own_no_cmd_err", "test_cmd_err_cases", "assert 0 == (1 << 0)"),
    ("irq_clear_beats_set", "test_int_clear_races_completion", "INT_CLEAR at +"),
    ("fence_start_allowed", "test_fence_running_channel", "PROPERTY fence_start"),
    ("viol_clear_wins", "test_same_edge_command_and_access", "assert 0 == 1"),
    ("viol_clear_wstrb0", "test_same_edge_command_and_access", "assert 0 == 1"),
    # (its own assert's text: any other assert of the test, the one that the two
    # accesses shared an edge included, would be a kill for the wrong reason)
    ("fence_same_edge_write", "test_same_edge_command_and_access",
     "with a host write on its edge did not fence"),
    ("fence_no_stop", "test_fence_on_the_pick_edge", "PROPERTY req_after_t0"),
]


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.slow
@pytest.mark.parametrize("mutant, test, text", NEW_CHECKS, ids=[c[0] for c in NEW_CHECKS])
def test_new_check_kills_its_mutant(mutant: str, test: str, text: str, tmp_path: Path) -> None:
    plan = mutate.Plan(stages=(test,), formal=False, out=tmp_path, hints=False)
    [o], _ = mutate.campaign(mutate.select(mutant), plan, jobs=1, baseline=False, log=lambda s: None)
    assert o.verdict == "killed-sim" and o.by == test, o
    assert text in o.detail, o.detail


def test_hints_name_catalogue_mutants_and_real_tests() -> None:
    """Every hint belongs to a catalogue mutant, names a lane and a test that exist, and
    every mutant a simulation kills has one (a mutant without a hint costs every stage)."""
    from tools.mutants import HINTS
    ids = {m.id for m in MUTANTS}
    assert set(HINTS) <= ids, sorted(set(HINTS) - ids)
    for m in MUTANTS:
        if m.hint:
            lane, test = mutate.split_stage(m.hint)
            mods, _ = runner.select(test)     # raises RunnerError for an unknown test
            assert all(lane in mod.lanes for mod in runner.discover() if mod.name in mods), m
    # every mutant has a hint unless no simulation kills it (documented equivalent, or
    # the one that only formal kills: README "Mutation regression")
    assert [m.id for m in MUTANTS if not m.hint and not m.equivalent] == ["axil_ar_ignores_w"]
    with pytest.raises(mutate.MutateError, match="unknown lane"):
        mutate.split_stage("fast:test_access_rules")
    # a hint naming a test that does not exist is bad input before anything runs
    bad = dataclasses.replace(MUTANTS[0], hint="test_renamed_long_ago")
    with pytest.raises(mutate.MutateError, match="test_renamed_long_ago"):
        mutate.campaign([bad], mutate.Plan(formal=False), baseline=False, log=lambda s: None)
    # the unmutated tree runs every distinct hint, one stage per lane
    st = mutate.hint_stages(MUTANTS)
    assert len(st) == len({mutate.split_stage(h)[0] for h in HINTS.values()})
    assert {t for s in st for t in mutate.split_stage(s)[1].split(",")} == \
        {mutate.split_stage(h)[1] for h in HINTS.values()}


def test_formal_checks_another_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """tools/formal.py --src: the .sby lists the other tree's files; bad input exits 2."""
    from tools import formal

    hdl = mutate.make_tree(mutate.select("mv_wlast_late")[0], tmp_path / "t")
    text = formal.sby_text("bmc", 5, hdl)
    assert "mode bmc" in text and "depth 5" in text
    assert str(hdl / "dd_mover.v") in text and str(runner.HDL_DIR / "dd_mover.v") not in text
    with pytest.raises(SystemExit, match="no sources.f"):
        formal.main(["--src", str(tmp_path), "--tasks", "bmc"])
    assert formal.main(["--src", str(hdl), "--tasks", "bmc", "--depth", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_property_name_of_a_formal_failure() -> None:
    line = "failed assertion dd_formal_top.dut.u_props.host_one_txn at dd_props.v:354.9-354.48 step 1"
    assert mutate._prop_name([line]) == "host_one_txn"
    assert mutate._prop_name([]) == "assertion"
