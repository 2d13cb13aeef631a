"""Property tests of the hardware predictor on the self-driving model (hypothesis).

Random sequences of local/host accesses, ownership commands, transfers and idle
steps, with random memory latency, backpressure and error responses. After every
edge the test checks invariants from SPEC 2.3/2.4 with its own small oracle, and
that the built-in mover and the model's DMA checker agree (``hw.errors`` empty).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from model import regs
from model.hw import ArPresent, AwPresent, HwModel, HwParams, LiteAccess, Resp
from model.timing import q_cycles_ok

RUN, IDLE = regs.CH_RUNNING, regs.CH_IDLE
LOCAL, DELEG, QUIES = regs.OWN_LOCAL, regs.OWN_DELEGATED, regs.OWN_QUIESCING
MEM = 1 << 14
DRAIN_EDGES = 1 << 21   # test_random_sequences_keep_invariants: see its drain
WIN_OFFS = range(0, regs.WIN_SIZE, 4)
RW = sorted(regs.WIN_WMASK)
REG_CHOICES = [*RW, regs.DOORBELL, regs.INT_CLEAR, regs.CH_STAT, regs.INT_STAT, 0x40]
_HC = [HealthCheck.too_slow, HealthCheck.data_too_large]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=_HC)
COPY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=_HC)


def lwin(g: int, off: int = 0) -> int:
    d, n = divmod(g, 8)
    return regs.LOC_WIN_BASE + n * regs.WIN_CH_STRIDE + d * regs.WIN_DIR_STRIDE + off


def hwin(f: int, g: int, off: int = 0) -> int:
    d, n = divmod(g, 8)
    return f * regs.HOST_FUNC_STRIDE + n * regs.WIN_CH_STRIDE + d * regs.WIN_DIR_STRIDE + off


def own(g: int, off: int) -> int:
    return regs.OWN_BASE + g * regs.OWN_STRIDE + off


def local_target(addr: int) -> int | None:
    """Channel a local address refers to (test oracle, independent of the model)."""
    a = addr & 0xFFFC
    if regs.OWN_BASE <= a < regs.OWN_BASE + 16 * regs.OWN_STRIDE:
        return (a - regs.OWN_BASE) // regs.OWN_STRIDE
    if regs.LOC_WIN_BASE <= a < regs.LOC_WIN_BASE + 0x1000:
        off = a - regs.LOC_WIN_BASE
        return ((off >> 8) & 1) * 8 + (off >> 9)
    return None


def host_target(addr: int) -> tuple[int, int, int]:
    a = addr & 0xFFFC
    off = a & 0xFFF
    return a >> 12, ((off >> 8) & 1) * 8 + (off >> 9), off & 0xFF


@dataclass
class Runner:
    """Drives the self-driving model edge by edge and checks invariants."""

    hw: HwModel
    viol: int = 0
    edges: int = 0
    traffic: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gs = self.hw.params.channels
        self.hw.trace = lambda e, evs: self.traffic.extend(evs)

    def snap(self, g: int) -> tuple:
        hw = self.hw
        return (tuple(hw.win_reg(g, o) for o in RW), hw.ch_stat(g), hw.int_stat(g),
                hw.own_stat(g), hw.q_cycles(g))

    def drive(self, loc: LiteAccess | None = None, host: LiteAccess | None = None):
        hw = self.hw
        p = hw.params
        e = hw.cycle + 1
        quiet = {g for g in self.gs
                 if hw.ch_stat(g) != RUN and hw.own_state(g) != QUIES}
        touched: set[int] = set()
        if loc is not None and local_target(loc.addr) is not None:
            touched.add(local_target(loc.addr))
        exp_host = None
        if host is not None:
            f, g, reg = host_target(host.addr)
            touched.add(g)
            if f >= p.num_func or g not in self.gs:
                exp_host = Resp.DECERR
            else:
                ok = hw.own_state(g) == DELEG and hw.own_func(g) == f
                if (host.write and reg == regs.FUNC_NUM and host.strb & 1
                        and host.data & 0xF != f):
                    ok = False
                exp_host = Resp.OKAY if ok else Resp.SLVERR
        before = {g: self.snap(g) for g in quiet - touched}
        quiescing = {g for g in self.gs if hw.own_state(g) == QUIES}
        n_ev = len(hw.events)
        self.traffic.clear()
        res = hw.drive(loc, host)
        self.edges += 1
        # the built-in mover and the checker agree
        assert hw.errors == [], "\n".join(map(str, hw.errors))
        # host access rules; a successful host write implies DELEGATED to that function
        if host is not None:
            assert res.host.resp == exp_host, (host, res.host)
            if res.host.resp == Resp.SLVERR:
                self.viol += 1
        if loc is not None and loc.write and loc.strb and loc.addr & 0xFFFC == regs.VIOL_COUNT:
            self.viol = 1 if host is not None and res.host.resp == Resp.SLVERR else 0
        assert hw.viol_count == self.viol
        # untouched idle channels never change
        for g, s in before.items():
            assert self.snap(g) == s, f"channel {g} changed at edge {e}"
        # no new request of a quiescing channel
        for x in self.traffic:
            if isinstance(x, (ArPresent, AwPresent)) and x.id in quiescing:
                assert isinstance(x, AwPresent), f"AR of quiescing channel {x.id} at {e}"
        # ownership events
        for ev in hw.events[n_ev:]:
            assert ev.edge == e
            g = ev.g
            if ev.kind == "qdone":
                t0 = hw.qstart(g)
                q = hw.q_cycles(g)
                assert q == e + 1 - t0 and q_cycles_ok(t0, q, hw.last_resp(g))
                assert hw.own_state(g) == LOCAL and hw.ch_stat(g) == IDLE
                assert hw.int_stat(g) == 0 and hw.own_stat(g) & regs.OWN_STAT_QDONE_MASK
                assert all(hw.win_reg(g, o) == 0 for o in WIN_OFFS)
            elif ev.kind == "delegate":
                assert all(hw.win_reg(g, o) == 0 for o in WIN_OFFS)
                assert not hw.exposed(g) and hw.own_state(g) == DELEG
        # interrupt routing: lines only from channels of the right owner
        loc_src = any(hw.own_state(g) == LOCAL and hw.int_stat(g) for g in self.gs)
        if not loc_src and not hw.own_irq_stat() & hw.own_irq_en:
            assert not hw.irq_loc()
        host_src = 0
        for g in self.gs:
            if hw.own_state(g) == DELEG and hw.int_stat(g):
                host_src |= 1 << hw.own_func(g)
        assert hw.irq_host() & ~host_src == 0
        return res


# ---------------------------------------------------------------- strategies
values = st.one_of(st.integers(0, 0xFFFFFFFF),
                   st.sampled_from([0, 1, 2, 3, 5, 8, 0x40, 0x100, 0x101, 0x111, 0x2A0]))
strbs = st.one_of(st.just(0xF), st.integers(0, 0xF))
g_any = st.integers(0, 15)

op = st.one_of(
    st.tuples(st.just("step"), st.integers(1, 30)),
    st.tuples(st.just("loc"), st.booleans(), g_any, st.sampled_from(REG_CHOICES), values, strbs),
    st.tuples(st.just("locreg"), st.booleans(),
              st.sampled_from([regs.VIOL_COUNT, regs.OWN_IRQ_EN, regs.OWN_IRQ_STAT,
                               regs.VIOL_LAST, regs.CONFIG, 0x30]), values, strbs),
    st.tuples(st.just("host"), st.booleans(), st.integers(0, 3), g_any,
              st.sampled_from(REG_CHOICES), values, strbs),
    st.tuples(st.just("cmd"), g_any, st.integers(0, 3), st.booleans(), st.integers(0, 3)),
    st.tuples(st.just("w1c"), g_any, st.integers(0, 0xF)),
    st.tuples(st.just("prog"), st.booleans(), g_any, st.integers(0, MEM // 8 - 1),
              st.integers(0, MEM // 8 - 1), st.integers(0, 48), st.integers(0, 0x7D)),
    st.tuples(st.just("scenario"), g_any, st.integers(0, 3), st.integers(0, MEM // 8 - 1),
              st.integers(0, MEM // 8 - 1), st.integers(1, 64), st.integers(0, 40),
              st.booleans()),
    st.tuples(st.just("both"), g_any, st.integers(0, 3), st.booleans(), st.integers(0, 3),
              st.sampled_from(REG_CHOICES), values),
)


def run_op(r: Runner, o: tuple) -> None:
    hw = r.hw
    kind = o[0]
    if kind == "step":
        for _ in range(o[1]):
            r.drive()
    elif kind == "loc":
        _, wr, g, reg, v, s = o
        r.drive(loc=LiteAccess(wr, lwin(g, reg), v, s))
    elif kind == "locreg":
        _, wr, a, v, s = o
        r.drive(loc=LiteAccess(wr, a, v, s))
    elif kind == "host":
        _, wr, f, g, reg, v, s = o
        r.drive(host=LiteAccess(wr, hwin(f, g, reg), v, s))
    elif kind == "cmd":
        _, g, c, q, f = o
        r.drive(loc=LiteAccess(True, own(g, regs.OWN_CMD), c | q << 4 | f << 8))
    elif kind == "w1c":
        _, g, bits = o
        r.drive(loc=LiteAccess(True, own(g, regs.OWN_STAT), bits << 16))
    elif kind == "prog":
        _, via_host, g, sb, db, nb, setup = o
        g = r.gs[g % len(r.gs)]
        size = nb * 8
        src, dst = sb * 8, db * 8
        if g in r.gs and hw.own_state(g) == DELEG and via_host:
            f = hw.own_func(g)

            def acc(off: int, v: int) -> dict:
                return {"host": LiteAccess(True, hwin(f, g, off), v)}
        else:
            def acc(off: int, v: int) -> dict:
                return {"loc": LiteAccess(True, lwin(g, off), v)}
        for off, v in ((regs.SAR_LO, src), (regs.DAR_LO, dst), (regs.XFER_SIZE, size),
                       (regs.INT_SETUP, setup), (regs.CH_EN, 1), (regs.DOORBELL, 1)):
            r.drive(**acc(off, v))
    elif kind == "scenario":  # delegate, host starts a copy, reclaim after `wait` edges
        _, g, f, sb, db, nb, wait, q = o
        g, f = r.gs[g % len(r.gs)], f % hw.params.num_func
        r.drive(loc=LiteAccess(True, own(g, regs.OWN_CMD), regs.CMD_DELEGATE | f << 8))
        for off, v in ((regs.SAR_LO, sb * 8), (regs.DAR_LO, db * 8), (regs.XFER_SIZE, nb * 8),
                       (regs.CH_EN, 1), (regs.DOORBELL, 1)):
            r.drive(host=LiteAccess(True, hwin(f, g, off), v))
        for _ in range(wait):
            r.drive()
        r.drive(loc=LiteAccess(True, own(g, regs.OWN_CMD), regs.CMD_RECLAIM | int(q) << 4))
    elif kind == "both":
        _, g, f, wr, c, reg, v = o
        r.drive(loc=LiteAccess(True, own(g, regs.OWN_CMD), c | int(wr) << 4 | f << 8),
                host=LiteAccess(wr, hwin(f, g, reg), v))


params = st.builds(HwParams, wr_ch=st.integers(1, 3), rd_ch=st.integers(1, 3),
                   num_func=st.integers(1, 3), max_burst=st.sampled_from([2, 3, 8, 16]),
                   mem_size=st.just(MEM))


@SETTINGS
@given(p=params, lat=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       p_stall=st.sampled_from([0.0, 0.0, 0.3, 0.7]), p_fault=st.sampled_from([0.0, 0.0, 0.05]),
       ops=st.lists(op, min_size=1, max_size=30))
# a copy that only ends at the end of memory (the drain bound of 3,000 edges was short)
@example(p=HwParams(wr_ch=1, rd_ch=1, num_func=1, max_burst=8, mem_size=MEM), lat=1, seed=0,
         p_stall=0.0, p_fault=0.0,
         ops=[("loc", True, 0, regs.XFER_SIZE, 0x80000000, 0xF), ("loc", True, 0, regs.CH_EN, 1, 0xF),
              ("loc", True, 0, regs.DOORBELL, 1, 0xF)])
def test_random_sequences_keep_invariants(p, lat, seed, p_stall, p_fault, ops):
    hw = HwModel(p, mem_latency=lat)
    rng = random.Random(seed)
    hw.mem[:] = np.frombuffer(rng.randbytes(MEM), dtype=np.uint8)
    if p_stall:
        hw.stall = lambda kind, e: rng.random() < p_stall
    if p_fault:
        hw.fault = lambda kind, addr: Resp.SLVERR if rng.random() < p_fault else None
    r = Runner(hw)
    for o in ops:
        run_op(r, o)
    for ev in hw.events:
        event(ev.kind)
        if ev.kind == "qdone":
            event(f"qdone with q_cycles={hw.q_cycles(ev.g)}")
    # drain: everything started eventually ends; quiesces complete. A copy ends at the
    # end of memory at the latest (DECERR beyond MEM), so each of the at most six
    # channels moves at most MEM bytes; at the slowest settings drawn (MAX_BURST 2,
    # latency 4, stall 0.7) six copies of XFER_SIZE 0x80000000 from 0 end (ABORTED, at
    # the end of memory) after 169,041 edges, so DRAIN_EDGES, twelve times that, is a
    # bound no draw reaches (3,000 was reachable: one such copy alone needs 4,874)
    for _ in range(DRAIN_EDGES):
        if all(hw.ch_stat(g) != RUN and hw.own_state(g) != QUIES for g in r.gs):
            break
        r.drive()
    assert all(hw.ch_stat(g) != RUN and hw.own_state(g) != QUIES for g in r.gs)


@COPY_SETTINGS
@given(p=params, lat=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       p_stall=st.sampled_from([0.0, 0.5]), data=st.data())
def test_concurrent_copies_complete_exactly(p, lat, seed, p_stall, data):
    """Every channel copies its own buffer; destinations equal sources, nothing
    outside the destinations changes, bursts obey MAX_BURST and 4 KiB."""
    hw = HwModel(p, mem_latency=lat)
    rng = random.Random(seed)
    hw.mem[:] = np.frombuffer(rng.randbytes(MEM), dtype=np.uint8)
    if p_stall:
        hw.stall = lambda kind, e: rng.random() < p_stall
    r = Runner(hw)
    slot = MEM // (2 * len(r.gs)) // 8 * 8  # disjoint, aligned src/dst slots
    jobs = {}
    for i, g in enumerate(r.gs):
        size = data.draw(st.integers(1, 64), label=f"beats{g}") * 8
        so = data.draw(st.integers(0, (slot - size) // 8), label=f"so{g}") * 8
        do = data.draw(st.integers(0, (slot - size) // 8), label=f"do{g}") * 8
        jobs[g] = (2 * i * slot + so, (2 * i + 1) * slot + do, size)
    order = data.draw(st.permutations(list(r.gs)), label="order")
    deleg = data.draw(st.sets(st.sampled_from(list(r.gs))), label="delegated")
    # memory and bursts watched from before the first DOORBELL: a channel started early
    # in the loop below moves data while the others are still programmed
    orig = hw.mem.copy()
    bursts = []
    runner_trace = hw.trace

    def trace(e: int, evs: list[object]) -> None:
        runner_trace(e, evs)
        bursts.extend(x for x in evs if isinstance(x, ArPresent))

    hw.trace = trace
    for g in order:
        src, dst, size = jobs[g]
        if g in deleg:
            f = g % p.num_func
            r.drive(loc=LiteAccess(True, own(g, regs.OWN_CMD), regs.CMD_DELEGATE | f << 8))
        for off, v in ((regs.SAR_LO, src), (regs.DAR_LO, dst), (regs.XFER_SIZE, size),
                       (regs.CH_EN, 1), (regs.DOORBELL, 1)):
            if g in deleg:
                r.drive(host=LiteAccess(True, hwin(g % p.num_func, g, off), v))
            else:
                r.drive(loc=LiteAccess(True, lwin(g, off), v))
    for _ in range(200_000):
        if all(hw.ch_stat(g) != RUN for g in r.gs):
            break
        r.drive()
    expect = orig.copy()
    for g, (src, dst, size) in jobs.items():
        assert hw.ch_stat(g) == regs.CH_STOPPED, g
        expect[dst:dst + size] = orig[src:src + size]
    assert (hw.mem == expect).all()
    for b in bursts:
        assert b.len + 1 <= p.max_burst and b.addr % 4096 + 8 * (b.len + 1) <= 4096
        assert b.user == ((b.id % p.num_func) if b.id in deleg else 0)
    assert hw.errors == []
