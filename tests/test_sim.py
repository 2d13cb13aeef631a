"""Run every cocotb test module on both simulators and every HDL parameter set.

One pytest case per (simulator, parameter set, cocotb module) -- or per cocotb test when
the module sets ``PYTEST_SPLIT = True`` -- so pytest-xdist spreads them over the cores;
builds are shared (one per simulator x parameter set, see ``tb/runner.py``). Marks:
``sim`` on all, plus ``icarus``/``verilator`` and whatever the module lists in
``PYTEST_MARKS`` (e.g. ``soak``), so ``-m "not soak"`` or ``-m verilator`` select.

Lanes (``LANE=``, tb/runner.py LANES): every case runs on the default lane, the
transaction-level lane (tl); the modules that list "vip" in their ``LANES`` also run on
the VIP lane (cocotbext-axi, the independent reference), on a subset that keeps
``make test`` short (``lane_wanted``): the default parameter set on both simulators, and
the planted-bug builds on Icarus (a build there costs a fraction of a second, a
Verilator build about a minute). Their ids carry ``-vip-``. ``test_lanes_equivalent``
runs the same stimulus on both lanes and requires identical traces.

A failing case shows the cocotb traceback and a ``make sim ...`` line that reproduces it.
The cheap tests at the end check the runner itself (no simulator involved).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from tb import runner
from tb.judge import FORKED_LINE

MODULES = runner.discover()


def lane_wanted(lane: str, sim: str, pset: str) -> bool:
    """Which (simulator, parameter set) cases a lane runs in ``make test`` (see the
    module docstring). bug_lite_tie's stimulus (a read and a write on one port in one
    edge) needs two masters per port: the tl lane has one transactor per port (its test
    skips there), so that bug runs on the VIP lane, on both simulators."""
    if runner.lane_skips(lane, pset):
        return False
    if runner.lane_skips(runner.DEFAULT_LANE, pset):
        return lane == runner.VIP_LANE
    if lane == runner.DEFAULT_LANE:
        return True
    return pset == "default" or (pset in runner.BUG_SETS and sim == "icarus")


def _cases(modules: list[runner.TestModule] = MODULES) -> list:
    cases = []
    for mod in modules:
        for sim in runner.SIMULATORS:
            if mod.simulators is not None and sim not in mod.simulators:
                continue
            for pset in mod.param_sets or runner.PARAM_SETS:
                marks = [pytest.mark.sim, getattr(pytest.mark, sim)]
                marks += [getattr(pytest.mark, m) for m in mod.marks]
                for lane in mod.lanes:
                    if not lane_wanted(lane, sim, pset):
                        continue
                    tag = "" if lane == runner.DEFAULT_LANE else f"{lane}-"
                    for test in mod.tests if mod.split else (None,):
                        case_id = f"{sim}-{pset}-{tag}{mod.short}" + (f".{test}" if test else "")
                        cases.append(pytest.param(sim, pset, mod, test, lane, marks=marks,
                                                  id=case_id))
    return cases


@pytest.mark.parametrize(("sim", "pset", "mod", "test", "lane"), _cases())
def test_cocotb(sim: str, pset: str, mod: runner.TestModule, test: str | None, lane: str,
                sim_seed: int) -> None:
    select = f"{mod.short}.{test}" if test else mod.short
    res = runner.run(
        sim,
        select,
        pset,
        sim_seed,
        modules=[mod.name],
        log_to_file=True,
        run_name=select,
        lane=lane,
    )
    if not res.ok:
        pytest.fail(res.report(), pytrace=False)
    skipped = [t.name for t in res.tests if t.skipped]
    if skipped and len(skipped) == len(res.tests):
        pytest.skip(f"all cocotb tests skipped: {', '.join(skipped)}")


# ---------------------------------------------------------------- runner self-checks


def test_a_split_module_gives_one_case_per_cocotb_test() -> None:
    """``PYTEST_SPLIT = True``: one pytest case per cocotb test, each selecting its test;
    otherwise one case per module (no module of tb/ splits today: a simulation's start-up
    costs more than the parallelism gives on two cores, README "Running simulations")."""
    mod = runner.TestModule("tb.test_x", runner.ROOT / "tb" / "test_x.py", ("test_a", "test_b"),
                            param_sets=("default",), simulators=("icarus",))
    ids = [c.id for c in _cases([mod])]
    assert ids == ["icarus-default-test_x"]
    split = dataclasses.replace(mod, split=True)
    cases = _cases([split])
    assert [c.id for c in cases] == ["icarus-default-test_x.test_a", "icarus-default-test_x.test_b"]
    assert [c.values[3] for c in cases] == ["test_a", "test_b"]


def test_every_failure_report_gives_a_waveform_command(tmp_path: Path) -> None:
    """A run that failed in any way says how to rerun it with a waveform (WAVES=1): a
    failed test, a simulation with no results (a crash, a timeout, no test matched) and one
    whose tests passed but whose simulator exited nonzero. Before, only the failed-test
    report had the line, though a crash or a hang is where a waveform helps most."""
    def result(tests: list, sim_exit: int) -> runner.RunResult:
        return runner.RunResult(sim="icarus", params="default", seed=3, tests=tests,
                                results_xml=tmp_path / "results.xml", run_dir=tmp_path,
                                log_file=None, waves_file=None, sim_exit=sim_exit,
                                test="test_random")
    passed = runner.TestResult("tb.test_random.test_random", True, False, "", 1.0, 0.1)
    failed = dataclasses.replace(passed, ok=False, message="boom")
    for res in (result([], 1), result([], 0), result([passed], -9), result([failed], 0)):
        assert not res.ok
        rep = res.report()
        assert "WAVES=1" in rep and "waveform:" in rep, rep


def test_param_sets_resolve() -> None:
    for name in runner.PARAM_SETS:
        label, values = runner.resolve_params(name)
        assert label == name and set(values) == set(runner.DEFAULT_PARAMS)
    assert runner.resolve_params("small")[1]["WR_CH"] == 1
    label, values = runner.resolve_params("WR_CH=3,max_burst=4")
    assert values["WR_CH"] == 3 and values["MAX_BURST"] == 4 and label == "MAX_BURST4-WR_CH3"
    with pytest.raises(runner.RunnerError, match="valid: default, small, bug_leak"):
        runner.resolve_params("nope")
    with pytest.raises(runner.RunnerError, match="unknown HDL parameter"):
        runner.resolve_params("FOO=1")
    # a name given twice once kept the last value without a word
    with pytest.raises(runner.RunnerError, match="WR_CH given twice"):
        runner.resolve_params("WR_CH=1,wr_ch=2")


def test_unknown_test_is_rejected_with_listing() -> None:
    fake = [runner.TestModule("tb.test_a", runner.TB_DIR / "test_a.py", ("test_x", "test_y"))]
    with pytest.raises(runner.RunnerError, match=r"(?s)unknown TEST 'nope'.*test_a: test_x, test_y"):
        runner.select("nope", fake)
    assert runner.select("test_x", fake) == (["tb.test_a"], r"^(tb\.test_a\.test_x)(/.*)?$")
    assert runner.select("test_a", fake) == (["tb.test_a"], None)
    assert runner.select(None, fake) == (["tb.test_a"], None)
    # one point of a @cocotb.parametrize sweep, as cocotb names it (issue 9 item 8)
    mods, flt = runner.select("test_x/bp=0.5/lat=16", fake)
    assert mods == ["tb.test_a"] and flt == r"^(tb\.test_a\.test_x/bp=0\.5/lat=16)(/.*)?$"
    assert re.search(flt, "tb.test_a.test_x/bp=0.5/lat=16")
    assert not re.search(flt, "tb.test_a.test_x/bp=0.5/lat=160")
    assert not re.search(flt, "tb.test_a.test_x/bp=0.9/lat=16")
    with pytest.raises(runner.RunnerError, match="a sweep point is written as cocotb names it"):
        runner.select("test_x/", fake)
    with pytest.raises(runner.RunnerError, match="unknown TEST 'test_a/x=1'"):
        runner.select("test_a/x=1", fake)   # a module has no points


def test_discover_parses_once_and_sees_changes(tmp_path, monkeypatch) -> None:
    """discover() parses a folder's modules once per process (every reproduce line asks
    for it), and parses again when a module is changed, added or removed."""
    parsed: list[str] = []
    real_ast = runner.ast

    class CountingAst:   # runner's own `ast` only: pytest parses sources too
        def __getattr__(self, name):
            return getattr(real_ast, name)

        def parse(self, src, filename="<unknown>", *args, **kw):
            parsed.append(filename)
            return real_ast.parse(src, filename, *args, **kw)

    monkeypatch.setattr(runner, "ast", CountingAst())
    d = tmp_path / "tbx"
    d.mkdir()
    body = "import cocotb\n\n\n@cocotb.test()\nasync def {}(dut):\n    pass\n"
    (d / "test_a.py").write_text(body.format("test_x"))
    names = lambda: [(m.name, m.tests) for m in runner.discover(d)]  # noqa: E731
    assert names() == [("tbx.test_a", ("test_x",))] and len(parsed) == 1
    assert names() == [("tbx.test_a", ("test_x",))] and len(parsed) == 1   # cached
    (d / "test_a.py").write_text(body.format("test_x") + "\n\n" + body.format("test_yy"))
    assert names() == [("tbx.test_a", ("test_x", "test_yy"))]
    # the same size, a later modification time: parsed again
    (d / "test_a.py").write_text(body.format("test_x") + "\n\n" + body.format("test_zz"))
    st = (d / "test_a.py").stat()
    os.utime(d / "test_a.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert names() == [("tbx.test_a", ("test_x", "test_zz"))]
    (d / "test_b.py").write_text(body.format("test_z"))
    assert names() == [("tbx.test_a", ("test_x", "test_zz")), ("tbx.test_b", ("test_z",))]
    (d / "test_a.py").unlink()
    assert names() == [("tbx.test_b", ("test_z",))]
    n = len(parsed)
    runner.discover(d).clear()   # a caller's list is its own
    assert names() == [("tbx.test_b", ("test_z",))] and len(parsed) == n


#: a VPI write in Python: ``<handle>.NAME.value = ...`` (also ``|=`` and the like),
#: ``setattr(<handle>, "value", ...)`` (whose signal the check cannot name: refused), or
#: a fast writer made for a signal (tb/monitor.py ``writer(<handle>.NAME)``; of any other
#: argument the check cannot name the signal: refused)
_VALUE_WRITE = re.compile(r"\.([A-Za-z_]\w*)\.value\s*[-+|&^]?=(?!=)|(setattr\([^)]*[\"']value[\"'])"
                          r"|(?<!def )\bwriter\(([^)]*)\)")
_WRITER_ARG = re.compile(r"[A-Za-z_][\w.]*\.([A-Za-z_]\w*)")
_VLT_ENTRY = re.compile(r'^public_flat_(rw|rd)\s+-module\s+"(\w+)"\s+-var\s+"(\*|\w+)"', re.M)


def unlisted_writes(vlt_text: str, sources: dict[str, str]) -> list[str]:
    """``file: name`` of every VPI write in *sources* (``_VALUE_WRITE``) whose signal
    name no ``public_flat_rw`` line of *vlt_text* lists. Names only: a write to a
    variable that a listed module has and another module also has passes, which
    cocotb then refuses on any module without it (no such handle)."""
    rw = {var for kind, _, var in _VLT_ENTRY.findall(vlt_text) if kind == "rw"}
    out = []
    for f, text in sources.items():
        for name, by_setattr, writer_arg in _VALUE_WRITE.findall(text):
            if by_setattr:
                out.append(f'{f}: setattr(..., "value")')
                continue
            if writer_arg or not name:
                m = _WRITER_ARG.fullmatch(writer_arg.strip())
                if m is None:
                    out.append(f"{f}: writer({writer_arg})")
                    continue
                name = m.group(1)
            if name not in rw:
                out.append(f"{f}: {name}")
    return out


def declared(hdl_text: str, var: str) -> bool:
    """Whether a Verilog module's text declares ``var`` (a reg, wire, bit, logic or
    integer declaration at the start of a line, comments removed)."""
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", hdl_text, flags=re.S)
    return re.search(rf"(?m)^\s*(?:output\s+|input\s+)?(?:reg|wire|bit|logic|integer)\b[^;=]*\b{var}\b",
                     code) is not None


def test_tl_verilator_config_lists_every_written_signal() -> None:
    """The tl lane's Verilator build makes only the variables tb/hdl/tb_dma_deleg_tl.vlt
    lists as public_flat_rw writable through VPI, and Verilator ignores a write to any
    other without an error: every signal Python assigns in tb/ must be listed, each
    variable listed by name must exist in its module, and the build uses the file
    (its arguments, and its bytes in the build stamp)."""
    vlt = runner.LANE_VERILATOR_CONFIG["tl"]
    assert vlt is not None and runner.LANE_VERILATOR_CONFIG["vip"] is None
    text = vlt.read_text()
    sources = {p.name: p.read_text() for p in sorted(runner.TB_DIR.glob("*.py"))}
    assert unlisted_writes(text, sources) == []
    assert unlisted_writes(text, {"x.py": "dut.mem.bp_thr.value = 1\ndut.cycle.value = 5\n"
                                           "dut.irq_word.value |= 1\nsetattr(h, 'value', 3)\n"
                                           "if dut.rst.value == 1: pass\n"
                                           "w = writer(dut.loc_m.cmdq)\nv = writer(dut.cycle)\n"
                                           "u = writer(getattr(dut, n))\n"
                                           "def writer(handle): pass\n"}) == [
        "x.py: cycle", "x.py: irq_word", 'x.py: setattr(..., "value")', "x.py: cycle",
        "x.py: writer(getattr(dut, n)"]
    hdl = {p.stem: p.read_text() for p in [*runner.TB_DIR.glob("hdl/*.v"), *runner.HDL_DIR.glob("*.v")]}
    entries = [(m, v) for _, m, v in _VLT_ENTRY.findall(text) if v != "*"]
    assert len(entries) >= 20
    for mod, var in entries:
        assert declared(hdl[mod], var), (mod, var)
    assert not declared(hdl["tl_axi_mem"], "the") and not declared("// reg foo;\n", "foo")
    args = runner._build_args("verilator", False, "tl")
    assert args[-2:] == ["--no-public-flat-rw", str(vlt)]
    assert not any(a.endswith(".vlt") for a in runner._build_args("verilator", False, "vip"))
    assert runner._build_args("icarus", False, "tl") == []


def test_build_stamp_follows_the_verilator_config(tmp_path) -> None:
    """A changed .vlt file rebuilds the model: its bytes are part of the build stamp."""
    cfg = tmp_path / "x.vlt"
    cfg.write_text("`verilator_config\n")
    args = ["--no-public-flat-rw", str(cfg)]
    stamp = lambda: runner._stamp("verilator", "v", [], {}, args, False)  # noqa: E731
    first = stamp()
    assert stamp() == first
    cfg.write_text("`verilator_config\npublic_flat_rd -module \"m\" -var \"*\"\n")
    assert stamp() != first


def test_verilator_builds_go_through_ccache_when_installed(monkeypatch, tmp_path) -> None:
    """A Verilator build's OBJCACHE is ccache when it is on PATH, its folder the user's
    CCACHE_DIR or build/ccache; nothing when ccache is missing or DD_CCACHE=0; and the
    build's environment is put back afterwards."""
    monkeypatch.delenv("CCACHE_DIR", raising=False)
    monkeypatch.delenv(runner.CCACHE_ENV, raising=False)
    monkeypatch.setattr(runner.shutil, "which",
                        lambda exe: "/usr/bin/ccache" if exe == "ccache" else None)
    assert runner.objcache_env() == {"OBJCACHE": "ccache", "CCACHE_DIR": str(runner.CCACHE_DIR)}
    monkeypatch.setenv("CCACHE_DIR", str(tmp_path))
    assert runner.objcache_env()["CCACHE_DIR"] == str(tmp_path)
    monkeypatch.setenv(runner.CCACHE_ENV, "0")
    assert runner.objcache_env() == {}
    monkeypatch.delenv(runner.CCACHE_ENV)
    monkeypatch.setattr(runner.shutil, "which", lambda exe: None)
    assert runner.objcache_env() == {}
    monkeypatch.setenv("DD_T_KEEP", "a")
    monkeypatch.delenv("DD_T_NEW", raising=False)
    with runner._env_set({"DD_T_KEEP": "b", "DD_T_NEW": "c"}):
        assert (os.environ["DD_T_KEEP"], os.environ["DD_T_NEW"]) == ("b", "c")
    assert os.environ["DD_T_KEEP"] == "a" and "DD_T_NEW" not in os.environ


def test_reproduce_line_keeps_the_sweep_point() -> None:
    """A failing sweep point's reproduce line reruns that point alone."""
    full = "tb.test_quiesce.test_quiesce_states/state=idle"
    assert runner.short_test_name(full) == "test_quiesce_states/state=idle"
    mods, flt = runner.select(runner.short_test_name(full))
    assert mods == ["tb.test_quiesce"] and flt is not None
    assert re.search(flt, full) and not re.search(flt, full.replace("idle", "running"))


def test_a_test_name_two_modules_define_keeps_its_module(tmp_path, monkeypatch) -> None:
    """The runner tells the simulation which names several modules define
    (DD_SHARED_TESTS, so no run parses every module at start); both answers agree."""
    for mod in ("test_a", "test_b"):
        (tmp_path / f"{mod}.py").write_text(
            "import cocotb\n\n@cocotb.test()\nasync def test_same(dut):\n    pass\n\n"
            f"@cocotb.test()\nasync def test_only_{mod[-1]}(dut):\n    pass\n")
    mods = runner.discover(tmp_path)
    assert runner.shared_test_names(mods) == ["test_same"]
    monkeypatch.setenv(runner.SHARED_TESTS_ENV, ",".join(runner.shared_test_names(mods)))
    assert runner.short_test_name("tb.test_b.test_same/x=1") == "test_b.test_same/x=1"
    assert runner.short_test_name("tb.test_b.test_only_b") == "test_only_b"
    monkeypatch.setenv(runner.SHARED_TESTS_ENV, "")
    assert runner.short_test_name("tb.test_b.test_same") == "test_same"
    monkeypatch.delenv(runner.SHARED_TESTS_ENV)   # outside a simulation: discover()
    monkeypatch.setattr(runner, "discover", lambda tb_dir=runner.TB_DIR: mods)
    assert runner.short_test_name("tb.test_a.test_same") == "test_a.test_same"
    assert runner.short_test_name("tb.test_a.test_only_a") == "test_only_a"


def test_simulator_check_runs_once_per_set_of_tools(tmp_path, monkeypatch) -> None:
    """check_simulator asks a simulator for its version once per process, and again when
    a tool it found changes (another path or a newer file)."""
    calls = tmp_path / "calls"
    iverilog = tmp_path / "iverilog"
    iverilog.write_text(f"#!/bin/sh\necho x >> {calls}\necho 'Icarus Verilog version 98.0'\n")
    (tmp_path / "vvp").write_text("#!/bin/sh\n")
    for exe in (iverilog, tmp_path / "vvp"):
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(runner, "_SIM_CHECKED", {})
    assert runner.check_simulator("icarus") == "Icarus Verilog version 98.0"
    assert runner.check_simulator("icarus") == "Icarus Verilog version 98.0"
    assert calls.read_text().count("x") == 1
    iverilog.write_text(iverilog.read_text().replace("98.0", "99.0"))
    st = iverilog.stat()
    os.utime(iverilog, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert runner.check_simulator("icarus") == "Icarus Verilog version 99.0"
    assert calls.read_text().count("x") == 2


def test_unknown_simulator_is_rejected() -> None:
    with pytest.raises(runner.RunnerError, match="valid: icarus, verilator"):
        runner.run("xcelium")


def test_repro_command() -> None:
    cmd = runner.repro_command("verilator", "small", 1234, "test_foo", waves=True)
    assert cmd == "make sim SIM=verilator TEST=test_foo PARAMS=small SEED=1234 WAVES=1"
    # a value with a space stays one word when the line is pasted into a shell
    cmd = runner.repro_command("icarus", "WR_CH=1, RD_CH=1", 5, knobs={"DD_SWEEP": "a b"})
    assert cmd == "DD_SWEEP='a b' make sim SIM=icarus PARAMS='WR_CH=1, RD_CH=1' SEED=5"
    # every knob that changes what a run does is carried (the probe's, the walk
    # benchmark's, the tl lane's judging path, poller and rotation, the time limit)
    knobs = {k: "7" for k in ("DD_PROBE_N", "DD_LL_BENCH_ELEM", "DD_TL_ROTATE_BYTES", "DD_TL_FAST",
                              "DD_TL_POLLER", "DD_SIM_TIMEOUT")}
    assert runner.stimulus_knobs(knobs) == knobs


def test_report_without_results_reproduces_the_given_test(tmp_path: Path) -> None:
    """A run that brings no test result back (a crash, a timeout, a sweep point that
    matched nothing) still prints a reproduce line naming its TEST, not one that runs
    every test."""
    res = runner.RunResult(sim="icarus", params="default", seed=3, tests=[],
                           results_xml=tmp_path / "results.xml", run_dir=tmp_path, log_file=None,
                           waves_file=None, sim_exit=1, test="test_quiesce_states/state=idle")
    assert ("reproduce: make sim SIM=icarus TEST=test_quiesce_states/state=idle PARAMS=default "
            "SEED=3") in res.report()


def test_bad_run_input_is_refused_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty TEST list and a bad DD_SIM_TIMEOUT are RunnerErrors before any build
    (run() would build first otherwise)."""
    monkeypatch.setattr(runner, "build", lambda *a, **k: pytest.fail("built"))
    with pytest.raises(runner.RunnerError, match="names no test"):
        runner.run("icarus", ",")
    for bad in ("abc", "-5", "0.5"):
        monkeypatch.setenv("DD_SIM_TIMEOUT", bad)
        with pytest.raises(runner.RunnerError, match="DD_SIM_TIMEOUT"):
            runner.run("icarus", "test_reset_values")
    monkeypatch.setenv("DD_SIM_TIMEOUT", "0")
    assert runner.sim_timeout() == 0
    monkeypatch.delenv("DD_SIM_TIMEOUT")
    assert runner.sim_timeout() == runner.DEFAULT_SIM_TIMEOUT


def test_build_stamp_follows_cocotb_on_verilator(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Verilator build links cocotb's harness: another cocotb version makes another
    stamp (a rebuild, never a stale binary); an Icarus build does not depend on it."""
    import importlib.metadata

    srcs = runner.hdl_sources()
    stamps = {}
    for v in ("2.1.0", "2.2.0"):
        real = importlib.metadata.version
        monkeypatch.setattr(importlib.metadata, "version",
                            lambda name, v=v, real=real: v if name == "cocotb" else real(name))
        stamps[v] = [runner._stamp(sim, "5.0", srcs, {"WR_CH": 2}, [], False)
                     for sim in ("verilator", "icarus")]
    assert stamps["2.1.0"][0] != stamps["2.2.0"][0] and stamps["2.1.0"][1] == stamps["2.2.0"][1]


def test_one_run_at_a_time_per_run_folder(tmp_path: Path, capsys) -> None:
    """Two runs of one TEST share a run folder: the second waits for the first (saying
    so) instead of deleting and overwriting its files mid-run."""
    import threading

    lock = tmp_path / ".run.lock"
    order: list[str] = []
    with runner._locked(lock):
        t = threading.Thread(target=lambda: _second(lock, order))
        t.start()
        t.join(0.5)
        assert t.is_alive() and order == [], "the second run did not wait"
        order.append("first done")
    t.join(5)
    assert order == ["first done", "second"]
    assert "another run is using" in capsys.readouterr().out


def _second(lock: Path, order: list[str]) -> None:
    with runner._locked(lock, busy="[runner] waiting: another run is using it"):
        order.append("second")


def test_lane_knob() -> None:
    """LANE picks the top and build folder, is checked, and shows in reproduce lines."""
    assert runner.check_lane("tl") == "tl" and runner.check_lane("") == runner.DEFAULT_LANE
    with pytest.raises(runner.RunnerError, match="valid: vip, tl"):
        runner.check_lane("fast")
    assert runner.DEFAULT_LANE == "tl"
    assert runner.build_dir_for("icarus", "default", False, lane="tl").name == "icarus-default-tl"
    assert runner.build_dir_for("icarus", "default", False).name == "icarus-default-tl"
    assert runner.build_dir_for("icarus", "default", False, lane="vip").name == "icarus-default"
    assert runner.hdl_sources("tl")[-1].name == "tb_dma_deleg_tl.v"
    assert runner.hdl_sources("vip")[-1].name == "tb_dma_deleg.v"
    cmd = runner.repro_command("icarus", "default", 7, "test_random", lane="vip",
                               knobs={"DD_RANDOM_OPS": "300"})
    assert cmd == "LANE=vip DD_RANDOM_OPS=300 make sim SIM=icarus TEST=test_random PARAMS=default SEED=7"
    assert "LANE" not in runner.repro_command("icarus", "default", 7)
    assert "LANE" not in runner.repro_command("icarus", "default", 7, lane="tl")


def test_module_off_its_lanes_is_refused() -> None:
    """A module that does not list a lane in LANES is refused there, before any build."""
    tl_only = [m for m in MODULES if runner.VIP_LANE not in m.lanes]
    assert tl_only, "every module runs on the VIP lane: pick another negative case"
    with pytest.raises(runner.RunnerError, match=r"do\(es\) not run on LANE=vip"):
        runner.run("icarus", tl_only[0].short, lane="vip")


@pytest.mark.sim
@pytest.mark.icarus
def test_run_waits_for_another_run_of_its_folder() -> None:
    """``make sim`` takes its run folder's lock: while another run holds it, a run of the
    same TEST says it waits and starts nothing (its files would be deleted under the
    other run); once the lock is free it runs and passes."""
    import subprocess
    import sys
    import time

    sim, test = "icarus", "test_reset_values"
    bdir = runner.build(sim, "default")
    lock = bdir / "runs" / f".{runner._run_name(['tb.test_directed'], test)}.lock"
    with runner._locked(lock):
        p = subprocess.Popen([sys.executable, "-m", "tb.runner", "--sim", sim, "--test", test,
                              "--seed", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, cwd=runner.ROOT)
        out = ""
        t_end = time.monotonic() + 60
        while "another run is using" not in out and time.monotonic() < t_end:
            out += p.stdout.readline()
        assert "another run is using" in out, out
        time.sleep(1.0)
        assert p.poll() is None, "the run did not wait for the lock"
    rest, _ = p.communicate(timeout=300)
    assert p.returncode == 0 and "PASS" in rest, out + rest


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.verilator
def test_tl_lane_same_trace_on_both_simulators() -> None:
    """The transaction-level lane is deterministic across simulators: the register
    workload leaves byte-identical recorder traces on Icarus and Verilator (its wakes
    resume tasks in a fixed order, tb/tl.py TlTB._dispatch; before that, three
    concurrent stimulus tasks raced differently from edge 0x11e6 on).

    The trace is the copy of every line Python drained (tb/tl.py DD_TL_TRACE). The
    Verilator run also reopens the recorder file every 4 KiB (DD_TL_ROTATE_BYTES), the
    Icarus run at the default 1 MiB (never, for this run): equal traces also show that
    rotating the file loses and repeats no line.

    The Verilator run judges in a forked process (DD_TL_JUDGE=fork, tb/judge.py), the
    Icarus run in the simulator's: the same trace, then the same verdict lines (responses
    compared, samples, beat-path lines, the copy checker's counts) and the same coverage
    file show that judging elsewhere changes neither the stimulus nor a check."""
    traces, verdicts, covs = [], [], []
    for sim, rot, judge in zip(runner.SIMULATORS, (None, 4096), ("inline", "fork"), strict=True):
        env = {"DD_RANDOM_OPS": "3000", "DD_TL_TRACE": "1", "DD_TL_JUDGE": judge}
        if rot is not None:
            env["DD_TL_ROTATE_BYTES"] = str(rot)
        res = runner.run(sim, "test_random", "default", 1, log_to_file=True,
                         run_name="tl-same-trace", extra_env=env, lane="tl")
        if not res.ok:
            pytest.fail(res.report(), pytrace=False)
        log = res.log_file.read_text()
        assert (FORKED_LINE in log) == (judge == "fork"), f"{sim}: {res.log_file}"
        verdicts.append(re.findall(r"(scoreboard clean: .*|copy checker: .*)", log))
        assert len(verdicts[-1]) == 2, f"{sim}: no verdict lines in {res.log_file}"
        covs.append([p.read_text() for p in sorted(res.run_dir.glob("coverage_*.yml"))])
        trace = (res.run_dir / "tl_trace.txt").read_bytes()
        rec = (res.run_dir / "tl_rec.txt").stat().st_size
        if rot is None:
            assert rec >= len(trace), f"{sim}: the recorder file was rotated ({rec} B)"
        else:
            assert 8 * rot < len(trace) and rec < len(trace) // 4, (
                f"{sim}: recorder file {rec} B after a {len(trace)} B trace: not rotated")
        traces.append(trace)
    assert traces[0], "no recorder trace"
    assert traces[0] == traces[1], "the recorder traces of Icarus and Verilator differ"
    assert verdicts[0] == verdicts[1], f"inline and forked judging differ: {verdicts}"
    assert covs[0] and covs[0] == covs[1], "inline and forked judging cover differently"


@pytest.mark.sim
@pytest.mark.icarus
def test_forked_judge_catches_a_planted_bug() -> None:
    """The negative test of DD_TL_JUDGE=fork: the host-write leak build (bug_leak) fails
    the random test with the scoreboard's own mismatch, found in the judge process (the
    HDL property checker's line comes from the simulator's), and the reproduce line
    keeps the mode."""
    res = runner.run("icarus", "test_random", "bug_leak", 1, log_to_file=True,
                     run_name="judge-fork-bug", lane="tl",
                     extra_env={"DD_RANDOM_OPS": "300", "DD_TL_JUDGE": "fork"})
    rep = res.report()
    assert not res.ok, rep
    assert re.search(r"port host channel \d+: response for write 0x[0-9a-f]+ \(judged at "
                     r"edge \d+\): expected SLVERR, actual OKAY", rep), rep
    assert "DD_TL_JUDGE=fork make sim SIM=icarus TEST=test_random PARAMS=bug_leak" in rep, rep
    assert FORKED_LINE in res.log_file.read_text(), "no judge process was forked"


def _edges(trace: str) -> list[str]:
    """A recorder trace one line per edge: beat runs (``Z``) end wherever Python was
    woken, so their grouping is no part of what happened on the bus."""
    out = []
    for line in trace.splitlines():
        t = line.split()
        if len(t) > 2 and t[2] == "Z":
            e = int(t[0], 16)
            out += [f"{e + i:x} {t[1]} Z {item}" for i, item in enumerate(t[3:])]
        else:
            out.append(line)
    return out


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.verilator
@pytest.mark.slow  # 9-13 s: run first (tests/conftest.py)
def test_status_poller_changes_no_edge(sim_seed: int) -> None:
    """The tl lane's status poller (tb/tl.py TlTB.wait_status, tb_dma_deleg_tl.v) runs
    drivers' completion waits and status reads in HDL; the bus must not see it. With
    and without it (DD_TL_POLLER=0: every wait in Python, the reference) the recorder
    traces are the same edge by edge on the DMA workload (four channels' drivers
    polling one host port at once) and on tb/test_tl_errors.py::test_poller_ways_back,
    which builds each way a poller wait comes back (after a read, at an end edge it
    could not take, taken over when the interrupt line rose; it requires all three,
    whatever the seed), on both simulators. (test_directed's trace with the poller is
    the vip lane's: test_lanes_equivalent.)"""
    kinds = {"read": 0, "end": 0, "irq": 0}
    stat = re.compile(r"status poller: (\d+) wait\(s\) run in HDL \(back after a read (\d+), "
                      r"at an end edge (\d+), taken over (\d+)\), (\d+) status read")
    for sim in runner.SIMULATORS:
        for test in ("test_bench_dma", "test_tl_errors.test_poller_ways_back"):
            traces = []
            for on in ("0", "1"):
                res = runner.run(sim, test, "default", sim_seed, log_to_file=True,
                                 run_name=f"poller-{on}", lane="tl",
                                 extra_env={"DD_TL_TRACE": "1", "DD_TL_POLLER": on})
                if not res.ok:
                    pytest.fail(res.report(), pytrace=False)
                traces.append(_edges((res.run_dir / "tl_trace.txt").read_text()))
                found = [tuple(map(int, m.groups())) for m in stat.finditer(res.log_file.read_text())]
                assert found, f"{sim} {test}: no poller line in {res.log_file}"
                if on == "0":
                    assert all(f[0] == 0 for f in found), found
                else:
                    assert sum(f[4] for f in found) > 0, f"{sim} {test}: no read injected"
                    for f in found:
                        for k, v in zip(kinds, f[1:4], strict=True):
                            kinds[k] += v
            assert len(traces[0]) > 2_000, f"{sim} {test}: only {len(traces[0])} edges"
            for i, (a, b) in enumerate(zip(*traces, strict=False)):
                assert a == b, (f"{sim} {test}: poller off/on traces differ first at edge line "
                                f"{i + 1}: {a!r} / {b!r}; seed {sim_seed}")
            assert len(traces[0]) == len(traces[1]), f"{sim} {test}: trace lengths differ"
    assert all(kinds.values()), f"a way back never taken: {kinds}"


#: test_directed's tests the transaction-level lane skips (one transactor per port cannot
#: present a read and a write on one edge); the equivalence test runs the others
TL_SKIPPED = ("test_host_read_write_same_edge",)


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.verilator
@pytest.mark.slow  # 9-13 s: run first (tests/conftest.py)
def test_lanes_equivalent(sim_seed: int) -> None:
    """Lane equivalence (issue 8): the same seeded stimulus on the VIP lane (cocotbext-axi
    bus models, Python per edge) and the transaction-level lane (HDL transactors and
    recorder) leaves identical edge-stamped traces and identical verdicts, on Icarus and
    on Verilator, so the fast lane cannot drift from the bus models nobody here wrote.

    The workload is tb/test_directed.py, which the lanes drive identically: every
    register access, wait, interrupt, reclaim and copy (through AxiRam, or tl_axi_mem
    with the same throttles) at the same edge. The trace is every sample the scoreboard
    judged, one line per busy edge in the recorder's format (tb/monitor.py
    ``format_sample``, DD_EDGE_TRACE=1). A difference names its first line and edge."""
    mod = next(m for m in MODULES if m.short == "test_directed")
    tests = [t for t in mod.tests if t not in TL_SKIPPED]
    assert len(tests) >= 8 and len(tests) == len(mod.tests) - len(TL_SKIPPED), mod.tests
    sel = ",".join(f"test_directed.{t}" for t in tests)
    traces: dict[tuple[str, str], list[str]] = {}
    for sim in runner.SIMULATORS:
        verdicts = {}
        for lane in ("vip", "tl"):
            res = runner.run(sim, sel, "default", sim_seed, log_to_file=True,
                             run_name="lane-equivalence", extra_env={"DD_EDGE_TRACE": "1"},
                             lane=lane)
            if not res.ok:
                pytest.fail(res.report(), pytrace=False)
            verdicts[lane] = [(t.name, t.ok, t.skipped) for t in res.tests]
            assert not any(t.skipped for t in res.tests), f"{sim} {lane}: {verdicts[lane]}"
            traces[sim, lane] = (res.run_dir / "edge_trace.txt").read_text().splitlines()
        assert verdicts["vip"] == verdicts["tl"], f"{sim}: verdicts differ: {verdicts}"
        vip, tl = traces[sim, "vip"], traces[sim, "tl"]
        assert len(vip) > 10_000, f"{sim}: only {len(vip)} trace lines"
        for i, (a, b) in enumerate(zip(vip, tl, strict=False)):
            assert a == b, (f"{sim}: the lanes' traces differ first at line {i + 1} "
                            f"(edge {a.split()[0]} / {b.split()[0]}): vip {a!r}, tl {b!r}; "
                            f"seed {sim_seed}")
        assert len(vip) == len(tl), f"{sim}: {len(vip)} vip lines, {len(tl)} tl lines"
    # and the same on both simulators (the vip lane drives Verilator's clock from cocotb)
    assert traces[runner.SIMULATORS[0], "vip"] == traces[runner.SIMULATORS[1], "vip"]


def _procs_in(folder: Path) -> list[str]:
    """The processes whose working directory is *folder* (a simulator runs in its run
    folder), as "pid args"."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if Path(os.readlink(d / "cwd")) == folder:
                    args = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    out.append(f"{d.name} {args}")
            except OSError:
                pass   # gone meanwhile, or not ours to read
    return out


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_no_simulator_behind(how: str, tmp_path: Path) -> None:
    """Ctrl-C at the terminal (SIGINT to the whole process group) or a SIGTERM to the
    Python process ends the run and the simulator with it (tb/runner.py
    ``sim_cmd_prefix``: ``timeout`` runs it in a process group of its own, where Ctrl-C
    never reaches it, and Python's clean-up kills ``timeout`` only): a simulator left
    running went on writing its run folder, and a re-run of the test there reported its
    lines as mismatches. The entry point says so in one line, not a traceback, and ends
    by the signal (``runner.cli``: a shell sees 130 / 143 and stops its script there)."""
    import signal
    import subprocess
    import sys
    import time

    name = f"interrupted-{how}"
    run_dir = runner.build_dir_for("icarus", "default", False) / "runs" / name
    code = ("import sys; from tb import runner; sys.exit(runner.cli(lambda argv: runner.run("
            f"'icarus', 'test_random', 'default', 5, log_to_file=True, run_name={name!r}, "
            f"lane={runner.DEFAULT_LANE!r}, extra_env={{'DD_RANDOM_OPS': '2000000'}}) and 0))")

    def own_group() -> None:   # as a shell's foreground job: its own group, SIGINT default
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    err = tmp_path / "stderr.txt"
    with err.open("w") as fh:
        p = subprocess.Popen([sys.executable, "-c", code], cwd=runner.ROOT, stdout=fh,
                             stderr=fh, preexec_fn=own_group)
    try:
        deadline = time.monotonic() + 120
        while not _procs_in(run_dir.resolve()):
            assert p.poll() is None and time.monotonic() < deadline, (
                f"the simulator never started: {err.read_text()[-2000:]}")
            time.sleep(0.2)
        time.sleep(1.0)   # inside the simulation
        if how == "SIGINT":
            os.killpg(p.pid, signal.SIGINT)
        else:
            p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while (left := _procs_in(run_dir.resolve())) and time.monotonic() < deadline:
        time.sleep(0.1)
    for line in left:   # never leave them to the rest of the session
        os.kill(int(line.split()[0]), signal.SIGKILL)
    assert not left, f"{how}: still running in {run_dir}: {left}"
    text = err.read_text()
    want = "[interrupted]" if how == "SIGINT" else "[terminated]"
    assert rc == -(signal.SIGINT if how == "SIGINT" else signal.SIGTERM), (rc, text[-2000:])
    assert want in text and "Traceback" not in text, text[-2000:]


@pytest.mark.sim
@pytest.mark.icarus
def test_cpu_limit_kills_a_long_run_and_says_so() -> None:
    """The simulator limit is CPU time (tb/runner.py DEFAULT_SIM_TIMEOUT): a run that
    needs more than 2 CPU seconds is killed and reported as a TIMEOUT, not a crash."""
    # far more work than 2 CPU seconds on any machine (1,500 operations take about 1)
    res = runner.run("icarus", "test_random", "default", 1, log_to_file=True,
                     run_name="cpu-limit", timeout=2, extra_env={"DD_RANDOM_OPS": "60000"})
    assert not res.ok and res.timeout == 2, res.report()
    assert "TIMEOUT: the simulator was killed after 2 s of CPU time or 8 s wall clock" \
        in res.report()


@pytest.mark.sim
@pytest.mark.icarus
def test_only_test_modules_are_assertion_rewritten(tmp_path, monkeypatch) -> None:
    """A simulation rewrites the asserts of the test modules only (runner.REWRITE_FILES;
    cocotb's own default rewrites numpy and every other module imported after its hook,
    and loads each through the rewriter's slower path): with a fresh bytecode cache,
    the test module has a rewritten .pyc, the model and numpy have plain ones only."""
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path))
    monkeypatch.delenv("COCOTB_REWRITE_ASSERTION_FILES", raising=False)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("PYGPI_USERS", raising=False)
    res = runner.run("icarus", "test_reset_values", "default", 1, run_name="rewrite-scope")
    assert res.ok, res.report()
    rewritten = {p.name.split(".")[0] for p in tmp_path.rglob("*-pytest-*.pyc")}
    plain = {p.name.split(".")[0] for p in tmp_path.rglob("*.cpython-311.pyc")}
    assert "test_directed" in rewritten, sorted(rewritten)
    assert {"hw", "predictor", "numeric"} <= plain, "model and numpy not imported?"
    assert not rewritten & {"hw", "predictor", "numeric", "scoreboard"}, sorted(rewritten)
    # and the pytest configuration cocotb builds for it loads no installed plugin
    # (runner: PYTEST_DISABLE_PLUGIN_AUTOLOAD): xdist is installed
    assert not list(tmp_path.rglob("xdist/plugin.*.pyc")), "a simulation loaded pytest's plugins"
    # a transaction-level simulation (the default lane) never imports the VIP lane's
    # bus models (tb/env.py imports them where the VIP lane builds its TB)
    assert runner.DEFAULT_LANE == "tl"
    assert not list(tmp_path.rglob("cocotbext/axi/*.pyc")), "the tl lane imported cocotbext-axi"
    # cocotb started through tb/sim_start.py (runner: PYGPI_USERS), and the test ran
    assert list(tmp_path.rglob("tb/sim_start.*.pyc")), "the simulation did not start through tb/sim_start.py"
