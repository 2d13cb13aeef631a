"""Failure plumbing of the HDL checkers: property violations become scoreboard mismatches.

The checkers (hdl/dd_props.v bound inside dma_deleg; the AXI protocol checkers of
tb/hdl/ in the simulation top) judge every edge in HDL, so Python is not woken per
cycle. Each one exposes the same three signals:

* ``fail_ev``: toggles once on every edge with at least one violation;
* ``msg``: a string register naming the first violated property, the edge, the detail;
* ``fail_count``: how many edges had a violation.

``HdlCheckers`` runs one coroutine that sleeps until one of the checkers' ``fail_ev``
changes (the top's ``chk_fail_ev`` vector of all four: one wake per violating edge),
then, for each checker whose ``fail_count`` moved, reads ``msg`` and records a
mismatch on port ``prop`` with the reproduce command; ``check()`` (called by
TB.finish) requires that it saw exactly ``fail_count`` reports, so a lost wake-up
cannot pass silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cocotb
from cocotb.triggers import ReadOnly, ValueChange

from tb.scoreboard import DelegationScoreboard, reproduce_command

#: Checker instances, as paths below the simulation top (tb/hdl/tb_dma_deleg.v).
CHECKER_PATHS: tuple[str, ...] = ("dut.u_props", "u_chk_m", "u_chk_loc", "u_chk_host")
#: The tops' vector of every checker's ``fail_ev`` (tb/hdl/tb_checkers.vh; bit k:
#: CHECKER_PATHS[k]): one watched signal instead of one per checker, because Verilator
#: checks every watched signal for a change at each evaluation of the model.
EV_VECTOR = "chk_fail_ev"

#: Violations logged per checker (all are recorded and counted).
MAX_LOGGED = 20

_EDGE = re.compile(r"\bat edge (\d+)")


def decode_msg(value) -> str:
    """The text of a Verilog string register (a LogicArray, 8 bits per character)."""
    raw = value.to_bytes(byteorder="big") if hasattr(value, "to_bytes") else bytes(value)
    return raw.lstrip(b"\0").decode("ascii", errors="replace")


def property_name(msg: str) -> str:
    """First word of a checker message: the property's name."""
    return msg.split(" ", 1)[0] if msg else "?"


@dataclass
class Violation:
    checker: str
    edge: int
    prop: str
    text: str


@dataclass
class HdlCheckers:
    """Watches every HDL checker of the simulation top and feeds the scoreboard."""

    dut: object
    sb: DelegationScoreboard
    log: object
    violations: list[Violation] = field(default_factory=list)
    #: properties a test provokes on purpose (expect()): recorded, not mismatches
    expected: set[str] = field(default_factory=set)
    _seen: dict[str, int] = field(default_factory=dict)
    # fail_count when this test started: the HDL keeps counting across the cocotb tests
    # of one simulation (its counter is not reset by rst)
    _base: dict[str, int] = field(default_factory=dict)
    _handles: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in CHECKER_PATHS:
            h = self.dut
            for part in path.split("."):
                h = getattr(h, part)
            self._handles[path] = h
            self._seen[path] = 0
            cnt = h.fail_count.value
            self._base[path] = int(cnt) if cnt.is_resolvable else 0
        cocotb.start_soon(self._watch(getattr(self.dut, EV_VECTOR)))

    def handle(self, path: str):
        return self._handles[path]

    async def _watch(self, ev) -> None:
        """Wake at each change of ``ev`` (the vector of the checkers' fail_ev) and report
        every checker that counted a violation since."""
        while True:
            await ValueChange(ev)
            await ReadOnly()
            for path in CHECKER_PATHS:
                self._report(path)

    def _report(self, path: str) -> None:
        h = self._handles[path]
        cnt = h.fail_count.value
        if not cnt.is_resolvable or int(cnt) - self._base[path] == self._seen[path]:
            return  # the initial X -> 0 of fail_ev at time 0, or another checker's edge
        text = decode_msg(h.msg.value)
        m = _EDGE.search(text)
        edge = int(m.group(1)) if m else -1
        v = Violation(path, edge, property_name(text), text)
        self.violations.append(v)
        self._seen[path] += 1
        if v.prop in self.expected:
            self.log.info("PROPERTY %s (expected by the test)", text)
            return
        self.sb._mismatch(edge, "prop", None, f"{path}: {text}", "property holds", "violated")
        if self._seen[path] <= MAX_LOGGED:  # a broken invariant may fire on every edge
            self.log.error("PROPERTY %s; reproduce: %s", text, reproduce_command())

    def expect(self, *props: str) -> None:
        """Declare properties the test provokes on purpose (e.g. a misbehaving memory):
        their reports are recorded in ``violations`` but are not mismatches."""
        self.expected.update(props)

    def props(self) -> set[str]:
        """Names of the properties that fired so far."""
        return {v.prop for v in self.violations}

    def check(self) -> list[str]:
        """Every violating edge the HDL counted was reported here (no lost wake-up);
        a difference is recorded as a mismatch and returned."""
        problems = []
        for path, h in self._handles.items():
            counted = int(h.fail_count.value) - self._base[path]
            if counted != self._seen[path]:
                what = f"{path}: violations counted in HDL vs reported"
                self.sb._mismatch(-1, "prop", None, what, counted, self._seen[path])
                problems.append(f"{what}: {counted} vs {self._seen[path]}")
        return problems
