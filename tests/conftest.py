"""Session-wide pytest settings: the simulation seed.

One seed per pytest session (all xdist workers share it), so a whole `make test` run is
reproducible with `make test SEED=<n>`; each failing simulation also prints its own
one-line `make sim ...` command. The seed comes from `--seed`, else the `SEED`
environment variable, else it is drawn at random and printed in the header.
"""

from __future__ import annotations

import os
import random
import time

import pytest

_ENV = "DD_SESSION_SEED"  # controller -> xdist workers (they inherit the environment)
#: names this pytest session for its xdist workers (fixtures that record once per session)
SESSION_ENV = "DD_SESSION_ID"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed",
        type=int,
        default=None,
        help="seed of every simulation in this session (default: $SEED or random)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # xdist worker: the controller already decided
        return
    seed = config.getoption("--seed")
    if seed is None and os.environ.get("SEED", "").strip():
        seed = int(os.environ["SEED"])
    if seed is None:
        seed = random.SystemRandom().randrange(1, 2**31)
    os.environ[_ENV] = str(seed)
    os.environ[SESSION_ENV] = f"{os.getpid()}-{time.time_ns()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first, each group in collection order (a stable sort).

    Why: the long tests (the formal runs, the sharded regression: 20-45 s each) then
    start at once on separate workers and the short ones fill in behind them (with the
    Makefile's ``--maxschedchunk=1``: xdist's default hands each worker a quarter of its
    share as one consecutive run, all of them to the first worker); collected late, they
    ran at the end of an otherwise finished session and set its wall time. Every xdist
    worker sorts the same collection the same way, as xdist requires."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config: pytest.Config) -> str:
    seed = os.environ.get(_ENV, "?")
    return f"simulation seed: {seed} (re-run the session with: make test SEED={seed})"


@pytest.fixture(scope="session")
def sim_seed() -> int:
    """The session's simulation seed."""
    return int(os.environ[_ENV])


@pytest.fixture(scope="session")
def session_id() -> str:
    """A name of this pytest session that all its xdist workers share."""
    return os.environ[SESSION_ENV]
