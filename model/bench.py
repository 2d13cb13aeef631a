"""Throughput of the pure-Python stack: kernel API + DW backend + hardware model.

A random mixed workload (delegate, host programming and transfers, host probes
from other functions, local clients, reclaims with and without quiesce, idle
steps) runs for a wall-clock budget; it prints operations per second (API calls
plus bus accesses) and model edges per second. Exit status 1 if the model
reports DMA-traffic violations or an API call misbehaves.

    python -m model.bench --seconds 5 --seed 1
"""

from __future__ import annotations

import argparse
import errno
import random
import sys
import time
from dataclasses import dataclass, field

from model import regs
from model.backend import ModelDwBackend, global_index, host_win_addr, loc_win_addr
from model.epc import (
    AuxDmaDir,
    DmaChan,
    Epc,
    EpcError,
    pci_epc_delegate_dma_chan,
    pci_epc_reclaim_dma_chan,
)
from model.hw import HwModel, HwParams, LiteAccess, Resp


@dataclass
class Stats:
    ops: int = 0
    delegations: int = 0
    busy: int = 0
    reclaims: int = 0
    refused_host: int = 0
    transfers: int = 0
    problems: list[str] = field(default_factory=list)


def run(
    seconds: float, seed: int, wr: int, rd: int, nf: int, max_ops: int | None = None
) -> tuple[Stats, ModelDwBackend, float, int]:
    """Run the workload; returns (stats, backend, elapsed seconds, model edges).

    The operation sequence depends only on ``seed``; ``max_ops`` (checked every 50
    operations) makes the run length deterministic too.
    """
    rng = random.Random(seed)
    hw = HwModel(HwParams(wr_ch=wr, rd_ch=rd, num_func=nf))
    be = ModelDwBackend(hw)
    epc = Epc(be, max_functions=nf)
    chans = [(d, n) for d in (0, 1) for n in range(wr if d == 0 else rd)]
    live: dict[int, tuple[DmaChan, int, int, int]] = {}  # g -> (chan, func, dir, n)
    st = Stats()
    mem = hw.params.mem_size

    def host(f: int, d: int, n: int, reg: int, value: int) -> int:
        st.ops += 1
        return hw.host_access(LiteAccess(True, host_win_addr(f, d, n, reg), value)).resp

    t_end = time.perf_counter() + seconds
    t0 = time.perf_counter()
    e0 = hw.cycle
    while time.perf_counter() < t_end and (max_ops is None or st.ops < max_ops):
        for _ in range(50):
            r = rng.random()
            if r < 0.2:  # delegate
                d, n = rng.choice(chans)
                f = rng.randrange(nf)
                st.ops += 1
                try:
                    chan = pci_epc_delegate_dma_chan(epc, f, 0, AuxDmaDir(d), n)
                except EpcError as e:
                    if e.errno != errno.EBUSY:
                        st.problems.append(f"delegate: {e}")
                    st.busy += 1
                else:
                    live[global_index(d, n)] = (chan, f, d, n)
                    st.delegations += 1
            elif r < 0.45 and live:  # owner programs and starts a transfer
                chan, f, d, n = live[rng.choice(list(live))]
                size = 8 * rng.randint(1, 128)
                src = 8 * rng.randrange((mem - size) // 8)
                dst = 8 * rng.randrange((mem - size) // 8)
                for reg, v in (
                    (regs.SAR_LO, src),
                    (regs.DAR_LO, dst),
                    (regs.XFER_SIZE, size),
                    (regs.CH_EN, 1),
                    (regs.DOORBELL, regs.DOORBELL_START_MASK),
                ):
                    if host(f, d, n, reg, v) != Resp.OKAY:
                        st.problems.append(f"owner f{f} refused on {(d, n)}")
                st.transfers += 1
            elif r < 0.55:  # somebody probes a random channel (often refused)
                d, n = rng.choice(chans)
                if host(rng.randrange(nf), d, n, regs.SAR_LO, 8) != Resp.OKAY:
                    st.refused_host += 1
            elif r < 0.6:  # local access to a window (refused while not LOCAL)
                d, n = rng.choice(chans)
                st.ops += 1
                hw.local_access(LiteAccess(True, loc_win_addr(d, n, regs.INT_SETUP), 0x10))
            elif r < 0.75 and live:  # reclaim
                g = rng.choice(list(live))
                chan = live.pop(g)[0]
                st.ops += 1
                pci_epc_reclaim_dma_chan(chan, rng.random() < 0.9)
                st.reclaims += 1
            elif r < 0.8:  # local DMA client
                d, n = rng.choice(chans)
                st.ops += 1
                try:
                    if global_index(d, n) in be.core.local:
                        be.release_local(AuxDmaDir(d), n)
                    else:
                        be.request_local(AuxDmaDir(d), n)
                except EpcError as e:
                    if e.errno != errno.EBUSY:
                        st.problems.append(f"local client: {e}")
            else:
                hw.step(rng.randint(1, 30))
    elapsed = time.perf_counter() - t0
    st.problems.extend(str(v) for v in hw.errors)
    return st, be, elapsed, hw.cycle - e0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--wr", type=int, default=2)
    ap.add_argument("--rd", type=int, default=2)
    ap.add_argument("--nf", type=int, default=2)
    ap.add_argument("--ops", type=int, default=None, help="stop after about this many ops")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 32)
    print(f"seed={seed}")
    st, be, elapsed, edges = run(a.seconds, seed, a.wr, a.rd, a.nf, a.ops)
    recs = be.core.reclaims
    q = [r.q_cycles for r in recs if r.q_cycles is not None]
    print(
        f"{st.ops} ops in {elapsed:.2f} s: {st.ops / elapsed:,.0f} ops/s; "
        f"{edges} model edges: {edges / elapsed:,.0f} edges/s"
    )
    print(
        f"delegations={st.delegations} ebusy={st.busy} reclaims={st.reclaims} "
        f"transfers={st.transfers} refused_host={st.refused_host} "
        f"unsafe={sum(r.unsafe for r in recs)} "
        f"q_cycles max={max(q, default=0)} mean={sum(q) / max(len(q), 1):.1f}"
    )
    if st.problems:
        print(f"{len(st.problems)} problem(s):", *st.problems[:10], sep="\n  ")
        print(
            f"reproduce: python -m model.bench --seconds 1e9 --seed {seed} --ops {st.ops} "
            f"--wr {a.wr} --rd {a.rd} --nf {a.nf}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
