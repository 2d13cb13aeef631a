// Simulation top and the protocol checkers it instantiates (paths relative to tb/hdl/;
// tb/runner.py hdl_sources). The top-level wrapper comes last.
axi4_check.v
axil_check.v
tb_dma_deleg.v
