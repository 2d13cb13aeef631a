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

// Layout of dd_axil_slave's `obs` and dd_mover's `obs` observation vectors (never read
// by the design): the registers the formal lemmas of hdl/dd_props.v and
// formal/dd_formal_top.v tie the checkers' own bookkeeping to (README "Independent checks").
`define DD_SOBS_AW_HELD   0
`define DD_SOBS_W_HELD    1
`define DD_SOBS_AWADDR    2     // 16 bits: the held AW address
`define DD_SOBS_WDATA     18    // 32 bits: the held W data
`define DD_SOBS_WSTRB     50    // 4 bits: the held W strobes
`define DD_SOBS_W         54
`define DD_MOBS_STATE     0     // 2 bits: S_IDLE 0, S_AR 1, S_R 2, S_W 3
`define DD_MOBS_MLEN      2     // 5 bits: beats of the burst
`define DD_MOBS_MUSER     7     // 4 bits: AxUSER latched at the pick
`define DD_MOBS_RCNT      11    // 5 bits: R beats taken
`define DD_MOBS_WCNT      16    // 5 bits: W beats sent
`define DD_MOBS_BUSY      21
`define DD_MOBS_CUR       22    // 4 bits: channel slot of the burst
`define DD_MOBS_FETCH     26    // the burst is an element fetch (read only)
`define DD_MOBS_MSI       27    // the burst is an MSI write (AW and one W beat only)
`define DD_MOBS_W         28
// dd_chan's `wk` observation vector: the walk and MSI slot state of one channel
`define DD_WK_FK          0     // 2 bits: element beats held (0..2)
`define DD_WK_LP          2     // 3 bits: the working list pointer's bits [2:0]
`define DD_WK_WALK        5     // the run is a linked-list walk
`define DD_WK_WPH         6     // ... in its data phase
`define DD_WK_MSI         7     // the MSI slot is full
`define DD_WK_W           8
`endif
