// Layout of dd_chan's `win` observation vector: every register of one channel
// window, read by the property checker hdl/dd_props.v (never by the design).
// Plain storage (what only a write may change) occupies [DD_WDBG_STORE_W-1:0];
// the engine status (CH_STAT, INT_STAT) sits above it.
`ifndef DD_WDBG_VH
`define DD_WDBG_VH
`define DD_WDBG_STORE_W   237
`define DD_WDBG_CH_STAT   237
`define DD_WDBG_INT_STOP  239
`define DD_WDBG_INT_ABORT 240
`define DD_WDBG_W         241
`endif
