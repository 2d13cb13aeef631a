"""Delegate a DMA channel to host function 1, let the host program it, reclaim it.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python examples/delegate_reclaim.py``
(tests/test_backend.py runs it too).
"""

from model import regs
from model.backend import ModelDwBackend, host_win_addr
from model.epc import AuxDmaDir, Epc, pci_epc_delegate_dma_chan, pci_epc_reclaim_dma_chan
from model.hw import HwModel, HwParams, LiteAccess

hw = HwModel(HwParams(wr_ch=2, rd_ch=2, num_func=2))  # the hardware model
epc = Epc(ModelDwBackend(hw), max_functions=2)  # EPC with the DesignWare-style backend
chan = pci_epc_delegate_dma_chan(epc, 1, 0, AuxDmaDir.RC_TO_EP, 0)  # func 1, read ch 0
addr = host_win_addr(1, AuxDmaDir.RC_TO_EP, 0, regs.XFER_SIZE)  # host BAR of function 1
print("host write:", hw.host_access(LiteAccess(True, addr, 64)).resp.name)  # OKAY
pci_epc_reclaim_dma_chan(chan, True)  # quiesce + scrub, channel back to LOCAL
print("reclaim:", epc.backend.core.reclaims[-1])  # includes Q_CYCLES
print("host write:", hw.host_access(LiteAccess(True, addr, 64)).resp.name)  # SLVERR
