"""Python mirror of the kernel EPC DMA-channel delegation API (SPEC.md section 1).

The C functions ``pci_epc_delegate_dma_chan()`` / ``pci_epc_reclaim_dma_chan()``
return ``-errno``; here they raise :class:`EpcError` whose ``.errno`` is the positive
errno, so the kernel's return value is ``-e.errno``.

Argument checking is written once (``_check_delegate`` / ``_check_reclaim``) and
shared by the synchronous functions (pure-Python model backend) and their async
twins ``apci_epc_*`` (cocotb RTL backend, whose ops are coroutines and whose lock
may be an async lock).

Decisions where Python is looser than C (documented so tests can pin them):

* ``dir`` (row 3): valid are the two :class:`AuxDmaDir` members and plain ``int``
  values 0/1 (C enum semantics: an ``int`` equal to an enumerator *is* that
  enumerator). ``bool``, other ``int`` subclasses (e.g. another ``IntEnum``), other
  ints and other types are EINVAL. The backend always receives an ``AuxDmaDir``.
* ``func_no`` / ``vfunc_no`` must be ``int`` (not ``bool``) in ``0..255`` (C ``u8``);
  anything else is "function invalid": row 2, EINVAL.
* ``hw_ch`` must be an ``int`` (not ``bool``) in ``0..65535`` (C ``u16``); anything
  else is EINVAL, checked together with ``dir`` in row 3, i.e. before the
  EOPNOTSUPP check of row 4. Whether the channel exists is the backend's business
  (row 5).
* ``epc`` must be an :class:`Epc` instance; anything else counts as row 1.
* Reclaim: ``quiesce`` must be a ``bool`` (EINVAL otherwise, checked first, even
  for ``chan=None``). ``chan`` must be ``None`` or a :class:`DmaChan` (EINVAL
  otherwise). A dead handle (already reclaimed) raises :class:`StaleDmaChanError`
  (an :class:`EpcError` with errno EINVAL) without calling the backend. A handle
  whose ``epc`` is ``None`` dies without a backend call, as the kernel's reclaim
  frees a handle whose ``epc`` is NULL.
* The handle dies when reclaim starts (as the C ``kfree`` always happens): if the
  backend's reclaim raises (e.g. a quiesce timeout), the exception propagates and
  the handle is dead anyway.
* Exceptions from a backend that are not :class:`EpcError` propagate unchanged:
  they are bugs and must not be disguised as an errno.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import inspect
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

__all__ = [
    "AuxDmaDir",
    "DmaChan",
    "Epc",
    "EpcError",
    "StaleDmaChanError",
    "apci_epc_delegate_dma_chan",
    "apci_epc_reclaim_dma_chan",
    "pci_epc_delegate_dma_chan",
    "pci_epc_reclaim_dma_chan",
]

U8_MAX = 0xFF
U16_MAX = 0xFFFF


class AuxDmaDir(IntEnum):
    """DMA direction relative to the endpoint (``enum pci_epc_aux_dma_dir``)."""

    EP_TO_RC = 0  #: endpoint writes into host memory (DesignWare "write" channel)
    RC_TO_EP = 1  #: endpoint reads from host memory (DesignWare "read" channel)


class EpcError(OSError):
    """An EPC call failed; ``.errno`` is the positive errno (kernel returns -errno)."""

    def __init__(self, err: int, detail: str | None = None) -> None:
        msg = os.strerror(err) if detail is None else f"{os.strerror(err)}: {detail}"
        super().__init__(err, msg)


class StaleDmaChanError(EpcError):
    """Reclaim of a handle that was already reclaimed (a use-after-free in C)."""

    def __init__(self, detail: str = "DMA channel handle already reclaimed") -> None:
        super().__init__(_errno.EINVAL, detail)


class Epc:
    """An endpoint controller: its ops (``backend``), function geometry and lock.

    ``backend`` is any object with ``delegate_dma_chan(epc, func_no, vfunc_no, dir,
    hw_ch) -> data`` and ``reclaim_dma_chan(epc, func_no, vfunc_no, data, quiesce)``
    (plain methods, or coroutine methods for the async API). ``max_vfs`` is ``None``
    or a sequence with one VF count per function. ``lock`` defaults to a
    ``threading.Lock``; pass an async lock (``asyncio.Lock``, cocotb ``Lock``) when
    the async API is used.
    """

    def __init__(
        self,
        backend: Any,
        max_functions: int = 1,
        max_vfs: list[int] | tuple[int, ...] | None = None,
        *,
        lock: Any = None,
    ) -> None:
        if not _is_int(max_functions) or not 0 <= max_functions <= U8_MAX:
            raise ValueError(f"max_functions must be an int in 0..255, got {max_functions!r}")
        if max_vfs is not None:
            max_vfs = tuple(max_vfs)
            if len(max_vfs) != max_functions or not all(
                _is_int(v) and 0 <= v <= U8_MAX for v in max_vfs
            ):
                raise ValueError(
                    "max_vfs must be None or one int in 0..255 per function, "
                    f"got {max_vfs!r} for max_functions={max_functions}"
                )
        self.backend = backend
        self.max_functions = max_functions
        self.max_vfs = max_vfs
        self.lock = threading.Lock() if lock is None else lock

    def __repr__(self) -> str:
        return (
            f"Epc(backend={self.backend!r}, max_functions={self.max_functions}, "
            f"max_vfs={self.max_vfs!r})"
        )


@dataclass(eq=False)
class DmaChan:
    """Opaque delegated-channel handle (``struct pci_epc_dma_chan``)."""

    epc: Epc
    func_no: int
    vfunc_no: int
    data: Any
    alive: bool = field(default=True)

    def __repr__(self) -> str:
        state = "alive" if self.alive else "dead"
        return (
            f"<DmaChan func={self.func_no} vfunc={self.vfunc_no} "
            f"data={self.data!r} {state}>"
        )


# --------------------------------------------------------------------------
# Argument checks, written once (sans-IO: no lock, no backend call).
# --------------------------------------------------------------------------


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_delegate(
    epc: object, func_no: object, vfunc_no: object, dir: object, hw_ch: object
) -> tuple[Callable[..., Any], AuxDmaDir]:
    """SPEC 1 rows 1-4 in order; returns (backend delegate op, normalised dir)."""
    # Row 1: no EPC or no ops.
    if not isinstance(epc, Epc):
        raise EpcError(_errno.EINVAL, f"epc is not an Epc: {epc!r}")
    if epc.backend is None:
        raise EpcError(_errno.EINVAL, "epc has no backend (ops)")
    # Row 2: function invalid (pci_epc_function_is_valid), incl. u8 type/range.
    if not _is_int(func_no) or not 0 <= func_no <= U8_MAX:
        raise EpcError(_errno.EINVAL, f"func_no must be an int in 0..255, got {func_no!r}")
    if not _is_int(vfunc_no) or not 0 <= vfunc_no <= U8_MAX:
        raise EpcError(_errno.EINVAL, f"vfunc_no must be an int in 0..255, got {vfunc_no!r}")
    if func_no >= epc.max_functions:
        raise EpcError(
            _errno.EINVAL, f"func_no {func_no} >= max_functions {epc.max_functions}"
        )
    if vfunc_no > 0 and (epc.max_vfs is None or vfunc_no > epc.max_vfs[func_no]):
        raise EpcError(_errno.EINVAL, f"vfunc_no {vfunc_no} invalid for function {func_no}")
    # Row 3: direction (C enum semantics), plus hw_ch's u16 type/range.
    if isinstance(dir, AuxDmaDir):
        ndir = dir
    elif type(dir) is int and dir in (0, 1):
        ndir = AuxDmaDir(dir)
    else:
        raise EpcError(_errno.EINVAL, f"dir must be AuxDmaDir.EP_TO_RC or RC_TO_EP, got {dir!r}")
    if not _is_int(hw_ch) or not 0 <= hw_ch <= U16_MAX:
        raise EpcError(_errno.EINVAL, f"hw_ch must be an int in 0..65535, got {hw_ch!r}")
    # Row 4: both ops must exist.
    delegate = getattr(epc.backend, "delegate_dma_chan", None)
    reclaim = getattr(epc.backend, "reclaim_dma_chan", None)
    if delegate is None or reclaim is None:
        raise EpcError(_errno.EOPNOTSUPP, "backend does not support DMA channel delegation")
    return delegate, ndir


def _check_reclaim(chan: object, quiesce: object) -> DmaChan | None:
    """Validate reclaim arguments; ``None`` means "nothing to do"."""
    if not isinstance(quiesce, bool):
        raise EpcError(_errno.EINVAL, f"quiesce must be a bool, got {quiesce!r}")
    if chan is None:
        return None
    if not isinstance(chan, DmaChan):
        raise EpcError(_errno.EINVAL, f"not a DMA channel handle: {chan!r}")
    return chan


def _kill(chan: DmaChan) -> Callable[..., Any] | None:
    """Mark ``chan`` dead (caller holds the lock); return the reclaim op or None."""
    if not chan.alive:
        raise StaleDmaChanError()
    chan.alive = False
    backend = None if chan.epc is None else chan.epc.backend
    return None if backend is None else getattr(backend, "reclaim_dma_chan", None)


def _lock_of(chan: DmaChan) -> Any:
    """The lock a reclaim holds: its EPC's, none for a handle without an EPC (the kernel's
    reclaim then calls no backend and only frees the handle; so does this one)."""
    return contextlib.nullcontext() if chan.epc is None else chan.epc.lock


# --------------------------------------------------------------------------
# Synchronous API (model backend).
# --------------------------------------------------------------------------


def pci_epc_delegate_dma_chan(
    epc: Epc, func_no: int, vfunc_no: int, dir: AuxDmaDir | int, hw_ch: int
) -> DmaChan:
    """Delegate channel ``(dir, hw_ch)`` of ``epc`` to the host; returns a handle."""
    delegate, ndir = _check_delegate(epc, func_no, vfunc_no, dir, hw_ch)
    with epc.lock:
        data = delegate(epc, func_no, vfunc_no, ndir, hw_ch)
    return DmaChan(epc, func_no, vfunc_no, data)


def pci_epc_reclaim_dma_chan(chan: DmaChan | None, quiesce: bool) -> None:
    """Return a delegated channel to local ownership; ``chan=None`` is a no-op."""
    ch = _check_reclaim(chan, quiesce)
    if ch is None:
        return
    with _lock_of(ch):
        reclaim = _kill(ch)
        if reclaim is not None:
            reclaim(ch.epc, ch.func_no, ch.vfunc_no, ch.data, quiesce)


# --------------------------------------------------------------------------
# Async twins (RTL backend under cocotb). Backend ops may be coroutine functions
# or plain functions; the lock may be async (``async with``) or a plain lock.
# --------------------------------------------------------------------------


class _ALock:
    """Enter ``lock`` with ``async with`` if it supports it, else ``with``."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    async def __aenter__(self) -> None:
        if hasattr(self._lock, "__aenter__"):
            await self._lock.__aenter__()
        else:
            self._lock.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        if hasattr(self._lock, "__aexit__"):
            await self._lock.__aexit__(*exc)
        else:
            self._lock.__exit__(*exc)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def apci_epc_delegate_dma_chan(
    epc: Epc, func_no: int, vfunc_no: int, dir: AuxDmaDir | int, hw_ch: int
) -> DmaChan:
    """Async twin of :func:`pci_epc_delegate_dma_chan` (same checks, same errors)."""
    delegate, ndir = _check_delegate(epc, func_no, vfunc_no, dir, hw_ch)
    async with _ALock(epc.lock):
        data = await _maybe_await(delegate(epc, func_no, vfunc_no, ndir, hw_ch))
    return DmaChan(epc, func_no, vfunc_no, data)


async def apci_epc_reclaim_dma_chan(chan: DmaChan | None, quiesce: bool) -> None:
    """Async twin of :func:`pci_epc_reclaim_dma_chan`."""
    ch = _check_reclaim(chan, quiesce)
    if ch is None:
        return
    async with _ALock(_lock_of(ch)):
        reclaim = _kill(ch)
        if reclaim is not None:
            await _maybe_await(reclaim(ch.epc, ch.func_no, ch.vfunc_no, ch.data, quiesce))
