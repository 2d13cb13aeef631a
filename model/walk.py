"""Linked-list elements and MSI beats (SPEC v2 section 3): the format, once.

Why a module of its own: the predictor (:mod:`model.hw`) decodes the elements a walk
fetches, the host client (:mod:`model.llclient`) encodes them, and the tests build
bad ones; all three must agree on one layout, so it lives here and nowhere else.

An element is a 24-byte slot at an 8-byte-aligned address, little endian, fetched
as three 64-bit beats:

* data element: ``+0`` control (bit0 CB, bit1 TCB, bit2 LLP=0; other bits ignored),
  ``+4`` transfer size in bytes, ``+8`` SAR, ``+16`` DAR;
* link element: ``+0`` control (bit0 CB, bit1 TCB, bit2 LLP=1), ``+4`` reserved,
  ``+8`` pointer to the next element, ``+16`` ignored.

No cocotb import: pure Python, usable from plain pytest and from the testbench.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

__all__ = [
    "ELEM_BEATS",
    "ELEM_SIZE",
    "CTRL_CB",
    "CTRL_LLP",
    "CTRL_TCB",
    "Element",
    "decode_element",
    "element_fault",
    "encode_data",
    "encode_link",
    "fetch_beats",
    "msi_beat",
    "MSI_BYTES",
    "MSI_SIZE",
]

BEAT = 8  # bytes per 64-bit beat of the AXI4 master
PAGE = 4096  # AXI bursts never cross 4 KiB
ELEM_SIZE = 24  # bytes of one element slot
MSI_BYTES = 4  # an MSI writes one 32-bit word (SPEC 3)
MSI_SIZE = MSI_BYTES.bit_length() - 1  # its AWSIZE (2)
ELEM_BEATS = ELEM_SIZE // BEAT
CTRL_CB = 1 << 0  # cycle bit
CTRL_TCB = 1 << 1  # toggle cycle bit (link elements)
CTRL_LLP = 1 << 2  # 1: link element, 0: data element
MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Element:
    """One decoded element (``size``/``sar``/``dar`` of a link element are 0)."""

    link: bool
    cb: int
    tcb: bool
    size: int = 0
    sar: int = 0
    dar: int = 0
    ptr: int = 0


def _u(name: str, v: object, bits: int) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__} ({v!r})")
    iv = int(v)
    if not 0 <= iv < 1 << bits:
        raise ValueError(f"{name}={iv:#x} does not fit in {bits} bits")
    return iv


def decode_element(beats: list[int] | tuple[int, ...]) -> Element:
    """The element held by three fetched beats (beat 0 at the element address)."""
    if len(beats) != ELEM_BEATS:
        raise ValueError(f"an element is {ELEM_BEATS} beats, got {len(beats)}")
    b0, b1, b2 = (_u(f"beat {i}", b, 64) for i, b in enumerate(beats))
    ctrl = b0 & MASK32
    cb, tcb = ctrl & CTRL_CB, bool(ctrl & CTRL_TCB)
    if ctrl & CTRL_LLP:
        return Element(link=True, cb=cb, tcb=tcb, ptr=b1)
    return Element(link=False, cb=cb, tcb=tcb, size=b0 >> 32, sar=b1, dar=b2)


def element_fault(el: Element) -> str | None:
    """Why the walk aborts on this element (SPEC 3 steps 3/4), or None if it is good.

    Only meaningful for an element whose CB matched the cycle state: a mismatching
    one ends the walk whatever else it holds.
    """
    if el.link:
        return None if el.ptr % BEAT == 0 else f"link pointer {el.ptr:#x} not 8-byte aligned"
    if el.size == 0:
        return "data element of size 0"
    for name, v in (("size", el.size), ("SAR", el.sar), ("DAR", el.dar)):
        if v % BEAT:
            return f"data element {name} {v:#x} not 8-byte aligned"
    return None


def encode_data(size: int, sar: int, dar: int, *, cb: int = 1, tcb: bool = False) -> bytes:
    """The 24 bytes of a data element (``dw-edma`` writes CB=1 on data elements)."""
    size, sar, dar = _u("size", size, 32), _u("sar", sar, 64), _u("dar", dar, 64)
    ctrl = (_u("cb", cb, 1) * CTRL_CB) | (CTRL_TCB if tcb else 0)
    return ((size << 32 | ctrl).to_bytes(8, "little") + sar.to_bytes(8, "little")
            + dar.to_bytes(8, "little"))


def encode_link(ptr: int, *, cb: int = 0, tcb: bool = True) -> bytes:
    """The 24 bytes of a link element (the driver's final one: LLP|TCB, CB=0)."""
    ptr = _u("ptr", ptr, 64)
    ctrl = CTRL_LLP | (_u("cb", cb, 1) * CTRL_CB) | (CTRL_TCB if tcb else 0)
    return ctrl.to_bytes(8, "little") + ptr.to_bytes(8, "little") + bytes(8)


def fetch_beats(max_burst: int, addr: int, done: int) -> int:
    """Beats of the next element-fetch burst: the rest of the element's 3 beats, split
    at 4 KiB and at MAX_BURST (docs/microarch.md "Linked-list mode")."""
    return min(max_burst, ELEM_BEATS - done, (PAGE - addr % PAGE) // BEAT)


def msi_beat(addr: int, data: int) -> tuple[int, int]:
    """(WDATA, WSTRB) of the one-beat MSI write of ``data`` to 4-byte-aligned ``addr``
    on the 64-bit bus: the 4 byte lanes of that address (AWSIZE=2)."""
    lane = _u("addr", addr, 64) % BEAT
    if lane % MSI_BYTES:
        raise ValueError(f"MSI address {addr:#x} is not {MSI_BYTES}-byte aligned")
    return (_u("data", data, 8 * MSI_BYTES) << (8 * lane)), ((1 << MSI_BYTES) - 1) << lane
