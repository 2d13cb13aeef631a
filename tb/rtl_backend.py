"""RTL backend: the DesignWare backend rules of model.backend, run on the RTL.

The rules and the command sequences live once in model.backend.DwBackendCore
as sans-IO op generators; this module only executes those ops over the local
AXI4-Lite port of the running simulation. So `apci_epc_delegate_dma_chan` on an
Epc built with RtlDwBackend reaches the RTL exactly like the model backend
reaches the Python hardware model.
"""

from __future__ import annotations

from typing import Any

from cocotb.triggers import Lock

from model.backend import BusError, DwBackendCore, DwChan, run_async
from model.epc import AuxDmaDir, Epc
from tb.env import TB


class RtlPort:
    """Op port over TB.loc (async)."""

    def __init__(self, tb: TB) -> None:
        self.tb = tb

    async def read(self, addr: int) -> int:
        r = await self.tb.loc.read(addr)
        if r.resp != 0:
            raise BusError(addr, r.resp, False)
        return r.data

    async def write(self, addr: int, value: int) -> int:
        return await self.tb.loc.write(addr, value)

    async def wait(self, cycles: int) -> None:
        await self.tb.cycles(cycles)


class RtlDwBackend:
    """EPC ops whose hardware work runs on the RTL through the local port."""

    def __init__(self, tb: TB, *, timeout: int = 20_000, poll: int = 4) -> None:
        p = tb.params
        self.tb = tb
        self.port = RtlPort(tb)
        self.core = DwBackendCore(p.wr_ch, p.rd_ch, p.num_func, timeout=timeout, poll=poll)

    async def probe(self) -> Any:
        return await run_async(self.core.probe_ops(), self.port)

    async def delegate_dma_chan(
        self, epc: Any, func_no: int, vfunc_no: int, dir: AuxDmaDir, hw_ch: int
    ) -> DwChan:
        return await run_async(self.core.delegate_ops(func_no, vfunc_no, dir, hw_ch), self.port)

    async def reclaim_dma_chan(
        self, epc: Any, func_no: int, vfunc_no: int, data: Any, quiesce: bool
    ) -> None:
        await run_async(self.core.reclaim_ops(data, quiesce), self.port)

    def request_local(self, dir: object, hw_ch: int) -> int:
        return self.core.request_local(dir, hw_ch)

    def release_local(self, dir: object, hw_ch: int) -> None:
        self.core.release_local(dir, hw_ch)

    async def unfence(self, dir: object, hw_ch: int) -> None:
        await run_async(self.core.unfence_ops(dir, hw_ch), self.port)


def rtl_epc(tb: TB, **kw: Any) -> tuple[Epc, RtlDwBackend]:
    """An Epc whose backend drives the RTL; its lock is a cocotb Lock."""
    be = RtlDwBackend(tb, **kw)
    return Epc(be, max_functions=tb.params.num_func, lock=Lock()), be
