// Layout of dd_chan's `win` observation vector: every register of one channel
// window, read by the property checker hdl/dd_props.v (never by the design).
// Plain storage (what only a write may change) occupies [DD_WDBG_STORE_W-1:0];
// above it sit what a linked-list walk also updates (LLP_LO/HI, CYCLE_SYNC.CCS)
// and the engine status (CH_STAT, INT_STAT).
`ifndef DD_WDBG_VH
`define DD_WDBG_VH
`define DD_WDBG_STORE_W   334
`define DD_WDBG_LLP       334
`define DD_WDBG_CCS       398
`define DD_WDBG_CH_STAT   399
`define DD_WDBG_INT_STOP  401
`define DD_WDBG_INT_ABORT 402
`define DD_WDBG_W         403
`endif
