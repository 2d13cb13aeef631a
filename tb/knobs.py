"""The environment knobs of a simulation: each one's rule and default, in one place.

The test modules, the transaction-level lane and the coverage collector read their knobs
through these functions inside the simulation, and tb/runner.py applies every rule
(``CHECKS``, through ``failures``) to the environment of a run before it builds or
writes anything (``runner.check_knobs``; the regression before it clears its output
folder). So a malformed value is one line naming the knob, never a failed test with a
traceback, and never found after a regression wiped its last results.

Flags (``FLAGS``) take 1, 0, yes, no, true, false, on or off, in any case; an empty or
unset flag takes its default; any other value is an error (``DD_TL_POLLER=off`` once left
the poller on: only ``0`` turned it off). This module imports nothing of cocotb, so the
runner's process checks knobs without loading a testbench.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

#: names (tb/runner.py re-exports the ones its reproduce lines carry)
RANDOM_OPS_ENV = "DD_RANDOM_OPS"
BENCH_DMA_ROUNDS_ENV = "DD_BENCH_DMA_ROUNDS"
BENCH_DMA_MAX_ENV = "DD_BENCH_DMA_MAX"
SWEEP_ENV = "DD_SWEEP"
PROBE_N_ENV = "DD_PROBE_N"
LL_BENCH_ELEM_ENV = "DD_LL_BENCH_ELEM"
TL_ROTATE_ENV = "DD_TL_ROTATE_BYTES"
TL_FAST_ENV = "DD_TL_FAST"
TL_POLLER_ENV = "DD_TL_POLLER"
TL_TRACE_ENV = "DD_TL_TRACE"
EDGE_TRACE_ENV = "DD_EDGE_TRACE"
TRACE_ENV = "DD_TRACE"
FCOV_ENV = "DD_FCOV"
CCACHE_ENV = "DD_CCACHE"

#: flag -> its default: the tl lane's beat path and HDL status poller (on), its recorder
#: trace copy, the lanes' edge trace and the DMA trace recorder (off), functional coverage
#: (on), ccache for Verilator builds (on)
FLAGS: dict[str, bool] = {TL_FAST_ENV: True, TL_POLLER_ENV: True, TL_TRACE_ENV: False,
                          EDGE_TRACE_ENV: False, TRACE_ENV: False, FCOV_ENV: True,
                          CCACHE_ENV: True}
_TRUE = ("1", "yes", "true", "on")
_FALSE = ("0", "no", "false", "off")

#: defaults and bounds
RANDOM_OPS_DEFAULT = 1500
BENCH_DMA_MIN_COPY = 4 * 1024
BENCH_DMA_MAX_COPY = 64 * 1024
BENCH_DMA_MAX_DEFAULT = 8 * 1024
SWEEPS = ("reduced", "full")
PROBE_N_DEFAULT = 100
LL_BENCH_ELEM_DEFAULT = 1024
LL_BENCH_ELEM_MAX = 0x1000
#: the recorder file's length at which the tl lane reopens it empty (tb/tl.py rotate)
REC_ROTATE_BYTES = 1 << 20


class KnobError(ValueError):
    """A knob's value is malformed; the message names the knob and what it takes."""


def value(name: str, env: Mapping[str, str] | None = None) -> str:
    """Knob *name* of *env* (default: the environment), stripped; empty when unset."""
    return (os.environ if env is None else env).get(name, "").strip()


def flag(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Flag ``name`` (one of FLAGS) of *env* (default: the environment)."""
    raw = value(name, env).lower()
    if not raw:
        return FLAGS[name]
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise KnobError(f"{name}={value(name, env)!r}: expected one of "
                    f"{', '.join(_TRUE + _FALSE)} (empty: {'on' if FLAGS[name] else 'off'})")


def _integer(name: str, env: Mapping[str, str] | None, default: int, what: str,
             base: int = 10) -> tuple[int, str]:
    raw = value(name, env)
    if not raw:
        return default, str(default)
    try:
        return int(raw, base), raw
    except ValueError:
        raise KnobError(f"{name}={raw!r}: expected {what}") from None


def random_ops(env: Mapping[str, str] | None = None) -> int:
    """DD_RANDOM_OPS (default 1500): tb/test_random.py's transactions, at least 1."""
    what = "a whole number of transactions, at least 1"
    v, raw = _integer(RANDOM_OPS_ENV, env, RANDOM_OPS_DEFAULT, what)
    if v < 1:
        raise KnobError(f"{RANDOM_OPS_ENV}={raw!r}: expected {what}")
    return v


def bench_dma(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(DD_BENCH_DMA_ROUNDS, DD_BENCH_DMA_MAX) of tb/test_bench_dma.py: rounds (default
    1, at least one) and the largest copy in bytes (default 8 KiB; decimal or 0x..., a
    multiple of 8 from BENCH_DMA_MIN_COPY to BENCH_DMA_MAX_COPY)."""
    rounds, raw = _integer(BENCH_DMA_ROUNDS_ENV, env, 1, "an integer number of rounds")
    if rounds < 1:
        raise KnobError(f"{BENCH_DMA_ROUNDS_ENV}={raw!r}: need at least one round")
    what = f"a multiple of 8 in [{BENCH_DMA_MIN_COPY}, {BENCH_DMA_MAX_COPY}] (bytes)"
    top, raw = _integer(BENCH_DMA_MAX_ENV, env, BENCH_DMA_MAX_DEFAULT, what, base=0)
    if not (BENCH_DMA_MIN_COPY <= top <= BENCH_DMA_MAX_COPY and top % 8 == 0):
        raise KnobError(f"{BENCH_DMA_MAX_ENV}={raw!r}: must be {what}")
    return rounds, top


def sweep(env: Mapping[str, str] | None = None) -> str:
    """DD_SWEEP (default reduced): the quiesce sweeps' size, ``reduced`` or ``full``."""
    raw = value(SWEEP_ENV, env)
    v = raw.lower() or SWEEPS[0]
    if v not in SWEEPS:
        raise KnobError(f"{SWEEP_ENV}={raw!r}: valid values are {', '.join(SWEEPS)}")
    return v


def check_probe_n(n: int, what: str) -> int:
    """``n`` operations per phase and round of tb/test_bench_probe.py, refused (naming
    ``what``) unless its batch phase can split them into batches of four."""
    if n < 4 or n % 4:
        raise KnobError(f"{what}: expected a multiple of 4, at least 4")
    return n


def probe_n(env: Mapping[str, str] | None = None) -> int:
    """DD_PROBE_N (default 100): the probe's operations per phase and round."""
    v, raw = _integer(PROBE_N_ENV, env, PROBE_N_DEFAULT, "an integer (a multiple of 4)")
    return check_probe_n(v, f"{PROBE_N_ENV}={raw}")


def ll_bench_elem(env: Mapping[str, str] | None = None) -> int:
    """DD_LL_BENCH_ELEM (default 1 KiB): tb/test_ll.py's walk-throughput element size,
    decimal or 0x..., a multiple of 8 in [8, 4096]."""
    what = f"a multiple of 8 in [8, {LL_BENCH_ELEM_MAX}] (bytes)"
    v, raw = _integer(LL_BENCH_ELEM_ENV, env, LL_BENCH_ELEM_DEFAULT, what, base=0)
    if not (8 <= v <= LL_BENCH_ELEM_MAX and v % 8 == 0):
        raise KnobError(f"{LL_BENCH_ELEM_ENV}={raw!r}: must be {what}")
    return v


def rotate_bytes(env: Mapping[str, str] | None = None) -> int:
    """DD_TL_ROTATE_BYTES (default 1 MiB): the recorder file's length at which the tl lane
    reopens it empty, a byte count (0: at every wake that read something)."""
    what = "a byte count (a non-negative integer)"
    v, raw = _integer(TL_ROTATE_ENV, env, REC_ROTATE_BYTES, what)
    if v < 0:
        raise KnobError(f"{TL_ROTATE_ENV}={raw!r}: expected {what}")
    return v


#: every knob rule (the flags too): runner.check_knobs applies them all
CHECKS: tuple[Callable[[Mapping[str, str] | None], object], ...] = (
    random_ops, bench_dma, sweep, probe_n, ll_bench_elem, rotate_bytes,
    *(lambda env, n=n: flag(n, env) for n in FLAGS))


def failures(rules: Iterable[Callable[[Mapping[str, str] | None], object]],
             env: Mapping[str, str] | None,
             errors: tuple[type[Exception], ...] = (KnobError,)) -> list[str]:
    """The messages of the *rules* that refuse *env* (each raising one of *errors*)."""
    bad = []
    for rule in rules:
        try:
            rule(env)
        except errors as exc:
            bad.append(str(exc))
    return bad

