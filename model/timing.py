"""Timing bounds of the delegation contract: the ONE place they live.

SPEC 2.3 states the quiesce bounds as parameters that MUST be checked; the RTL, the
predictor (``model.hw``) and the scoreboard all import them from here so a change of
bound is a one-line edit. Edges are numbered as in docs/microarch.md "Time": a
command written at edge ``t0`` takes effect in ``S(t0+1)``; "the cycle STATE becomes
LOCAL" is the first edge ``x`` with ``STATE==LOCAL`` in ``S(x)``, and
``Q_CYCLES = x - t0``.
"""

from __future__ import annotations

__all__ = [
    "Q_IDLE_MAX",
    "Q_CYCLES_IDLE",
    "quiesce_bound",
    "max_q_cycles",
    "q_cycles_ok",
]

#: A non-running channel reaches LOCAL within this many cycles of ``t0``; a running
#: one within this many cycles after the last response of its outstanding bursts.
Q_IDLE_MAX = 4

#: Exact Q_CYCLES of a quiesce of a channel that is not RUNNING (microarch: the
#: completion edge is ``t0+1``, STATE is LOCAL in ``S(t0+2)``).
Q_CYCLES_IDLE = 2


def _check_edge(name: str, v: int | None) -> None:
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int edge number, got {type(v).__name__}")
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")


def quiesce_bound(t0: int, last_resp_edge: int | None = None) -> int:
    """Latest edge ``x`` at which ``STATE==LOCAL`` may first appear in ``S(x)``.

    Why a single formula: the idle bound and the running bound are the same rule
    anchored at different edges, ``t0`` for an idle channel and the edge of the
    last response of the channel's outstanding bursts for a running one. A response
    that came before ``t0`` (or none) leaves the anchor at ``t0``.
    """
    _check_edge("t0", t0)
    _check_edge("last_resp_edge", last_resp_edge)
    anchor = t0 if last_resp_edge is None else max(t0, last_resp_edge)
    return anchor + Q_IDLE_MAX


def max_q_cycles(t0: int, last_resp_edge: int | None = None) -> int:
    """Largest legal Q_CYCLES for a quiesce commanded at ``t0`` (see quiesce_bound)."""
    return quiesce_bound(t0, last_resp_edge) - t0


def q_cycles_ok(t0: int, q_cycles: int, last_resp_edge: int | None = None) -> bool:
    """True iff an observed Q_CYCLES meets SPEC 2.3 (at least 1, at most the bound)."""
    _check_edge("q_cycles", q_cycles)
    return 1 <= q_cycles <= max_q_cycles(t0, last_resp_edge)
