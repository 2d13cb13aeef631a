"""Delegate a channel, let the host's Linux run a linked list on it, take it back.

The README's "Linked-list mode" example on the predictor alone (SPEC v2 section 3; the
same client drives the RTL in tb/test_ll.py). Run from the repository root:
``PYTHONPATH=. .venv/bin/python examples/ll_host_client.py`` (tests/test_ll_model.py runs it).
"""

from model.backend import ModelDwBackend, run_sync
from model.epc import AuxDmaDir, Epc, pci_epc_delegate_dma_chan, pci_epc_reclaim_dma_chan
from model.hw import HwModel, HwParams
from model.llclient import Block, HostLlClient, LlRegion, ModelHostPort, MsiConfig

hw = HwModel(HwParams())  # the predictor with SPEC 3 (linked lists, MSI writes)
epc = Epc(ModelDwBackend(hw), max_functions=2)
chan = pci_epc_delegate_dma_chan(epc, 1, 0, AuxDmaDir.EP_TO_RC, 0)  # to host function 1
host = HostLlClient(1, AuxDmaDir.EP_TO_RC, 0, LlRegion(0x1000, 0x400),  # "what Linux does"
                    MsiConfig(stop=0xF000, abort=0xF004, data=0x1234))
port = ModelHostPort(hw)  # function 1's BAR window + host memory for the elements
run_sync(host.start_ops([Block(0x10000, 0x20000, 4096), Block(0x30000, 0x40000, 64)]), port)
hw.step_until(lambda h: h.msi_log)  # the walk runs until the done MSI reaches the host
print("msi:", hw.msi_log[-1])
print("irq:", run_sync(host.handle_int_ops(), port))  # INT_STAT, INT_CLEAR, CH_STAT
pci_epc_reclaim_dma_chan(chan, True)  # quiesce + scrub, channel back to LOCAL
print("reclaim:", epc.backend.core.reclaims[-1])
