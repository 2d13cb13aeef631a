"""What Linux does with a linked-list channel: the ``dw-edma`` HDMA driver as ops.

A user reads :class:`HostLlClient` as "what the host's Linux does" with a channel
delegated to its function, and :class:`LocalLlClient` as "what the endpoint's Linux
does" with a LOCAL channel. Both are *sans-IO*: every method returns an op generator
(``Read`` / ``Write`` / ``Wait`` / ``MemWrite`` of :mod:`model.backend`), so the same
code runs on the Python predictor (:func:`model.backend.run_sync` with
:class:`ModelHostPort` / :class:`ModelLocalPort`) and, later, on the RTL from cocotb
(:func:`model.backend.run_async` with ports that drive the AXI4-Lite masters and
write the testbench memory). Written from the public driver's behaviour, not copied:

Register order (``dw-hdma-v0-core.c``, native HDMA, linked-list start with
``first`` set — every :meth:`start_ops` here is the first chunk of a descriptor):

1. the chunk is written into the channel's linked-list region: one data element
   per block with CB=1, then a link element with LLP|TCB and CB=0 whose pointer is
   the region's start (so a second pass would see CB mismatch and stop);
2. CH_EN = 1;
3. INT_SETUP read, STOP/ABORT masks cleared, local STOP/ABORT enables set, and the
   remote STOP/ABORT enables too when the driver runs on the host (remote) side;
   written back;
4. CONTROL1 = LLE;
5. LLP_LO, then LLP_HI (two 32-bit writes: the register is not 64-bit aligned);
6. CYCLE_SYNC = CCS | CB;
7. (remote side) a dummy read of the linked-list memory so the element writes
   have landed before the doorbell (a posted-write flush); here the MemWrite is
   complete when its op returns, so no read is issued;
8. DOORBELL = START.

Once per channel (``ch_config``, before its first transfer): MSI_STOP_LO/HI,
MSI_ABORT_LO/HI, MSI_MSGDATA. Current kernels also write FUNC_NUM there (the
requester function); a delegated channel's traffic carries the owner's function
anyway (SPEC 2.4), so the client leaves FUNC_NUM alone.

Interrupt handling (``handle_int``): read INT_STAT; write INT_CLEAR with the
STOP/ABORT bits found; read CH_STAT to tell done from aborted.

Bad input (an empty list, a region not 8-byte aligned, a list larger than its
region, a block whose size does not fit the element) raises ``ValueError`` /
``TypeError`` before any op is yielded, so nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from model import regs
from model.backend import (
    BusError,
    MemWrite,
    ModelPort,
    Ops,
    Read,
    Write,
    host_win_addr,
    loc_win_addr,
)
from model.epc import AuxDmaDir
from model.hw import LiteAccess
from model.mem import write_bytes
from model.walk import ELEM_SIZE, encode_data, encode_link

__all__ = [
    "Block",
    "HostLlClient",
    "IrqStatus",
    "LlRegion",
    "LocalLlClient",
    "ModelHostPort",
    "ModelLocalPort",
    "MsiConfig",
]

ALIGN = 8  # elements sit at 8-byte-aligned addresses (SPEC 3)
RESP_OKAY = 0


def _int(name: str, v: object, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__} ({v!r})")
    iv = int(v)
    if not lo <= iv <= hi:
        raise ValueError(f"{name}={iv:#x} out of range [{lo:#x}, {hi:#x}]")
    return iv


@dataclass(frozen=True)
class Block:
    """One contiguous copy of a transfer: ``size`` bytes from ``sar`` to ``dar``.

    Alignment is the hardware's business (a misaligned block aborts the walk, which
    is what the tests want to see); only what cannot be encoded is refused here.
    """

    sar: int
    dar: int
    size: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "sar", _int("Block.sar", self.sar, 0, (1 << 64) - 1))
        object.__setattr__(self, "dar", _int("Block.dar", self.dar, 0, (1 << 64) - 1))
        object.__setattr__(self, "size", _int("Block.size", self.size, 1, 0xFFFFFFFF))


@dataclass(frozen=True)
class LlRegion:
    """The channel's linked-list memory (``ll_region`` in the driver)."""

    base: int
    size: int

    def __post_init__(self) -> None:
        base = _int("LlRegion.base", self.base, 0, (1 << 64) - 1)
        size = _int("LlRegion.size", self.size, ELEM_SIZE, 1 << 32)
        if base % ALIGN:
            raise ValueError(f"linked-list region base {base:#x} is not 8-byte aligned")
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "size", size)

    @property
    def capacity(self) -> int:
        """Data elements that fit, leaving room for the final link element."""
        return self.size // ELEM_SIZE - 1


@dataclass(frozen=True)
class MsiConfig:
    """MSI addresses and data programmed once per channel (0 = no MSI)."""

    stop: int
    abort: int
    data: int

    def __post_init__(self) -> None:
        for name in ("stop", "abort"):
            v = _int(f"MsiConfig.{name}", getattr(self, name), 0, (1 << 64) - 1)
            if v % 4:
                raise ValueError(f"MSI {name} address {v:#x} is not 4-byte aligned")
        _int("MsiConfig.data", self.data, 0, 0xFFFFFFFF)


@dataclass(frozen=True)
class IrqStatus:
    """What the interrupt handler read: INT_STAT before the clear, then CH_STAT."""

    int_stat: int
    ch_stat: int

    @property
    def done(self) -> bool:
        return bool(self.int_stat & regs.INT_STAT_STOP_MASK)

    @property
    def aborted(self) -> bool:
        return bool(self.int_stat & regs.INT_STAT_ABORT_MASK)


class _DwHdmaClient:
    """The driver's channel programming, independent of which port reaches it."""

    remote: bool  # the host side sets the remote interrupt enables

    def __init__(self, dir: AuxDmaDir | int, hw_ch: int, region: LlRegion,
                 msi: MsiConfig | None = None) -> None:
        if not isinstance(region, LlRegion):
            raise TypeError(f"region must be an LlRegion, got {type(region).__name__}")
        if msi is not None and not isinstance(msi, MsiConfig):
            raise TypeError(f"msi must be an MsiConfig or None, got {type(msi).__name__}")
        self.dir = AuxDmaDir(_int("dir", dir, 0, 1))
        self.hw_ch = _int("hw_ch", hw_ch, 0, regs.MAX_CH_PER_DIR - 1)
        self.region = region
        self.msi = msi
        self.configured = False  # ch_config done (once per channel)

    def _addr(self, reg: int) -> int:
        raise NotImplementedError  # pragma: no cover - each client defines its port

    # ------------------------------------------------------------ elements
    def list_bytes(self, blocks: Iterable[Block]) -> bytes:
        """The chunk in the driver's layout; raises before anything is written."""
        bl = list(blocks)
        if not bl:
            raise ValueError("empty transfer: the driver never starts a list of no blocks")
        for i, b in enumerate(bl):
            if not isinstance(b, Block):
                raise TypeError(f"block {i} must be a Block, got {type(b).__name__}")
        if len(bl) > self.region.capacity:
            raise ValueError(
                f"{len(bl)} blocks need {(len(bl) + 1) * ELEM_SIZE} bytes with the link "
                f"element; the region at {self.region.base:#x} holds {self.region.size}")
        out = b"".join(encode_data(b.size, b.sar, b.dar, cb=1) for b in bl)
        return out + encode_link(self.region.base, cb=0, tcb=True)

    # ------------------------------------------------------------ op generators
    def ch_config_ops(self) -> Ops:
        """MSI_STOP, MSI_ABORT, MSI_MSGDATA: once per channel."""
        m = self.msi if self.msi is not None else MsiConfig(0, 0, 0)
        for reg, v in ((regs.MSI_STOP_LO, m.stop & 0xFFFFFFFF), (regs.MSI_STOP_HI, m.stop >> 32),
                       (regs.MSI_ABORT_LO, m.abort & 0xFFFFFFFF),
                       (regs.MSI_ABORT_HI, m.abort >> 32), (regs.MSI_MSGDATA, m.data)):
            yield from self._write(reg, v)
        self.configured = True

    def start_ops(self, blocks: Iterable[Block]) -> Ops:
        """Write the list and start the channel in the driver's order (module doc)."""
        image = self.list_bytes(blocks)  # validated before the first op
        if not self.configured:
            yield from self.ch_config_ops()
        yield MemWrite(self.region.base, image)
        yield from self._write(regs.CH_EN, regs.CH_EN_EN_MASK)
        setup = yield Read(self._addr(regs.INT_SETUP))
        setup &= ~(regs.INT_SETUP_SMASK_MASK | regs.INT_SETUP_AMASK_MASK)
        setup |= regs.INT_SETUP_LSTOP_EN_MASK | regs.INT_SETUP_LABORT_EN_MASK
        if self.remote:
            setup |= regs.INT_SETUP_RSTOP_EN_MASK | regs.INT_SETUP_RABORT_EN_MASK
        yield from self._write(regs.INT_SETUP, setup)
        yield from self._write(regs.CONTROL1, regs.CONTROL1_LLE_MASK)
        yield from self._write(regs.LLP_LO, self.region.base & 0xFFFFFFFF)
        yield from self._write(regs.LLP_HI, self.region.base >> 32)
        yield from self._write(regs.CYCLE_SYNC,
                               regs.CYCLE_SYNC_CCS_MASK | regs.CYCLE_SYNC_CB_MASK)
        yield from self._write(regs.DOORBELL, regs.DOORBELL_START_MASK)

    def stop_ops(self) -> Ops:
        """dmaengine terminate: DOORBELL = STOP."""
        yield from self._write(regs.DOORBELL, regs.DOORBELL_STOP_MASK)

    def handle_int_ops(self) -> Ops:
        """The interrupt (MSI) handler: INT_STAT, clear what was set, CH_STAT."""
        st = yield Read(self._addr(regs.INT_STAT))
        bits = st & (regs.INT_STAT_STOP_MASK | regs.INT_STAT_ABORT_MASK)
        if bits:
            yield from self._write(regs.INT_CLEAR, bits)
        ch = yield Read(self._addr(regs.CH_STAT))
        return IrqStatus(st, ch & regs.CH_STAT_STATE_MASK)

    def _write(self, reg: int, value: int) -> Ops:
        addr = self._addr(reg)
        resp = yield Write(addr, value)
        if int(resp) != RESP_OKAY:
            raise BusError(addr, int(resp), True)


class HostLlClient(_DwHdmaClient):
    """"What Linux does" on the host: the ``dw-edma`` HDMA driver programming a
    channel delegated to its function ``func``, through that function's window."""

    remote = True

    def __init__(self, func: int, dir: AuxDmaDir | int, hw_ch: int, region: LlRegion,
                 msi: MsiConfig | None = None) -> None:
        super().__init__(dir, hw_ch, region, msi)
        self.func = _int("func", func, 0, 7)

    def _addr(self, reg: int) -> int:
        return host_win_addr(self.func, self.dir, self.hw_ch, reg)


class LocalLlClient(_DwHdmaClient):
    """"What Linux does" on the endpoint: the same driver with a LOCAL channel
    through the local port (only local interrupt enables; MSIs are never sent by a
    LOCAL channel, so ``msi`` is usually None)."""

    remote = False

    def _addr(self, reg: int) -> int:
        return loc_win_addr(self.dir, self.hw_ch, reg)


# --------------------------------------------------------------------------
# ports on the Python predictor
# --------------------------------------------------------------------------


class ModelHostPort:
    """The host AXI4-Lite port of a ``HwModel`` plus its memory, as an op port."""

    def __init__(self, hw: Any) -> None:
        self._hw = hw

    def read(self, addr: int) -> int:
        res = self._hw.host_access(LiteAccess(False, addr))
        if int(res.resp) != RESP_OKAY:
            raise BusError(addr, int(res.resp), False)
        return int(res.data)

    def write(self, addr: int, value: int) -> int:
        return int(self._hw.host_access(LiteAccess(True, addr, value)).resp)

    def wait(self, cycles: int) -> None:
        if cycles > 0:
            self._hw.step(cycles)

    def mem_write(self, addr: int, data: bytes) -> None:
        write_bytes(self._hw.mem, addr, data)


class ModelLocalPort(ModelPort):
    """The local port (:class:`model.backend.ModelPort`) plus the model's memory."""

    def mem_write(self, addr: int, data: bytes) -> None:
        write_bytes(self._hw.mem, addr, data)
