// Property checker bound inside dma_deleg under `DD_PROPS (tb/runner.py PROPS_DEFINE);
// simulation and formal only, never synthesized. Paths relative to hdl/.
dd_props.v
