"""Address arithmetic of both register ports: the one place it is written down.

Every encoder and decoder of a register address (the predictor, the backend, the
testbench's agents, scoreboard, coverage and timing checker) uses these functions;
the geometry constants come from model.regs (generated from regs/dma_deleg.rdl).
Channel g = dir * MAX_CH_PER_DIR + n (SPEC 2). Address bits [1:0] are ignored.
"""

from __future__ import annotations

from model import regs

NUM_G = 2 * regs.MAX_CH_PER_DIR  # channel slots, instantiated or not
OWN_END = regs.OWN_BASE + NUM_G * regs.OWN_STRIDE
LOC_WIN_END = regs.LOC_WIN_BASE + regs.MAX_CH_PER_DIR * regs.WIN_CH_STRIDE


def global_index(dir: int, n: int) -> int:
    """g of channel n of direction dir (EP_TO_RC 0, RC_TO_EP 1)."""
    return int(dir) * regs.MAX_CH_PER_DIR + n


def split(g: int) -> tuple[int, int]:
    """(dir, n) of channel g."""
    return divmod(g, regs.MAX_CH_PER_DIR)


def win_off(g: int) -> int:
    """Offset of channel g's window inside a 0x1000 window region."""
    d, n = split(g)
    return n * regs.WIN_CH_STRIDE + d * regs.WIN_DIR_STRIDE


def _g_of_win(off: int) -> int:
    return ((off // regs.WIN_DIR_STRIDE) & 1) * regs.MAX_CH_PER_DIR + off // regs.WIN_CH_STRIDE


def loc_win_addr(g: int, off: int) -> int:
    """Local-port address of window register `off` of channel g."""
    return regs.LOC_WIN_BASE + win_off(g) + off


def host_win_addr(f: int, g: int, off: int) -> int:
    """Host-port address of window register `off` of channel g through function f."""
    return f * regs.HOST_FUNC_STRIDE + win_off(g) + off


def own_addr(g: int, off: int) -> int:
    """Local address of ownership register `off` (OWN_CMD/OWN_STAT/Q_CYCLES) of g."""
    return regs.OWN_BASE + g * regs.OWN_STRIDE + off


def decode_local(addr: int) -> tuple[str, int, int] | None:
    """Local address -> ("own", g, off) or ("win", g, off); None for anything else.

    g is a slot 0..15 whether or not the parameters instantiate it; `off` of an
    ownership entry may be an unmapped word (0xC).
    """
    a = addr & 0xFFFC
    if regs.OWN_BASE <= a < OWN_END:
        g, off = divmod(a - regs.OWN_BASE, regs.OWN_STRIDE)
        return "own", g, off
    if regs.LOC_WIN_BASE <= a < LOC_WIN_END:
        off = a - regs.LOC_WIN_BASE
        return "win", _g_of_win(off), off % regs.WIN_SIZE
    return None


def decode_host(addr: int) -> tuple[int, int, int]:
    """Host address -> (function window f, channel slot g, register offset)."""
    a = addr & 0xFFFC
    f, off = divmod(a, regs.HOST_FUNC_STRIDE)
    return f, _g_of_win(off), off % regs.WIN_SIZE


def channel_of(port: str, addr: int) -> int | None:
    """Channel an address of `port` ("loc" or "host") refers to, if any."""
    if port == "host":
        return decode_host(addr)[1]
    d = decode_local(addr)
    return None if d is None else d[1]
