"""Agents: software-like users of the block, driving it through the TB ports.

HostAgent programs a delegated channel the way the Linux dw-edma host driver
programs an HDMA native channel through the BAR (enable, transfer size,
addresses, interrupt setup, doorbell, wait for the interrupt, read and clear
the status). LocalDma does the same for endpoint-local use of a channel.
Neither checks results itself: the scoreboard judges every access.
"""

from __future__ import annotations

from dataclasses import dataclass

from model import regs
from tb.env import TB, host_win, loc_win

INT_SETUP_HOST = regs.INT_SETUP_RSTOP_EN_MASK | regs.INT_SETUP_RABORT_EN_MASK
INT_SETUP_LOCAL = regs.INT_SETUP_LSTOP_EN_MASK | regs.INT_SETUP_LABORT_EN_MASK


@dataclass
class XferResult:
    ch_stat: int
    int_stat: int
    resps: list[int]


class _ChannelProgrammer:
    """Shared programming sequence; subclasses say which port and window."""

    int_setup = 0

    def __init__(self, tb: TB) -> None:
        self.tb = tb

    def port(self):
        raise NotImplementedError

    def addr(self, g: int, off: int) -> int:
        raise NotImplementedError

    #: the agent's interrupt line, as a bit of tb.irq_levels() (bit 0 irq_loc, 1+f irq_host[f])
    irq_line = 0

    def irq(self) -> bool:
        return bool(self.tb.irq_levels() >> self.irq_line & 1)

    async def write(self, g: int, off: int, value: int, strb: int = 0xF) -> int:
        return await self.port().write(self.addr(g, off), value, strb)

    async def read(self, g: int, off: int):
        return await self.port().read(self.addr(g, off))

    async def program(self, g: int, sar: int, dar: int, size: int, *, irq: bool = True) -> list[int]:
        """Program a copy (no doorbell); returns the write responses."""
        seq = [
            (regs.CH_EN, 1),
            (regs.XFER_SIZE, size),
            (regs.SAR_LO, sar & 0xFFFFFFFF),
            (regs.SAR_HI, sar >> 32),
            (regs.DAR_LO, dar & 0xFFFFFFFF),
            (regs.DAR_HI, dar >> 32),
            (regs.INT_SETUP, self.int_setup if irq else 0),
        ]
        # one batch on the transaction lane (TlPort.write_all), one write after another
        # on the vip lane: the same edges on the bus either way
        return await self.port().write_all((self.addr(g, off), val) for off, val in seq)

    async def start(self, g: int) -> int:
        return await self.write(g, regs.DOORBELL, regs.DOORBELL_START_MASK)

    async def stop(self, g: int) -> int:
        return await self.write(g, regs.DOORBELL, regs.DOORBELL_STOP_MASK)

    async def wait_done(self, g: int, timeout_cycles: int = 100_000, poll: int = 16) -> XferResult:
        """Wait for the channel's interrupt (or a final status), then clear it.

        The driver polls its interrupt line every ``poll`` cycles and reads the status
        when it finds the line high, and at every eighth poll anyway. The interrupt
        line is shared by the owner's channels, so it is a hint; the channel's own
        status decides (also polled now and then in case its interrupts are masked).
        The waits and the reads are ``tb.wait_status`` (on the transaction lane, most
        of them run in HDL: the same reads at the same edges, one Python wake)."""
        st = await self.tb.wait_status(self.port(), self.addr(g, regs.CH_STAT), self.irq_line,
                                       poll, timeout_cycles, regs.CH_RUNNING)
        if st is None:
            raise TimeoutError(f"channel {g}: no completion within {timeout_cycles} cycles; "
                               f"{self.tb.bus_snapshot()}")
        st = await self.read(g, regs.CH_STAT)
        it = await self.read(g, regs.INT_STAT)
        r = await self.write(g, regs.INT_CLEAR, regs.INT_CLEAR_STOP_MASK | regs.INT_CLEAR_ABORT_MASK)
        return XferResult(st.data, it.data, [st.resp, it.resp, r])

    async def copy(self, g: int, sar: int, dar: int, size: int, timeout_cycles: int = 100_000) -> XferResult:
        await self.program(g, sar, dar, size)
        await self.start(g)
        return await self.wait_done(g, timeout_cycles)


class HostAgent(_ChannelProgrammer):
    """The host driver of function `func`, reaching channels through its BAR window."""

    int_setup = INT_SETUP_HOST

    def __init__(self, tb: TB, func: int) -> None:
        super().__init__(tb)
        self.func = func
        self.irq_line = 1 + func

    def port(self):
        return self.tb.host

    def addr(self, g: int, off: int) -> int:
        return host_win(self.func, g, off)


class LocalDma(_ChannelProgrammer):
    """An endpoint-local DMA user of a LOCAL channel."""

    int_setup = INT_SETUP_LOCAL

    def port(self):
        return self.tb.loc

    def addr(self, g: int, off: int) -> int:
        return loc_win(g, off)
