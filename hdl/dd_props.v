// dd_props: security properties of dma_deleg (SPEC.md 2.3, 2.4), checked on every edge.
//
// Not part of the synthesizable block (hdl/props.f, not hdl/sources.f). dma_deleg
// instantiates it under `ifdef DD_PROPS`, so the same binding serves Icarus, Verilator
// and Yosys (which has no hierarchical references). The properties were written from
// SPEC, not from model/hw.py or the RTL's equations: each one relates what the ports
// show to the ownership state, and most are deliberately weaker than the exact rule
// (a necessary condition), so that they stay independent of the implementation.
//
// Edge e is the e-th rising edge of clk; at edge e this module sees S(e) (the values
// the design's flops sample at e), exactly like docs/microarch.md "Time".
//
// Reporting, without waking a testbench on every cycle: on an edge with at least one
// violation, `msg` (a string) names the first violated property, the edge and the
// detail, `fail_count` counts such edges and `fail_ev` toggles once. tb/env.py waits
// for `fail_ev` to change, reads `msg`, and records a scoreboard mismatch (port
// "prop"); TB.finish checks that it saw `fail_count` reports. Under `FORMAL` every
// property is an assertion instead (formal/).
//
// Properties (name in the message):
//   host_okay       a host access gets OKAY only if, at its execution edge, its channel
//                   is DELEGATED to the function of its window (and, for a write to
//                   FUNC_NUM, the value is that function: no requester spoofing)
//   host_read_zero  a refused host read returns 0
//   refused_write   a refused host write changes nothing: window storage and EXPOSED
//                   unchanged, no START, no interrupt status cleared
//   axi_user        AR/AW of a DELEGATED channel carry its owner's function; the AW of
//                   a burst carries the function its AR carried (an MSI write, AWSIZE=2
//                   in SPEC 3, has no AR: it is judged by the first rule alone, on the
//                   edge it is first presented)
//   req_after_t0    no new AR/AW for a channel that is QUIESCING or fenced (UNSAFE), and
//                   no MSI write (AWSIZE=2) from a channel that is not DELEGATED
//   scrub           the window is all zero on entering DELEGATED and on QUIESCING->LOCAL
//   irq_loc_source  irq_loc high only with a pending, enabled ownership interrupt or a
//                   LOCAL, unfenced channel with an interrupt status bit set
//   irq_host_source irq_host[f] high only with a channel DELEGATED to f that has an
//                   interrupt status bit set
//   host_one_txn    the host port takes one transaction at a time (SPEC 2): no AR
//                   handshake while a write half is accepted or held, or a response
//                   is pending
//   fence_start     a fenced channel (UNSAFE) that is not RUNNING does not become RUNNING:
//                   its DOORBELL START is refused (SPEC v2 2.3)
//   aw_size         an AW announces 4 bytes (AWSIZE=2) for an MSI write and 8 bytes
//                   (AWSIZE=3) for a copy's data write (SPEC 3). Unlike the others it
//                   is an implementation assertion: it compares AWSIZE with the
//                   mover's own burst kind (mv_obs), so it catches a wrong size for a
//                   known kind, not a burst of the wrong kind; SPEC names the kind by
//                   no port, and the model's AxSIZE rule (model/contract.py) judges
//                   the size independently of the RTL
//   q_bound         a QUIESCING channel that is not RUNNING is LOCAL within Q_IDLE_MAX
//                   edges: idle at t0, it is QUIESCING and not RUNNING from S(t0+1); a
//                   running one from the edge after its last response (SPEC 2.3 bound);
//                   an MSI write presented before t0 is waited for up to its B (SPEC 3)
`default_nettype none
`include "dma_deleg_regs.vh"
`include "dd_wdbg.vh"
module dd_props #(
    parameter NUM_FUNC = 2,
    parameter ID_W     = 4,
    parameter Q_IDLE_MAX = 4,     // SPEC 2.3; model/timing.py Q_IDLE_MAX (tests/test_props_consts.py)
    // verilator lint_off UNUSEDPARAM
    parameter MAX_BURST = 8,      // only the formal lemmas use it
    // verilator lint_on UNUSEDPARAM
    parameter MSG_W    = 8 * 256
) (
    input  wire                     clk,
    input  wire                     rst,
    // host AXI4-Lite port
    input  wire [15:0]              h_awaddr,
    input  wire                     h_awvalid,
    input  wire                     h_awready,
    input  wire [3:0]               h_wdata,      // WDATA[3:0]: a FUNC_NUM value
    input  wire                     h_wstrb,      // WSTRB[0]
    input  wire                     h_wvalid,
    input  wire                     h_wready,
    input  wire [1:0]               h_bresp,
    input  wire                     h_bvalid,
    input  wire [15:0]              h_araddr,
    input  wire                     h_arvalid,
    input  wire                     h_arready,
    input  wire [31:0]              h_rdata,
    input  wire [1:0]               h_rresp,
    input  wire                     h_rvalid,
    // local AXI4-Lite port (write address and data only)
    input  wire [15:0]              l_awaddr,
    input  wire                     l_awvalid,
    input  wire                     l_awready,
    input  wire                     l_wvalid,
    input  wire                     l_wready,
    // AXI4 master request channels
    input  wire [ID_W-1:0]          m_arid,
    input  wire [3:0]               m_aruser,
    input  wire                     m_arvalid,
    input  wire                     m_arready,
    input  wire [ID_W-1:0]          m_awid,
    input  wire [3:0]               m_awuser,
    input  wire                     m_awvalid,
    input  wire                     m_awready,
    input  wire [2:0]               m_awsize,
    input  wire [ID_W-1:0]          m_bid,
    input  wire                     m_bvalid,
    input  wire                     m_bready,
    // interrupts
    input  wire                     irq_loc,
    input  wire [NUM_FUNC-1:0]      irq_host,
    // ownership state and windows (16 channel slots, g = dir*8 + n)
    input  wire [15:0]              exists,
    input  wire [16*2-1:0]          st,
    input  wire [16*4-1:0]          func,
    input  wire [16*32-1:0]         own_stat,
    input  wire [15:0]              own_irq_stat,
    input  wire [15:0]              own_irq_en,
    input  wire [16*`DD_WDBG_W-1:0]  win_i,        // the windows (copied to `win` below)
    // internals, read by the formal lemmas (DD_LEMMAS): the AXI4-Lite slaves' held
    // halves and the mover's burst state (dd_wdbg.vh layouts); aw_size reads the
    // mover's BUSY and MSI bits too
    // (only the lemmas read most of them: a lint waiver, not an evaluated `_unused`
    // reduction, which a simulator would recompute at every change of these vectors)
    // verilator lint_off UNUSEDSIGNAL
    input  wire [`DD_SOBS_W-1:0]    h_obs,
    input  wire [`DD_SOBS_W-1:0]    l_obs,
    input  wire [`DD_MOBS_W-1:0]    mv_obs,
    input  wire [16*64-1:0]         src_v,        // each channel's working source,
    input  wire [16*64-1:0]         dst_v,        // destination and remaining bytes
    input  wire [16*32-1:0]         rem_v,
    input  wire [16*64-1:0]         maddr_v,      // each channel's MSI slot address
    input  wire [16*`DD_WK_W-1:0]   wk_v,         // each channel's walk / MSI slot state
    // verilator lint_on UNUSEDSIGNAL
    // reporting
    output reg  [MSG_W-1:0]         msg,
    output reg                      fail_ev,
    output reg  [31:0]              fail_count
);
    localparam [1:0] OKAY = 2'b00;
    // One copy of the 6,448-bit window vector for every reader below: on Icarus each
    // reader of the port's net rebuilt the whole vector bit by bit at every change of
    // any window register (a third of the register-heavy random test's time then,
    // docs/performance-log.md "Where the time goes"; dma_deleg.v now drives the net
    // with one concatenation, not 16 part-selects)
    reg [16*`DD_WDBG_W-1:0] win;
    always @* win = win_i;
    localparam NP = 12;
    localparam P_HOST_OKAY = 0, P_READ_ZERO = 1, P_REFUSED = 2, P_USER = 3, P_REQ = 4,
               P_SCRUB = 5, P_IRQ_LOC = 6, P_IRQ_HOST = 7, P_Q_BOUND = 8, P_ONE_TXN = 9,
               P_FENCE_START = 10, P_AW_SIZE = 11;

    // ------------------------------------------------------------ helpers
    function [1:0] st_of;   input [3:0] g; input [16*2-1:0] v; st_of = v[g*2 +: 2]; endfunction
    function [3:0] func_of; input [3:0] g; input [16*4-1:0] v; func_of = v[g*4 +: 4]; endfunction
    function       unsafe_of;
        input [3:0] g; input [16*32-1:0] v;
        unsafe_of = v[g*32 + `DD_OWN_STAT_UNSAFE_LSB];
    endfunction
    function       exposed_of;
        input [3:0] g; input [16*32-1:0] v;
        exposed_of = v[g*32 + `DD_OWN_STAT_EXPOSED_LSB];
    endfunction
    // Channel g's window: a mux over the 16 slots rather than win[g*W +: W], whose
    // shift by g*403 bits over all 6448 becomes a barrel shifter per use for the solver
    // (formal); slots that do not exist are constant 0 and drop out.
    function [`DD_WDBG_W-1:0] win_of;
        input [3:0] g; input [16*`DD_WDBG_W-1:0] w;
        integer n;
        begin
            win_of = {`DD_WDBG_W{1'b0}};
            for (n = 0; n < 16; n = n + 1)
                if (g == n[3:0]) win_of = w[n*`DD_WDBG_W +: `DD_WDBG_W];
        end
    endfunction
    // Is a host access through window addr[15:12] to channel {addr[8], addr[11:9]}
    // allowed by SPEC 2.4, against the ownership state given?
    function host_allowed;
        input [15:0]      a;
        input             we;
        input [3:0]       d;      // written value, FUNC_NUM bits
        input             s;      // WSTRB[0]
        input [15:0]      ex;
        input [16*2-1:0]  stv;
        input [16*4-1:0]  fv;
        reg   [3:0]       f, g;
        begin
            f = a[15:12];
            g = {a[8], a[11:9]};
            host_allowed = ({28'd0, f} < NUM_FUNC) && ex[g] && stv[g*2 +: 2] == `DD_ST_DELEGATED
                           && fv[g*4 +: 4] == f
                           && !(we && s && a[7:0] == `DD_WIN_FUNC_NUM && d != f);
        end
    endfunction

    // Checks are armed after the first reset; before it the design holds no defined state.
    reg armed;
    reg [63:0] edge_n;   // edges before this one: this edge is edge_n + 1 (tb's `cycle`)
`ifdef FORMAL
    // formal starts in reset (initial assume), so every reachable state is armed; not
    // gating on `armed` keeps the induction step from starting in an unarmed state where
    // the memory's assumptions are off while the lemmas judge the design
    wire chk = !rst;
`else
    wire chk = armed && !rst;
`endif

    // ------------------------------------------- host transactions (from the ports)
    // A write executes when both its AW and W halves have arrived, a read at its AR
    // handshake (SPEC 2, one transaction at a time, AW and W in either order).
    reg        h_awp, h_wp;
    reg [15:0] h_awq;
    reg [3:0]  h_wdq;         // only FUNC_NUM's bits and WSTRB[0] matter to the verdict
    reg        h_wsq;
    wire        h_aw_hs = h_awvalid && h_awready;
    wire        h_w_hs  = h_wvalid && h_wready;
    wire        h_wexec = (h_awp || h_aw_hs) && (h_wp || h_w_hs);
    wire [15:0] h_wa    = h_awp ? h_awq : h_awaddr;
    wire [3:0]  h_wd    = h_wp ? h_wdq : h_wdata;
    wire        h_ws    = h_wp ? h_wsq : h_wstrb;
    wire        h_rexec = h_arvalid && h_arready;
    wire [3:0]  h_wg    = {h_wa[8], h_wa[11:9]};
    wire [`DD_WDBG_W-1:0] h_win = win_of(h_wg, win);
    wire        h_w_ok  = host_allowed(h_wa, 1'b1, h_wd, h_ws, exists, st, func);
    wire        h_r_ok  = host_allowed(h_araddr, 1'b0, 4'd0, 1'b0, exists, st, func);
    reg         h_b_ok, h_r_okq;     // verdict of the access whose response is pending
    reg [15:0]  h_b_addr, h_r_addr;
    reg [63:0]  h_b_edge, h_r_edge;

    // local window writes (they may change a window on the edge a host write is refused)
    reg  l_awp, l_wp;
    reg  [15:0] l_awq;
    wire l_aw_hs = l_awvalid && l_awready;
    wire l_w_hs  = l_wvalid && l_wready;
    wire l_wexec = (l_awp || l_aw_hs) && (l_wp || l_w_hs);
    wire [15:0] l_wa = l_awp ? l_awq : l_awaddr;
    wire l_win   = l_wa >= `DD_LOC_WIN_BASE && l_wa < `DD_LOC_WIN_BASE + 16'h1000;
    wire [3:0] l_wg = {l_wa[8], l_wa[11:9]};

    // refused host write: the channel as it was before the write
    reg                      rf_pend, rf_exempt, rf_run, rf_exp;
    reg [3:0]                rf_g;
    reg [1:0]                rf_st, rf_int;
    reg [`DD_WDBG_STORE_W-1:0] rf_store;
    reg [64:0]               rf_llp;     // LLP_HI:LLP_LO and CYCLE_SYNC.CCS (a walk updates them)
    reg [63:0]               rf_edge;
    reg [15:0]               rf_addr;
    wire [`DD_WDBG_W-1:0]     rf_now = win_of(rf_g, win);
    wire [1:0] rf_int_now = {rf_now[`DD_WDBG_INT_ABORT], rf_now[`DD_WDBG_INT_STOP]};

    // ------------------------------------------------------- AXI4 master requests
    reg        ar_vq, ar_rq, aw_vq, aw_rq;      // VALID / READY in S(e-1)
    reg [3:0]  ar_user_tab [0:15];              // function each channel's last AR carried
    wire       ar_new = m_arvalid && !(ar_vq && !ar_rq);
    wire       aw_new = m_awvalid && !(aw_vq && !aw_rq);
    wire [3:0] arg = m_arid[3:0];
    wire [3:0] awg = m_awid[3:0];
    wire       id_ok_ar = ({{(ID_W > 4 ? ID_W - 4 : 1){1'b0}}, m_arid} >> 4) == 0;
    wire       id_ok_aw = ({{(ID_W > 4 ? ID_W - 4 : 1){1'b0}}, m_awid} >> 4) == 0;

    // MSI writes (SPEC 3: one beat, AWSIZE=2, no read) presented and not answered yet
    wire       aw_msi = aw_new && id_ok_aw && m_awsize == 3'd2;
    wire       b_hs_m = m_bvalid && m_bready;
    // the mover's burst: busy, and whether it is an MSI write (aw_size; the lemmas too)
    wire       mo_busy  = mv_obs[`DD_MOBS_BUSY];
    wire       mo_msi   = mv_obs[`DD_MOBS_MSI];
    reg [15:0] msi_out;

    // Per-slot history, kept as flat vectors and updated as whole vectors from per-slot
    // wires: the same values as a loop over the 16 slots at every edge, but a simulator
    // re-evaluates a slot's wires only when its inputs change (Icarus ran that loop of
    // variable part-selects and function calls on the whole window at every edge: two
    // thirds of an idle edge's time)
    reg [16*2-1:0] st_qv;                       // STATE in S(e-1), slot g at [2g +: 2]
    reg [15:0] run_q, uns_q;                    // RUNNING, UNSAFE in S(e-1)
    reg [16*3-1:0] q_idle_v;                    // consecutive earlier edges QUIESCING, not
                                                // RUNNING, no MSI out: slot g at [3g +: 3]
    wire [15:0] qin_v;                          // QUIESCING, not RUNNING, no MSI out in S(e)
    wire [15:0] run_v, uns_v;                   // RUNNING, UNSAFE in S(e)
    wire [16*3-1:0] q_idle_nx;                  // q_idle_v at the next edge
    genvar hg;
    for (hg = 0; hg < 16; hg = hg + 1) begin : hist
        assign run_v[hg] = win[hg*`DD_WDBG_W + `DD_WDBG_CH_STAT +: 2] == `DD_CH_RUNNING;
        assign uns_v[hg] = own_stat[hg*32 + `DD_OWN_STAT_UNSAFE_LSB];
        assign qin_v[hg] = st[hg*2 +: 2] == `DD_ST_QUIESCING && !run_v[hg] && !msi_out[hg];
        assign q_idle_nx[hg*3 +: 3] = (rst || !qin_v[hg]) ? 3'd0
                                      : q_idle_v[hg*3 +: 3] + {2'd0, q_idle_v[hg*3 +: 3] != 3'd7};
    end
    // Per-slot verdicts of scrub, fence_start and q_bound, and the interrupt sources, as
    // wires (the violation wires read them; a loop over the slots in what was one
    // always @* block ran at every change of any of its inputs, a third of a simulated
    // copy's time on Icarus):
    //   scrub_v:   the slot became DELEGATED, or LOCAL after QUIESCING, with a window not
    //              all zero;
    //   fence_v:   a START executed at e-1 saw the slot fenced in S(e-1);
    //   qb_v:      the slot idles in QUIESCING past the bound;
    //   loc_src_v: a LOCAL, unfenced slot with a stop or abort interrupt pending;
    //   host_src:  per function, a DELEGATED slot of that function with one pending.
    wire [15:0] scrub_v, fence_v, qb_v, loc_src_v, dlg_src_v;
    wire [16*NUM_FUNC-1:0] host_src_m;
    wire [NUM_FUNC-1:0] host_src;
    genvar vg, vf;
    for (vg = 0; vg < 16; vg = vg + 1) begin : vslot
        wire [1:0] st_g  = st[vg*2 +: 2];
        wire       int_g = win[vg*`DD_WDBG_W + `DD_WDBG_INT_STOP] || win[vg*`DD_WDBG_W + `DD_WDBG_INT_ABORT];
        assign scrub_v[vg] = exists[vg]
            && ((st_g == `DD_ST_DELEGATED && st_qv[vg*2 +: 2] != `DD_ST_DELEGATED)
                || (st_g == `DD_ST_LOCAL && st_qv[vg*2 +: 2] == `DD_ST_QUIESCING))
            && win[vg*`DD_WDBG_W +: `DD_WDBG_W] != {`DD_WDBG_W{1'b0}};
        assign fence_v[vg]   = exists[vg] && uns_q[vg] && !run_q[vg] && run_v[vg];
        assign qb_v[vg]      = exists[vg] && qin_v[vg] && {29'd0, q_idle_v[vg*3 +: 3]} >= Q_IDLE_MAX - 1;
        assign loc_src_v[vg] = exists[vg] && st_g == `DD_ST_LOCAL && !uns_v[vg] && int_g;
        assign dlg_src_v[vg] = exists[vg] && st_g == `DD_ST_DELEGATED && int_g;
        for (vf = 0; vf < NUM_FUNC; vf = vf + 1) begin : vfunc
            assign host_src_m[vf*16 + vg] = dlg_src_v[vg] && func[vg*4 +: 4] == vf;
        end
    end
    for (vf = 0; vf < NUM_FUNC; vf = vf + 1) begin : vhost
        assign host_src[vf] = |host_src_m[vf*16 +: 16];
    end
    wire [15:0] host_bad;   // irq_host[f] high without a source, f < NUM_FUNC
    for (vf = 0; vf < 16; vf = vf + 1) begin : vbad
        if (vf < NUM_FUNC) begin : on
            assign host_bad[vf] = irq_host[vf] && !host_src[vf];
        end else begin : off
            assign host_bad[vf] = 1'b0;
        end
    end
    // the highest set bit's index (the slot a loop over the slots would have named last)
    function [3:0] hi_idx;
        input [15:0] x;
        integer n;
        begin
            hi_idx = 4'd0;
            for (n = 0; n < 16; n = n + 1)
                if (x[n]) hi_idx = n[3:0];
        end
    endfunction

    // MSI slots: a B of the slot's ID empties it (first), an MSI presented fills it
    wire [15:0] msi_clr = (b_hs_m && ({{(ID_W > 4 ? ID_W - 4 : 1){1'b0}}, m_bid} >> 4) == 0)
                          ? 16'd1 << m_bid[3:0] : 16'd0;
    wire [15:0] msi_set = aw_msi ? 16'd1 << awg : 16'd0;

    // ------------------------------------------------------------- violations
    // One continuous assignment per condition rather than one always @* block: a
    // simulator such as Icarus re-runs such a block whole, reading every input (a lookup
    // each), at any change of any of them (the m_axi signals move at every beat), where a
    // continuous assignment is re-evaluated only when one of its own inputs changes. The
    // channel a message names is worked out by the reporting block, on a violation only.
    // host_okay / host_read_zero: on every edge the response is presented (not only at
    // its handshake: a response offered is a response given, and it makes the property
    // inductive)
    wire hok_b  = h_bvalid && h_bresp == OKAY && !h_b_ok;
    wire hok_r  = h_rvalid && h_rresp == OKAY && !h_r_okq;
    wire rzero  = h_rvalid && h_rresp != OKAY && h_rdata != 32'd0;
    // host_one_txn: an AR accepted beside, or inside, another host transaction
    wire one_tx = h_arvalid && h_arready
                  && (h_aw_hs || (h_wvalid && h_wready) || h_awp || h_wp || h_bvalid || h_rvalid);
    // refused_write: the edge after the refusal shows the window unchanged
    wire refd   = rf_pend && !rf_exempt && st[rf_g*2 +: 2] == rf_st
                  && (rf_now[`DD_WDBG_STORE_W-1:0] != rf_store
                      || (!rf_run && rf_now[`DD_WDBG_LLP +: 65] != rf_llp)
                      || (own_stat[rf_g*32 + `DD_OWN_STAT_EXPOSED_LSB] && !rf_exp)
                      || (rf_now[`DD_WDBG_CH_STAT +: 2] == `DD_CH_RUNNING && !rf_run)
                      || (rf_int & ~rf_int_now) != 2'b00);
    // axi_user (an MSI is judged on the edge it is first presented: presented before a
    // plain RECLAIM it completes, SPEC 3, and the channel may be DELEGATED anew, to
    // another function, while its AW still waits for AWREADY)
    wire [1:0] st_ar = st[arg*2 +: 2];
    wire [1:0] st_aw = st[awg*2 +: 2];
    wire usr_a  = m_arvalid && id_ok_ar && st_ar == `DD_ST_DELEGATED && m_aruser != func[arg*4 +: 4];
    wire usr_w  = m_awvalid && id_ok_aw && st_aw == `DD_ST_DELEGATED && m_awuser != func[awg*4 +: 4]
                  && !(m_awsize == 3'd2 && !aw_new);
    wire usr_t  = aw_new && id_ok_aw && !aw_msi && m_awuser != ar_user_tab[awg];
    // req_after_t0
    wire req_a  = ar_new && id_ok_ar && (st_ar == `DD_ST_QUIESCING
                                         || own_stat[arg*32 + `DD_OWN_STAT_UNSAFE_LSB]);
    wire req_w  = aw_new && id_ok_aw && (st_aw == `DD_ST_QUIESCING
                                         || own_stat[awg*32 + `DD_OWN_STAT_UNSAFE_LSB]);
    wire req_m  = aw_msi && st_aw != `DD_ST_DELEGATED;
    // aw_size: the size an AW announces against the kind of the mover's burst
    wire aw_sz  = m_awvalid && id_ok_aw && mo_busy && m_awsize != (mo_msi ? 3'd2 : 3'd3);
    // scrub, interrupt sources, fence_start, q_bound: per slot in the wires above
    wire irql   = irq_loc && !(|(own_irq_stat & own_irq_en & exists)) && !(|loc_src_v);
    wire [NP-1:0] v;
    assign v[P_HOST_OKAY]   = hok_b || hok_r;
    assign v[P_READ_ZERO]   = rzero;
    assign v[P_REFUSED]     = refd;
    assign v[P_USER]        = usr_a || usr_w || usr_t;
    assign v[P_REQ]         = req_a || req_w || req_m;
    assign v[P_SCRUB]       = |scrub_v;
    assign v[P_IRQ_LOC]     = irql;
    assign v[P_IRQ_HOST]    = |host_bad;
    assign v[P_Q_BOUND]     = |qb_v;
    assign v[P_ONE_TXN]     = one_tx;
    assign v[P_FENCE_START] = |fence_v;
    assign v[P_AW_SIZE]     = aw_sz;

    // ------------------------------------------------------------- history
    always @(posedge clk) begin
        edge_n <= edge_n + 64'd1;
        if (rst) armed <= 1'b1;
        st_qv    <= rst ? {16{`DD_ST_LOCAL}} : st;   // a reset is no transition
        run_q    <= rst ? 16'd0 : run_v;
        uns_q    <= rst ? 16'd0 : uns_v;
        q_idle_v <= q_idle_nx;
        msi_out  <= rst ? 16'd0 : (msi_out | msi_set) & ~msi_clr;
        ar_vq <= m_arvalid; ar_rq <= m_arready; aw_vq <= m_awvalid; aw_rq <= m_awready;
        if (ar_new && id_ok_ar) ar_user_tab[arg] <= m_aruser;
        if (rst) begin
            h_awp <= 1'b0; h_wp <= 1'b0; l_awp <= 1'b0; l_wp <= 1'b0; rf_pend <= 1'b0;
            h_b_ok <= 1'b1; h_r_okq <= 1'b1;
            ar_vq <= 1'b0; aw_vq <= 1'b0;
        end else begin
            if (h_wexec) begin
                h_awp <= 1'b0; h_wp <= 1'b0;
                h_b_ok <= h_w_ok; h_b_addr <= h_wa; h_b_edge <= edge_n + 64'd1;
            end else begin
                if (h_aw_hs) begin h_awp <= 1'b1; h_awq <= h_awaddr; end
                if (h_w_hs)  begin h_wp <= 1'b1; h_wdq <= h_wdata; h_wsq <= h_wstrb; end
            end
            if (h_rexec) begin
                h_r_okq <= h_r_ok; h_r_addr <= h_araddr; h_r_edge <= edge_n + 64'd1;
            end
            if (l_wexec) begin
                l_awp <= 1'b0; l_wp <= 1'b0;
            end else begin
                if (l_aw_hs) begin l_awp <= 1'b1; l_awq <= l_awaddr; end
                if (l_w_hs)  l_wp <= 1'b1;
            end
            rf_pend <= h_wexec && exists[h_wg] && !h_w_ok;
            if (h_wexec) begin
                rf_g      <= h_wg;
                rf_addr   <= h_wa;
                rf_edge   <= edge_n + 64'd1;
                rf_st     <= st_of(h_wg, st);
                rf_store  <= h_win[`DD_WDBG_STORE_W-1:0];
                rf_llp    <= h_win[`DD_WDBG_LLP +: 65];
                rf_run    <= h_win[`DD_WDBG_CH_STAT +: 2] == `DD_CH_RUNNING;
                rf_int    <= {h_win[`DD_WDBG_INT_ABORT], h_win[`DD_WDBG_INT_STOP]};
                rf_exp    <= exposed_of(h_wg, own_stat);
                rf_exempt <= l_wexec && l_win && l_wg == h_wg;
            end
        end
    end

`ifdef FORMAL
    // formal/: every property is an assertion once the first reset is over
    // one assertion per property, so that a failure's source line names it
    always @* if (chk) begin
        host_okay:       assert (!v[P_HOST_OKAY]);
        host_read_zero:  assert (!v[P_READ_ZERO]);
        refused_write:   assert (!v[P_REFUSED]);
        axi_user:        assert (!v[P_USER]);
        req_after_t0:    assert (!v[P_REQ]);
        scrub:           assert (!v[P_SCRUB]);
        irq_loc_source:  assert (!v[P_IRQ_LOC]);
        irq_host_source: assert (!v[P_IRQ_HOST]);
        q_bound:         assert (!v[P_Q_BOUND]);
        host_one_txn:    assert (!v[P_ONE_TXN]);
        fence_start:     assert (!v[P_FENCE_START]);
        aw_size:         assert (!v[P_AW_SIZE]);
    end
`ifdef DD_LEMMAS
    // Lemmas of the k-induction (tools/formal.py task prove; README "Independent checks"):
    // invariants of the RTL that tie this checker's own bookkeeping (the host transaction
    // it rebuilt from the handshakes, the function recorded at AR) to the registers that
    // hold the same facts inside the design, and a few facts of the mover. Without them
    // the induction step starts from unreachable states where the two disagree. Each is
    // asserted, so the base case checks it too; not built into simulation (it reads
    // internals through the obs ports, which only formal needs).
    wire [1:0] mo_state = mv_obs[`DD_MOBS_STATE +: 2];
    wire [4:0] mo_mlen  = mv_obs[`DD_MOBS_MLEN +: 5];
    wire [3:0] mo_user  = mv_obs[`DD_MOBS_MUSER +: 4];
    wire [4:0] mo_rcnt  = mv_obs[`DD_MOBS_RCNT +: 5];
    wire [4:0] mo_wcnt  = mv_obs[`DD_MOBS_WCNT +: 5];
    wire       mo_fetch = mv_obs[`DD_MOBS_FETCH];
    wire [3:0] mo_cur   = mv_obs[`DD_MOBS_CUR +: 4];
    wire [63:0] mo_dst  = dst_v[mo_cur*64 +: 64];
    wire [31:0] mo_rem  = rem_v[mo_cur*32 +: 32];
    wire [`DD_WDBG_W-1:0] mo_win = win_of(mo_cur, win);
    localparam [1:0] MS_IDLE = 2'd0, MS_AR = 2'd1, MS_R = 2'd2, MS_W = 2'd3;
    always @* if (chk) begin
        // the host slave holds the half this checker says it holds, with the same
        // address / FUNC_NUM bits / WSTRB[0]; never both halves held, and no
        // response is pending while a half is held (SPEC 2: one transaction at a time)
        lemma_h_aw:   assert (h_awp == h_obs[`DD_SOBS_AW_HELD]
                              && (!h_awp || h_awq == h_obs[`DD_SOBS_AWADDR +: 16]));
        lemma_h_w:    assert (h_wp == h_obs[`DD_SOBS_W_HELD]
                              && (!h_wp || (h_wdq == h_obs[`DD_SOBS_WDATA +: 4]
                                            && h_wsq == h_obs[`DD_SOBS_WSTRB])));
        lemma_h_one:  assert (!(h_awp && h_wp) && !(h_bvalid && h_rvalid)
                              && (!(h_awp || h_wp) || (!h_bvalid && !h_rvalid)));
        // the same for the local slave (its write decides the refused_write exemption)
        lemma_l_aw:   assert (l_awp == l_obs[`DD_SOBS_AW_HELD]
                              && (!l_awp || l_awq == l_obs[`DD_SOBS_AWADDR +: 16]));
        lemma_l_w:    assert (l_wp == l_obs[`DD_SOBS_W_HELD] && !(l_awp && l_wp));
        // mover: busy exactly outside S_IDLE; ARVALID exactly in S_AR, AWVALID only in
        // S_W; a burst of 1..MAX_BURST beats that fits its destination's 4 KiB page;
        // counters within the burst
        lemma_mv_fsm: assert (mo_busy == (mo_state != MS_IDLE) && m_arvalid == (mo_state == MS_AR)
                              && (!m_awvalid || mo_state == MS_W));
        // (an element fetch has no write, and its remainder, the element's bytes not yet
        // held, shrinks with each R beat: only the length bound applies to it)
        lemma_mv_len: assert (!mo_busy || mo_msi || (mo_mlen != 5'd0 && {27'd0, mo_mlen} <= MAX_BURST
                                           && (mo_fetch
                                               || ({1'b0, mo_dst[11:0]} + {5'd0, mo_mlen, 3'd0} <= 13'h1000
                                                   && {24'd0, mo_mlen, 3'd0} <= mo_rem))));
        // the kind of the burst (SPEC 3): an MSI write is one beat with no AR and no R
        // phase (picked straight into S_W); an element fetch never reaches S_W
        lemma_mv_kind: assert (!mo_busy || (!(mo_fetch && mo_msi)
                               && (!mo_msi || (mo_state == MS_W && mo_mlen == 5'd1))
                               && (!mo_fetch || mo_state != MS_W)));
        lemma_mv_cnt: assert ((mo_state != MS_AR || mo_rcnt == 5'd0) && (mo_state != MS_R || mo_rcnt < mo_mlen)
                              && (mo_state != MS_W || mo_wcnt <= mo_mlen));
        // a burst belongs to an instantiated channel that stays RUNNING until the burst
        // ends (no START, scrub or abort of a channel while its burst is in flight); a
        // DELEGATED one's bursts carry its owner's function
        // (an MSI write is not engine work: its channel may be in any CH_STAT)
        lemma_mv_run: assert (!mo_busy || (exists[mo_cur]
                              && (mo_msi || mo_win[`DD_WDBG_CH_STAT +: 2] == `DD_CH_RUNNING)
                              && (mo_msi || st_of(mo_cur, st) != `DD_ST_DELEGATED || mo_user == func_of(mo_cur, func))));
        // an MSI is picked only from a DELEGATED, unfenced channel with no RECLAIM on the
        // pick edge, so on the first edge its AW is presented the channel is still so, and
        // the MSI carries its owner's function
        lemma_msi_new: assert (!(mo_busy && mo_msi && m_awvalid && !aw_vq)
                               || (st_of(mo_cur, st) == `DD_ST_DELEGATED && !unsafe_of(mo_cur, own_stat)
                                   && mo_user == func_of(mo_cur, func)));
        // this checker's "MSI presented, B not yet" is the mover's MSI burst after that edge
        lemma_msi_out: assert (msi_out == ((mo_busy && mo_msi && !(m_awvalid && !aw_vq))
                                           ? (16'd1 << mo_cur) : 16'd0));
        // the function this checker recorded at the burst's AR is the one the mover
        // latched; an AR seen waiting at the last edge is still waiting
        lemma_ar_user: assert (mo_msi || !(mo_state == MS_R || mo_state == MS_W || (mo_state == MS_AR && ar_vq))
                               || ar_user_tab[mo_cur] == mo_user);
        // the last edge's AR/AW handshake bits (this checker's "new request" test)
        // agree with the mover: waiting means still presenting, a handshake moved on
        lemma_ar_q:   assert (!ar_vq || (ar_rq ? mo_state == MS_R : mo_state == MS_AR));
        lemma_aw_q:   assert (!aw_vq || (mo_state == MS_W && m_awvalid == !aw_rq));
    end
    // a RUNNING channel has a non-empty remainder and 8-byte aligned addresses and
    // length (START checks them; bursts move whole beats), so every burst it gets is
    // 1..MAX_BURST beats long
    integer k;
    reg [15:0] run_bad;
    always @* begin
        for (k = 0; k < 16; k = k + 1)
            run_bad[k] = exists[k] && run_v[k]
                         && !(rem_v[k*32 +: 32] != 32'd0 && rem_v[k*32 +: 3] == 3'd0
                              && src_v[k*64 +: 3] == 3'd0 && dst_v[k*64 +: 3] == 3'd0);
        if (chk) lemma_run_al: assert (run_bad == 16'd0);
    end
    // a quiescing channel that is idle (not RUNNING, no MSI out) completes on that edge
    // (q_done waits only for the mover's burst of the channel, which is then none), so
    // the checker's idle count is 1 at most, and only on the LOCAL edge after; and an
    // MSI address in a slot has bits [1:0] clear (AW_BURST's MSI rule)
    // A walk holds 0..2 element beats (none in its data phase) and a list pointer that is
    // 8-byte aligned (START and a link check it, an element adds 24), so its fetches are
    // aligned too; a full MSI slot belongs to a DELEGATED, unfenced channel (any RECLAIM
    // empties it, a fill needs DELEGATED and unfenced, and a DELEGATED channel is never
    // fenced); an element fetch in flight belongs to a walk in its fetch phase.
    reg [15:0] qi_bad, ma_bad, wk_bad;
    reg [`DD_WK_W-1:0] wk_k;
    always @* begin
        for (k = 0; k < 16; k = k + 1) begin
            wk_k      = wk_v[k*`DD_WK_W +: `DD_WK_W];
            qi_bad[k] = q_idle_v[k*3 +: 3] != 3'd0
                        && !(q_idle_v[k*3 +: 3] == 3'd1 && st[k*2 +: 2] == `DD_ST_LOCAL);
            ma_bad[k] = maddr_v[k*64 +: 2] != 2'd0;
            wk_bad[k] = wk_k[`DD_WK_FK +: 2] == 2'd3
                        || (wk_k[`DD_WK_WALK] && wk_k[`DD_WK_LP +: 3] != 3'd0)
                        || (wk_k[`DD_WK_WPH] && wk_k[`DD_WK_FK +: 2] != 2'd0)
                        || (wk_k[`DD_WK_MSI] && !(st[k*2 +: 2] == `DD_ST_DELEGATED
                                                  && !own_stat[k*32 + `DD_OWN_STAT_UNSAFE_LSB]))
                        || (mo_busy && mo_fetch && mo_cur == k[3:0]
                            && !(wk_k[`DD_WK_WALK] && !wk_k[`DD_WK_WPH]));
        end
        if (chk) begin
            lemma_q_idle: assert (qi_bad == 16'd0);
            lemma_msi_al: assert (ma_bad == 16'd0);
            lemma_walk:   assert (wk_bad == 16'd0);
        end
    end
`endif
    initial assume (rst);
    initial armed = 1'b0;
    always @(posedge clk) begin msg <= {MSG_W{1'b0}}; fail_ev <= 1'b0; fail_count <= 32'd0; end  // unused here
    // every ownership transition of channel 0 is reachable (tools/formal.py, task cover)
    always @* if (chk) begin
        cover (st_qv[1:0] == `DD_ST_LOCAL && st_of(4'd0, st) == `DD_ST_DELEGATED);
        cover (st_qv[1:0] == `DD_ST_DELEGATED && st_of(4'd0, st) == `DD_ST_QUIESCING);
        cover (st_qv[1:0] == `DD_ST_QUIESCING && st_of(4'd0, st) == `DD_ST_LOCAL);
        cover (st_qv[1:0] == `DD_ST_DELEGATED && st_of(4'd0, st) == `DD_ST_LOCAL && !unsafe_of(4'd0, own_stat));
        cover (st_qv[1:0] == `DD_ST_DELEGATED && st_of(4'd0, st) == `DD_ST_LOCAL && unsafe_of(4'd0, own_stat));
        cover (uns_q[0] && !uns_v[0]);
    end
`else
    // ------------------------------------------------------------- reporting
    initial begin
        armed = 1'b0; edge_n = 64'd0; fail_ev = 1'b0; fail_count = 32'd0; msg = {MSG_W{1'b0}};
    end
    reg [MSG_W-1:0] m;
    // the channel an axi_user / req_after_t0 message names: the AW's when the AW side
    // of the rule fired, else the AR's
    wire [3:0] usr_g = (usr_w || usr_t) ? awg : arg;
    wire [3:0] req_g = (req_w || req_m) ? awg : arg;
    always @(posedge clk) begin
        if (chk && v != {NP{1'b0}}) begin
            if (v[P_HOST_OKAY])
                $sformat(m, "host_okay at edge %0d: host access to %h (executed at edge %0d) answered OKAY, but channel %0d was not DELEGATED to that window's function (or FUNC_NUM spoofing)",
                         edge_n + 64'd1, h_bvalid ? h_b_addr : h_r_addr,
                         h_bvalid ? h_b_edge : h_r_edge, (hok_r ? {h_r_addr[8], h_r_addr[11:9]} : {h_b_addr[8], h_b_addr[11:9]}));
            else if (v[P_READ_ZERO])
                $sformat(m, "host_read_zero at edge %0d: refused host read of %h returned data %h, not 0",
                         edge_n + 64'd1, h_r_addr, h_rdata);
            else if (v[P_REFUSED])
                $sformat(m, "refused_write at edge %0d: refused host write to %h at edge %0d changed channel %0d (window storage, EXPOSED, START or INT_STAT)",
                         edge_n + 64'd1, rf_addr, rf_edge, rf_g);
            else if (v[P_USER])
                $sformat(m, "axi_user at edge %0d: AR/AW of channel %0d carries user %0d/%0d, owner function %0d (or AW differs from its AR)",
                         edge_n + 64'd1, usr_g, m_aruser, m_awuser, func_of(usr_g, func));
            else if (v[P_REQ])
                $sformat(m, "req_after_t0 at edge %0d: new AR/AW presented for channel %0d while it is QUIESCING or fenced (STATE %0d, UNSAFE %0d)",
                         edge_n + 64'd1, req_g, st_of(req_g, st), unsafe_of(req_g, own_stat));
            else if (v[P_SCRUB])
                $sformat(m, "scrub at edge %0d: channel %0d entered STATE %0d with a window that is not all zero",
                         edge_n + 64'd1, hi_idx(scrub_v), st_of(hi_idx(scrub_v), st));
            else if (v[P_Q_BOUND])
                $sformat(m, "q_bound at edge %0d: channel %0d still QUIESCING, not RUNNING, %0d edges after its last activity (bound Q_IDLE_MAX=%0d)",
                         edge_n + 64'd1, hi_idx(qb_v), Q_IDLE_MAX, Q_IDLE_MAX);
            else if (v[P_ONE_TXN])
                $sformat(m, "host_one_txn at edge %0d: host AR handshake (read of %h) while another host transaction was accepted, held or awaiting its response (SPEC 2: one transaction at a time)",
                         edge_n + 64'd1, h_araddr);
            else if (v[P_FENCE_START])
                $sformat(m, "fence_start at edge %0d: channel %0d became RUNNING although it was fenced (UNSAFE) and idle on the edge before: a fenced channel refuses START",
                         edge_n + 64'd1, hi_idx(fence_v));
            else if (v[P_AW_SIZE])
                $sformat(m, "aw_size at edge %0d: AW of channel %0d announces AWSIZE=%0d for %0s (SPEC 3: an MSI write is 4 bytes, AWSIZE=2; a copy's data write 8 bytes, AWSIZE=3)",
                         edge_n + 64'd1, awg, m_awsize,
                         mo_msi ? "an MSI write" : "a copy's data write");
            else if (v[P_IRQ_LOC])
                $sformat(m, "irq_loc_source at edge %0d: irq_loc high without an enabled ownership interrupt or a LOCAL unfenced channel with interrupt status",
                         edge_n + 64'd1);
            else
                $sformat(m, "irq_host_source at edge %0d: irq_host[%0d] high without a channel DELEGATED to function %0d with interrupt status",
                         edge_n + 64'd1, hi_idx(host_bad), hi_idx(host_bad));
            msg        <= m;
            fail_count <= fail_count + 32'd1;
            fail_ev    <= !fail_ev;
        end
    end
`endif
endmodule
`default_nettype wire
