"""Linked-list mode and MSI writes (SPEC v2 section 3) on the predictor, end to end.

Why on the model as well as on the RTL (tb/test_ll.py): these tests pin the walk, the
MSI writes and their contract checks (docs/microarch.md "Linked-list mode") in plain
pytest, fast and with hypothesis, and they drive the channel the way Linux does
(model/llclient.py) through the kernel API (model/epc.py).
"""

from __future__ import annotations

import dataclasses
import os
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import regs
from model.addrmap import own_addr
from model.backend import BusError, MemWrite, ModelDwBackend, Read, Write, run_sync
from model.epc import AuxDmaDir, Epc, pci_epc_delegate_dma_chan, pci_epc_reclaim_dma_chan
from model.events import SIZE_BEAT
from model.hw import ArPresent, AwPresent, HwModel, HwParams, LiteAccess, Resp, WBeat
from model.llclient import (
    Block,
    HostLlClient,
    LlRegion,
    LocalLlClient,
    ModelHostPort,
    ModelLocalPort,
    MsiConfig,
)
from model.mem import read_bytes, write_bytes
from model.timing import q_cycles_ok, quiesce_bound
from model.walk import (
    ELEM_SIZE,
    MSI_SIZE,
    Element,
    decode_element,
    element_fault,
    encode_data,
    encode_link,
    fetch_beats,
    msi_beat,
)

RUN, STOPPED, ABORTED, IDLE = regs.CH_RUNNING, regs.CH_STOPPED, regs.CH_ABORTED, regs.CH_IDLE
LOCAL, DELEG, QUIES = regs.OWN_LOCAL, regs.OWN_DELEGATED, regs.OWN_QUIESCING
STOP_B, ABORT_B = regs.INT_STAT_STOP_MASK, regs.INT_STAT_ABORT_MASK
MEM = 4 << 20
LL = 0x1000  # linked-list region
SRC, DST = 0x100000, 0x200000
MSI_STOP, MSI_ABORT, MSI_DATA = 0xF000, 0xF004, 0x5A5A0001
F = 1  # owner function
G = 0  # EP_TO_RC channel 0
# the window registers SPEC v2 section 3 adds (all RW storage)
LL_REGS = {r: regs.WIN_WMASK[r] for r in (regs.CYCLE_SYNC, regs.MSI_STOP_LO, regs.MSI_STOP_HI,
                                          regs.MSI_ABORT_LO, regs.MSI_ABORT_HI, regs.MSI_MSGDATA)}


# ----------------------------------------------------------------- helpers
class Traffic:
    """Records the built-in mover's DMA events per edge (hw.trace)."""

    def __init__(self, hw: HwModel) -> None:
        self.ev: list[tuple[int, object]] = []
        hw.trace = lambda e, evs: self.ev.extend((e, x) for x in evs)

    def of(self, kind: type) -> list[tuple[int, object]]:
        return [(e, x) for e, x in self.ev if isinstance(x, kind)]

    def fetches(self, lo: int = LL, hi: int = LL + 0x4000) -> list[tuple[int, ArPresent]]:
        return [(e, x) for e, x in self.of(ArPresent) if lo <= x.addr < hi]


class Rig:
    """One instance with a channel delegated to F through the kernel API."""

    def __init__(self, *, msi: bool = True, latency: int = 1, region: int = 0x1000,
                 base: int = LL, defer: bool = False, **params: int) -> None:
        self.hw = HwModel(HwParams(mem_size=MEM, **params), mem_latency=latency)
        self.hw.mem[:] = np.frombuffer(random.Random(7).randbytes(MEM), np.uint8)  # no zero luck
        self.epc = Epc(ModelDwBackend(self.hw), max_functions=self.hw.params.num_func)
        self.port = ModelHostPort(self.hw)
        if not defer:  # defer: the test delegates later (after starting a recording)
            self.delegate()
        self.cl = HostLlClient(F, AuxDmaDir.EP_TO_RC, G, LlRegion(base, region),
                               MsiConfig(MSI_STOP, MSI_ABORT, MSI_DATA) if msi else None)
        self.tr = Traffic(self.hw)

    def delegate(self) -> None:
        self.chan = pci_epc_delegate_dma_chan(self.epc, F, 0, AuxDmaDir.EP_TO_RC, G)

    def start(self, blocks: list[Block]) -> None:
        run_sync(self.cl.start_ops(blocks), self.port)

    def settle(self, limit: int = 400_000) -> None:
        """Until the channel stopped and any MSI it owes is written."""
        self.hw.step_until(lambda h: h.ch_stat(G) != RUN and not h.msi_pending(G)
                           and not h.inflight(G), limit)

    def run(self, blocks: list[Block]) -> None:
        self.start(blocks)
        self.settle()

    def walk(self, kind: str | None = None) -> list:
        return [w for w in self.hw.walk_events if w.g == G and (kind is None or w.kind == kind)]

    def msis(self) -> list:
        return [m for m in self.hw.msi_log if m.g == G]


def blocks_for(sizes: list[int], src: int = SRC, dst: int = DST, gap: int = 0x18) -> list[Block]:
    """Blocks of the given sizes, packed with odd gaps so 4 KiB crossings vary."""
    out, s, d = [], src, dst
    for n in sizes:
        out.append(Block(s, d, n))
        s += n + gap
        d += n + 2 * gap
    return out


def copied(hw: HwModel, blocks: list[Block]) -> bool:
    return all(read_bytes(hw.mem, b.sar, b.size) == read_bytes(hw.mem, b.dar, b.size)
               for b in blocks)


def put(hw: HwModel, addr: int, *elems: bytes) -> None:
    write_bytes(hw.mem, addr, b"".join(elems))


def host(reg: int) -> int:
    from model.backend import host_win_addr
    return host_win_addr(F, AuxDmaDir.EP_TO_RC, G, reg)


def hwrite(hw: HwModel, reg: int, v: int) -> Resp:
    return hw.host_access(LiteAccess(True, host(reg), v)).resp


def start_raw(r: Rig, llp: int, ccs: int = 1, setup: int | None = None) -> None:
    """Program by hand (bad pointers and hand-made lists)."""
    hw = r.hw
    if setup is None:
        setup = (regs.INT_SETUP_RSTOP_EN_MASK | regs.INT_SETUP_RABORT_EN_MASK)
    for reg, v in ((regs.MSI_STOP_LO, MSI_STOP), (regs.MSI_ABORT_LO, MSI_ABORT),
                   (regs.MSI_MSGDATA, MSI_DATA), (regs.CH_EN, 1), (regs.INT_SETUP, setup),
                   (regs.CONTROL1, 1), (regs.LLP_LO, llp & 0xFFFFFFFF), (regs.LLP_HI, llp >> 32),
                   (regs.CYCLE_SYNC, (ccs << 1) | ccs), (regs.DOORBELL, 1)):
        assert hwrite(hw, reg, v) == Resp.OKAY


def data_writes(r: Rig, lo: int = DST, hi: int = DST + 0x100000) -> list:
    return [(e, x) for e, x in r.tr.of(AwPresent) if lo <= x.addr < hi]


# ----------------------------------------------------------------- format
def test_element_format_roundtrip():
    raw = encode_data(0x1238, 0x1122334455667788, 0x99AABBCCDDEEFF00, cb=1, tcb=True)
    beats = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, ELEM_SIZE, 8)]
    assert decode_element(beats) == Element(False, 1, True, 0x1238, 0x1122334455667788,
                                            0x99AABBCCDDEEFF00)
    raw = encode_link(0xABCD0008, cb=0, tcb=True)
    beats = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, ELEM_SIZE, 8)]
    assert decode_element(beats) == Element(True, 0, True, ptr=0xABCD0008)
    # watermark interrupt enables (bits 3/4) are ignored
    assert decode_element([0x18 | 1 | 8 << 32, 0, 0]) == Element(False, 1, False, 8)
    assert element_fault(Element(True, 1, False, ptr=4)) is not None
    for bad in (Element(False, 1, False, 0), Element(False, 1, False, 12),
                Element(False, 1, False, 8, sar=4), Element(False, 1, False, 8, dar=2)):
        assert element_fault(bad) is not None
    assert element_fault(Element(False, 1, False, 8)) is None
    assert [fetch_beats(8, a, 0) for a in (0x1000, 0x1FF0, 0x1FF8)] == [3, 2, 1]
    assert fetch_beats(2, 0x1000, 0) == 2 and fetch_beats(2, 0x1010, 2) == 1
    assert msi_beat(0x1000, 0xAABBCCDD) == (0xAABBCCDD, 0x0F)
    assert msi_beat(0x1004, 0xAABBCCDD) == (0xAABBCCDD << 32, 0xF0)
    with pytest.raises(ValueError, match="4-byte"):
        msi_beat(0x1002, 1)
    with pytest.raises(ValueError):
        decode_element([0, 0])
    with pytest.raises(TypeError):
        encode_data(True, 0, 0)


# ----------------------------------------------------------------- registers
def test_ll_registers_rw_and_scrubbed():
    r = Rig()
    hw = r.hw
    for reg, mask in LL_REGS.items():
        assert hwrite(hw, reg, 0xFFFFFFFF) == Resp.OKAY
        assert hw.host_access(LiteAccess(False, host(reg))).data == mask
    pci_epc_reclaim_dma_chan(r.chan, True)
    assert all(hw.win_reg(G, reg) == 0 for reg in LL_REGS)


# ----------------------------------------------------------------- walks
@pytest.mark.parametrize("sizes", [
    [8], [4096], [65536], [8, 16, 24], [0x1008, 8, 0x2FF8, 4096],
    [8 * (i + 1) * 37 for i in range(16)],
])
def test_list_copies_every_element_once_and_stops_at_link(sizes):
    r = Rig()
    bl = blocks_for(sizes)
    r.run(bl)
    hw = r.hw
    assert hw.errors == []
    assert copied(hw, bl)
    assert hw.ch_stat(G) == STOPPED and hw.int_stat(G) == STOP_B
    assert [w.addr for w in r.walk("data")] == [LL + ELEM_SIZE * i for i in range(len(bl))]
    link = LL + ELEM_SIZE * len(bl)
    assert [w.addr for w in r.walk("end")] == [link]  # ends at the final link element
    assert hw.win_reg(G, regs.LLP_LO) == link  # LLP keeps the element's address
    assert [(m.addr, m.kind, m.user) for m in r.msis()] == [(MSI_STOP, "stop", F)]
    assert int.from_bytes(read_bytes(hw.mem, MSI_STOP, 4), "little") == MSI_DATA
    # every element fetch: 3 beats, ID g, ARUSER = owner
    f = r.tr.fetches(LL, LL + 0x1000)
    assert len(f) == len(bl) + 1
    assert all(x.len == 2 and x.id == G and x.user == F for _, x in f)
    # data bursts never cross 4 KiB on either side
    for _, x in r.tr.of(ArPresent) + r.tr.of(AwPresent):
        assert x.addr % 4096 + 8 * (x.len + 1) <= 4096


@pytest.mark.parametrize("off, shape", [(0xFF0, [2, 1]), (0xFF8, [1, 2])])
def test_element_crossing_4k_is_fetched_in_two_bursts(off, shape):
    r = Rig(base=0x2000 + off, region=48)
    bl = blocks_for([64])
    r.run(bl)
    f = r.tr.fetches(0x2000, 0x4000)
    assert [x.len + 1 for _, x in f[:2]] == shape
    assert f[0][1].addr == 0x2000 + off and f[1][1].addr == 0x3000
    assert r.hw.errors == [] and copied(r.hw, bl) and r.hw.ch_stat(G) == STOPPED


def test_max_burst_2_splits_the_element_fetch():
    r = Rig(max_burst=2)
    bl = blocks_for([64])
    r.run(bl)
    assert [x.len + 1 for _, x in r.tr.fetches()[:2]] == [2, 1]
    assert r.hw.errors == [] and copied(r.hw, bl)


def test_tcb_ring_toggles_cycle_state_and_ends_on_the_next_lap():
    """Elements CB=1; a TCB=0 link to a second segment; a TCB=1 link back to the
    start: lap two sees CB=1 != CCS=0 and ends at the first element."""
    r = Rig()
    hw = r.hw
    a, b = LL, LL + 0x400
    bl = blocks_for([64, 128, 256])
    put(hw, a, encode_data(bl[0].size, bl[0].sar, bl[0].dar), encode_link(b, cb=1, tcb=False))
    put(hw, b, encode_data(bl[1].size, bl[1].sar, bl[1].dar),
        encode_data(bl[2].size, bl[2].sar, bl[2].dar), encode_link(a, cb=1, tcb=True))
    start_raw(r, a)
    r.settle()
    assert hw.errors == [] and copied(hw, bl)
    assert [w.kind for w in r.walk()] == ["data", "link", "data", "data", "link", "end"]
    assert r.walk("end")[0].addr == a and hw.win_reg(G, regs.LLP_LO) == a
    assert hw.win_reg(G, regs.CYCLE_SYNC) & regs.CYCLE_SYNC_CCS_MASK == 0  # toggled once
    assert hw.ch_stat(G) == STOPPED and len(r.msis()) == 1


def test_cycle_bit_mismatch_on_first_element_moves_nothing():
    r = Rig()
    put(r.hw, LL, encode_data(64, SRC, DST, cb=0))
    start_raw(r, LL)
    r.settle()
    assert r.hw.ch_stat(G) == STOPPED and [w.kind for w in r.walk()] == ["end"]
    assert data_writes(r) == [] and len(r.tr.of(ArPresent)) == 1
    assert r.hw.errors == []


BAD = {
    "size0": encode_data(0, SRC, DST),
    "size12": encode_data(12, SRC, DST),
    "sar4": encode_data(64, SRC + 4, DST),
    "dar4": encode_data(64, SRC, DST + 4),
    "ptr4": encode_link(LL + 0x204, cb=1, tcb=False),
}


@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_element_aborts_before_its_data_moves(bad):
    r = Rig()
    hw = r.hw
    good = Block(SRC + 0x8000, DST + 0x8000, 64)  # one burst
    put(hw, LL, encode_data(good.size, good.sar, good.dar), BAD[bad])
    before = read_bytes(hw.mem, DST, 256)
    start_raw(r, LL)
    r.settle()
    assert hw.errors == []
    assert hw.ch_stat(G) == ABORTED and hw.int_stat(G) == ABORT_B
    kind = "bad_pointer" if bad == "ptr4" else "bad_element"
    assert [(w.kind, w.addr) for w in r.walk()] == [("data", LL), (kind, LL + ELEM_SIZE)]
    assert hw.win_reg(G, regs.LLP_LO) == LL + ELEM_SIZE
    assert copied(hw, [good]) and read_bytes(hw.mem, DST, 256) == before
    assert [x.addr for _, x in r.tr.of(ArPresent)] == [LL, good.sar, LL + ELEM_SIZE]
    assert [(m.addr, m.kind) for m in r.msis()] == [(MSI_ABORT, "abort")]


@pytest.mark.parametrize("case", ["llp4", "llp_hi_ok", "ch_en0"])
def test_bad_pointer_start_refused(case):
    r = Rig()
    hw = r.hw
    put(hw, LL, encode_data(64, SRC, DST), encode_link(LL, cb=0))
    if case == "ch_en0":
        start_raw(r, LL)
        r.settle()
        assert hw.ch_stat(G) == STOPPED
        assert hwrite(hw, regs.CH_EN, 0) == Resp.OKAY
        assert hwrite(hw, regs.DOORBELL, 1) == Resp.OKAY
        hw.step(8)
        assert hw.ch_stat(G) == ABORTED and len(r.tr.of(ArPresent)) == 3
    elif case == "llp4":
        start_raw(r, LL + 4)
        hw.step(8)
        assert hw.ch_stat(G) == ABORTED and r.tr.of(ArPresent) == []
        assert [m.kind for m in r.msis()] == ["abort"]
    else:  # only LLP_LO's low bits matter: a 64-bit pointer with odd HI is fine
        assert hwrite(hw, regs.LLP_HI, 0) == Resp.OKAY
        start_raw(r, LL)
        r.settle()
        assert hw.ch_stat(G) == STOPPED
    assert hw.errors == []


@pytest.mark.parametrize("where", ["fetch", "fetch_link", "data_r", "data_b"])
def test_bus_errors_abort_the_walk(where):
    r = Rig()
    hw = r.hw
    bl = blocks_for([256, 256])
    target = {"fetch": ("r", LL + ELEM_SIZE), "fetch_link": ("r", LL + 2 * ELEM_SIZE + 8),
              "data_r": ("r", bl[1].sar + 64), "data_b": ("b", bl[1].dar + 64)}[where]
    hw.fault = lambda kind, addr: Resp.SLVERR if (kind, addr) == target else None
    r.run(bl)
    assert hw.errors == []
    assert hw.ch_stat(G) == ABORTED and hw.int_stat(G) == ABORT_B
    kinds = [w.kind for w in r.walk()]
    assert kinds[-1] == ("fetch_error" if where.startswith("fetch") else "data_error")
    assert copied(hw, bl[:1])
    if where == "fetch":
        assert data_writes(r, bl[1].dar, bl[1].dar + 256) == []  # element 1 never copied
    assert [m.kind for m in r.msis()] == ["abort"]


# ----------------------------------------------------------------- MSI
@pytest.mark.parametrize("case", ["on", "addr0", "remote_off", "masked", "upper_lane"])
def test_msi_on_off_masked(case):
    r = Rig()
    hw = r.hw
    put(hw, LL, encode_data(64, SRC, DST), encode_link(LL, cb=0))
    addr = MSI_STOP + 4 if case == "upper_lane" else MSI_STOP
    setup = regs.INT_SETUP_RSTOP_EN_MASK | regs.INT_SETUP_RABORT_EN_MASK
    if case == "remote_off":
        setup = regs.INT_SETUP_LSTOP_EN_MASK
    if case == "masked":
        setup |= regs.INT_SETUP_SMASK_MASK
    start_raw(r, LL, setup=setup)
    assert hwrite(hw, regs.MSI_STOP_LO, 0 if case == "addr0" else addr) == Resp.OKAY
    r.settle()
    assert hw.ch_stat(G) == STOPPED and hw.errors == []
    ev = [x for x in hw.int_events if x.g == G]
    assert [x.kind for x in ev] == ["stop"]
    if case in ("on", "upper_lane"):
        assert ev[0].msi == addr
        aws = [(e, x) for e, x in r.tr.of(AwPresent) if x.addr == addr]
        assert len(aws) == 1 and aws[0][1].len == 0 and aws[0][1].user == F
        # presented after INT_STAT is set: the event's edge + 2 with an idle mover
        assert aws[0][0] == ev[0].edge + 2
        wb = [x for e, x in r.tr.of(WBeat) if e >= aws[0][0]]
        lane = addr % 8
        assert wb[0].strb == 0xF << lane and wb[0].data == MSI_DATA << (8 * lane)
        assert int.from_bytes(read_bytes(hw.mem, addr, 4), "little") == MSI_DATA
        assert irq_follows(hw)
    else:
        assert ev[0].msi is None and r.msis() == []


def irq_follows(hw: HwModel) -> bool:
    """irq_host[F] behaves as in SPEC 2.4 next to the MSI."""
    return bool(hw.irq_host() & 1 << F)


def test_start_is_ignored_while_its_msi_is_pending():
    """Decision 16: one MSI slot per channel; a START before the mover took the
    pending MSI changes nothing (no second event can be lost)."""
    r = Rig()
    hw = r.hw
    put(hw, LL, encode_data(64, SRC, DST), encode_link(LL, cb=0))
    start_raw(r, LL)
    hw.step_until(lambda h: h.msi_pending(G))
    assert hwrite(hw, regs.DOORBELL, 1) == Resp.OKAY  # same cycle the slot is full
    r.settle()
    assert hw.ch_stat(G) == STOPPED and len(r.msis()) == 1 and hw.errors == []


def test_local_channel_never_sends_msi():
    hw = HwModel(HwParams(mem_size=MEM))
    hw.mem[:] = np.frombuffer(os.urandom(MEM), np.uint8)
    port = ModelLocalPort(hw)
    cl = LocalLlClient(AuxDmaDir.EP_TO_RC, G, LlRegion(LL, 0x400),
                       MsiConfig(MSI_STOP, MSI_ABORT, MSI_DATA))
    bl = blocks_for([512, 64])
    run_sync(cl.start_ops(bl), port)
    hw.step_until(lambda h: h.ch_stat(G) != RUN)
    hw.step(10)
    assert hw.ch_stat(G) == STOPPED and copied(hw, bl) and hw.errors == []
    assert hw.msi_log == [] and hw.irq_loc()
    assert [x.msi for x in hw.int_events] == [None]
    st = run_sync(cl.handle_int_ops(), port)
    assert st.done and not st.aborted and st.ch_stat == STOPPED and not hw.irq_loc()


# ----------------------------------------------------------------- STOP / quiesce
def _phase_edge(r: Rig, phase: str, bl: list[Block]) -> None:
    """Step until the walk is in ``phase`` (the action then lands at cycle+1)."""
    hw = r.hw
    last = LL + ELEM_SIZE * len(bl)
    if phase == "fetch":  # an element fetch presented, its data not yet back
        hw.step_until(lambda h: any(x.addr == LL + ELEM_SIZE for _, x in r.tr.fetches()))
    elif phase == "mid_data":  # a data burst of element 1 read, not written yet
        hw.step_until(lambda h: any(x.addr == bl[1].sar + 64 for _, x in r.tr.of(ArPresent)))
    elif phase == "between":  # element 0 done at d; the action at d+1 precedes the pick
        hw.step_until(lambda h: len(r.walk("data")) == 1)
    elif phase == "final":  # the fetch of the final (link) element in flight
        hw.step_until(lambda h: any(x.addr == last for _, x in r.tr.fetches()))
    elif phase == "msi_pending":  # list consumed, its MSI not yet taken by the mover
        hw.step_until(lambda h: h.msi_pending(G))
    else:  # "after_end": stopped and the MSI written
        r.settle()


PHASES = ["fetch", "mid_data", "between", "final", "msi_pending", "after_end"]


@pytest.mark.parametrize("latency", [1, 5])
@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("action", ["stop", "quiesce", "fence"])
def test_stop_quiesce_fence_at_every_phase(action, phase, latency):
    r = Rig(latency=latency)
    hw = r.hw
    bl = blocks_for([256, 1024, 64])
    r.start(bl)
    _phase_edge(r, phase, bl)
    n_msi = len(r.msis())
    t0 = hw.cycle + 1
    if action == "stop":
        run_sync(r.cl.stop_ops(), r.port)
        r.settle()
    else:
        pci_epc_reclaim_dma_chan(r.chan, action == "quiesce")
        hw.step(64)
    assert hw.errors == []
    done = phase in ("final", "msi_pending", "after_end")  # the end wins (Decision 15)
    # no element fetch and no data burst presented after t0 (one at t0 completes); a
    # quiesce or the fence drops the write of a burst read before t0, a STOP writes it
    # (docs/microarch.md Decision 21): at most that one write after t0
    assert [e for e, x in r.tr.of(ArPresent) if e > t0] == []
    late = [e for e, x in data_writes(r) if e > t0]
    assert late == [] if action != "stop" or phase != "mid_data" else len(late) == 1, late
    if action == "stop":
        assert hw.ch_stat(G) == (STOPPED if done else ABORTED)
        assert [m.kind for m in r.msis()] == ["stop" if done else "abort"]
        return
    msis_after = [m for m in r.msis() if m.edge > t0]
    assert msis_after == []  # never from a QUIESCING or fenced channel
    if phase == "msi_pending":
        assert len(r.msis()) == n_msi and any(
            ev.kind == "msi_cancel" and ev.edge == t0 for ev in hw.events)
    if action == "quiesce":
        assert hw.own_state(G) == LOCAL and hw.own_stat(G) & regs.OWN_STAT_QDONE_MASK == 0
        rec = r.epc.backend.core.reclaims[-1]
        assert rec.q_cycles is not None and q_cycles_ok(t0, rec.q_cycles, hw.last_resp(G))
        assert t0 + rec.q_cycles <= quiesce_bound(t0, hw.last_resp(G))
        assert all(hw.win_reg(G, reg) == 0 for reg in LL_REGS)
    else:  # a plain reclaim of an exposed channel fences it
        assert hw.own_stat(G) & regs.OWN_STAT_UNSAFE_MASK
        assert hw.ch_stat(G) == (STOPPED if done else ABORTED)
        assert hw.win_reg(G, regs.MSI_STOP_LO) == MSI_STOP  # not scrubbed: endpoint's job
        assert r.epc.backend.core.fenced == {G}
        if not done:
            assert r.walk()[-1].kind == "stopped"


def test_kernel_api_end_to_end_reclaim_mid_walk():
    """pci_epc_delegate_dma_chan -> the host runs lists, handling each MSI as Linux
    does -> pci_epc_reclaim_dma_chan(chan, True) in the middle of a walk."""
    r = Rig()
    hw = r.hw
    for k, sizes in enumerate(([64, 4096], [8] * 5, [0x3008, 0x1000, 16])):
        bl = blocks_for(sizes, SRC + k * 0x10000, DST + k * 0x10000)
        n = len(r.msis())
        r.start(bl)
        hw.step_until(lambda h, n=n: len(r.msis()) > n)  # the MSI reaches the host
        st = run_sync(r.cl.handle_int_ops(), r.port)
        assert st.done and not st.aborted and st.ch_stat == STOPPED
        assert hw.int_stat(G) == 0 and copied(hw, bl)
    assert r.cl.configured and len(r.msis()) == 3
    bl = blocks_for([0x4000, 0x4000, 0x4000], SRC + 0x80000, DST + 0x80000)
    n0 = len(r.walk("data"))
    e_start = hw.cycle
    r.start(bl)
    hw.step_until(lambda h: len(r.walk("data")) > n0 and h.inflight(G))
    t0 = hw.cycle + 1
    fetched = {x.addr for e, x in r.tr.fetches() if e > e_start}   # this list's walk only
    pci_epc_reclaim_dma_chan(r.chan, True)
    hw.step(32)
    assert hw.errors == [] and hw.own_state(G) == LOCAL
    assert [x for e, x in r.tr.of(ArPresent) if e > t0] == []
    assert LL in fetched
    rec = r.epc.backend.core.reclaims[-1]
    assert q_cycles_ok(t0, rec.q_cycles, hw.last_resp(G))
    # the endpoint reuses the channel locally: a fresh program may read anything
    with pytest.raises(BusError):
        run_sync(r.cl.handle_int_ops(), r.port)  # the host lost the channel: SLVERR


def test_msi_once_per_event_over_many_lists():
    r = Rig()
    rng = random.Random(3)
    for k in range(6):
        sizes = [8 * rng.randint(1, 600) for _ in range(rng.randint(1, 4))]
        r.run(blocks_for(sizes, SRC + k * 0x20000, DST + k * 0x20000))
        run_sync(r.cl.handle_int_ops(), r.port)
    owed = [x for x in r.hw.int_events if x.msi is not None]
    assert len(owed) == 6 == len(r.msis()) and r.hw.errors == []
    assert [m.kind for m in r.msis()] == [x.kind for x in owed]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 1024).map(lambda n: 8 * n), min_size=1, max_size=16),
       soff=st.integers(0, 511).map(lambda n: 8 * n), doff=st.integers(0, 511).map(lambda n: 8 * n),
       base=st.integers(0, 200).map(lambda n: LL + 8 * n), latency=st.integers(1, 3))
def test_random_lists(sizes, soff, doff, base, latency):
    r = Rig(base=base, region=0x800, latency=latency)
    bl = blocks_for(sizes, SRC + soff, DST + doff)
    r.run(bl)
    assert r.hw.errors == [] and copied(r.hw, bl) and r.hw.ch_stat(G) == STOPPED
    assert len(r.walk("data")) == len(bl) and len(r.msis()) == 1


# ----------------------------------------------------------------- client input
def test_client_bad_input_is_refused_before_any_write():
    cl = HostLlClient(F, 0, 0, LlRegion(LL, 4 * ELEM_SIZE))
    for blocks, exc, msg in (([], ValueError, "empty"),
                             (blocks_for([8] * 4), ValueError, "holds"),
                             (["x"], TypeError, "Block")):
        gen = cl.start_ops(blocks)
        with pytest.raises(exc, match=msg):
            next(gen)
    with pytest.raises(ValueError, match="8-byte aligned"):
        LlRegion(LL + 4, 0x100)
    with pytest.raises(ValueError):
        Block(0, 0, 0)
    with pytest.raises(ValueError, match="4-byte"):
        MsiConfig(2, 0, 0)
    with pytest.raises(TypeError):
        HostLlClient(F, 0, 0, (LL, 64))
    ops = list(_ops_of(HostLlClient(F, 0, 0, LlRegion(LL, 4 * ELEM_SIZE)).start_ops(
        blocks_for([8] * 3))))
    assert isinstance(ops[5], MemWrite) and len(ops[5].data) == 4 * ELEM_SIZE


def _ops_of(gen):
    """Drive an op generator with OKAY / zero reads, yielding the ops (order check)."""
    res = None
    while True:
        try:
            op = gen.send(res)
        except StopIteration:
            return
        yield op
        res = 0 if isinstance(op, (Read, Write)) else None


def test_client_register_order_is_dw_edma_hdma():
    cl = HostLlClient(F, 0, 0, LlRegion(0x1_0000_1000, 0x100), MsiConfig(0x10, 0x20, 7))
    ops = list(_ops_of(cl.start_ops(blocks_for([8]))))
    from model.backend import host_win_addr
    name = {host_win_addr(F, 0, 0, r.offset): r.name for r in regs.REGS if r.space == "win"}
    seq = [("R" if isinstance(o, Read) else "W" if isinstance(o, Write) else "M",
            name.get(getattr(o, "addr", None), "mem")) for o in ops]
    assert seq == [("W", "MSI_STOP_LO"), ("W", "MSI_STOP_HI"), ("W", "MSI_ABORT_LO"),
                   ("W", "MSI_ABORT_HI"), ("W", "MSI_MSGDATA"), ("M", "mem"),
                   ("W", "CH_EN"), ("R", "INT_SETUP"), ("W", "INT_SETUP"), ("W", "CONTROL1"),
                   ("W", "LLP_LO"), ("W", "LLP_HI"), ("W", "CYCLE_SYNC"), ("W", "DOORBELL")]
    vals = {name[o.addr]: o.value for o in ops if isinstance(o, Write)}
    assert vals["LLP_LO"] == 0x1000 and vals["LLP_HI"] == 1
    assert vals["CYCLE_SYNC"] == 3 and vals["CONTROL1"] == 1 and vals["DOORBELL"] == 1
    assert vals["INT_SETUP"] == 0x78  # unmasked, local + remote STOP/ABORT enables
    # the MSI registers only once per channel
    ops2 = list(_ops_of(cl.start_ops(blocks_for([8]))))
    assert isinstance(ops2[0], MemWrite) and len(ops2) == len(ops) - 5


# ----------------------------------------------------------------- negative tests
def _planted_bus(r: Rig, mutate) -> None:
    """Plant a bug in the built-in mover: ``mutate(burst)`` right after each pick."""
    bus = r.hw._bus
    orig = bus.after

    def after(e: int) -> None:
        before = bus.b
        orig(e)
        if bus.b is not None and bus.b is not before:
            mutate(bus.b)

    bus.after = after


def _whats(hw: HwModel) -> str:
    return " | ".join(v.what for v in hw.errors)


def test_planted_msi_with_wrong_awuser_is_flagged():
    r = Rig()

    def bad(b):
        if b.kind == "msi":
            b.user = 0
    _planted_bus(r, bad)
    r.run(blocks_for([64]))
    assert "MSI AWUSER is not the owner's function" in _whats(r.hw)
    assert "AWUSER (requester function)" in _whats(r.hw)


def test_planted_fetch_with_wrong_aruser_is_flagged():
    r = Rig()

    def bad(b):
        if b.kind == "fetch":
            b.user = 0
    _planted_bus(r, bad)
    r.run(blocks_for([64]))
    assert "ARUSER is not the owner's function" in _whats(r.hw)


def test_planted_msi_wrong_data_and_strb_are_flagged():
    r = Rig()

    def bad(b):
        if b.kind == "msi":
            b.rdata = [b.rdata[0] ^ 1]
            b.wstrb = 0xFF
    _planted_bus(r, bad)
    r.run(blocks_for([64]))
    w = _whats(r.hw)
    assert "differs from the MSI data" in w and "WSTRB" in w


def test_planted_missing_msi_is_flagged():
    r = Rig()

    def drop(b):
        if b.kind == "msi":
            r.hw._bus.b = None
    _planted_bus(r, drop)
    r.start(blocks_for([64]))
    r.hw.step_until(lambda h: h.ch_stat(G) == STOPPED)
    r.hw.step(4)
    assert "no MSI AW presented after the pick" in _whats(r.hw)


def test_planted_fetch_after_t0_and_descriptor_read_after_reclaim_are_flagged():
    r = Rig()
    hw = r.hw
    r.run(blocks_for([64, 64]))
    pci_epc_reclaim_dma_chan(r.chan, True)
    e = hw.cycle + 1
    hw.edge(e, dma=[ArPresent(G, LL + ELEM_SIZE, 2, F)])  # the walk goes on: a bug
    w = _whats(hw)
    assert "AR for a channel not allowed to pick" in w
    assert "descriptor memory read after reclaim" in w


@pytest.mark.parametrize("when", ["quiescing", "fenced", "second"])
def test_planted_msi_from_wrong_state_or_twice_is_flagged(when):
    r = Rig()
    hw = r.hw
    r.run(blocks_for([64]))
    if when == "second":  # the MSI was written; a second one for the same event
        hw.edge(hw.cycle + 1, dma=[AwPresent(G, MSI_STOP, 0, F, MSI_SIZE)])
        assert "no MSI due" in _whats(hw)
        return
    t0 = hw.cycle + 1
    cmd = regs.CMD_RECLAIM | (regs.OWN_CMD_QUIESCE_MASK if when == "quiescing" else 0)
    hw.local_access(LiteAccess(True, own_addr(G, regs.OWN_CMD), cmd))
    hw.edge(t0 + 1, dma=[AwPresent(G, MSI_ABORT, 0, F, MSI_SIZE)])  # an MSI after t0: a bug
    state = "QUIESCING" if when == "quiescing" else "fenced"
    assert f"MSI from a {state} channel (after t0={t0})" in _whats(hw)


def test_planted_ar_where_the_msi_was_due_is_flagged():
    r = Rig()
    hw = r.hw
    r.start(blocks_for([64]))
    hw.step_until(lambda h: h.msi_pending(G) and h.ch_stat(G) == STOPPED
                  and not h._ch[G].msi)  # picked at the last edge: AW due next
    hw._bus.b = None  # the planted mover reads instead of writing the MSI
    hw.edge(hw.cycle + 1, dma=[ArPresent(G, MSI_STOP, 0, F)])
    assert "AR where the MSI write picked at edge" in _whats(hw)


def test_planted_wrong_axsize_is_flagged():
    """SPEC 3 sizes at the presentation edge: AWSIZE=2 for an MSI, 3 for every read
    (copy data and element fetch) and data write. The self-driven walk presents exactly
    those; its replay with one kind of request resized is flagged, by port, with the
    expected and actual AxSIZE."""
    r = Rig(latency=2, defer=True)
    mem0 = r.hw.mem.copy()
    log = _record(r)
    r.delegate()
    r.run(blocks_for([64, 0x1010]))
    assert r.hw.errors == [] and r.hw.msi_log
    seen = {(type(x), x.size) for item in log if item[0] == "edge" for x in item[4]
            if isinstance(x, (ArPresent, AwPresent))}
    assert seen == {(ArPresent, SIZE_BEAT), (AwPresent, SIZE_BEAT), (AwPresent, MSI_SIZE)}
    assert _replay(log, mem0).errors == []
    for cls, old, new, port, what in (
            (AwPresent, MSI_SIZE, SIZE_BEAT, "aw", "AWSIZE (an MSI"),
            (AwPresent, SIZE_BEAT, MSI_SIZE, "aw", "AWSIZE (a data write"),
            (ArPresent, SIZE_BEAT, MSI_SIZE, "ar", "ARSIZE")):
        def mutate(e, evs, cls=cls, old=old, new=new):
            return [dataclasses.replace(x, size=new) if type(x) is cls and x.size == old
                    else x for x in evs]
        bad = [v for v in _replay(log, mem0, mutate).errors if v.what.startswith(what)]
        assert bad, f"{cls.__name__} size {old} -> {new} not flagged"
        assert all((v.port, v.expected, v.actual) == (port, old, new) for v in bad)


def test_readme_example_runs(capsys):
    import pathlib
    import runpy

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "ll_host_client.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("msi: MsiWrite(") and "user=1, kind='stop'" in out[0]
    assert out[1] == "irq: IrqStatus(int_stat=1, ch_stat=3)"
    assert out[2].startswith("reclaim: ReclaimRecord(") and "q_cycles=2" in out[2]


def _record(r: Rig) -> list[tuple]:
    """Log every self-driven edge (accesses + DMA events) and every backdoor memory
    write of the host client, so a second model can replay them in checker mode."""
    log: list[tuple] = []
    hw, edge, mem_write = r.hw, r.hw.edge, r.port.mem_write

    def rec_edge(e, loc=None, host=None, dma=()):
        evs = list(dma)
        log.append(("edge", e, loc, host, evs))
        return edge(e, loc, host, evs)

    def rec_mem(addr, data):
        log.append(("mem", hw.cycle, addr, data))
        mem_write(addr, data)

    hw.edge = rec_edge
    r.port.mem_write = rec_mem
    return log


def _replay(log: list[tuple], mem0: np.ndarray, mutate=None) -> HwModel:
    """Checker mode: the recorded edges fed to a fresh predictor (as the scoreboard does)."""
    hw = HwModel(HwParams(mem_size=MEM), mem=mem0)
    for item in log:
        if item[0] == "mem":
            write_bytes(hw.mem, item[2], item[3])
            continue
        _, e, loc, host, evs = item
        if mutate is not None:
            evs = mutate(e, evs)
        hw.edge(e, loc, host, evs)
    return hw


def test_checker_mode_replay_predicts_the_same_walk():
    """The self-driven run, replayed edge by edge into a fresh model in checker mode:
    same walk, same INT_STAT events, same MSIs, no violation; a replay with the MSI's
    AW removed is caught."""
    r = Rig(latency=2, defer=True)
    mem0 = r.hw.mem.copy()
    log = _record(r)
    r.delegate()
    for k, sizes in enumerate(([64, 0x1010], [8] * 3)):
        r.run(blocks_for(sizes, SRC + k * 0x10000, DST + k * 0x10000))
        run_sync(r.cl.handle_int_ops(), r.port)
    r.start(blocks_for([0x2000], SRC + 0x40000, DST + 0x40000))
    r.hw.step(20)
    pci_epc_reclaim_dma_chan(r.chan, True)
    assert r.hw.errors == []
    hw2 = _replay(log, mem0)
    assert hw2.errors == []
    assert hw2.walk_events == r.hw.walk_events and hw2.int_events == r.hw.int_events
    assert hw2.msi_log == r.hw.msi_log and hw2.events == r.hw.events
    assert np.array_equal(hw2.mem, r.hw.mem)
    first_msi = r.hw.msi_log[0].edge
    hw3 = _replay(log, mem0, lambda e, evs: [x for x in evs if e != first_msi
                                               or not isinstance(x, (AwPresent, WBeat))])
    assert "no MSI AW presented after the pick" in _whats(hw3)


def test_software_writes_during_a_walk_do_not_steer_it():
    """Decision 14: LLP / CYCLE_SYNC written while RUNNING change the registers only;
    the walk writes its own pointer and cycle state back when it moves or ends."""
    r = Rig(latency=3)
    hw = r.hw
    bl = blocks_for([0x800, 64])
    r.start(bl)
    hw.step_until(lambda h: h.inflight(G))
    assert hwrite(hw, regs.LLP_LO, 0x7770) == Resp.OKAY
    assert hwrite(hw, regs.CYCLE_SYNC, 0) == Resp.OKAY
    assert hw.win_reg(G, regs.LLP_LO) == 0x7770
    r.settle()
    link = LL + ELEM_SIZE * len(bl)
    assert hw.errors == [] and copied(hw, bl) and hw.ch_stat(G) == STOPPED
    assert hw.win_reg(G, regs.LLP_LO) == link == hw.llp(G)
    assert hw.win_reg(G, regs.CYCLE_SYNC) & regs.CYCLE_SYNC_CCS_MASK


def test_planted_aw_instead_of_a_fetch_is_flagged():
    r = Rig()
    hw = r.hw
    put(hw, LL, encode_data(64, SRC, DST), encode_link(LL, cb=0))
    start_raw(r, LL)  # the START executed at hw.cycle: the pick of the fetch is next
    hw.step(1)
    assert hw.ch_stat(G) == RUN and hw._bus.b is not None and hw._bus.b.kind == "fetch"
    hw._bus.b = None  # the planted mover writes where it should fetch
    hw.edge(hw.cycle + 1, dma=[AwPresent(G, MSI_STOP, 0, F)])
    assert "the pick at edge" in _whats(hw) and "was a fetch burst" in _whats(hw)


def test_unfence_scrubs_the_msi_registers():
    """A fenced channel keeps the host's MSI addresses until endpoint software
    unfences it (model/backend.py unfence_ops zeroes every WIN_WMASK register)."""
    r = Rig()
    hw = r.hw
    r.run(blocks_for([64]))
    pci_epc_reclaim_dma_chan(r.chan, False)
    assert hw.own_stat(G) & regs.OWN_STAT_UNSAFE_MASK and hw.win_reg(G, regs.MSI_STOP_LO)
    r.epc.backend.unfence(AuxDmaDir.EP_TO_RC, G)
    assert all(hw.win_reg(G, reg) == 0 for reg in regs.WIN_WMASK)
    assert not hw.own_stat(G) & regs.OWN_STAT_UNSAFE_MASK and hw.errors == []


def test_bad_params_and_memwrite_without_memory():
    hw = HwModel(HwParams())
    from model.backend import ModelPort

    def gen():
        yield MemWrite(0, b"x")
    with pytest.raises(TypeError, match="no memory"):
        run_sync(gen(), ModelPort(hw))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1 << 16), max_burst=st.sampled_from([2, 4, 8, 16]),
       latency=st.integers(1, 3))
def test_walks_copies_and_msis_share_the_mover(seed, max_burst, latency):
    """Three walking channels owned by functions 0 and 1, plus a LOCAL single-block
    copy, all at once: round robin interleaves element fetches, data bursts and MSIs;
    the checker must agree with the built-in mover on every pick and every MSI must
    carry its owner's function."""
    rng = random.Random(seed)
    hw = HwModel(HwParams(mem_size=MEM, max_burst=max_burst), mem_latency=latency)
    hw.mem[:] = np.frombuffer(rng.randbytes(MEM), np.uint8)
    epc = Epc(ModelDwBackend(hw), max_functions=2)
    port = ModelHostPort(hw)
    jobs = []
    for k, (d, n, f) in enumerate(((0, 0, 0), (0, 1, 1), (1, 0, 1))):
        pci_epc_delegate_dma_chan(epc, f, 0, AuxDmaDir(d), n)
        cl = HostLlClient(f, d, n, LlRegion(LL + k * 0x800, 0x800),
                          MsiConfig(MSI_STOP + 16 * k, MSI_ABORT + 16 * k, k))
        sizes = [8 * rng.randint(1, 300) for _ in range(rng.randint(1, 6))]
        bl = blocks_for(sizes, SRC + k * 0x40000 + 8 * rng.randint(0, 500),
                        DST + k * 0x40000 + 8 * rng.randint(0, 500))
        jobs.append((d * regs.MAX_CH_PER_DIR + n, f, bl))
        run_sync(cl.start_ops(bl), port)
    lport = ModelLocalPort(hw)
    local = LocalLlClient(AuxDmaDir.RC_TO_EP, 1, LlRegion(LL + 0x2000, 0x400))
    lbl = blocks_for([8 * rng.randint(1, 400)], SRC + 0xC0000, DST + 0xC0000)
    run_sync(local.start_ops(lbl), lport)
    gs = [g for g, _, _ in jobs] + [regs.MAX_CH_PER_DIR + 1]
    hw.step_until(lambda h: all(h.ch_stat(g) != RUN and not h.msi_pending(g)
                                and not h.inflight(g) for g in gs), 400_000)
    assert hw.errors == []
    for g, f, bl in jobs:
        assert hw.ch_stat(g) == STOPPED and copied(hw, bl)
        assert [(m.user, m.kind) for m in hw.msi_log if m.g == g] == [(f, "stop")]
    assert copied(hw, lbl) and hw.ch_stat(regs.MAX_CH_PER_DIR + 1) == STOPPED
    assert not [m for m in hw.msi_log if m.g == regs.MAX_CH_PER_DIR + 1]


def test_start_while_the_msi_is_in_flight_is_not_ended_by_it():
    """The host starts the next list while its done MSI is still in flight (picked,
    B not back): the MSI's end is not engine work (microarch Decision 22), so the new
    walk runs to its own end; a STOP meanwhile ends it at once (no burst of its own)."""
    r = Rig(latency=20)
    hw = r.hw
    first = blocks_for([64])
    r.start(first)
    hw.step_until(lambda h: h.inflight(G) and not h.msi_pending(G) and bool(r.msis()))
    assert hw.ch_stat(G) == STOPPED
    second = blocks_for([128], src=SRC + 0x4000, dst=DST + 0x4000)
    r.start(second)  # the MSI's B arrives during these register writes
    r.settle()
    assert hw.ch_stat(G) == STOPPED and copied(hw, second) and hw.errors == []
    assert [m.kind for m in r.msis()] == ["stop", "stop"]
    # again, and STOP while only the MSI is in flight: ABORTED at that edge
    r.start(first)
    hw.step_until(lambda h: h.inflight(G) and not h.msi_pending(G) and len(r.msis()) == 3)
    run_sync(r.cl.start_ops(second), r.port)
    assert hw.inflight(G) or hw.ch_stat(G) == RUN
    run_sync(r.cl.stop_ops(), r.port)
    assert hw.ch_stat(G) == ABORTED   # at the STOP's edge: the walk had no burst of its own
    r.settle()
    assert hw.errors == [] and hw.ch_stat(G) == ABORTED
    assert [m.kind for m in r.msis()] == ["stop", "stop", "stop", "abort"], r.msis()
