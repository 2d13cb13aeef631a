"""Memory faults and latency for the cocotbext-axi AxiRam on the DMA master port.

AxiRam answers everything OKAY (its slave answers SLVERR only when the backing
memory raises) and has no latency knob beyond pause generators. `MemFaults` wraps
an existing AxiRam instance (TB builds a plain one; nothing in tb/env.py changes):

* ``add(lo, hi, resp, on="r"|"w"|"rw")``: R beats whose word address falls in
  ``[lo, hi)`` carry ``resp`` (SLVERR=2 / DECERR=3) instead of OKAY; a write burst
  with any beat in the range gets ``resp`` on B. The data is still read / stored:
  the predictor writes W data into its image as the beats go (it cannot know the
  B response yet), so storing keeps AxiRam and the image comparable.
* ``read_latency`` / ``write_latency``: extra cycles between the AR handshake and
  the first R beat of each burst / between the last W beat and B.
* ``protocol(kind)``: the memory breaks the AXI4 protocol once: ``"rid"`` the next R
  beat carries another RID, ``"bid"`` the next B another BID, ``"rlast"`` the next
  burst of two or more beats ends after its first beat, which carries RLAST (the rest
  of that burst is never sent). The protocol checker (tb/hdl/axi4_check.v) must name
  it and the mover must abort the channel, not hang (docs/microarch.md "Data mover").

Hooks, from cocotbext/axi/axi_slave.py: the read process calls ``_read(addr, n)``
per beat just before ``r_channel.send(r)``; the write process calls
``_write(addr, data)`` per written byte run and sends one B at the end. Both are
instance attributes here, so the class stays untouched.
"""

from __future__ import annotations

from cocotb.triggers import ClockCycles

from model.hw import Resp

OKAY, SLVERR, DECERR = int(Resp.OKAY), int(Resp.SLVERR), int(Resp.DECERR)

#: Memory-side protocol faults protocol() can inject (names = the checker rule they break).
PROTOCOL_FAULTS = ("rid", "bid", "rlast")


def check_fault(resp: int, on: str) -> None:
    """The rules of an error zone, for both lanes (MemFaults here, tb/tl.py TlFaults)."""
    if resp not in (SLVERR, DECERR):
        raise ValueError(f"resp must be SLVERR (2) or DECERR (3), got {resp}")
    if not set(on) <= {"r", "w"} or not on:
        raise ValueError(f"on must be 'r', 'w' or 'rw', got {on!r}")


class MemFaults:
    def __init__(self, ram, clock) -> None:
        self.ram = ram
        self.clock = clock
        self.faults: list[tuple[int, int, int, str]] = []
        self.read_latency = 0
        self.write_latency = 0
        self.injected = {"r": 0, "b": 0, "rid": 0, "bid": 0, "rlast": 0}
        self.log: list[tuple[str, int, int]] = []  # (kind, word address, resp) injected
        rd, wr = ram.read_if, ram.write_if
        self._r_resp = OKAY
        self._b_resp = OKAY
        self._proto: set[str] = set()   # armed protocol faults (protocol())
        self._swallow = False           # dropping the rest of a burst cut by an early RLAST

        orig_read, orig_write = rd._read, wr._write
        orig_ar_recv, orig_r_send = rd.ar_channel.recv, rd.r_channel.send
        orig_aw_recv, orig_b_send = wr.aw_channel.recv, wr.b_channel.send

        async def _read(address, length):
            self._r_resp = self._lookup(address, "r")
            if self._r_resp != OKAY:
                self.log.append(("r", address, self._r_resp))
            return await orig_read(address, length)

        async def r_send(r):
            if self._swallow:  # the rest of a burst that ended early: never sent
                self._swallow = not int(r.rlast)
                return
            if self._r_resp != OKAY:
                r.rresp = self._r_resp
                self.injected["r"] += 1
            if "rid" in self._proto:
                self._proto.discard("rid")
                r.rid = int(r.rid) ^ 1
                self.injected["rid"] += 1
            elif "rlast" in self._proto and not int(r.rlast):
                self._proto.discard("rlast")
                r.rlast = 1
                self._swallow = True
                self.injected["rlast"] += 1
            await orig_r_send(r)

        async def ar_recv():
            ar = await orig_ar_recv()
            if self.read_latency:
                await ClockCycles(self.clock, self.read_latency)
            return ar

        async def _write(address, data):
            resp = self._lookup(address, "w")
            if resp != OKAY:
                self._b_resp = max(self._b_resp, resp)
                self.log.append(("w", address, resp))
            await orig_write(address, data)

        async def aw_recv():
            aw = await orig_aw_recv()
            self._b_resp = OKAY
            return aw

        async def b_send(b):
            if self._b_resp != OKAY:
                b.bresp = self._b_resp
                self.injected["b"] += 1
            if "bid" in self._proto:
                self._proto.discard("bid")
                b.bid = int(b.bid) ^ 1
                self.injected["bid"] += 1
            if self.write_latency:
                await ClockCycles(self.clock, self.write_latency)
            await orig_b_send(b)

        rd._read, rd.r_channel.send, rd.ar_channel.recv = _read, r_send, ar_recv
        wr._write, wr.aw_channel.recv, wr.b_channel.send = _write, aw_recv, b_send

    def _lookup(self, address: int, kind: str) -> int:
        for lo, hi, resp, on in self.faults:
            if kind in on and lo <= address < hi:
                return resp
        return OKAY

    def add(self, lo: int, hi: int, resp: int, on: str = "rw") -> None:
        check_fault(resp, on)
        self.faults.append((lo, hi, resp, on))

    def protocol(self, kind: str) -> None:
        """Arm one protocol fault of the memory: "rid", "bid" or "rlast" (see above)."""
        if kind not in PROTOCOL_FAULTS:
            raise ValueError(f"protocol fault must be one of {PROTOCOL_FAULTS}, got {kind!r}")
        self._proto.add(kind)

    def clear(self) -> None:
        self.faults.clear()
