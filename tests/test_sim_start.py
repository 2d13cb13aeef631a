"""tb/sim_start.py, the Python entry point of every simulation (no simulator needed):
cocotb's own entry points run with the garbage collector off, and the test after them
with it on, every object of the start-up frozen; a PYGPI_USERS it is not the whole of
is refused."""

from __future__ import annotations

import gc
import os
import sys
import types

import pytest

from tb import runner, sim_start


@pytest.fixture
def fake_entry(monkeypatch):
    """pygpi.entry.load_entry replaced by a recorder of what it saw."""
    seen: list[tuple[bool, str | None]] = []

    def load_entry() -> None:
        seen.append((gc.isenabled(), os.environ.get(sim_start.USERS_ENV)))

    mod = types.ModuleType("pygpi.entry")
    mod.load_entry = load_entry  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pygpi.entry", mod)
    yield seen, mod
    gc.unfreeze()   # the frozen objects of this process go back to the collector
    gc.enable()


def test_cocotb_entry_points_run_with_the_collector_off(fake_entry, monkeypatch) -> None:
    seen, _ = fake_entry
    monkeypatch.setenv(sim_start.USERS_ENV, runner.SIM_START_ENTRY)
    gc.unfreeze()
    sim_start.start()
    # cocotb's default list ran (PYGPI_USERS unset), with the collector off
    assert seen == [(False, None)]
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_a_failing_entry_point_leaves_the_collector_on(fake_entry, monkeypatch) -> None:
    _, mod = fake_entry

    def broken() -> None:
        raise RuntimeError("cocotb could not start")

    mod.load_entry = broken
    monkeypatch.setenv(sim_start.USERS_ENV, runner.SIM_START_ENTRY)
    with pytest.raises(RuntimeError, match="could not start"):
        sim_start.start()
    assert gc.isenabled()


def test_another_entry_list_is_refused(fake_entry, monkeypatch) -> None:
    """A PYGPI_USERS that lists this entry beside others would call it again from
    load_entry, without end: refused, before anything runs."""
    seen, _ = fake_entry
    monkeypatch.setenv(sim_start.USERS_ENV, f"{runner.SIM_START_ENTRY},other.module:entry")
    with pytest.raises(RuntimeError, match="must be the whole list"):
        sim_start.start()
    assert seen == [] and gc.isenabled()


def test_runner_entry_names_this_module() -> None:
    mod, func = runner.SIM_START_ENTRY.split(":")
    assert mod == sim_start.__name__ and callable(getattr(sim_start, func))


def test_the_scoreboard_base_comes_without_scapy() -> None:
    """tb/scoreboard.py imports cocotb-bus's Scoreboard without scapy's data tables
    (40-90 ms of each simulator start): ``scapy.utils`` is a stand-in while
    ``cocotb_bus.scoreboard`` imports, whose hexdump and hexdiff load scapy at their
    first call and give what scapy's give; afterwards ``scapy.utils`` is scapy's own."""
    import subprocess

    code = """
import io, sys, contextlib
import tb.scoreboard
import cocotb_bus.scoreboard as cbs
assert cbs.Scoreboard is tb.scoreboard.Scoreboard
loaded = sorted(m for m in sys.modules if m == "scapy" or m.startswith("scapy."))
assert not loaded, f"imported with the scoreboard: {loaded}"
assert "scapy.utils" not in sys.modules
got = cbs.hexdump(b"delegation\\x00\\xff", dump=True)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    cbs.hexdiff(b"abc", b"abd")
import scapy.utils as real
assert sys.modules["scapy.utils"] is real and real.hexdump is not cbs.hexdump
assert got == real.hexdump(b"delegation\\x00\\xff", dump=True) and "64 65 6C" in got, got
ref = io.StringIO()
with contextlib.redirect_stdout(ref):
    real.hexdiff(b"abc", b"abd")
assert out.getvalue() == ref.getvalue() and out.getvalue(), (out.getvalue(), ref.getvalue())
print("ok")
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=runner.ROOT, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr
