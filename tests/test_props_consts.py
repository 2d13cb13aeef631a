"""Facts the HDL checkers and tools repeat from elsewhere must agree with their source.

hdl/dd_props.v cannot import Python, so its Q_IDLE_MAX parameter restates SPEC 2.3's
bound; model/timing.py is the source of truth. tools/formal.py needs a BMC depth for
every planted bug of tb/runner.py BUG_SETS, and its verdicts decide `make formal`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from model.timing import Q_IDLE_MAX
from tb import runner
from tools import formal


def test_dd_props_q_idle_max_matches_model() -> None:
    src = (runner.HDL_DIR / "dd_props.v").read_text()
    m = re.search(r"parameter\s+Q_IDLE_MAX\s*=\s*(\d+)", src)
    assert m, "dd_props.v: no Q_IDLE_MAX parameter"
    assert int(m.group(1)) == Q_IDLE_MAX


def test_formal_has_a_task_for_every_planted_bug() -> None:
    """Every planted bug has a BMC task with a depth (issue 9: each DD_BUG_* build must
    yield a counterexample), and no depth names a bug that does not exist."""
    assert set(formal.BUG_DEPTH) == set(runner.BUG_SETS)
    assert set(runner.BUG_SETS) <= set(formal.tasks())


def test_formal_sby_lists_every_source() -> None:
    text = formal.sby_text("bug_leak", 5)
    for p in formal.sources():
        assert str(p) in text and p.name in text
    assert "-DDD_BUG_LEAK_HOST_WRITE" in text and "mode bmc" in text
    assert "mode prove" in formal.sby_text("prove", 3)


def test_dd_chan_element_layout_matches_model_walk() -> None:
    """hdl/dd_chan.v restates the element layout of SPEC 3 (control bits, slot size);
    model/walk.py is the source of truth."""
    from model import walk

    src = (runner.HDL_DIR / "dd_chan.v").read_text()
    got = {name: int(v) for name, v in
           re.findall(r"localparam\s+(ELEM_\w+)\s*=\s*(\d+)\s*;", src)}
    want = {"ELEM_CB_BIT": walk.CTRL_CB.bit_length() - 1,
            "ELEM_TCB_BIT": walk.CTRL_TCB.bit_length() - 1,
            "ELEM_LLP_BIT": walk.CTRL_LLP.bit_length() - 1,
            "ELEM_SIZE": walk.ELEM_SIZE}
    assert got == want


def test_formal_verdicts_require_pass_or_a_counterexample() -> None:
    """make formal's exit status: prove/cover must PASS, a bug task must FAIL with a VCD."""
    tasks = formal.tasks()
    assert tasks["prove"].expect == "PASS" and "DD_LEMMAS" in tasks["prove"].defines
    assert all(tasks[b].expect == "FAIL" and "DD_LEMMAS" not in tasks[b].defines
               for b in runner.BUG_SETS)

    def res(task: str, status: str, traces: list[str]) -> dict:
        return {"task": task, "expect": tasks[task].expect, "status": status, "traces": traces}

    assert formal.verdict(res("prove", "PASS", []))
    assert not formal.verdict(res("prove", "UNKNOWN", ["x/trace_induct.vcd"]))
    assert not formal.verdict(res("cover", "FAIL", []))
    assert formal.verdict(res("bug_leak", "FAIL", ["x/trace.vcd"]))
    assert not formal.verdict(res("bug_leak", "FAIL", []))
    assert not formal.verdict(res("bug_leak", "PASS", []))
    assert not formal.verdict(res("bug_leak", "TIMEOUT", []))


def guides_misplaced(tasks: dict[str, formal.Task]) -> list[str]:
    """Tasks that carry a search guide (DD_GUIDE_*, or any define BUG_GUIDE uses, such as
    DD_FORMAL_QUIET) but are not planted-bug BMCs: a guide is an assumption that removes
    traces, harmless for "a counterexample exists" but vacuity for a proof or a cover."""
    guides = {g for gs in formal.BUG_GUIDE.values() for g in gs}
    return [n for n, t in tasks.items() if n not in runner.BUG_SETS
            and any(d.startswith("DD_GUIDE") or d in guides for d in t.defines)]


def test_formal_search_guides_only_on_planted_bugs() -> None:
    assert set(formal.BUG_GUIDE) <= set(runner.BUG_SETS)
    tasks = formal.tasks()
    assert guides_misplaced(tasks) == []
    assert all(t.presat for n, t in tasks.items() if n not in runner.BUG_SETS)
    assert [n for n in runner.BUG_SETS if not tasks[n].presat] == sorted(
        formal.BUG_NOPRESAT, key=list(runner.BUG_SETS).index)
    assert formal.BUG_NOPRESAT <= set(runner.BUG_SETS)
    assert "--nopresat" in formal.sby_text("bug_msi_after_t0")
    assert "--nopresat" not in formal.sby_text("prove")
    # --stbv only where a PASS leaves no trace to write (tools/formal.py STBV_MODES)
    assert [n for n in tasks if "--stbv" in formal.sby_text(n)] == ["prove", "prove_default"]
    # VCD waveforms by default; --no-vcd (Task.vcd False) is sby's "vcd off"
    assert not [n for n in tasks if "vcd off" in formal.sby_text(n)]
    assert "\nvcd off\n" in formal.sby_text(replace(tasks["prove"], vcd=False))
    for bug, guides in formal.BUG_GUIDE.items():
        assert set(guides) <= set(tasks[bug].defines)
        assert all(f"`ifdef {g}" in formal.TOP.read_text() for g in guides)
    # the check itself fails on a prove task that carries a guide
    bad = {**tasks, "prove": formal.Task("prove", "prove", 3, ("DD_LEMMAS", "DD_GUIDE_WRITES_ONLY"))}
    assert guides_misplaced(bad) == ["prove"]
    quiet = {**tasks, "cover": formal.Task("cover", "cover", 9, ("DD_FORMAL_QUIET",))}
    assert guides_misplaced(quiet) == ["cover"]
