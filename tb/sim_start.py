"""The Python entry point of every simulation tb/runner.py starts (``PYGPI_USERS``).

It runs cocotb's own entry points (``pygpi.entry.load_entry`` with ``PYGPI_USERS``
unset: logging, cocotb's package set-up, the regression manager, which imports the
test modules) with Python's cyclic garbage collector off, then moves every object
they made into the permanent generation (``gc.freeze``) and turns the collector on
again before the simulation runs.

Why: importing cocotb, pytest (for its assertion rewriting), numpy, cocotb-bus and
the testbench (scapy too, before tb/scoreboard.py left it out) leaves about 53,000
objects the collector tracks, and it
ran full passes over them while they were being made: about 0.1 s of the 0.6 s of CPU
a short simulation took (README "Running tests"). Those objects live as
long as the process, so no collection could have freed them; frozen, the collections
of the test itself no longer walk them either. Nothing else changes: the same entry
points run in the same order, and a test runs with the collector on.
"""

from __future__ import annotations

import gc
import os

#: the environment variable cocotb's pygpi reads its entry points from
USERS_ENV = "PYGPI_USERS"
#: this entry point, as tb/runner.py puts it in USERS_ENV
ENTRY = f"{__name__}:start"


def start() -> None:
    """cocotb's default entry points, with the collector off while they import."""
    from pygpi.entry import load_entry

    users = os.environ.get(USERS_ENV)
    if users != ENTRY:
        # load_entry would read the same list and call this entry again, without end
        raise RuntimeError(f"{USERS_ENV}={users!r}: {ENTRY} runs cocotb's default entry "
                           "points itself, so it must be the whole list")
    del os.environ[USERS_ENV]   # load_entry then runs cocotb's default list
    gc.disable()
    try:
        load_entry()
    finally:
        gc.freeze()
        gc.enable()
