dd_axil_slave.v
dd_chan.v
dd_mover.v
dma_deleg.v
