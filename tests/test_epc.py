"""SPEC 1 kernel API: check order, errno, lock, handle life cycle, async twins."""

from __future__ import annotations

import asyncio
import errno
import threading
from enum import IntEnum

import pytest

from model import regs
from model.backend import ModelDwBackend, ModelPort
from model.epc import (
    AuxDmaDir,
    DmaChan,
    Epc,
    EpcError,
    StaleDmaChanError,
    apci_epc_delegate_dma_chan,
    apci_epc_reclaim_dma_chan,
    pci_epc_delegate_dma_chan,
    pci_epc_reclaim_dma_chan,
)
from model.hw import HwModel, HwParams

EP, RC = AuxDmaDir.EP_TO_RC, AuxDmaDir.RC_TO_EP


class FakeBackend:
    """Records every op call and checks the EPC lock is held during it."""

    def __init__(self, fail: BaseException | None = None, data: object = "data") -> None:
        self.calls: list[tuple] = []
        self.fail = fail
        self.data = data

    def delegate_dma_chan(self, epc, func_no, vfunc_no, dir, hw_ch):
        assert epc.lock.locked(), "backend called without epc.lock"
        self.calls.append(("delegate", func_no, vfunc_no, dir, type(dir), hw_ch))
        if self.fail is not None:
            raise self.fail
        return self.data

    def reclaim_dma_chan(self, epc, func_no, vfunc_no, data, quiesce):
        assert epc.lock.locked(), "backend called without epc.lock"
        self.calls.append(("reclaim", func_no, vfunc_no, data, quiesce))


class AsyncFakeBackend(FakeBackend):
    async def delegate_dma_chan(self, epc, func_no, vfunc_no, dir, hw_ch):
        await asyncio.sleep(0)
        return FakeBackend.delegate_dma_chan(self, epc, func_no, vfunc_no, dir, hw_ch)

    async def reclaim_dma_chan(self, epc, func_no, vfunc_no, data, quiesce):
        await asyncio.sleep(0)
        FakeBackend.reclaim_dma_chan(self, epc, func_no, vfunc_no, data, quiesce)


class NoReclaim:
    def delegate_dma_chan(self, *a):  # pragma: no cover - must never be called
        raise AssertionError("called")


def errno_of(fn, *args) -> int:
    with pytest.raises(EpcError) as ei:
        fn(*args)
    return ei.value.errno


def deleg_errno(*args) -> int:
    return errno_of(pci_epc_delegate_dma_chan, *args)


# ---------------------------------------------------------------- basics


def test_names_and_values():
    assert AuxDmaDir.EP_TO_RC == 0 and AuxDmaDir.RC_TO_EP == 1
    e = EpcError(errno.EBUSY)
    assert isinstance(e, OSError) and e.errno == errno.EBUSY and e.errno > 0
    assert "busy" in str(e).lower()
    assert issubclass(StaleDmaChanError, EpcError)
    assert StaleDmaChanError().errno == errno.EINVAL


def test_success_records_handle_and_calls_backend_once():
    be = FakeBackend(data={"opaque": 1})
    epc = Epc(be, max_functions=2)
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, RC, 3)
    assert isinstance(chan, DmaChan) and chan.alive
    assert (chan.epc, chan.func_no, chan.vfunc_no, chan.data) == (epc, 1, 0, {"opaque": 1})
    assert be.calls == [("delegate", 1, 0, RC, AuxDmaDir, 3)]
    assert not epc.lock.locked()
    pci_epc_reclaim_dma_chan(chan, True)
    assert be.calls[1] == ("reclaim", 1, 0, {"opaque": 1}, True)
    assert len(be.calls) == 2 and not chan.alive and not epc.lock.locked()


def test_data_none_is_a_valid_result():
    be = FakeBackend(data=None)
    chan = pci_epc_delegate_dma_chan(Epc(be), 0, 0, EP, 0)
    assert chan.data is None
    pci_epc_reclaim_dma_chan(chan, False)
    assert be.calls[-1] == ("reclaim", 0, 0, None, False)


# ---------------------------------------------------------------- row 1


@pytest.mark.parametrize("epc", [None, "not an epc", 0])
def test_row1_no_epc(epc):
    assert deleg_errno(epc, 0, 0, EP, 0) == errno.EINVAL


def test_row1_no_backend():
    assert deleg_errno(Epc(None), 0, 0, EP, 0) == errno.EINVAL


def test_row1_before_everything():
    # bad function, bad dir and bad hw_ch too: still row 1 (EINVAL, nothing called)
    assert deleg_errno(None, 99, 7, 5, -1) == errno.EINVAL
    assert deleg_errno(Epc(None), 99, 7, "x", -1) == errno.EINVAL


# ---------------------------------------------------------------- row 2


@pytest.mark.parametrize(
    "func_no, vfunc_no, max_functions, max_vfs",
    [
        (1, 0, 1, None),  # func_no >= max_functions
        (5, 0, 2, None),
        (0, 1, 1, None),  # VF with max_vfs None
        (0, 3, 2, [2, 5]),  # vfunc_no > max_vfs[func_no]
        (1, 1, 2, [2, 0]),
        (0, 0, 0, None),  # an EPC without functions
    ],
)
def test_row2_function_invalid(func_no, vfunc_no, max_functions, max_vfs):
    be = FakeBackend()
    epc = Epc(be, max_functions=max_functions, max_vfs=max_vfs)
    assert deleg_errno(epc, func_no, vfunc_no, EP, 0) == errno.EINVAL
    assert be.calls == []


def test_row2_valid_vf_reaches_backend():
    be = FakeBackend()
    epc = Epc(be, max_functions=2, max_vfs=[2, 5])
    pci_epc_delegate_dma_chan(epc, 1, 5, EP, 0)
    pci_epc_delegate_dma_chan(epc, 0, 2, EP, 0)
    assert [c[1:3] for c in be.calls] == [(1, 5), (0, 2)]


@pytest.mark.parametrize("bad", [-1, 256, 1.0, "0", None, True, False])
def test_row2_bad_types(bad):
    be = FakeBackend()
    epc = Epc(be, max_functions=2, max_vfs=[1, 1])
    assert deleg_errno(epc, bad, 0, EP, 0) == errno.EINVAL
    assert deleg_errno(epc, 0, bad, EP, 0) == errno.EINVAL
    assert be.calls == []


def test_row2_before_row3_and_row4():
    assert deleg_errno(Epc(NoReclaim()), 1, 0, 7, 0) == errno.EINVAL
    # bad func + missing ops -> EINVAL, not EOPNOTSUPP
    assert deleg_errno(Epc(object()), 1, 0, EP, 0) == errno.EINVAL


# ---------------------------------------------------------------- row 3


class OtherEnum(IntEnum):
    ZERO = 0
    ONE = 1


@pytest.mark.parametrize("bad", [2, -1, 255, True, False, None, "EP_TO_RC", 0.0, OtherEnum.ZERO])
def test_row3_bad_dir(bad):
    be = FakeBackend()
    assert deleg_errno(Epc(be), 0, 0, bad, 0) == errno.EINVAL
    assert be.calls == []


@pytest.mark.parametrize("d, want", [(0, EP), (1, RC), (EP, EP), (RC, RC)])
def test_row3_plain_ints_are_enum_values(d, want):
    be = FakeBackend()
    pci_epc_delegate_dma_chan(Epc(be), 0, 0, d, 0)
    (call,) = be.calls
    assert call[3] is want and call[4] is AuxDmaDir


@pytest.mark.parametrize("bad", [-1, 65536, 1.5, "1", None, True])
def test_row3_bad_hw_ch(bad):
    be = FakeBackend()
    assert deleg_errno(Epc(be), 0, 0, EP, bad) == errno.EINVAL
    assert be.calls == []


def test_hw_ch_full_u16_range_reaches_backend():
    be = FakeBackend()
    pci_epc_delegate_dma_chan(Epc(be), 0, 0, EP, 65535)
    assert be.calls[0][5] == 65535


def test_row3_before_row4():
    assert deleg_errno(Epc(NoReclaim()), 0, 0, 2, 0) == errno.EINVAL
    assert deleg_errno(Epc(object()), 0, 0, EP, -1) == errno.EINVAL


# ---------------------------------------------------------------- row 4


class OnlyReclaim:
    def reclaim_dma_chan(self, *a):  # pragma: no cover
        raise AssertionError("called")


class NoneOps:
    delegate_dma_chan = None
    reclaim_dma_chan = None


@pytest.mark.parametrize("backend", [object(), NoReclaim(), OnlyReclaim(), NoneOps()])
def test_row4_missing_ops(backend):
    assert deleg_errno(Epc(backend), 0, 0, EP, 0) == errno.EOPNOTSUPP


def test_row4_missing_op_set_to_none_on_instance():
    be = FakeBackend()
    be.reclaim_dma_chan = None
    assert deleg_errno(Epc(be), 0, 0, EP, 0) == errno.EOPNOTSUPP
    assert be.calls == []


# ---------------------------------------------------------------- row 5


@pytest.mark.parametrize(
    "err", [errno.EBUSY, errno.ENODEV, errno.EOPNOTSUPP, errno.EINVAL, errno.ETIMEDOUT]
)
def test_row5_backend_errno_propagates(err):
    be = FakeBackend(fail=EpcError(err))
    epc = Epc(be)
    with pytest.raises(EpcError) as ei:
        pci_epc_delegate_dma_chan(epc, 0, 0, RC, 1)
    assert ei.value.errno == err
    assert len(be.calls) == 1
    assert not epc.lock.locked()


def test_row5_non_epc_errors_are_not_hidden():
    be = FakeBackend(fail=ZeroDivisionError("bug"))
    epc = Epc(be)
    with pytest.raises(ZeroDivisionError):
        pci_epc_delegate_dma_chan(epc, 0, 0, RC, 1)
    assert not epc.lock.locked()


def test_lock_is_the_epc_lock():
    """The backend sees exactly epc.lock held (and a custom lock is used)."""
    seen = []

    class LockSpy(FakeBackend):
        def delegate_dma_chan(self, epc, *a):
            seen.append(epc.lock.locked())
            return super().delegate_dma_chan(epc, *a)

    class MyLock:
        def __init__(self):
            self._l = threading.Lock()
            self.entered = 0

        def __enter__(self):
            self.entered += 1
            return self._l.__enter__()

        def __exit__(self, *exc):
            return self._l.__exit__(*exc)

        def locked(self):
            return self._l.locked()

    lock = MyLock()
    epc = Epc(LockSpy(), lock=lock)
    assert epc.lock is lock
    pci_epc_delegate_dma_chan(epc, 0, 0, EP, 0)
    assert seen == [True] and lock.entered == 1


def test_lock_serialises_threads():
    """Concurrent delegations never overlap inside the backend."""
    inside = []
    overlap = []

    class Slow(FakeBackend):
        def delegate_dma_chan(self, epc, *a):
            inside.append(1)
            if len(inside) > 1:
                overlap.append(1)
            threading.Event().wait(0.002)
            inside.pop()
            return super().delegate_dma_chan(epc, *a)

    epc = Epc(Slow())
    ts = [
        threading.Thread(target=pci_epc_delegate_dma_chan, args=(epc, 0, 0, EP, i))
        for i in range(8)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert overlap == [] and len(epc.backend.calls) == 8


# ---------------------------------------------------------------- reclaim


class CountingPort(ModelPort):
    """ModelPort that counts every local access (each one would step the hardware)."""

    def __init__(self, hw) -> None:
        super().__init__(hw)
        self.accesses = 0

    def read(self, addr: int) -> int:
        self.accesses += 1
        return super().read(addr)

    def write(self, addr: int, value: int) -> int:
        self.accesses += 1
        return super().write(addr, value)


@pytest.mark.parametrize("q", [True, False])
@pytest.mark.parametrize("twin", ["sync", "async"])
def test_reclaim_none_does_nothing(q, twin):
    """reclaim(None) is a no-op: no backend op, no register access, no state change,
    and a live delegation next to it stays untouched."""
    hw = HwModel(HwParams())
    be = ModelDwBackend(hw)
    be.port = CountingPort(hw)
    epc = Epc(be, max_functions=hw.params.num_func)
    chan = pci_epc_delegate_dma_chan(epc, 1, 0, EP, 0)
    g = chan.data.g
    seen = (be.port.accesses, hw.cycle, hw.own_stat(g), list(be.core.reclaims))
    assert hw.own_state(g) == regs.OWN_DELEGATED and seen[0] > 0
    if twin == "sync":
        assert pci_epc_reclaim_dma_chan(None, q) is None
    else:
        assert asyncio.run(apci_epc_reclaim_dma_chan(None, q)) is None
    assert (be.port.accesses, hw.cycle, hw.own_stat(g), list(be.core.reclaims)) == seen
    assert chan.alive and not epc.lock.locked()
    pci_epc_reclaim_dma_chan(chan, q)  # the real handle still reclaims normally
    assert hw.own_state(g) == regs.OWN_LOCAL and be.port.accesses > seen[0]


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_handle_without_an_epc_is_freed_without_a_backend_call(twin: str) -> None:
    """The kernel's reclaim skips the backend when the handle's ``epc`` is NULL and frees
    the handle all the same (the seed patch: ``if (epc && epc->ops && ...)``): here the
    handle dies, nothing is called, and reusing it is the stale-handle error, never an
    AttributeError."""
    chan = DmaChan(epc=None, func_no=0, vfunc_no=0, data=None)   # type: ignore[arg-type]
    def reclaim() -> None:
        if twin == "sync":
            pci_epc_reclaim_dma_chan(chan, True)
        else:
            asyncio.run(apci_epc_reclaim_dma_chan(chan, True))
    reclaim()
    assert not chan.alive
    with pytest.raises(StaleDmaChanError):
        reclaim()


def test_double_reclaim_is_detected_without_backend_call():
    be = FakeBackend()
    chan = pci_epc_delegate_dma_chan(Epc(be), 0, 0, EP, 0)
    pci_epc_reclaim_dma_chan(chan, True)
    n = len(be.calls)
    with pytest.raises(StaleDmaChanError) as ei:
        pci_epc_reclaim_dma_chan(chan, True)
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(StaleDmaChanError):
        pci_epc_reclaim_dma_chan(chan, False)
    assert len(be.calls) == n
    assert not chan.epc.lock.locked()


@pytest.mark.parametrize("q", [1, 0, None, "yes"])
def test_reclaim_quiesce_must_be_bool(q):
    be = FakeBackend()
    chan = pci_epc_delegate_dma_chan(Epc(be), 0, 0, EP, 0)
    assert errno_of(pci_epc_reclaim_dma_chan, chan, q) == errno.EINVAL
    assert chan.alive and len(be.calls) == 1
    assert errno_of(pci_epc_reclaim_dma_chan, None, q) == errno.EINVAL


@pytest.mark.parametrize("bad", ["chan", 0, object(), {"epc": None}])
def test_reclaim_non_handle(bad):
    assert errno_of(pci_epc_reclaim_dma_chan, bad, True) == errno.EINVAL


def test_reclaim_without_reclaim_op_just_kills_handle():
    be = FakeBackend()
    epc = Epc(be)
    chan = pci_epc_delegate_dma_chan(epc, 0, 0, EP, 0)
    be.reclaim_dma_chan = None  # ops changed after delegation
    pci_epc_reclaim_dma_chan(chan, True)
    assert not chan.alive and len(be.calls) == 1
    chan2 = pci_epc_delegate_dma_chan(Epc(FakeBackend()), 0, 0, EP, 0)
    chan2.epc.backend = None
    pci_epc_reclaim_dma_chan(chan2, False)
    assert not chan2.alive
    with pytest.raises(StaleDmaChanError):
        pci_epc_reclaim_dma_chan(chan2, False)


def test_reclaim_backend_failure_still_kills_handle():
    class Boom(FakeBackend):
        def reclaim_dma_chan(self, *a):
            super().reclaim_dma_chan(*a)
            raise EpcError(errno.ETIMEDOUT)

    be = Boom()
    chan = pci_epc_delegate_dma_chan(Epc(be), 0, 0, EP, 0)
    with pytest.raises(EpcError) as ei:
        pci_epc_reclaim_dma_chan(chan, True)
    assert ei.value.errno == errno.ETIMEDOUT
    assert not chan.alive and not chan.epc.lock.locked()
    with pytest.raises(StaleDmaChanError):
        pci_epc_reclaim_dma_chan(chan, True)
    assert len(be.calls) == 2


def test_epc_constructor_validation():
    with pytest.raises(ValueError):
        Epc(FakeBackend(), max_functions=2, max_vfs=[1])
    with pytest.raises(ValueError):
        Epc(FakeBackend(), max_functions=-1)
    with pytest.raises(ValueError):
        Epc(FakeBackend(), max_functions=1, max_vfs=[-1])


# ---------------------------------------------------------------- async twins

CASES = [
    (None, 0, 0, EP, 0),
    ("epc-nobackend", 0, 0, EP, 0),
    ("epc", 2, 0, EP, 0),
    ("epc", 0, 1, EP, 0),
    ("epc", 0, 0, 2, 0),
    ("epc", 0, 0, True, 0),
    ("epc", 0, 0, EP, -1),
    ("epc-noops", 0, 0, EP, 0),
    ("epc-fail", 0, 0, RC, 1),
    ("epc", 1, 0, 1, 7),
    ("epc", 0, 0, EP, 0),
]


def _outcome(fn, case, backend_cls):
    be = backend_cls(fail=EpcError(errno.EBUSY)) if case[0] == "epc-fail" else backend_cls()
    epc = {
        None: None,
        "epc-nobackend": Epc(None, 2),
        "epc-noops": Epc(NoReclaim(), 2),
    }.get(case[0], Epc(be, max_functions=2))
    try:
        chan = fn(epc, *case[1:])
    except EpcError as e:
        return ("err", type(e), e.errno, be.calls)
    return ("ok", chan.func_no, chan.vfunc_no, chan.data, be.calls)


@pytest.mark.parametrize("case", CASES)
def test_async_delegate_matches_sync(case):
    sync = _outcome(pci_epc_delegate_dma_chan, case, FakeBackend)

    def run_async(*a):
        return asyncio.run(apci_epc_delegate_dma_chan(*a))

    assert _outcome(run_async, case, FakeBackend) == sync
    # coroutine backend + asyncio.Lock: same result as well
    def run_async_lock(epc, *a):
        async def go():
            if isinstance(epc, Epc):
                epc.lock = asyncio.Lock()
            return await apci_epc_delegate_dma_chan(epc, *a)

        return asyncio.run(go())

    assert _outcome(run_async_lock, case, AsyncFakeBackend) == sync


def test_async_reclaim_life_cycle():
    async def go():
        be = AsyncFakeBackend()
        epc = Epc(be, lock=asyncio.Lock())
        chan = await apci_epc_delegate_dma_chan(epc, 0, 0, RC, 1)
        await apci_epc_reclaim_dma_chan(None, True)
        await apci_epc_reclaim_dma_chan(chan, True)
        assert not chan.alive and not epc.lock.locked()
        with pytest.raises(StaleDmaChanError):
            await apci_epc_reclaim_dma_chan(chan, True)
        with pytest.raises(EpcError) as ei:
            await apci_epc_reclaim_dma_chan(chan, 1)
        assert ei.value.errno == errno.EINVAL
        return be.calls

    calls = asyncio.run(go())
    assert calls == [("delegate", 0, 0, RC, AuxDmaDir, 1), ("reclaim", 0, 0, "data", True)]


def test_async_lock_serialises_coroutines():
    async def go():
        inside = []
        overlap = []

        class Slow(AsyncFakeBackend):
            async def delegate_dma_chan(self, epc, *a):
                inside.append(1)
                overlap.append(len(inside) > 1)
                await asyncio.sleep(0.001)
                inside.pop()
                return await super().delegate_dma_chan(epc, *a)

        epc = Epc(Slow(), lock=asyncio.Lock())
        chans = await asyncio.gather(
            *(apci_epc_delegate_dma_chan(epc, 0, 0, EP, i) for i in range(6))
        )
        return overlap, chans

    overlap, chans = asyncio.run(go())
    assert not any(overlap) and len(chans) == 6
