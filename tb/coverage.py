"""Functional coverage of the delegation contract (cocotb-coverage).

Sampled from a scoreboard observer (``sb.observers``), so every bin is decoded from
what the RTL *did* at a sampled edge, judged with the predictor's state: the coverage
says which situations the scoreboard has actually checked.

The pre-edge state (``S(e)``, what an access or command is judged against) is not
visible to an observer, which runs after the model stepped. ``Coverage`` therefore
wraps the model instance's ``edge`` method: when an edge carries a local OWN_CMD or
channel-window write or a host access, it snapshots the one channel concerned
(state, function, CH_STAT) just before the model processes it. The scoreboard
replays idle edges (``m.edge(e - 1)``) before the sampled edge, so the snapshot is
exactly ``S(e)``. A fresh model (``TB.reset``) is in its reset state (all LOCAL and
IDLE) until its first sampled edge, which is what the observer assumes then.

Cover items live under ``dd.<paramset>.`` (bins depend on the parameters: channels,
functions), grouped as:

* ``own``: ownership command (DELEGATE, RECLAIM, RECLAIM_Q, BAD) x state it met
  (LOCAL, DELEGATED, QUIESCING), and commands per channel;
* ``host``: access kind (read, write) x outcome (allowed, not_delegated,
  wrong_function, quiescing, decerr, spoof); allowed accesses per channel and per
  function;
* ``reclaim``: accepted reclaim mode (quiesce, plain) x channel activity (idle,
  running);
* ``same_edge``: an ownership command and a host access on the same edge, to the same
  channel or another one;
* ``xfer``: START outcome (started, refused) x initiator (local, host); started size
  class (1 beat, one burst, several bursts) x initiator; starts per channel;
* ``dma``: bursts (AR presented) per channel and per requester function; SLVERR and
  DECERR seen on read data and on write responses (tb/test_random.py keeps a fault
  zone in memory, tb/faults.py);
* ``irq``: each interrupt line seen asserted (irq_loc, irq_host<f>);
* ``ll`` (SPEC 3, linked-list mode): elements consumed (data, link); walk end causes
  (list_end, bad_element, bad_pointer, fetch_error, data_error, stopped); MSI writes
  (stop, abort); reclaim of a walking channel by the phase it meets (fetch, data,
  between elements, msi pending or in flight, after the end) x mode (quiesce, plain),
  from the predictor's logs (``walk_events``, ``msi_log``) and its state at ``S(t0)``.

Bins that cannot be hit with the given parameters are not defined (e.g.
``wrong_function`` with one function; ``spoof`` for reads). Every illegal command in
every state is issued by tb/test_directed.py (``NOT_EXERCISED_CMD_STATE`` is empty);
1-beat transfers come from both initiators (tb/test_random.py picks one beat 15% of
the time).
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import yaml
from cocotb_coverage.coverage import CoverCross, CoverItem, CoverPoint, coverage_db, coverage_section

from model import regs
from model.addrmap import decode_host as host_target
from model.addrmap import decode_local as local_target
from model.hw import (
    HOST_OUTCOME_RESP,
    HOST_OUTCOMES,
    ArPresent,
    BHs,
    HwModel,
    HwParams,
    LiteAccess,
    RBeat,
    Resp,
    byte_mask,
)
from tb import knobs
from tb.scoreboard import current_test_name

ROOT_NAME = "dd"

CMDS = ("DELEGATE", "RECLAIM", "RECLAIM_Q", "BAD")
STATES = ("LOCAL", "DELEGATED", "QUIESCING")
STATE_NAME = {regs.OWN_LOCAL: "LOCAL", regs.OWN_DELEGATED: "DELEGATED", regs.OWN_QUIESCING: "QUIESCING"}
KINDS = ("read", "write")
OUTCOMES = HOST_OUTCOMES   # the predictor's classes of a host access (model/hw.py)
SIZES = ("1_beat", "one_burst", "multi_burst")
INITIATORS = ("local", "host")
LL_ELEMS = ("data", "link")
LL_ENDS = ("list_end", "bad_element", "bad_pointer", "fetch_error", "data_error", "stopped")
LL_END_OF = {"end": "list_end", "bad_element": "bad_element", "bad_pointer": "bad_pointer",
             "fetch_error": "fetch_error", "data_error": "data_error", "stopped": "stopped"}
LL_MSIS = ("stop", "abort")
LL_PHASES = ("fetch", "data", "between", "msi", "after")
_ERR_EVENTS = {RBeat: "read", BHs: "write"}   # events carrying an AXI response
_RESP_NAME = {2: "SLVERR", 3: "DECERR"}

#: Command x state bins no test generates. Empty: tb/test_directed.py issues every
#: illegal command in every state (test_cmd_err_cases, test_quiescing_refusals).
NOT_EXERCISED_CMD_STATE: tuple[tuple[str, str], ...] = ()


def cmd_name(value: int, num_func: int) -> str:
    """OWN_CMD data -> command class (BAD: unknown CMD, or DELEGATE to FUNC >= NUM_FUNC)."""
    cmd = (value & regs.OWN_CMD_CMD_MASK) >> regs.OWN_CMD_CMD_LSB
    func = (value & regs.OWN_CMD_FUNC_MASK) >> regs.OWN_CMD_FUNC_LSB
    if cmd == regs.CMD_DELEGATE:
        return "DELEGATE" if func < num_func else "BAD"
    if cmd == regs.CMD_RECLAIM:
        return "RECLAIM_Q" if value & regs.OWN_CMD_QUIESCE_MASK else "RECLAIM"
    return "BAD"


def walk_phase(m: HwModel, g: int) -> str | None:
    """Phase of channel g's linked-list walk in the model's current state (None: its run
    is not a walk, or nothing of it is left): a fetch or data burst in flight, an MSI
    pending or in flight, RUNNING between bursts, or ended."""
    if not m.walking(g):
        return None
    kind = m.burst_kind(g)
    if kind in ("fetch", "data", "msi"):
        return kind
    if m.msi_pending(g):
        return "msi"
    return "between" if m.ch_stat(g) == regs.CH_RUNNING else "after"


def size_class(size: int, max_burst: int) -> str:
    beats = size // 8
    if beats <= 1:
        return "1_beat"
    return "one_burst" if beats <= max_burst else "multi_burst"


class _Tallied:
    """A cocotb-coverage sampling function whose calls are tallied and handed to the
    library in bulk (``flush``, before the coverage is read: ``Coverage.export``).

    Why: one sample costs cocotb-coverage about 10-20 us (every item of the section
    walks its bins and its parents' coverage), and the observer samples at every AR
    and every host access: about a tenth of the transaction lane's Python time on
    the DMA workloads. The tally keeps one entry per distinct argument tuple; the
    flush makes one real sample of each and adds the other ``n - 1`` hits to the bins
    that sample hit (the items' ``new_hits``). Exact, not an estimate: a sample's bins
    depend on its arguments only, and with ``at_least`` 1 (every item here; checked)
    a second hit of a bin changes no coverage figure, only its hit count, which is
    what is added (tests/test_regress_tools.py compares with sampling every call)."""

    def __init__(self, fn, items: tuple[CoverItem, ...]) -> None:
        for it in items:
            if it.at_least != 1 or getattr(it, "_bins_labels", None) is not None:
                raise ValueError(f"cover item {it._name}: a tallied section needs "
                                 "at_least=1 and no bin labels")
        self.fn = fn          # the decorated function: samples at once
        self.items = items
        self.tally: Counter[tuple] = Counter()

    def __call__(self, *args) -> None:
        self.tally[args] += 1

    def flush(self) -> None:
        for args, n in self.tally.items():
            self.fn(*args)
            if n > 1:
                for it in self.items:
                    for b in it.new_hits:
                        it._hits[b] += n - 1
        self.tally.clear()


def _section(*items: CoverItem):
    """``coverage_section`` of ``items``, tallied (``_Tallied``)."""
    def deco(fn) -> _Tallied:
        return _Tallied(coverage_section(*items)(fn), items)
    return deco


class _Items:
    """The cover items of one parameter set, as sampling functions."""

    def __init__(self, prefix: str, p: HwParams) -> None:
        self.prefix = prefix
        chans = list(p.channels)
        funcs = list(range(p.num_func))
        outcomes = [o for o in OUTCOMES if not (o == "wrong_function" and p.num_func < 2)]
        P = prefix  # noqa: N806

        @_section(
            CoverPoint(f"{P}.own.cmd", xf=lambda c, s, g: c, bins=list(CMDS)),
            CoverPoint(f"{P}.own.state", xf=lambda c, s, g: s, bins=list(STATES)),
            CoverPoint(f"{P}.own.channel", xf=lambda c, s, g: g, bins=chans),
            CoverCross(f"{P}.own.cmd_x_state", items=[f"{P}.own.cmd", f"{P}.own.state"],
                       ign_bins=list(NOT_EXERCISED_CMD_STATE)),
        )
        def own(c: str, s: str, g: int) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.host.kind", xf=lambda k, o, f, g: k, bins=list(KINDS)),
            CoverPoint(f"{P}.host.outcome", xf=lambda k, o, f, g: o, bins=outcomes),
            CoverCross(f"{P}.host.kind_x_outcome", items=[f"{P}.host.kind", f"{P}.host.outcome"],
                       ign_bins=[("read", "spoof")]),
            CoverPoint(f"{P}.host.allowed_func", xf=lambda k, o, f, g: f if o == "allowed" else None,
                       bins=funcs),
            CoverPoint(f"{P}.host.allowed_channel", xf=lambda k, o, f, g: g if o == "allowed" else None,
                       bins=chans),
        )
        def host(k: str, o: str, f: int, g: int) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.reclaim.mode", xf=lambda m, a: m, bins=["quiesce", "plain"]),
            CoverPoint(f"{P}.reclaim.activity", xf=lambda m, a: a, bins=["idle", "running"]),
            CoverCross(f"{P}.reclaim.mode_x_activity", items=[f"{P}.reclaim.mode", f"{P}.reclaim.activity"]),
        )
        def reclaim(m: str, a: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.same_edge.cmd_and_host_access", bins=["same_channel", "other_channel"]),
        )
        def same_edge(kind: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.xfer.start", xf=lambda o, i, s, g: o, bins=["started", "refused"]),
            CoverPoint(f"{P}.xfer.initiator", xf=lambda o, i, s, g: i, bins=list(INITIATORS)),
            CoverCross(f"{P}.xfer.start_x_initiator", items=[f"{P}.xfer.start", f"{P}.xfer.initiator"]),
            CoverPoint(f"{P}.xfer.size", xf=lambda o, i, s, g: s if o == "started" else None,
                       bins=list(SIZES)),
            CoverCross(f"{P}.xfer.size_x_initiator", items=[f"{P}.xfer.size", f"{P}.xfer.initiator"]),
            CoverPoint(f"{P}.xfer.channel", xf=lambda o, i, s, g: g if o == "started" else None,
                       bins=chans),
        )
        def xfer(o: str, i: str, s: str, g: int) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.dma.burst_channel", xf=lambda g, u: g, bins=chans),
            CoverPoint(f"{P}.dma.burst_func", xf=lambda g, u: u, bins=funcs),
        )
        def dma(g: int, u: int) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.dma.error_resp", bins=[f"{k}_{r}" for k in ("read", "write")
                                                     for r in ("SLVERR", "DECERR")]),
        )
        def dma_err(kind: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.irq.line", bins=["irq_loc"] + [f"irq_host{f}" for f in funcs]),
        )
        def irq(line: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.ll.element", bins=list(LL_ELEMS)),
        )
        def ll_elem(kind: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.ll.end", bins=list(LL_ENDS)),
        )
        def ll_end(kind: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.ll.msi", bins=list(LL_MSIS)),
        )
        def ll_msi(kind: str) -> None:
            pass

        @_section(
            CoverPoint(f"{P}.ll.reclaim_phase", xf=lambda ph, m: ph, bins=list(LL_PHASES)),
            CoverPoint(f"{P}.ll.reclaim_mode", xf=lambda ph, m: m, bins=["quiesce", "plain"]),
            CoverCross(f"{P}.ll.reclaim_phase_x_mode",
                       items=[f"{P}.ll.reclaim_phase", f"{P}.ll.reclaim_mode"]),
        )
        def ll_reclaim(phase: str, mode: str) -> None:
            pass

        self.own, self.host, self.reclaim, self.same_edge = own, host, reclaim, same_edge
        self.xfer, self.dma, self.dma_err, self.irq = xfer, dma, dma_err, irq
        self.ll_elem, self.ll_end, self.ll_msi, self.ll_reclaim = ll_elem, ll_end, ll_msi, ll_reclaim

    def flush(self) -> None:
        """Hand every tallied sample to cocotb-coverage (``_Tallied``)."""
        for fn in self.sections():
            fn.flush()

    def sections(self) -> list[_Tallied]:
        return [v for v in vars(self).values() if isinstance(v, _Tallied)]

    def reset(self) -> None:
        """Zero the hits of this tree: coverage_db is per process, files are per test."""
        for fn in self.sections():
            fn.tally.clear()   # samples of a test that ended without its export
        for name, item in coverage_db.items():
            if name == self.prefix or name.startswith(self.prefix + "."):
                if hasattr(item, "_hits"):
                    item._hits = type(item._hits).fromkeys(item._hits, 0)
                item._coverage = 0
        for name in (ROOT_NAME,):
            if name in coverage_db:
                root: CoverItem = coverage_db[name]
                root._coverage = sum(c._coverage for c in root._children)


_ITEMS: dict[str, _Items] = {}


def test_file_name() -> str:
    """Name of the running cocotb test for its coverage file (else a per-process counter)."""
    name = current_test_name()
    if name:
        return name
    Coverage._counter += 1
    return f"test{os.getpid()}_{Coverage._counter}"


class Coverage:
    """Functional coverage collector of one TB (see module docstring)."""

    _counter = 0

    def __init__(self, tb, paramset: str | None = None) -> None:
        self.tb = tb
        self.p: HwParams = tb.params
        self.paramset = paramset or os.environ.get("DD_PARAMSET", "default")
        prefix = f"{ROOT_NAME}.{self.paramset}"
        if prefix not in _ITEMS:
            _ITEMS[prefix] = _Items(prefix, self.p)
        self.items = _ITEMS[prefix]
        self.items.reset()
        self.test_name = test_file_name()
        self._model: HwModel | None = None
        self._pre: dict[str, tuple[int, tuple[int, int, int] | None]] = {}
        self._irq_seen = (False, 0)
        self._ll_seen = (0, 0)  # walk_events / msi_log entries already sampled
        self._ll_phase: str | None = None  # walk phase of the OWN_CMD target at S(e)
        # DD_FCOV=0 switches sampling and export off (overhead measurements, debugging)
        self.enabled = knobs.flag(knobs.FCOV_ENV)
        if self.enabled:
            tb.sb.observers.append(self.observe)

    # ----------------------------------------------------------- pre-edge state
    def _snap(self, m: HwModel, g: int) -> tuple[int, int, int] | None:
        if g not in self.p.channels:
            return None
        return (m.own_state(g), m.own_func(g), m.ch_stat(g))

    def _wrap(self, m: HwModel) -> None:
        """Record S(e) of the channels an edge's accesses address, before the model steps."""
        inner = m.edge
        pre = self._pre

        def edge(e, loc=None, host=None, dma=()):
            pre.clear()
            self._ll_phase = None
            if loc is not None and loc.write:
                t = local_target(loc.addr)
                if t is not None:
                    pre["loc"] = (t[1], self._snap(m, t[1]))
                    if t[0] == "own" and t[1] in self.p.channels:
                        self._ll_phase = walk_phase(m, t[1])
            if host is not None:
                g = host_target(host.addr)[1]
                pre["host"] = (g, self._snap(m, g))
            return inner(e, loc, host, dma)

        m.edge = edge  # instance attribute: shadows the method for this model only
        self._model = m
        self._ll_seen = (0, 0)  # a fresh model's logs start empty

    def _reset_pre(self, s) -> None:
        """First sampled edge of a fresh model: it is still in its reset state."""
        self._pre.clear()
        idle = (regs.OWN_LOCAL, 0, regs.CH_IDLE)
        if s.loc is not None and s.loc.write:
            t = local_target(s.loc.addr)
            if t is not None:
                self._pre["loc"] = (t[1], idle if t[1] in self.p.channels else None)
        if s.host is not None:
            g = host_target(s.host.addr)[1]
            self._pre["host"] = (g, idle if g in self.p.channels else None)

    # --------------------------------------------------------------- observer
    def observe(self, s, res, m: HwModel) -> None:
        if m is not self._model:
            self._reset_pre(s)
            self._wrap(m)
        it = self.items
        if s.irq_loc != self._irq_seen[0] or s.irq_host != self._irq_seen[1]:
            self._irq_seen = (s.irq_loc, s.irq_host)
            if s.irq_loc:
                it.irq("irq_loc")
            for f in range(self.p.num_func):
                if s.irq_host >> f & 1:
                    it.irq(f"irq_host{f}")
        nw, nm = len(m.walk_events), len(m.msi_log)
        if (nw, nm) != self._ll_seen:
            w0, m0 = self._ll_seen
            for we in m.walk_events[w0:]:
                if we.kind in LL_ELEMS:
                    it.ll_elem(we.kind)
                elif we.kind in LL_END_OF:
                    it.ll_end(LL_END_OF[we.kind])
            for me in m.msi_log[m0:]:
                if me.kind in LL_MSIS:
                    it.ll_msi(me.kind)
            self._ll_seen = (nw, nm)
        for ev in s.dma:
            t = type(ev)
            if t is ArPresent:
                it.dma(ev.id, ev.user)
            elif t in _ERR_EVENTS and ev.resp in _RESP_NAME:
                it.dma_err(f"{_ERR_EVENTS[t]}_{_RESP_NAME[ev.resp]}")
        if s.loc is None and s.host is None:
            return
        cmd_g = None
        if s.loc is not None and s.loc.write and "loc" in self._pre:
            cmd_g = self._local(s.loc, m)
        if s.host is not None and "host" in self._pre:
            g, pre = self._pre["host"]
            fn, _, reg = host_target(s.host.addr)
            # the predictor's own class of the access (model/hw.py LiteResult.why), not a
            # second derivation here; a class that disagrees with the predictor's own
            # response (or none) is an error of the model: a scoreboard mismatch
            outcome = res.host.why if res.host is not None else ""
            want = HOST_OUTCOME_RESP.get(outcome, Resp.SLVERR)
            kind = "write" if s.host.write else "read"
            gg = g if pre is not None else None
            if outcome not in OUTCOMES:
                self.tb.sb._mismatch(s.edge, "host", gg, f"coverage: the model gave host {kind} "
                                     f"{s.host.addr:#06x} no class", " / ".join(OUTCOMES),
                                     repr(outcome))
            elif res.host.resp != want:
                self.tb.sb._mismatch(s.edge, "host", gg, f"coverage: the model's class of host "
                                     f"{kind} {s.host.addr:#06x} disagrees with its response",
                                     f"{Resp(want).name} (class {outcome})", res.host.resp.name)
            else:
                it.host("write" if s.host.write else "read", outcome, fn, g)
                if outcome == "allowed" and s.host.write and reg == regs.DOORBELL:
                    self._start(s.host, pre, g, m, "host")
            if cmd_g is not None:
                it.same_edge("same_channel" if cmd_g == g else "other_channel")

    def _local(self, acc: LiteAccess, m: HwModel) -> int | None:
        g, pre = self._pre["loc"]
        kind, _, off = local_target(acc.addr)  # type: ignore[misc]
        if pre is None:
            return None
        if kind == "win":
            if pre[0] == regs.OWN_LOCAL and off == regs.DOORBELL:
                self._start(acc, pre, g, m, "local")
            return None
        if off != regs.OWN_CMD or not acc.strb:
            return None
        value = acc.data & byte_mask(acc.strb)
        cmd = cmd_name(value, self.p.num_func)
        state, _, ch_stat = pre
        self.items.own(cmd, STATE_NAME[state], g)
        if state == regs.OWN_DELEGATED and cmd in ("RECLAIM", "RECLAIM_Q"):
            mode = "quiesce" if cmd == "RECLAIM_Q" else "plain"
            self.items.reclaim(mode, "running" if ch_stat == regs.CH_RUNNING else "idle")
            if self._ll_phase is not None:
                self.items.ll_reclaim(self._ll_phase, mode)
        return g

    def _start(self, acc: LiteAccess, pre: tuple[int, int, int], g: int, m: HwModel, who: str) -> None:
        """A DOORBELL write that the access rules let through: START accepted or refused."""
        v = acc.data & byte_mask(acc.strb)
        if not v & regs.DOORBELL_START_MASK or v & regs.DOORBELL_STOP_MASK:
            return
        if pre[2] == regs.CH_RUNNING:
            return  # START while RUNNING acts as STOP
        after = m.ch_stat(g)  # S(e+1): a START accepted at e shows RUNNING
        if after == regs.CH_RUNNING:
            size = m.win_reg(g, regs.XFER_SIZE)
            self.items.xfer("started", who, size_class(size, self.p.max_burst), g)
        elif after == regs.CH_ABORTED:
            self.items.xfer("refused", who, None, g)

    # ----------------------------------------------------------------- export
    def export(self, run_dir: str | os.PathLike | None = None) -> Path | None:
        """Write this test's coverage as YAML into the run folder; returns the path."""
        if not self.enabled:
            return None
        self.items.flush()
        d = Path(run_dir or os.getcwd())
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in self.test_name)
        path = d / f"coverage_{safe}.yml"
        with _libyaml_dump():
            coverage_db.export_to_yaml(str(path))
        return path


@contextmanager
def _libyaml_dump():
    """cocotb-coverage's ``export_to_yaml`` writes with ``yaml.dump`` and PyYAML's
    pure-Python emitter: about 55 ms per test, a tenth of a short cocotb test. Within
    this block ``yaml.dump`` uses libyaml's emitter (``CDumper``, the same document;
    tests/test_regress_tools.py compares them), when PyYAML was built with it."""
    if not yaml.__with_libyaml__:
        yield
        return
    plain = yaml.dump
    yaml.dump = functools.partial(plain, Dumper=yaml.CDumper)
    try:
        yield
    finally:
        yaml.dump = plain

