"""Negative tests of the AXI protocol checkers (tb/hdl/axi4_check.v, axil_check.v).

The checkers run inside every simulation, where a correct DUT and well-behaved bus
models never break a rule, so they could be unable to fail without anyone noticing.
tb/hdl/check_selftest.v drives them alone, one scripted scenario per rule; this test
runs it on Icarus and requires that every scenario fires its own rule first, that the
legal scenarios fire nothing, and that every rule a checker can report has a scenario
(the rule names are read from the checkers' own messages, not listed here).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tb import runner

HDL = runner.TB_DIR / "hdl"
CHECKERS = {"axi4_check.v": "", "axil_check.v": "l_"}  # scenario prefix per checker
SELFTEST = HDL / "check_selftest.v"


def _rules(src: Path) -> set[str]:
    """Rule names a checker reports: the first word of each $sformat message."""
    return set(re.findall(r'\$sformat\(m, "(\w+) at edge', src.read_text()))


@pytest.fixture(scope="module")
def selftest_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("iverilog") is None:
        pytest.fail("iverilog not found: run `make setup` (scripts/setup.sh installs it)")
    out = tmp_path_factory.mktemp("checkers") / "selftest.vvp"
    subprocess.run(["iverilog", "-g2005", "-o", str(out),
                    *(str(HDL / f) for f in CHECKERS), str(SELFTEST)], check=True)
    res = subprocess.run(["vvp", "-n", str(out)], check=True, capture_output=True, text=True)
    assert "SELFTEST DONE" in res.stdout, res.stdout + res.stderr
    return res.stdout


def _fired(log: str) -> dict[str, list[str]]:
    """Scenario -> rule names fired during it, in order."""
    fired: dict[str, list[str]] = {}
    cur = None
    for line in log.splitlines():
        if line.startswith("SCENARIO "):
            cur = line.split()[1]
            fired[cur] = []
        elif line.startswith("FIRED "):
            assert cur is not None, f"a report before the first scenario: {line}"
            fired[cur].append(line.split()[1])
    return fired


def test_legal_traffic_fires_nothing(selftest_log: str) -> None:
    fired = _fired(selftest_log)
    for scen in ("m_clean", "m_clean_wfirst", "l_clean"):
        assert fired[scen] == [], (scen, fired[scen])


def test_wlast_of_beats_ahead_of_their_aw(selftest_log: str) -> None:
    """W beats that precede their AW are judged when it arrives."""
    assert _fired(selftest_log)["wlast_wfirst"][:1] == ["wlast"]


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_every_rule_fires_in_its_scenario(selftest_log: str, checker: str) -> None:
    fired = _fired(selftest_log)
    prefix = CHECKERS[checker]
    rules = _rules(HDL / checker)
    assert len(rules) >= 10, f"{checker}: rule names not found in its messages"
    for rule in sorted(rules):
        scen = prefix + rule
        assert scen in fired, f"{checker}: no scenario {scen!r} in {SELFTEST.name}"
        assert fired[scen][:1] == [rule], f"{checker}: scenario {scen} fired {fired[scen]}"
