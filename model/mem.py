"""Memory image helpers (numpy ``uint8``) shared by the predictor and the tb.

Why a separate module: the scoreboard mirrors the testbench's AXI RAM into the
predictor's image and both need the same little-endian 64-bit beat view; keeping
the byte/beat conversions here avoids two slightly different copies.
"""

from __future__ import annotations

import struct
from numbers import Integral

import numpy as np

__all__ = ["new_mem", "as_mem", "in_range", "read_u64", "write_u64", "read_beats", "write_beats",
           "read_bytes", "write_bytes"]

# (the beat conversions go through struct straight on the image's buffer: about a
# tenth of the time of slicing, copying and converting through numpy for a beat or a
# burst, and the predictor converts every beat of every copy)
_U64 = struct.Struct("<Q")


def new_mem(size: int) -> np.ndarray:
    """A zeroed image of ``size`` bytes."""
    return np.zeros(int(size), dtype=np.uint8)


def as_mem(mem: object, size: int) -> np.ndarray:
    """Validate and copy a user-supplied image (why copy: the model owns its image)."""
    if not isinstance(mem, np.ndarray):
        raise TypeError(f"mem must be a numpy array, got {type(mem).__name__}")
    if mem.dtype != np.uint8 or mem.ndim != 1:
        raise ValueError(f"mem must be a 1-D uint8 array, got {mem.dtype} with ndim={mem.ndim}")
    if mem.size != size:
        raise ValueError(f"mem has {mem.size} bytes, params.mem_size is {size}")
    return mem.copy()


def in_range(mem: np.ndarray, addr: int, nbytes: int) -> bool:
    """True iff ``[addr, addr+nbytes)`` lies inside the image."""
    return 0 <= addr and addr + nbytes <= mem.size


def read_u64(mem: np.ndarray, addr: int) -> int:
    """Little-endian 64-bit beat at ``addr`` (must be in range)."""
    return _U64.unpack_from(mem, addr)[0]


def write_u64(mem: np.ndarray, addr: int, data: int, strb: int = 0xFF) -> None:
    """Write the bytes of a 64-bit beat whose WSTRB bit is set (AXI byte lanes)."""
    if strb == 0xFF:
        _U64.pack_into(mem, addr, int(data))
        return
    raw = int(data).to_bytes(8, "little")
    for i in range(8):
        if strb >> i & 1:
            mem[addr + i] = raw[i]


def read_beats(mem: np.ndarray, addr: int, n: int) -> list[int]:
    """The ``n`` little-endian 64-bit beats from ``addr`` (all in range)."""
    return list(struct.unpack_from(f"<{n}Q", mem, addr))


def write_beats(mem: np.ndarray, addr: int, words: list[int]) -> None:
    """Write ``words`` as whole little-endian 64-bit beats from ``addr`` (all in range)."""
    struct.pack_into(f"<{len(words)}Q", mem, addr, *words)


def read_bytes(mem: np.ndarray, addr: int, n: int) -> bytes:
    """``n`` bytes at ``addr`` (for tests comparing source and destination)."""
    if not isinstance(addr, Integral) or not isinstance(n, Integral):
        raise TypeError("addr and n must be ints")
    if not in_range(mem, int(addr), int(n)) or n < 0:
        raise ValueError(f"[{addr:#x}, {addr:#x}+{n}) outside the {mem.size}-byte image")
    return mem[addr : addr + n].tobytes()


def write_bytes(mem: np.ndarray, addr: int, data: bytes) -> None:
    """Store ``data`` at ``addr`` (backdoor load, e.g. a test's source buffer)."""
    if not isinstance(addr, Integral):
        raise TypeError("addr must be an int")
    if not in_range(mem, int(addr), len(data)):
        raise ValueError(f"[{addr:#x}, +{len(data)}) outside the {mem.size}-byte image")
    mem[addr : addr + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)
