"""CI configuration (README "CI"): ``make lint-ci`` validates every workflow, the shared
composite action and ``.gitlab-ci.yml`` against check-jsonschema's builtin schemas
(offline), so ``make test`` catches a broken CI file; a broken copy of each is rejected.
The structural checks pin what the README promises the workflows do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "lint-ci", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def test_ci_files_validate() -> None:
    p = _make()
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("ok -- validation done") == 3  # workflows, actions, GitLab
    for name in ("ci.yml", "nightly.yml", "regress.yml"):
        assert f".github/workflows/{name}" in p.stdout


@pytest.mark.parametrize(("var", "path", "old", "new"), [
    ("CI_WORKFLOWS", ".github/workflows/ci.yml", "runs-on: ubuntu-latest", "runs_on: ubuntu-latest"),
    ("CI_WORKFLOWS", ".github/workflows/regress.yml", "type: number", "type: integer"),
    ("CI_ACTIONS", ".github/actions/setup/action.yml", "using: composite", "using: compost"),
    ("CI_GITLAB", ".gitlab-ci.yml", "parallel: 4", "parallel: many"),
])
def test_broken_ci_file_is_rejected(tmp_path: Path, var: str, path: str, old: str, new: str) -> None:
    text = (ROOT / path).read_text()
    assert old in text
    broken = tmp_path / Path(path).name
    broken.write_text(text.replace(old, new))
    p = _make(f"{var}={broken}")
    assert p.returncode != 0
    assert "Schema validation errors were encountered" in p.stdout + p.stderr


def test_workflows_do_what_the_readme_says() -> None:
    ci, regress, nightly = (_load(WORKFLOWS / f"{n}.yml") for n in ("ci", "regress", "nightly"))
    assert {"push", "pull_request", "workflow_dispatch"} <= set(ci["on"])
    assert any("make test" in s.get("run", "") for s in ci["jobs"]["test"]["steps"])
    filters = yaml.safe_load(ci["jobs"]["changes"]["steps"][1]["with"]["filters"])
    machinery = ["tools/regress.py", "tools/covmerge.py", "Makefile", "scripts/setup.sh",
                 "pyproject.toml"]   # what runs the regression triggers it too
    assert filters == {"rtl": ["hdl/**", "regs/**", "tb/**", "model/**", "formal/**",
                               "tools/formal.py", *machinery, ".github/workflows/regress.yml",
                               ".github/actions/setup/**"]}
    for path in machinery:
        assert (ROOT / path).is_file(), path
    assert "changes.outputs.rtl" in ci["jobs"]["regress"]["if"]
    # every push runs (its own concurrency group); a pull request's newer run replaces
    # its older one; a pull request runs the paths filter against its base
    assert "github.run_id" in ci["concurrency"]["group"]
    assert "if" not in ci["jobs"]["test"] and "if" not in ci["jobs"]["changes"]
    assert any(s.get("with", {}).get("path") == "build/pytest.xml" for s in ci["jobs"]["test"]["steps"])
    reusable = "./.github/workflows/regress.yml"
    assert ci["jobs"]["regress"]["uses"] == nightly["jobs"]["regress"]["uses"] == reusable
    shard, merge = regress["jobs"]["shard"], regress["jobs"]["merge"]
    assert "fromJSON(needs.plan.outputs.shards)" in shard["strategy"]["matrix"]["shard"]
    assert shard["env"]["SHARD"] == "${{ matrix.shard }}/${{ needs.plan.outputs.n }}"
    assert any(s.get("run") == "make regress" for s in shard["steps"])
    assert any("make regress-merge" in s.get("run", "") for s in merge["steps"])
    assert "!cancelled()" in merge["if"]  # merges (and reports) also after a failed shard
    # the formal proofs run with every regression (issue 9: over 3 minutes, so not make test)
    assert any(s.get("run") == "make formal" for s in regress["jobs"]["formal"]["steps"])
    gitlab = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    assert gitlab["formal"]["script"] == ["make formal"]
    assert gitlab["formal"]["extends"] == gitlab["regress"]["extends"] == ".hdl_changed"
    changes = gitlab[".hdl_changed"]["rules"][0]["changes"]
    assert set(machinery) | {".gitlab-ci.yml", "tools/formal.py"} <= set(changes)
    # a scheduled pipeline runs nightly.yml's jobs
    for job, cmd in (("sweep", "make sweep"), ("sweep-vip", "SWEEP_LANES=vip"), ("soak", "make soak"),
                     ("report", "make report")):
        assert gitlab[job]["extends"] == ".nightly" and any(cmd in x for x in gitlab[job]["script"])
    assert gitlab[".nightly"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    # a schedule's SEEDS (the regression's) must not cap the soak, nor its HOURS (the
    # soak's) time-limit the sweeps: the Makefile reads both from the environment
    assert any("make soak SEEDS= " in x for x in gitlab["soak"]["script"])
    for job in ("sweep", "sweep-vip"):
        assert all(" HOURS= " in x for x in gitlab[job]["script"] if "make sweep" in x)
    assert {"cron"} <= set(nightly["on"]["schedule"][0])
    assert set(nightly["on"]["workflow_dispatch"]["inputs"]) >= {"seeds", "hours"}
    assert any("make soak" in s.get("run", "") for s in nightly["jobs"]["soak"]["steps"])
    assert any("make sweep" in s.get("run", "") for s in nightly["jobs"]["sweep"]["steps"])
    # the VIP lane, the independent reference, is swept too, on a machine of its own
    assert any("make sweep" in s.get("run", "") and "SWEEP_LANES=vip" in s["run"]
               for s in nightly["jobs"]["sweep-vip"]["steps"])
    action = yaml.safe_load((ROOT / ".github/actions/setup/action.yml").read_text())
    steps = action["runs"]["steps"]
    keys = [s["with"]["key"] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert keys == ["venv-debian12-${{ hashFiles('pyproject.toml') }}",
                    "sim-${{ inputs.builds }}-debian12-${{ hashFiles('hdl/**', 'tb/hdl/**', "
                    "'pyproject.toml', 'tb/runner.py') }}",
                    "ccache-${{ inputs.builds }}-debian12-${{ github.sha }}"]
    sim = next(s for s in steps if "build/sim" in str(s.get("with", {}).get("path", "")))
    assert sim["with"]["restore-keys"] == "sim-${{ inputs.builds }}-debian12-"   # the stamp decides
    soak = nightly["jobs"]["soak"]["steps"]
    assert any("at most 5" in s.get("run", "") for s in soak)
    ccache = next(s for s in steps if "build/ccache" in str(s.get("with", {}).get("path", "")))
    # the formal runs' yosys steps (tools/yosys_cache.py) ride with ccache's store
    assert ccache["with"]["path"].split() == ["build/ccache", "build/yosys-cache"]
    assert ccache["with"]["restore-keys"] == "ccache-${{ inputs.builds }}-debian12-"
