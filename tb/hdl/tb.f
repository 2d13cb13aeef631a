tb_dma_deleg.v
