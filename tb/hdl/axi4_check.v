// axi4_check: AXI4 protocol checker for dma_deleg's m_axi port (simulation only).
//
// Watches one AXI4 interface and reports the first broken rule of each edge the way
// hdl/dd_props.v does (msg / fail_ev / fail_count, read by tb/hdlcheck.py). Written
// from the AXI4 specification (ARM IHI 0022) and SPEC 2 (INCR bursts of at most
// MAX_BURST beats of 8 bytes that never cross 4 KiB), not from the mover's code.
//
// Rules (name in the message):
//   ar_hold / aw_hold / w_hold      VALID, once high, stays high until READY (A3.2.1)
//   ar_stable / aw_stable / w_stable  payload unchanged while VALID and not READY
//   ar_burst / aw_burst             INCR, 8-byte beats, 1..MAX_BURST beats, no 4 KiB crossing;
//                                   or (AW only) an MSI write of SPEC 3: INCR, one beat of
//                                   4 bytes (AWSIZE=2) at a 4-byte-aligned address
//   wlast                           WLAST on the last beat of the burst, and only there
//                                   (W beats may precede their AW, as AXI allows: those
//                                   are judged when the AW arrives)
//   rid / bid                       R and B only for an ID with an outstanding burst
//   rlast                           RLAST on the beat the burst length says, only there
//   b_early                         B only after every W beat of its burst
//   id_reuse                        one outstanding burst per ID and direction (SPEC:
//                                   the ID is the channel, one burst in flight)
// The first three groups are the master's (the DUT's) obligations; rid, bid, rlast and
// b_early are the memory's, so a misbehaving memory is named here too.
`timescale 1ns/1ps
`default_nettype none
module axi4_check #(
    parameter ID_W      = 4,
    parameter MAX_BURST = 8,
    parameter MSG_W     = 8 * 256
) (
    input  wire            clk,
    input  wire            rst,
    input  wire [ID_W-1:0] awid,
    input  wire [63:0]     awaddr,
    input  wire [7:0]      awlen,
    input  wire [2:0]      awsize,
    input  wire [1:0]      awburst,
    input  wire [3:0]      awuser,
    input  wire            awvalid,
    input  wire            awready,
    input  wire [63:0]     wdata,
    input  wire [7:0]      wstrb,
    input  wire            wlast,
    input  wire            wvalid,
    input  wire            wready,
    input  wire [ID_W-1:0] bid,
    input  wire            bvalid,
    input  wire            bready,
    input  wire [ID_W-1:0] arid,
    input  wire [63:0]     araddr,
    input  wire [7:0]      arlen,
    input  wire [2:0]      arsize,
    input  wire [1:0]      arburst,
    input  wire [3:0]      aruser,
    input  wire            arvalid,
    input  wire            arready,
    input  wire [ID_W-1:0] rid,
    input  wire            rlast,
    input  wire            rvalid,
    input  wire            rready,
    output reg  [MSG_W-1:0] msg,
    output reg             fail_ev,
    output reg  [31:0]     fail_count
`ifdef FORMAL
    // formal harness only: this checker's bookkeeping, for the lemmas of
    // formal/dd_formal_top.v that tie it to the master's own state
    , output wire [(1<<ID_W)*12+ID_W+20-1:0] f_obs
`endif
);
    localparam NID = 1 << ID_W;
    localparam AR_PW = ID_W + 64 + 8 + 3 + 2 + 4;
    localparam W_PW  = 64 + 8 + 1;

    reg armed;
    reg [63:0] edge_n;
`ifdef FORMAL
    // formal starts in reset (initial assume), so every reachable state is armed; not
    // gating on `armed` keeps the induction step from starting in an unarmed state where
    // the memory's assumptions are off while the lemmas judge the design
    wire chk = !rst;
`else
    wire chk = armed && !rst;
`endif

    // previous edge: VALID high without READY, and the payload then. The payload is
    // captured on such an edge only (the stable rules compare it on the edge after one
    // alone), and no payload vector is kept as a wire: a simulator would rebuild it at
    // every W beat (Icarus spent a tenth of a copy's time so, docs/performance-log.md
    // "Where the time goes")
    reg             ar_wait, aw_wait, w_wait;
    reg [AR_PW-1:0] ar_pq, aw_pq;
    reg [W_PW-1:0]  w_pq;

    wire ar_hs = arvalid && arready;
    wire aw_hs = awvalid && awready;
    wire w_hs  = wvalid && wready;
    wire r_hs  = rvalid && rready;
    wire b_hs  = bvalid && bready;

    // outstanding bursts, one per ID and direction
    reg       rd_out [0:NID-1];
    reg [8:0] rd_left [0:NID-1];      // R beats still due
    reg       wr_out [0:NID-1];       // AW accepted, B not yet
    reg       wr_wdone [0:NID-1];     // ... and all its W beats sent
    // the write burst whose W beats are flowing (AW accepted, W not finished)
    reg            w_act;
    reg [ID_W-1:0] w_id;
    reg [8:0]      w_left;             // beats still due, including this one
    // W beats accepted before their burst's AW (the memory may take W first)
    reg [8:0]      w_pre;
    reg            w_pre_last;         // ... and the last of them carried WLAST

    function burst_bad;
        input [63:0] a; input [7:0] len; input [2:0] size; input [1:0] burst;
        reg [13:0] end_off;
        begin
            end_off   = {2'b00, a[11:0]} + ({6'd0, len} + 14'd1) * 14'd8;
            burst_bad = burst != 2'b01 || size != 3'd3 || ({24'd0, len} + 32'd1) > MAX_BURST
                        || end_off > 14'h1000;
        end
    endfunction

    // the W beat of this edge: its burst (already accepted, or AW at this very edge,
    // after the beats that went ahead of it)
    wire [8:0]     aw_beats = {1'b0, awlen} + 9'd1;
    wire           w_has   = w_act || (aw_hs && !w_pre_last);
    wire [8:0]     w_due   = w_act ? w_left : (aw_beats - w_pre);
    // the AW of beats that went ahead: their WLAST must fit its length
    wire           pre_bad = aw_hs && !w_act && w_pre != 9'd0
                             && (w_pre_last ? (w_pre != aw_beats) : (w_pre >= aw_beats));

    localparam NR = 16;
    localparam AR_HOLD = 0, AR_STABLE = 1, AW_HOLD = 2, AW_STABLE = 3, W_HOLD = 4, W_STABLE = 5,
               AR_BURST = 6, AW_BURST = 7, WLAST = 8, RID = 10, BID = 11,
               RLAST = 12, B_EARLY = 13, ID_REUSE = 14;   // 9: unused (rule removed)
    // one continuous assignment per rule, so that a change re-evaluates the rules that
    // read it, not all of them (a W beat used to rerun both burst_bad calls)
    wire [NR-1:0] v;
    assign v[AR_HOLD]   = ar_wait && !arvalid;
    assign v[AR_STABLE] = ar_wait && arvalid && {arid, araddr, arlen, arsize, arburst, aruser} != ar_pq;
    assign v[AW_HOLD]   = aw_wait && !awvalid;
    assign v[AW_STABLE] = aw_wait && awvalid && {awid, awaddr, awlen, awsize, awburst, awuser} != aw_pq;
    assign v[W_HOLD]    = w_wait && !wvalid;
    assign v[W_STABLE]  = w_wait && wvalid
                          && (wdata != w_pq[W_PW-1:9] || wstrb != w_pq[8:1] || wlast != w_pq[0]);
    assign v[AR_BURST]  = arvalid && burst_bad(araddr, arlen, arsize, arburst);
    assign v[AW_BURST]  = awvalid && (awsize == 3'd2 ? (awburst != 2'b01 || awlen != 8'd0 || awaddr[1:0] != 2'b00)
                                                     : burst_bad(awaddr, awlen, awsize, awburst));
    assign v[WLAST]     = (w_hs && w_has && (wlast != (w_due == 9'd1))) || pre_bad;
    assign v[9]         = 1'b0;
    assign v[RID]       = r_hs && !rd_out[rid];
    assign v[RLAST]     = r_hs && rd_out[rid] && (rlast != (rd_left[rid] == 9'd1));
    assign v[BID]       = b_hs && !wr_out[bid];
    assign v[B_EARLY]   = b_hs && wr_out[bid] && !wr_wdone[bid]
                          && !(w_hs && w_has && w_id == bid && w_due == 9'd1);
    assign v[ID_REUSE]  = (ar_hs && rd_out[arid] && !(r_hs && rid == arid && rd_left[rid] == 9'd1))
                          || (aw_hs && wr_out[awid] && !(b_hs && bid == awid));
    assign v[15]        = 1'b0;

    integer i;
    always @(posedge clk) begin
        edge_n <= edge_n + 64'd1;
        if (rst) armed <= 1'b1;
        ar_wait <= !rst && arvalid && !arready;
        aw_wait <= !rst && awvalid && !awready;
        w_wait  <= !rst && wvalid && !wready;
        if (arvalid && !arready) ar_pq <= {arid, araddr, arlen, arsize, arburst, aruser};
        if (awvalid && !awready) aw_pq <= {awid, awaddr, awlen, awsize, awburst, awuser};
        if (wvalid && !wready)   w_pq  <= {wdata, wstrb, wlast};
        if (rst) begin
            for (i = 0; i < NID; i = i + 1) begin
                rd_out[i] <= 1'b0; wr_out[i] <= 1'b0; wr_wdone[i] <= 1'b0; rd_left[i] <= 9'd0;
            end
            w_act <= 1'b0; w_pre <= 9'd0; w_pre_last <= 1'b0;
        end else begin
            if (r_hs && rd_out[rid]) begin
                rd_left[rid] <= rd_left[rid] - 9'd1;
                if (rd_left[rid] == 9'd1 || rlast) rd_out[rid] <= 1'b0;  // a wrong RLAST ends it too
            end
            if (ar_hs) begin
                rd_out[arid]  <= 1'b1;
                rd_left[arid] <= {1'b0, arlen} + 9'd1;
            end
            if (b_hs && !wr_out[bid]) begin
                // a B for no outstanding burst (reported as bid): resynchronise, so that
                // the burst it stood for does not look outstanding for ever
                for (i = 0; i < NID; i = i + 1) begin
                    wr_out[i] <= 1'b0; wr_wdone[i] <= 1'b0;
                end
            end else if (b_hs) begin
                wr_out[bid] <= 1'b0; wr_wdone[bid] <= 1'b0;
            end
            if (aw_hs) begin
                wr_out[awid] <= 1'b1; wr_wdone[awid] <= 1'b0;
            end
            if (aw_hs && !w_act) begin   // the beats that went ahead now have a burst
                w_pre <= 9'd0; w_pre_last <= 1'b0;
            end
            if (w_hs && w_has) begin
                if (w_due == 9'd1 || wlast) begin
                    w_act <= 1'b0;
                    wr_wdone[w_act ? w_id : awid] <= 1'b1;
                end else begin
                    w_act  <= 1'b1;
                    w_id   <= w_act ? w_id : awid;
                    w_left <= w_due - 9'd1;
                end
            end else if (aw_hs && !w_act) begin
                if (w_pre_last || w_pre >= aw_beats) begin
                    wr_wdone[awid] <= 1'b1;          // all its W beats went ahead
                end else begin
                    w_act <= 1'b1; w_id <= awid; w_left <= aw_beats - w_pre;
                end
            end else if (w_hs) begin                 // a beat ahead of its AW
                w_pre <= w_pre + 9'd1;
                if (wlast) w_pre_last <= 1'b1;
            end
        end
    end

`ifdef FORMAL
    // f_obs layout, low to high: per ID i (12 bits at i*12) {wr_wdone, wr_out, rd_out,
    // rd_left[8:0]}, then w_pre_last, w_pre[8:0], w_left[8:0], w_id, w_act
    genvar fi;
    for (fi = 0; fi < NID; fi = fi + 1) begin : fobs
        assign f_obs[fi*12 +: 12] = {wr_wdone[fi], wr_out[fi], rd_out[fi], rd_left[fi]};
    end
    assign f_obs[NID*12 +: ID_W+20] = {w_act, w_id, w_left, w_pre, w_pre_last};
    // formal/ (tools/formal.py): the master's rules are proven, the memory's assumed
    initial armed = 1'b0;
    initial assume (rst);
    always @* if (chk) begin
        assert (!v[AR_HOLD] && !v[AR_STABLE] && !v[AW_HOLD] && !v[AW_STABLE] && !v[W_HOLD]
                && !v[W_STABLE] && !v[AR_BURST] && !v[AW_BURST] && !v[WLAST] && !v[ID_REUSE]);
        assume (!v[RID] && !v[RLAST] && !v[BID] && !v[B_EARLY]);
    end
    initial begin ar_wait = 1'b0; aw_wait = 1'b0; w_wait = 1'b0; end
    always @(posedge clk) begin msg <= {MSG_W{1'b0}}; fail_ev <= 1'b0; fail_count <= 32'd0; end  // unused here
`else
    initial begin
        armed = 1'b0; edge_n = 64'd0; fail_ev = 1'b0; fail_count = 32'd0; msg = {MSG_W{1'b0}};
        ar_wait = 1'b0; aw_wait = 1'b0; w_wait = 1'b0; w_act = 1'b0; w_pre = 9'd0; w_pre_last = 1'b0;
    end
    reg [MSG_W-1:0] m;
    always @(posedge clk) begin
        if (chk && v != {NR{1'b0}}) begin
            if (v[AR_HOLD])        $sformat(m, "ar_hold at edge %0d: ARVALID dropped before ARREADY", edge_n + 64'd1);
            else if (v[AR_STABLE]) $sformat(m, "ar_stable at edge %0d: AR payload changed while ARVALID and not ARREADY", edge_n + 64'd1);
            else if (v[AW_HOLD])   $sformat(m, "aw_hold at edge %0d: AWVALID dropped before AWREADY", edge_n + 64'd1);
            else if (v[AW_STABLE]) $sformat(m, "aw_stable at edge %0d: AW payload changed while AWVALID and not AWREADY", edge_n + 64'd1);
            else if (v[W_HOLD])    $sformat(m, "w_hold at edge %0d: WVALID dropped before WREADY", edge_n + 64'd1);
            else if (v[W_STABLE])  $sformat(m, "w_stable at edge %0d: W payload changed while WVALID and not WREADY", edge_n + 64'd1);
            else if (v[AR_BURST])  $sformat(m, "ar_burst at edge %0d: AR addr %h len %0d size %0d burst %0d: not INCR of 1..%0d 8-byte beats within 4 KiB",
                                            edge_n + 64'd1, araddr, arlen, arsize, arburst, MAX_BURST);
            else if (v[AW_BURST])  $sformat(m, "aw_burst at edge %0d: AW addr %h len %0d size %0d burst %0d: not INCR of 1..%0d 8-byte beats within 4 KiB, nor a 4-byte MSI",
                                            edge_n + 64'd1, awaddr, awlen, awsize, awburst, MAX_BURST);
            else if (v[WLAST])     $sformat(m, "wlast at edge %0d: WLAST=%0d with %0d beat(s) of the burst due (%0d beat(s) went ahead of the AW)",
                                            edge_n + 64'd1, wlast, w_due, w_pre);
            else if (v[RID])       $sformat(m, "rid at edge %0d: R beat with RID %0d, no read burst outstanding for that ID", edge_n + 64'd1, rid);
            else if (v[RLAST])     $sformat(m, "rlast at edge %0d: RLAST=%0d on ID %0d with %0d beat(s) due", edge_n + 64'd1, rlast, rid, rd_left[rid]);
            else if (v[BID])       $sformat(m, "bid at edge %0d: B with BID %0d, no write burst outstanding for that ID", edge_n + 64'd1, bid);
            else if (v[B_EARLY])   $sformat(m, "b_early at edge %0d: B for ID %0d before the last W beat", edge_n + 64'd1, bid);
            else                   $sformat(m, "id_reuse at edge %0d: a second burst on an ID with one outstanding", edge_n + 64'd1);
            msg        <= m;
            fail_count <= fail_count + 32'd1;
            fail_ev    <= !fail_ev;
        end
    end
`endif
endmodule
`default_nettype wire
