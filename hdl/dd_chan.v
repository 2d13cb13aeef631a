// dd_chan: one DMA channel: its register window, its engine status and its
// ownership state machine (SPEC 2.1, 2.3; cycle rules in docs/microarch.md).
//
// Every input is judged against the state sampled at this edge (S(e)); all
// effects of the edge land together. Scrubbing (DELEGATE, quiesce completion)
// overrides everything else on its edge; it can never collide with a write or
// with engine activity because the channel is then refused to both ports and
// not RUNNING.
`default_nettype none
`include "dma_deleg_regs.vh"
`include "dd_wdbg.vh"
module dd_chan #(
    parameter NUM_FUNC = 2
) (
    input  wire        clk,
    input  wire        rst,
    // an allowed write to this channel's window executes on this edge
    input  wire        wr,
    input  wire        wr_host,       // ... and it came from the host port
    input  wire [7:0]  wr_off,
    input  wire [31:0] wr_data,
    input  wire [3:0]  wr_strb,
    // read muxes for both ports (a read never has side effects)
    input  wire [7:0]  rd_off_loc,
    output reg  [31:0] rd_data_loc,
    input  wire [7:0]  rd_off_host,
    output reg  [31:0] rd_data_host,
    // ownership registers (local port); values already byte-masked
    input  wire        cmd_we,
    input  wire [31:0] cmd_val,
    input  wire        stat_we,
    input  wire [31:0] stat_val,
    output wire [31:0] own_stat,
    output wire [31:0] q_cycles,
    output wire [1:0]  own_state,
    output wire [3:0]  own_func,
    output wire        own_irq,
    output wire        irq_loc,
    output wire        irq_host,
    // data mover
    output wire        running,
    output wire        blk,
    output wire        drop,      // a burst whose read ends now is not written (quiesce, fence)
    output wire [63:0] src,
    output wire [63:0] dst,
    output wire [31:0] rem,
    output wire [3:0]  user,
    input  wire        inflight,
    input  wire        mv_done,
    input  wire        mv_err,
    input  wire        mv_written,
    input  wire [31:0] mv_bytes,
    // observation only (hdl/dd_props.v): every window register, layout in dd_wdbg.vh
    output wire [`DD_WDBG_W-1:0] win
);
    // ---------------------------------------------------------------- storage
    reg        ch_en;
    reg [31:0] llp_lo, llp_hi, xfer_size, sar_lo, sar_hi, dar_lo, dar_hi;
    reg        lle;
    reg [3:0]  func_num;
    reg [1:0]  ch_stat;
    reg        int_stop, int_abort;
    reg [6:0]  int_setup;
    reg [63:0] w_src, w_dst;
    reg [31:0] w_rem;
    reg        stop_req;
    reg [1:0]  st;
    reg [3:0]  ofunc;
    reg        exposed, qdone, unsafe, cmd_err;
    reg [31:0] q_cnt, q_cyc;
`ifdef DD_BUG_EXTRA_BURST
    reg [1:0]  q_bursts;
`endif

    // ------------------------------------------------------------ write decode
    wire [31:0] bmask = {{8{wr_strb[3]}}, {8{wr_strb[2]}}, {8{wr_strb[1]}}, {8{wr_strb[0]}}};
    wire        any_strb = |wr_strb;
    // New value of a stored register: written bytes replace old ones, then
    // only the implemented bits are kept. All inputs are arguments so that
    // continuous assignments using it are sensitive to them.
    function [31:0] merge;
        input [31:0] old;
        input [31:0] data;
        input [31:0] bm;
        input [31:0] wmask;
        begin
            merge = ((old & ~bm) | (data & bm)) & wmask;
        end
    endfunction
    wire [31:0] wval = wr_data & bmask;
    wire [31:0] m_funcnum = merge({28'd0, func_num}, wr_data, bmask, `DD_WIN_FUNC_NUM_WMASK);
    wire [31:0] m_isetup  = merge({25'd0, int_setup}, wr_data, bmask, `DD_WIN_INT_SETUP_WMASK);   // write-only registers: unwritten bytes are 0
    wire w_ch_en   = wr && wr_off == `DD_WIN_CH_EN;
    wire w_llp_lo  = wr && wr_off == `DD_WIN_LLP_LO;
    wire w_llp_hi  = wr && wr_off == `DD_WIN_LLP_HI;
    wire w_xfer    = wr && wr_off == `DD_WIN_XFER_SIZE;
    wire w_sar_lo  = wr && wr_off == `DD_WIN_SAR_LO;
    wire w_sar_hi  = wr && wr_off == `DD_WIN_SAR_HI;
    wire w_dar_lo  = wr && wr_off == `DD_WIN_DAR_LO;
    wire w_dar_hi  = wr && wr_off == `DD_WIN_DAR_HI;
    wire w_ctrl1   = wr && wr_off == `DD_WIN_CONTROL1;
    wire w_funcnum = wr && wr_off == `DD_WIN_FUNC_NUM;
    wire w_isetup  = wr && wr_off == `DD_WIN_INT_SETUP;
    wire w_iclear  = wr && wr_off == `DD_WIN_INT_CLEAR && any_strb;
    wire w_db      = wr && wr_off == `DD_WIN_DOORBELL && any_strb;

    // ---------------------------------------------------------------- engine
    assign running = (ch_stat == `DD_CH_RUNNING);
    wire db_startbit = w_db && wval[`DD_DOORBELL_START_LSB];
    wire db_stopbit  = w_db && wval[`DD_DOORBELL_STOP_LSB];

    // ------------------------------------------------------------- ownership
    wire [1:0] c_cmd  = cmd_val[`DD_OWN_CMD_CMD_LSB +: 2];
    wire       c_q    = cmd_val[`DD_OWN_CMD_QUIESCE_LSB];
    wire [3:0] c_func = cmd_val[`DD_OWN_CMD_FUNC_LSB +: 4];
    // A fenced channel (UNSAFE pending) is not delegated again until UNSAFE is cleared.
    wire del_ok = cmd_we && c_cmd == `DD_CMD_DELEGATE && st == `DD_ST_LOCAL && !running
                  && ({28'd0, c_func} < NUM_FUNC) && !fenced;
    wire rq_ok  = cmd_we && c_cmd == `DD_CMD_RECLAIM && st == `DD_ST_DELEGATED && c_q;
    wire r_ok   = cmd_we && c_cmd == `DD_CMD_RECLAIM && st == `DD_ST_DELEGATED && !c_q;
    // Plain RECLAIM of an exposed or running channel: UNSAFE, and the channel is
    // fenced from t0 until UNSAFE is cleared (SPEC v2 2.3).
    wire r_unsafe = r_ok && (exposed || running || (wr && wr_host));
`ifdef DD_BUG_NO_FENCE
    // planted bug: UNSAFE is reported, but the channel is not fenced (SPEC v1 behaviour)
    wire r_fence = 1'b0;
    wire fenced  = 1'b0;
`else
    wire r_fence = r_unsafe;
    wire fenced  = unsafe;
`endif
    // STOP wins over START in one write; START while RUNNING acts as STOP; a
    // fencing RECLAIM (r_fence) stops a running transfer like a STOP.
    wire stop_now  = running && (db_stopbit || db_startbit || r_fence);
    wire start_now = !running && db_startbit && !db_stopbit;
    // A fenced channel refuses START (SPEC 2.3), also on the fencing edge itself.
    wire start_ok  = start_now && ch_en && (xfer_size != 32'd0) && (xfer_size[2:0] == 3'd0)
                     && (sar_lo[2:0] == 3'd0) && (dar_lo[2:0] == 3'd0) && !lle
                     && !fenced && !r_fence;
    wire c_err  = cmd_we && !(del_ok || rq_ok || r_ok);
    wire quiescing = (st == `DD_ST_QUIESCING);
`ifdef DD_BUG_SLOW_QUIESCE
    // planted bug: idles 4 more cycles before completing, past Q_IDLE_MAX
    reg [2:0] q_slow;
    always @(posedge clk)
        if (rst || !quiescing || running) q_slow <= 3'd0;
        else if (q_slow != 3'd7) q_slow <= q_slow + 3'd1;
    wire q_done = quiescing && !running && q_slow == 3'd4;
`else
    wire q_done = quiescing && !running;
`endif
`ifdef DD_BUG_EXTRA_BURST
    wire qblk = quiescing && q_bursts >= 2'd2;               // planted bug: bursts after t0
`else
    wire qblk = quiescing || rq_ok;
`endif
    assign blk = stop_req || stop_now || qblk || fenced;
    // Fetched data is dropped only when quiescing (SPEC 2.3 allows it) or fenced (no AW
    // after t0, SPEC 2.3); after a STOP doorbell the outstanding burst is written
    // (SPEC 2.1 "outstanding ones complete"; docs/microarch.md Decision 21).
    assign drop = qblk || fenced || r_fence;

    wire [31:0] stat_clr = stat_we ? stat_val : 32'd0;
    wire [31:0] iclr     = w_iclear ? wval : 32'd0;

    always @(posedge clk) begin
        if (rst) begin
            ch_en <= 1'b0; llp_lo <= 32'd0; llp_hi <= 32'd0; xfer_size <= 32'd0;
            sar_lo <= 32'd0; sar_hi <= 32'd0; dar_lo <= 32'd0; dar_hi <= 32'd0;
            lle <= 1'b0; func_num <= 4'd0; ch_stat <= `DD_CH_IDLE;
            int_stop <= 1'b0; int_abort <= 1'b0; int_setup <= 7'd0;
            w_src <= 64'd0; w_dst <= 64'd0; w_rem <= 32'd0; stop_req <= 1'b0;
            st <= `DD_ST_LOCAL; ofunc <= 4'd0;
            exposed <= 1'b0; qdone <= 1'b0; unsafe <= 1'b0; cmd_err <= 1'b0;
            q_cnt <= 32'd0; q_cyc <= 32'd0;
`ifdef DD_BUG_EXTRA_BURST
            q_bursts <= 2'd0;
`endif
        end else begin : upd
            reg set_stop, set_abort;
            set_stop  = 1'b0;
            set_abort = 1'b0;

            // plain storage
            if (w_ch_en)   ch_en     <= merge({31'd0, ch_en}, wr_data, bmask, `DD_WIN_CH_EN_WMASK) != 32'd0;
            if (w_llp_lo)  llp_lo    <= merge(llp_lo, wr_data, bmask, `DD_WIN_LLP_LO_WMASK);
            if (w_llp_hi)  llp_hi    <= merge(llp_hi, wr_data, bmask, `DD_WIN_LLP_HI_WMASK);
            if (w_xfer)    xfer_size <= merge(xfer_size, wr_data, bmask, `DD_WIN_XFER_SIZE_WMASK);
            if (w_sar_lo)  sar_lo    <= merge(sar_lo, wr_data, bmask, `DD_WIN_SAR_LO_WMASK);
            if (w_sar_hi)  sar_hi    <= merge(sar_hi, wr_data, bmask, `DD_WIN_SAR_HI_WMASK);
            if (w_dar_lo)  dar_lo    <= merge(dar_lo, wr_data, bmask, `DD_WIN_DAR_LO_WMASK);
            if (w_dar_hi)  dar_hi    <= merge(dar_hi, wr_data, bmask, `DD_WIN_DAR_HI_WMASK);
            if (w_ctrl1)   lle       <= merge({31'd0, lle}, wr_data, bmask, `DD_WIN_CONTROL1_WMASK) != 32'd0;
            if (w_funcnum) func_num  <= m_funcnum[3:0];
            if (w_isetup)  int_setup <= m_isetup[6:0];
            if (wr && wr_host) exposed <= 1'b1;

            // engine: burst end, stop without a burst in flight, stop request
            if (mv_done) begin
                if (mv_err) begin
                    ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;
                end else if (mv_written && w_rem == mv_bytes) begin
                    ch_stat <= `DD_CH_STOPPED; set_stop = 1'b1;
                end else if (blk || !mv_written) begin
                    ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;
                end
                if (mv_written) begin
                    w_src <= w_src + {32'd0, mv_bytes};
                    w_dst <= w_dst + {32'd0, mv_bytes};
                    w_rem <= w_rem - mv_bytes;
                end
                stop_req <= 1'b0;
            end else if (running && !inflight && blk) begin
                ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1; stop_req <= 1'b0;
            end else if (stop_now) begin
                stop_req <= 1'b1;
            end
`ifdef DD_BUG_EXTRA_BURST
            if (mv_done && quiescing && q_bursts != 2'd3) q_bursts <= q_bursts + 2'd1;
            if (rq_ok) q_bursts <= 2'd0;
`endif
            if (start_ok) begin
                ch_stat <= `DD_CH_RUNNING;
                w_src   <= {sar_hi, sar_lo};
                w_dst   <= {dar_hi, dar_lo};
                w_rem   <= xfer_size;
            end else if (start_now) begin
                ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;
            end
            // hardware sets win over same-edge clears
            int_stop  <= (int_stop  && !iclr[`DD_INT_CLEAR_STOP_LSB])  || set_stop;
            int_abort <= (int_abort && !iclr[`DD_INT_CLEAR_ABORT_LSB]) || set_abort;

            // ownership
            qdone   <= (qdone   && !stat_clr[`DD_OWN_STAT_QDONE_LSB])   || q_done;
            unsafe  <= (unsafe  && !stat_clr[`DD_OWN_STAT_UNSAFE_LSB]) || r_unsafe;
            cmd_err <= (cmd_err && !stat_clr[`DD_OWN_STAT_CMD_ERR_LSB]) || c_err;
            if (quiescing) q_cnt <= q_cnt + 32'd1;
            if (rq_ok) begin
                st    <= `DD_ST_QUIESCING;
                q_cnt <= 32'd1;
            end
            if (r_ok) begin
                st    <= `DD_ST_LOCAL;
                ofunc <= 4'd0;
            end
            if (del_ok || q_done) begin
                // scrub: no endpoint-private or host-written state survives
                ch_en <= 1'b0; llp_lo <= 32'd0; llp_hi <= 32'd0; xfer_size <= 32'd0;
                sar_lo <= 32'd0; sar_hi <= 32'd0; dar_lo <= 32'd0; dar_hi <= 32'd0;
                lle <= 1'b0; func_num <= 4'd0; ch_stat <= `DD_CH_IDLE;
                int_stop <= 1'b0; int_abort <= 1'b0; int_setup <= 7'd0;
                w_src <= 64'd0; w_dst <= 64'd0; w_rem <= 32'd0; stop_req <= 1'b0;
`ifdef DD_BUG_NO_SCRUB
                if (del_ok) sar_lo <= sar_lo;                      // planted: survives DELEGATE
`endif
            end
            if (del_ok) begin
                st      <= `DD_ST_DELEGATED;
                ofunc   <= c_func;
                exposed <= 1'b0;
            end
            if (q_done) begin
                st    <= `DD_ST_LOCAL;
                ofunc <= 4'd0;
                q_cyc <= q_cnt + 32'd1;
            end
        end
    end

    // ----------------------------------------------------------------- reads
    // All readable values, packed, so the read mux is a pure function of its
    // arguments (a function body reading module signals would not be in the
    // sensitivity of an always @*).
    wire [13*32-1:0] rv = {
        {31'd0, ch_en}, llp_lo, llp_hi, xfer_size, sar_lo, sar_hi, dar_lo, dar_hi,
        {31'd0, lle}, {28'd0, func_num}, {30'd0, ch_stat},
        ({31'd0, int_stop} << `DD_INT_STAT_STOP_LSB) | ({31'd0, int_abort} << `DD_INT_STAT_ABORT_LSB),
        {25'd0, int_setup}
    };
    function [31:0] rd_mux;
        input [7:0]       o;
        input [13*32-1:0] v;
        begin
            case (o)
                `DD_WIN_CH_EN:     rd_mux = v[12*32 +: 32];
                `DD_WIN_LLP_LO:    rd_mux = v[11*32 +: 32];
                `DD_WIN_LLP_HI:    rd_mux = v[10*32 +: 32];
                `DD_WIN_XFER_SIZE: rd_mux = v[9*32 +: 32];
                `DD_WIN_SAR_LO:    rd_mux = v[8*32 +: 32];
                `DD_WIN_SAR_HI:    rd_mux = v[7*32 +: 32];
                `DD_WIN_DAR_LO:    rd_mux = v[6*32 +: 32];
                `DD_WIN_DAR_HI:    rd_mux = v[5*32 +: 32];
                `DD_WIN_CONTROL1:  rd_mux = v[4*32 +: 32];
                `DD_WIN_FUNC_NUM:  rd_mux = v[3*32 +: 32];
                `DD_WIN_CH_STAT:   rd_mux = v[2*32 +: 32];
                `DD_WIN_INT_STAT:  rd_mux = v[1*32 +: 32];
                `DD_WIN_INT_SETUP: rd_mux = v[0*32 +: 32];
                default:           rd_mux = 32'd0;
            endcase
        end
    endfunction
    always @* begin
        rd_data_loc  = rd_mux(rd_off_loc, rv);
        rd_data_host = rd_mux(rd_off_host, rv);
    end

    // ------------------------------------------------------------ outputs
    assign own_state = st;
    assign own_func  = ofunc;
    assign own_stat  = ({30'd0, st} << `DD_OWN_STAT_STATE_LSB)
                     | ({28'd0, ofunc} << `DD_OWN_STAT_FUNC_LSB)
                     | ({31'd0, exposed} << `DD_OWN_STAT_EXPOSED_LSB)
                     | ({31'd0, qdone} << `DD_OWN_STAT_QDONE_LSB)
                     | ({31'd0, unsafe} << `DD_OWN_STAT_UNSAFE_LSB)
                     | ({31'd0, cmd_err} << `DD_OWN_STAT_CMD_ERR_LSB);
    assign q_cycles  = q_cyc;
    assign own_irq   = qdone || unsafe || cmd_err;

    wire smask = int_setup[`DD_INT_SETUP_SMASK_LSB];
    wire amask = int_setup[`DD_INT_SETUP_AMASK_LSB];
    wire stop_pend  = int_stop && !smask;
    wire abort_pend = int_abort && !amask;
`ifdef DD_BUG_IRQ_LOC_DELEG
    assign irq_loc  = !fenced                                   // planted: any state
                      && (
`else
    assign irq_loc  = (st == `DD_ST_LOCAL) && !fenced         // fenced: no interrupt
                      && (
`endif
(stop_pend && int_setup[`DD_INT_SETUP_LSTOP_EN_LSB])
                          || (abort_pend && int_setup[`DD_INT_SETUP_LABORT_EN_LSB]));
    assign irq_host = (st == `DD_ST_DELEGATED)
                      && ((stop_pend && int_setup[`DD_INT_SETUP_RSTOP_EN_LSB])
                          || (abort_pend && int_setup[`DD_INT_SETUP_RABORT_EN_LSB]));

    // Window snapshot for the property checker (hdl/dd_props.v): volatile engine
    // status on top, plain storage below (hdl/dd_wdbg.vh).
    assign win  = {int_abort, int_stop, ch_stat, int_setup, func_num, lle, dar_hi, dar_lo,
                   sar_hi, sar_lo, xfer_size, llp_hi, llp_lo, ch_en};

    assign src  = w_src;
    assign dst  = w_dst;
    assign rem  = w_rem;
`ifdef DD_BUG_USER_FUNCNUM
    assign user = func_num;                                   // planted: owner ignored
    wire _unused_bug = &{1'b0, ofunc, 1'b0};
`else
    assign user = (st == `DD_ST_DELEGATED) ? ofunc : func_num;
`endif

    wire _unused_ok = &{1'b0, cmd_val, stat_val, wval, iclr, stat_clr, m_funcnum[31:4], m_isetup[31:7], 1'b0};
endmodule
`default_nettype wire
