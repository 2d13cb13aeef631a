"""DesignWare-style EPC backend: the delegation rules once, two ways to drive them.

:class:`DwBackendCore` holds the rules of SPEC 1 "DesignWare-style backend" and the
bookkeeping (delegated channels, local DMA clients, reclaim log). Everything that
touches hardware is a *sans-IO generator*: it yields operations and receives their
results, so the same code runs on the Python hardware model (:class:`ModelDwBackend`,
driven by :func:`run_sync`) and on the RTL over the local AXI4-Lite port in cocotb
(an async driver such as :func:`run_async`).

Op protocol (all a driver must implement)::

    Read(addr)          -> the driver sends back the 32-bit read data (int); on a
                           bus error (SLVERR/DECERR) it throws an exception into the
                           generator (``gen.throw``) instead, e.g. ``BusError``.
    Write(addr, value)  -> full-word write (WSTRB=0xF); the driver sends back the
                           response code as an int (0 OKAY, 2 SLVERR, 3 DECERR).
    Wait(cycles)        -> let ``cycles`` clock cycles pass; the driver sends None.
    MemWrite(addr, data) -> store ``data`` (bytes) in the memory the DMA reads (the
                           host client writes linked-list elements, model/llclient.py);
                           the driver sends None. Needed only by ports with a memory.

Addresses are local-port addresses built from ``model.regs`` names only. A driver
loop is ``op = gen.send(result)`` until ``StopIteration.value`` (the op's return
value); see :func:`run_sync` / :func:`run_async`.

Errors (``EpcError`` errno): VF -> EOPNOTSUPP; no DMA channels -> ENODEV; ``hw_ch``
out of range for the direction, or ``func_no`` beyond the hardware's functions ->
EINVAL; channel delegated, held by a local client, running, not LOCAL in hardware,
quarantined, fenced, or refused by the hardware (CMD_ERR) -> EBUSY; quiesce not done within
``timeout`` cycles -> :class:`QuiesceTimeout` (ETIMEDOUT); an unexpected hardware
answer -> EIO.
"""

from __future__ import annotations

import errno
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Protocol

from model import addrmap, regs
from model.addrmap import global_index, own_addr
from model.epc import AuxDmaDir, EpcError

__all__ = [
    "BusError",
    "DwBackendCore",
    "DwChan",
    "HwPort",
    "MemWrite",
    "ModelDwBackend",
    "ModelPort",
    "QuiesceTimeout",
    "Read",
    "ReclaimRecord",
    "Wait",
    "Write",
    "global_index",
    "host_win_addr",
    "loc_win_addr",
    "own_addr",
    "run_async",
    "run_sync",
]

RESP_OKAY = 0  # AXI OKAY; the only response code the core needs to know.


# --------------------------------------------------------------------------
# Ops
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read:
    addr: int


@dataclass(frozen=True, slots=True)
class Write:
    addr: int
    value: int


@dataclass(frozen=True, slots=True)
class Wait:
    cycles: int


@dataclass(frozen=True, slots=True)
class MemWrite:
    addr: int
    data: bytes


Op = Read | Write | Wait | MemWrite
Ops = Generator[Op, Any, Any]


class QuiesceTimeout(EpcError):
    """RECLAIM+QUIESCE did not reach LOCAL+QDONE within the bounded wait."""

    def __init__(self, g: int, cycles: int, stat: int) -> None:
        super().__init__(
            errno.ETIMEDOUT,
            f"channel g={g}: quiesce not done after {cycles} cycles (OWN_STAT=0x{stat:08x})",
        )
        self.g = g
        self.cycles = cycles
        self.stat = stat


class BusError(EpcError):
    """A local-port access answered SLVERR/DECERR where the backend needs OKAY."""

    def __init__(self, addr: int, resp: int, write: bool) -> None:
        kind = "write" if write else "read"
        super().__init__(errno.EIO, f"local {kind} 0x{addr:04x} got resp {resp}")
        self.addr = addr
        self.resp = resp


@dataclass(frozen=True, eq=False)
class DwChan:
    """The backend's opaque ``data`` for one delegation (identity matters)."""

    dir: AuxDmaDir
    hw_ch: int
    g: int
    func_no: int


@dataclass(frozen=True)
class ReclaimRecord:
    """One reclaim as seen by the backend; the scoreboard reports ``unsafe`` ones."""

    g: int
    quiesce: bool
    q_cycles: int | None  # Q_CYCLES after a quiesce; None without quiesce / on timeout
    unsafe: bool  # OWN_STAT.UNSAFE was set by a reclaim without quiesce
    timed_out: bool = False


# --------------------------------------------------------------------------
# Register addressing (names from model.regs only)
# --------------------------------------------------------------------------


def _fld(value: int, mask: int, lsb: int) -> int:
    return (value & mask) >> lsb


def loc_win_addr(dir: int, hw_ch: int, reg: int) -> int:
    """Local address of window register ``reg`` of channel ``(dir, hw_ch)``."""
    return addrmap.loc_win_addr(global_index(dir, hw_ch), reg)


def host_win_addr(func: int, dir: int, hw_ch: int, reg: int) -> int:
    """Host-port address of window register ``reg`` of ``(dir, hw_ch)`` via function ``func``."""
    return addrmap.host_win_addr(func, global_index(dir, hw_ch), reg)


def _own_state(stat: int) -> int:
    return _fld(stat, regs.OWN_STAT_STATE_MASK, regs.OWN_STAT_STATE_LSB)


def _norm_dir(dir: object) -> AuxDmaDir:
    if isinstance(dir, AuxDmaDir):
        return dir
    if type(dir) is int and dir in (0, 1):
        return AuxDmaDir(dir)
    raise EpcError(errno.EINVAL, f"bad direction {dir!r}")


# --------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------


class DwBackendCore:
    """DesignWare delegation rules + bookkeeping; hardware work as op generators.

    ``timeout`` bounds a quiesce in cycles (waits plus one per status poll);
    ``poll`` is the wait between status polls.
    """

    def __init__(
        self, wr_ch: int, rd_ch: int, num_func: int, *, timeout: int = 10_000, poll: int = 2
    ) -> None:
        for name, v in (("wr_ch", wr_ch), ("rd_ch", rd_ch)):
            if not 0 <= v <= regs.MAX_CH_PER_DIR:
                raise ValueError(f"{name}={v} outside 0..{regs.MAX_CH_PER_DIR}")
        if num_func < 0:
            raise ValueError(f"num_func={num_func} < 0")
        if timeout < 1 or poll < 0:
            raise ValueError("timeout must be >= 1 and poll >= 0")
        self.wr_ch = wr_ch
        self.rd_ch = rd_ch
        self.num_func = num_func
        self.timeout = timeout
        self.poll = poll
        self.delegated: dict[int, DwChan] = {}  # g -> data of the live delegation
        self.local: set[int] = set()  # g held by local DMA clients
        self.pending: set[int] = set()  # g with a delegation in progress
        self.stuck: set[int] = set()  # g whose reclaim failed: quarantined (EBUSY)
        # g fenced by an unsafe plain reclaim (SPEC v2 2.3): unusable (EBUSY) until the
        # endpoint calls unfence_ops; the backend never clears UNSAFE by itself
        self.fenced: set[int] = set()
        self.reclaims: list[ReclaimRecord] = []

    # -- pure checks ------------------------------------------------------
    def n_ch(self, dir: AuxDmaDir) -> int:
        return self.wr_ch if dir == AuxDmaDir.EP_TO_RC else self.rd_ch

    def _check_range(self, dir: object, hw_ch: object) -> tuple[AuxDmaDir, int]:
        ndir = _norm_dir(dir)
        if not (isinstance(hw_ch, int) and not isinstance(hw_ch, bool)):
            raise EpcError(errno.EINVAL, f"hw_ch must be an int, got {hw_ch!r}")
        if not 0 <= hw_ch < self.n_ch(ndir):
            raise EpcError(
                errno.EINVAL,
                f"hw_ch {hw_ch} out of range for {ndir.name} ({self.n_ch(ndir)} channels)",
            )
        return ndir, global_index(ndir, hw_ch)

    def _busy_reason(self, g: int) -> str | None:
        if g in self.delegated or g in self.pending:
            return "already delegated"
        if g in self.local:
            return "held by a local DMA client"
        if g in self.stuck:
            return "quarantined after a failed reclaim"
        if g in self.fenced:
            return "fenced after an unsafe reclaim (unfence it first)"
        return None

    def check_delegate(
        self, func_no: int, vfunc_no: int, dir: object, hw_ch: object
    ) -> tuple[AuxDmaDir, int]:
        """The bookkeeping rules, in SPEC order; returns (dir, g)."""
        if vfunc_no != 0:
            raise EpcError(errno.EOPNOTSUPP, "DMA delegation is for physical functions only")
        if self.wr_ch == 0 and self.rd_ch == 0:
            raise EpcError(errno.ENODEV, "no DMA engine")
        ndir, g = self._check_range(dir, hw_ch)
        if not 0 <= func_no < self.num_func:
            raise EpcError(errno.EINVAL, f"func_no {func_no} >= hardware functions {self.num_func}")
        why = self._busy_reason(g)
        if why is not None:
            raise EpcError(errno.EBUSY, f"channel {ndir.name}/{hw_ch} {why}")
        return ndir, g

    # -- local DMA clients (dw-edma channel requests on the endpoint) -------
    def request_local(self, dir: object, hw_ch: int) -> int:
        """Reserve a channel for a local DMA client; returns g."""
        ndir, g = self._check_range(dir, hw_ch)
        why = self._busy_reason(g)
        if why is not None:
            raise EpcError(errno.EBUSY, f"channel {ndir.name}/{hw_ch} {why}")
        self.local.add(g)
        return g

    def release_local(self, dir: object, hw_ch: int) -> None:
        ndir, g = self._check_range(dir, hw_ch)
        if g not in self.local:
            raise EpcError(errno.EINVAL, f"channel {ndir.name}/{hw_ch} not held locally")
        self.local.discard(g)

    # -- hardware work ------------------------------------------------------
    def probe_ops(self) -> Ops:
        """Check ID and that CONFIG matches this core's geometry (ENODEV/EIO)."""
        ident = yield Read(regs.ID)
        if ident != regs.ID_VALUE:
            raise EpcError(errno.ENODEV, f"ID 0x{ident:08x} != 0x{regs.ID_VALUE:08x}")
        cfg = yield Read(regs.CONFIG)
        got = (
            _fld(cfg, regs.CONFIG_WR_CH_MASK, regs.CONFIG_WR_CH_LSB),
            _fld(cfg, regs.CONFIG_RD_CH_MASK, regs.CONFIG_RD_CH_LSB),
            _fld(cfg, regs.CONFIG_NUM_FUNC_MASK, regs.CONFIG_NUM_FUNC_LSB),
        )
        if got != (self.wr_ch, self.rd_ch, self.num_func):
            raise EpcError(errno.EIO, f"CONFIG says (wr, rd, func)={got}")
        return got

    def delegate_ops(self, func_no: int, vfunc_no: int, dir: object, hw_ch: int) -> Ops:
        """Delegate; returns the opaque data (:class:`DwChan`)."""
        ndir, g = self.check_delegate(func_no, vfunc_no, dir, hw_ch)
        self.pending.add(g)  # a local request during our bus traffic sees EBUSY
        try:
            stat = yield Read(own_addr(g, regs.OWN_STAT))
            if _own_state(stat) != regs.OWN_LOCAL:
                raise EpcError(errno.EBUSY, f"channel g={g} not LOCAL in hardware")
            ch = yield Read(loc_win_addr(ndir, hw_ch, regs.CH_STAT))
            if _fld(ch, regs.CH_STAT_STATE_MASK, regs.CH_STAT_STATE_LSB) == regs.CH_RUNNING:
                raise EpcError(errno.EBUSY, f"channel g={g} is running")
            if stat & regs.OWN_STAT_CMD_ERR_MASK:  # stale: don't mistake it for ours
                yield from self._w1c(g, regs.OWN_STAT_CMD_ERR_MASK)
            cmd = (regs.CMD_DELEGATE << regs.OWN_CMD_CMD_LSB) | (func_no << regs.OWN_CMD_FUNC_LSB)
            yield from self._write(own_addr(g, regs.OWN_CMD), cmd)
            stat = yield Read(own_addr(g, regs.OWN_STAT))
            if stat & regs.OWN_STAT_CMD_ERR_MASK:
                yield from self._w1c(g, regs.OWN_STAT_CMD_ERR_MASK)
                raise EpcError(errno.EBUSY, f"channel g={g}: hardware refused DELEGATE")
            func = _fld(stat, regs.OWN_STAT_FUNC_MASK, regs.OWN_STAT_FUNC_LSB)
            if _own_state(stat) != regs.OWN_DELEGATED or func != func_no:
                raise EpcError(errno.EIO, f"channel g={g}: OWN_STAT=0x{stat:08x} after DELEGATE")
        finally:
            self.pending.discard(g)
        data = DwChan(ndir, hw_ch, g, func_no)
        self.delegated[g] = data
        return data

    def reclaim_ops(self, data: object, quiesce: bool) -> Ops:
        """Reclaim; appends a :class:`ReclaimRecord`. Failure quarantines the channel."""
        if not isinstance(data, DwChan) or self.delegated.get(data.g) is not data:
            raise EpcError(errno.EINVAL, f"not a live delegation of this backend: {data!r}")
        g = data.g
        del self.delegated[g]
        ok = False
        try:
            if quiesce:
                rec = yield from self._reclaim_quiesce(g)
            else:
                rec = yield from self._reclaim_plain(g)
            ok = True
        finally:
            if not ok:
                self.stuck.add(g)
        self.reclaims.append(rec)
        return rec

    def _reclaim_quiesce(self, g: int) -> Ops:
        cmd = (regs.CMD_RECLAIM << regs.OWN_CMD_CMD_LSB) | regs.OWN_CMD_QUIESCE_MASK
        yield from self._write(own_addr(g, regs.OWN_CMD), cmd)
        spent = 0
        while True:
            stat = yield Read(own_addr(g, regs.OWN_STAT))
            spent += 1
            if stat & regs.OWN_STAT_CMD_ERR_MASK:
                yield from self._w1c(g, regs.OWN_STAT_CMD_ERR_MASK)
                raise EpcError(errno.EIO, f"channel g={g}: hardware refused RECLAIM")
            if _own_state(stat) == regs.OWN_LOCAL and stat & regs.OWN_STAT_QDONE_MASK:
                break
            if spent >= self.timeout:
                self.reclaims.append(ReclaimRecord(g, True, None, False, timed_out=True))
                raise QuiesceTimeout(g, spent, stat)
            if self.poll:
                yield Wait(self.poll)
                spent += self.poll
        yield from self._w1c(g, regs.OWN_STAT_QDONE_MASK)
        q = yield Read(own_addr(g, regs.Q_CYCLES))
        return ReclaimRecord(g, True, q, False)

    def _reclaim_plain(self, g: int) -> Ops:
        yield from self._write(own_addr(g, regs.OWN_CMD), regs.CMD_RECLAIM << regs.OWN_CMD_CMD_LSB)
        stat = yield Read(own_addr(g, regs.OWN_STAT))
        if stat & regs.OWN_STAT_CMD_ERR_MASK:
            yield from self._w1c(g, regs.OWN_STAT_CMD_ERR_MASK)
            raise EpcError(errno.EIO, f"channel g={g}: hardware refused RECLAIM")
        if _own_state(stat) != regs.OWN_LOCAL:
            raise EpcError(errno.EIO, f"channel g={g}: OWN_STAT=0x{stat:08x} after RECLAIM")
        unsafe = bool(stat & regs.OWN_STAT_UNSAFE_MASK)
        if unsafe:  # fenced in hardware: left unusable, never handed back live
            self.fenced.add(g)
        return ReclaimRecord(g, False, None, unsafe)

    def unfence_ops(self, dir: object, hw_ch: int) -> Ops:
        """Make a fenced channel usable again (endpoint software, after an unsafe reclaim).

        Waits (bounded by ``timeout``) until the fenced transfer has ended, returns every
        writable window register to 0 and clears INT_STAT through the local port, so
        nothing the host wrote survives (addresses, interrupt enables), and only then
        clears UNSAFE: the hardware keeps the channel fenced until that last write.
        """
        ndir, g = self._check_range(dir, hw_ch)
        if g not in self.fenced:
            raise EpcError(errno.EINVAL, f"channel {ndir.name}/{hw_ch} is not fenced")
        spent = 0
        while True:
            ch = yield Read(loc_win_addr(ndir, hw_ch, regs.CH_STAT))
            if _fld(ch, regs.CH_STAT_STATE_MASK, regs.CH_STAT_STATE_LSB) != regs.CH_RUNNING:
                break
            if spent >= self.timeout:
                raise EpcError(errno.ETIMEDOUT,
                               f"channel g={g}: fenced transfer still running after {spent} cycles")
            spent += 1 + self.poll
            if self.poll:
                yield Wait(self.poll)
        # every stored (RW) register of the window, the SPEC 3 ones included (the host
        # may have left MSI addresses there)
        for off in regs.WIN_WMASK:
            yield from self._write(loc_win_addr(ndir, hw_ch, off), 0)
        yield from self._write(loc_win_addr(ndir, hw_ch, regs.INT_CLEAR),
                               regs.INT_CLEAR_STOP_MASK | regs.INT_CLEAR_ABORT_MASK)
        yield from self._w1c(g, regs.OWN_STAT_UNSAFE_MASK)
        stat = yield Read(own_addr(g, regs.OWN_STAT))
        if stat & regs.OWN_STAT_UNSAFE_MASK:
            raise EpcError(errno.EIO, f"channel g={g}: UNSAFE still set after clearing it")
        self.fenced.discard(g)

    def _write(self, addr: int, value: int) -> Ops:
        resp = yield Write(addr, value)
        if int(resp) != RESP_OKAY:
            raise BusError(addr, int(resp), True)

    def _w1c(self, g: int, mask: int) -> Ops:
        yield from self._write(own_addr(g, regs.OWN_STAT), mask)


# --------------------------------------------------------------------------
# Drivers
# --------------------------------------------------------------------------


class HwPort(Protocol):
    def read(self, addr: int) -> int: ...
    def write(self, addr: int, value: int) -> int: ...
    def wait(self, cycles: int) -> None: ...


def _advance(gen: Ops, result: Any, exc: BaseException | None) -> tuple[bool, Any]:
    """Hand the last op's result (or its exception) to the generator.

    Returns (True, return value) when the generator finished, else (False, next op).
    """
    try:
        op = gen.throw(exc) if exc is not None else gen.send(result)
    except StopIteration as stop:
        return True, stop.value
    return False, op


def _perform(op: object, port: Any) -> Any:
    """Start `op` on `port`: the port method's return value (awaitable on async ports)."""
    if isinstance(op, Read):
        return port.read(op.addr)
    if isinstance(op, Write):
        return port.write(op.addr, op.value)
    if isinstance(op, Wait):
        return port.wait(op.cycles)
    if isinstance(op, MemWrite):
        if not hasattr(port, "mem_write"):
            raise TypeError(f"{type(port).__name__} has no memory for {op!r}")
        return port.mem_write(op.addr, op.data)
    raise TypeError(f"unknown op {op!r}")


def run_sync(gen: Ops, port: HwPort) -> Any:
    """Run an op generator to completion on a synchronous port; return its value.

    Port exceptions are thrown into the generator so its cleanup runs.
    """
    result: Any = None
    exc: BaseException | None = None
    while True:
        done, op = _advance(gen, result, exc)
        if done:
            return op
        result, exc = None, None
        try:
            result = _perform(op, port)
        except Exception as e:  # noqa: BLE001 - thrown into the generator, re-raised there
            exc = e


async def run_async(gen: Ops, port: Any) -> Any:
    """Same as :func:`run_sync` for a port whose read/write/wait are coroutines."""
    result: Any = None
    exc: BaseException | None = None
    while True:
        done, op = _advance(gen, result, exc)
        if done:
            return op
        result, exc = None, None
        try:
            result = await _perform(op, port)
        except Exception as e:  # noqa: BLE001 - thrown into the generator, re-raised there
            exc = e


# --------------------------------------------------------------------------
# Model backend: the ops on the Python hardware predictor
# --------------------------------------------------------------------------


class ModelPort:
    """Local AXI4-Lite port of a ``model.hw.HwModel`` as an op port."""

    def __init__(self, hw: Any) -> None:
        from model.hw import LiteAccess  # late: model.hw is optional for the core

        self._hw = hw
        self._acc = LiteAccess

    def read(self, addr: int) -> int:
        res = self._hw.local_access(self._acc(False, addr))
        if int(res.resp) != RESP_OKAY:
            raise BusError(addr, int(res.resp), False)
        return int(res.data)

    def write(self, addr: int, value: int) -> int:
        return int(self._hw.local_access(self._acc(True, addr, value)).resp)

    def wait(self, cycles: int) -> None:
        if cycles > 0:
            self._hw.step(cycles)


class ModelDwBackend:
    """EPC ops (``delegate_dma_chan`` / ``reclaim_dma_chan``) on a ``HwModel``.

    The geometry comes from ``hw.params``; ``probe=True`` also reads ID/CONFIG
    through the local port and checks them (as a real driver would).
    """

    def __init__(
        self, hw: Any, *, timeout: int = 10_000, poll: int = 2, probe: bool = False
    ) -> None:
        p = hw.params
        self.hw = hw
        self.port = ModelPort(hw)
        self.core = DwBackendCore(p.wr_ch, p.rd_ch, p.num_func, timeout=timeout, poll=poll)
        if probe:
            run_sync(self.core.probe_ops(), self.port)

    def delegate_dma_chan(
        self, epc: Any, func_no: int, vfunc_no: int, dir: AuxDmaDir, hw_ch: int
    ) -> DwChan:
        return run_sync(self.core.delegate_ops(func_no, vfunc_no, dir, hw_ch), self.port)

    def reclaim_dma_chan(
        self, epc: Any, func_no: int, vfunc_no: int, data: Any, quiesce: bool
    ) -> None:
        run_sync(self.core.reclaim_ops(data, quiesce), self.port)

    # local DMA clients, forwarded for convenience
    def request_local(self, dir: object, hw_ch: int) -> int:
        return self.core.request_local(dir, hw_ch)

    def release_local(self, dir: object, hw_ch: int) -> None:
        self.core.release_local(dir, hw_ch)

    def unfence(self, dir: object, hw_ch: int) -> None:
        run_sync(self.core.unfence_ops(dir, hw_ch), self.port)
