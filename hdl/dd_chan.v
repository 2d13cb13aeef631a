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
    output wire [31:0] rd_data_loc,
    input  wire [7:0]  rd_off_host,
    output wire [31:0] rd_data_host,
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
    // linked-list walk and MSI (SPEC 3, docs/microarch.md "Linked-list mode")
    output wire        req_fetch,     // the channel's next burst is an element fetch
    output wire        req_msi,       // the MSI slot is full and may be picked now
    output wire [63:0] msi_addr,
    output wire [31:0] msi_data,
    input  wire        picked,        // the mover picks this channel on this edge
    input  wire        busy_any,      // the mover holds a burst of this channel (MSI too)
    input  wire        mv_fetch,      // the burst in flight is an element fetch
    input  wire        mv_rbeat,      // ... and one of its R beats handshakes on this edge
    input  wire [63:0] mv_rdata,
    // observation only (hdl/dd_props.v): every window register, and the walk / MSI slot
    // state (formal lemmas), layouts in dd_wdbg.vh
    output wire [`DD_WDBG_W-1:0] win,
    output wire [`DD_WK_W-1:0]   wk
);
    // Element layout (SPEC 3; model/walk.py is the source, tests/test_props_consts.py
    // checks these against it): control bits of beat 0, bytes of one element.
    localparam ELEM_CB_BIT  = 0;
    localparam ELEM_TCB_BIT = 1;
    localparam ELEM_LLP_BIT = 2;
    localparam ELEM_SIZE    = 24;

    // ---------------------------------------------------------------- storage
    reg        ch_en;
    reg        cs_cb, cs_ccs;                       // CYCLE_SYNC.CB / .CCS
    reg [31:0] msi_stop_lo, msi_stop_hi, msi_abort_lo, msi_abort_hi, msi_msgdata;
    // walk: mode of the current run, phase (0 FETCH, 1 DATA), working list pointer and
    // cycle state, element beats held (count and the first two beats' needed bits)
    reg        walk, wph;
    reg [63:0] lp;
    reg        ccs;
    reg [1:0]  fk;
    reg [34:0] fb0;                                 // {size, control[2:0]} of beat 0
    reg [63:0] fb1;
    // the one-entry MSI slot (address, data of S(e) of its event)
    reg        msi_full;
    reg [63:0] msi_a;
    reg [31:0] msi_d;
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
    wire w_csync   = wr && wr_off == `DD_WIN_CYCLE_SYNC;
    wire w_mslo    = wr && wr_off == `DD_WIN_MSI_STOP_LO;
    wire w_mshi    = wr && wr_off == `DD_WIN_MSI_STOP_HI;
    wire w_malo    = wr && wr_off == `DD_WIN_MSI_ABORT_LO;
    wire w_mahi    = wr && wr_off == `DD_WIN_MSI_ABORT_HI;
    wire w_mdata   = wr && wr_off == `DD_WIN_MSI_MSGDATA;
    wire [31:0] m_csync = merge(({31'd0, cs_ccs} << `DD_CYCLE_SYNC_CCS_LSB) | ({31'd0, cs_cb} << `DD_CYCLE_SYNC_CB_LSB),
                                wr_data, bmask, `DD_WIN_CYCLE_SYNC_WMASK);
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
    // A START (legal or not) while the MSI slot is full is ignored (Decision 16).
    wire start_now = !running && db_startbit && !db_stopbit && !msi_full;
    // A fenced channel refuses START (SPEC 2.3), also on the fencing edge itself.
    wire start_ok  = start_now && ch_en && (xfer_size != 32'd0) && (xfer_size[2:0] == 3'd0)
                     && (sar_lo[2:0] == 3'd0) && (dar_lo[2:0] == 3'd0) && !lle
                     && !fenced && !r_fence;
    // linked-list START (SPEC 3): CH_EN, LLE and an 8-byte-aligned LLP_LO
    wire ll_ok     = start_now && ch_en && lle && (llp_lo[2:0] == 3'd0) && !fenced && !r_fence;
    wire c_err  = cmd_we && !(del_ok || rq_ok || r_ok);
    wire quiescing = (st == `DD_ST_QUIESCING);
`ifdef DD_BUG_SLOW_QUIESCE
    // planted bug: idles 4 more cycles before completing, past Q_IDLE_MAX
    reg [2:0] q_slow;
    always @(posedge clk)
        if (rst || !quiescing || running || busy_any) q_slow <= 3'd0;
        else if (q_slow != 3'd7) q_slow <= q_slow + 3'd1;
    wire q_done = quiescing && !running && !busy_any && q_slow == 3'd4;
`else
    // completion also waits for an MSI write already presented (its B ends it)
    wire q_done = quiescing && !running && !busy_any;
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

    // the fetched element, complete at the burst end when two beats were held before it
    wire        el_cb   = fb0[ELEM_CB_BIT];
    wire        el_tcb  = fb0[ELEM_TCB_BIT];
    wire        el_link = fb0[ELEM_LLP_BIT];
    wire [31:0] el_size = fb0[34:3];
    // link: pointer not 8-byte aligned; data: size 0, size/SAR/DAR not 8-byte aligned
    wire        el_bad  = el_link ? (fb1[2:0] != 3'd0)
                                  : (el_size == 32'd0 || el_size[2:0] != 3'd0
                                     || fb1[2:0] != 3'd0 || mv_rdata[2:0] != 3'd0);
    // the MSI an INT_STAT event owes (address bits [1:0] ignored; 0 = none), from S(e)
    wire [63:0] msi_sa  = {msi_stop_hi, msi_stop_lo[31:2], 2'b00};
    wire [63:0] msi_aa  = {msi_abort_hi, msi_abort_lo[31:2], 2'b00};
    wire        msi_s_on = int_setup[`DD_INT_SETUP_RSTOP_EN_LSB] && !int_setup[`DD_INT_SETUP_SMASK_LSB]
                           && msi_sa != 64'd0;
    wire        msi_a_on = int_setup[`DD_INT_SETUP_RABORT_EN_LSB] && !int_setup[`DD_INT_SETUP_AMASK_LSB]
                           && msi_aa != 64'd0;
    // the channel stays DELEGATED, unfenced, across this edge
    wire        msi_ok   = (st == `DD_ST_DELEGATED) && !fenced && !rq_ok && !r_ok;

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
            cs_cb <= 1'b0; cs_ccs <= 1'b0;
            msi_stop_lo <= 32'd0; msi_stop_hi <= 32'd0; msi_abort_lo <= 32'd0;
            msi_abort_hi <= 32'd0; msi_msgdata <= 32'd0;
            walk <= 1'b0; wph <= 1'b0; lp <= 64'd0; ccs <= 1'b0; fk <= 2'd0;
            fb0 <= 35'd0; fb1 <= 64'd0;
            msi_full <= 1'b0; msi_a <= 64'd0; msi_d <= 32'd0;
`ifdef DD_BUG_EXTRA_BURST
            q_bursts <= 2'd0;
`endif
        end else begin : upd
            reg        set_stop, set_abort;
            reg        wb;             // the walk writes lp / ccs back into LLP / CYCLE_SYNC
            reg [63:0] lp_n;
            reg        ccs_n;
            set_stop  = 1'b0;
            set_abort = 1'b0;
            wb        = 1'b0;
            lp_n      = lp;
            ccs_n     = ccs;

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
            if (w_csync) begin
                cs_cb  <= m_csync[`DD_CYCLE_SYNC_CB_LSB];
                cs_ccs <= m_csync[`DD_CYCLE_SYNC_CCS_LSB];
            end
            if (w_mslo)    msi_stop_lo  <= merge(msi_stop_lo, wr_data, bmask, `DD_WIN_MSI_STOP_LO_WMASK);
            if (w_mshi)    msi_stop_hi  <= merge(msi_stop_hi, wr_data, bmask, `DD_WIN_MSI_STOP_HI_WMASK);
            if (w_malo)    msi_abort_lo <= merge(msi_abort_lo, wr_data, bmask, `DD_WIN_MSI_ABORT_LO_WMASK);
            if (w_mahi)    msi_abort_hi <= merge(msi_abort_hi, wr_data, bmask, `DD_WIN_MSI_ABORT_HI_WMASK);
            if (w_mdata)   msi_msgdata  <= merge(msi_msgdata, wr_data, bmask, `DD_WIN_MSI_MSGDATA_WMASK);

            // element beats of this channel's fetch burst, held until all 3 are in
            if (mv_rbeat && mv_fetch) begin
                if (fk == 2'd0) fb0 <= {mv_rdata[63:32], mv_rdata[2:0]};
                if (fk == 2'd1) fb1 <= mv_rdata;
                fk <= (fk == 2'd2) ? 2'd0 : fk + 2'd1;
            end
            if (wr && wr_host) exposed <= 1'b1;

            // engine: burst end, stop without a burst in flight, stop request
            if (mv_done && walk) begin
                // a walk's burst end (docs/microarch.md "Element end", "Data burst end")
                if (mv_err) begin
                    ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;
                end else if (mv_fetch) begin
                    if (fk != 2'd2) begin
                        // first part of an element split at 4 KiB / MAX_BURST
                        if (blk) begin ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1; end
                    end else if (el_cb != ccs) begin
                        // list consumed: wins over a same-edge STOP (Decision 15)
                        ch_stat <= `DD_CH_STOPPED; set_stop = 1'b1;
                    end else if (blk || el_bad) begin
                        // not consumed (blocked) or bad: abort before any of its data
                        ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;
                    end else if (el_link) begin
                        lp_n  = fb1;
                        ccs_n = ccs ^ el_tcb;
                        wb    = 1'b1;
                    end else begin
                        wph   <= 1'b1;
                        w_src <= fb1;
                        w_dst <= mv_rdata;
                        w_rem <= el_size;
                    end
                end else if (mv_written) begin
                    w_src <= w_src + {32'd0, mv_bytes};
                    w_dst <= w_dst + {32'd0, mv_bytes};
                    w_rem <= w_rem - mv_bytes;
                    if (w_rem == mv_bytes) begin
                        // element done: LLP moves on even if the channel stops now
                        lp_n = lp + ELEM_SIZE;
                        wph <= 1'b0;
                        wb   = 1'b1;
                    end
                    if (blk) begin ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1; end
                end else begin
                    ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;   // write dropped
                end
                // the end of a walk shows its own LLP / CCS
                if (set_stop || set_abort) wb = 1'b1;
                stop_req <= 1'b0;
            end else if (mv_done) begin
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
                walk    <= 1'b0;
                w_src   <= {sar_hi, sar_lo};
                w_dst   <= {dar_hi, dar_lo};
                w_rem   <= xfer_size;
            end else if (ll_ok) begin
                ch_stat <= `DD_CH_RUNNING;
                walk    <= 1'b1;
                wph     <= 1'b0;
                fk      <= 2'd0;
                lp_n     = {llp_hi, llp_lo};
                ccs_n    = cs_ccs;
            end else if (start_now) begin
                ch_stat <= `DD_CH_ABORTED; set_abort = 1'b1;
            end
            lp  <= lp_n;
            ccs <= ccs_n;
            // hardware update of LLP / CCS wins over a same-edge register write
            if (wb) begin
                llp_lo <= lp_n[31:0];
                llp_hi <= lp_n[63:32];
                cs_ccs <= ccs_n;
            end

            // the MSI slot: emptied by the mover's pick, filled by an event that owes
            // an MSI, emptied by any RECLAIM (a non-DELEGATED channel never presents one)
            if (picked) msi_full <= 1'b0;
            if (set_stop && msi_ok && msi_s_on) begin
                msi_full <= 1'b1; msi_a <= msi_sa; msi_d <= msi_msgdata;
            end else if (set_abort && msi_ok && msi_a_on) begin
                msi_full <= 1'b1; msi_a <= msi_aa; msi_d <= msi_msgdata;
            end
`ifndef DD_BUG_MSI_AFTER_T0
            if (rq_ok || r_ok) msi_full <= 1'b0;
`endif
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
                cs_cb <= 1'b0; cs_ccs <= 1'b0;
                msi_stop_lo <= 32'd0; msi_stop_hi <= 32'd0; msi_abort_lo <= 32'd0;
                msi_abort_hi <= 32'd0; msi_msgdata <= 32'd0;
                walk <= 1'b0; wph <= 1'b0; lp <= 64'd0; ccs <= 1'b0; fk <= 2'd0;
                fb0 <= 35'd0; fb1 <= 64'd0;
                msi_full <= 1'b0; msi_a <= 64'd0; msi_d <= 32'd0;
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
    // arguments, evaluated by one continuous assignment per port (an always @* of
    // both re-ran both, each copying rv, whenever either offset or any register
    // changed: on Icarus a tenth of a register access's simulated cost).
    wire [19*32-1:0] rv = {
        ({31'd0, cs_ccs} << `DD_CYCLE_SYNC_CCS_LSB) | ({31'd0, cs_cb} << `DD_CYCLE_SYNC_CB_LSB),
        msi_stop_lo, msi_stop_hi, msi_abort_lo, msi_abort_hi, msi_msgdata,
        {31'd0, ch_en}, llp_lo, llp_hi, xfer_size, sar_lo, sar_hi, dar_lo, dar_hi,
        {31'd0, lle}, {28'd0, func_num}, {30'd0, ch_stat},
        ({31'd0, int_stop} << `DD_INT_STAT_STOP_LSB) | ({31'd0, int_abort} << `DD_INT_STAT_ABORT_LSB),
        {25'd0, int_setup}
    };
    function [31:0] rd_mux;
        input [7:0]       o;
        input [19*32-1:0] v;
        begin
            case (o)
                `DD_WIN_CYCLE_SYNC:   rd_mux = v[18*32 +: 32];
                `DD_WIN_MSI_STOP_LO:  rd_mux = v[17*32 +: 32];
                `DD_WIN_MSI_STOP_HI:  rd_mux = v[16*32 +: 32];
                `DD_WIN_MSI_ABORT_LO: rd_mux = v[15*32 +: 32];
                `DD_WIN_MSI_ABORT_HI: rd_mux = v[14*32 +: 32];
                `DD_WIN_MSI_MSGDATA:  rd_mux = v[13*32 +: 32];
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
    assign rd_data_loc  = rd_mux(rd_off_loc, rv);
    assign rd_data_host = rd_mux(rd_off_host, rv);

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
    // LLP and CYCLE_SYNC.CCS are updated by a walk, so they sit with the status.
    assign win  = {int_abort, int_stop, ch_stat, cs_ccs, llp_hi, llp_lo,
                   msi_msgdata, msi_abort_hi, msi_abort_lo, msi_stop_hi, msi_stop_lo, cs_cb,
                   int_setup, func_num, lle, dar_hi, dar_lo, sar_hi, sar_lo, xfer_size, ch_en};

    assign wk   = {msi_full, wph, walk, lp[2:0], fk};

    // the mover's work: an element fetch at lp + 8k (k beats held; dst 0 never limits
    // the length), else the data burst of a copy or of the element being copied
    assign req_fetch = walk && !wph;
    assign src  = req_fetch ? lp + {59'd0, fk, 3'd0} : w_src;
    assign dst  = req_fetch ? 64'd0 : w_dst;
    assign rem  = req_fetch ? ELEM_SIZE - {27'd0, fk, 3'd0} : w_rem;
`ifdef DD_BUG_MSI_AFTER_T0
    // planted bug: the slot survives a RECLAIM and is picked in any state
    assign req_msi  = msi_full;
`else
    // eligible whatever CH_STAT, while DELEGATED and unfenced, not on a RECLAIM edge
    assign req_msi  = msi_full && (st == `DD_ST_DELEGATED) && !fenced
                      && !(cmd_we && c_cmd == `DD_CMD_RECLAIM);
`endif
    assign msi_addr = msi_a;
    assign msi_data = msi_d;
`ifdef DD_BUG_USER_FUNCNUM
    assign user = func_num;                                   // planted: owner ignored
`ifdef VERILATOR
    wire _unused_bug = &{1'b0, ofunc, 1'b0};
`endif
`else
    assign user = (st == `DD_ST_DELEGATED) ? ofunc : func_num;
`endif

    // Lint sink for Verilator's UNUSED warning only (`ifdef VERILATOR): Icarus would
    // evaluate the reduction at every change of its inputs (docs/performance-log.md).
`ifdef VERILATOR
    wire _unused_ok = &{1'b0, cmd_val, stat_val, wval, iclr, stat_clr, m_funcnum[31:4], m_isetup[31:7],
                        m_csync, msi_stop_lo[1:0], msi_abort_lo[1:0], 1'b0};
`endif
endmodule
`default_nettype wire
