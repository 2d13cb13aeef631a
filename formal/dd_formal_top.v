// dd_formal_top: the formal harness (tools/formal.py, `make formal`).
//
// dma_deleg with its security properties bound (DD_PROPS: hdl/dd_props.v asserts them)
// and the AXI4 checker on m_axi (tb/hdl/axi4_check.v: the master's handshake and burst
// rules asserted, the memory's assumed). Every input is free: the two AXI4-Lite masters
// and the memory may do anything the checkers do not assume away.
`default_nettype none
`include "dd_wdbg.vh"
module dd_formal_top #(
    parameter WR_CH = 1, parameter RD_CH = 1, parameter NUM_FUNC = 2, parameter MAX_BURST = 2
) (
    input wire clk, input wire rst,
    input wire [15:0] la_awaddr, input wire la_awvalid, input wire [31:0] la_wdata,
    input wire [3:0] la_wstrb, input wire la_wvalid, input wire la_bready,
    input wire [15:0] la_araddr, input wire la_arvalid, input wire la_rready,
    input wire [15:0] ha_awaddr, input wire ha_awvalid, input wire [31:0] ha_wdata,
    input wire [3:0] ha_wstrb, input wire ha_wvalid, input wire ha_bready,
    input wire [15:0] ha_araddr, input wire ha_arvalid, input wire ha_rready,
    input wire m_awready, input wire m_wready, input wire [3:0] m_bid, input wire [1:0] m_bresp,
    input wire m_bvalid, input wire m_arready, input wire [3:0] m_rid, input wire [63:0] m_rdata,
    input wire [1:0] m_rresp, input wire m_rlast, input wire m_rvalid
);
    wire [3:0] awid, arid, awuser, aruser;
    wire [63:0] awaddr, araddr, wdata;
    wire [7:0] awlen, arlen, wstrb;
    wire [2:0] awsize, arsize;
    wire [1:0] awburst, arburst;
    wire awvalid, wlast, wvalid, bready, arvalid, rready;
    wire [`DD_MOBS_W-1:0] mv;                          // the mover's state (dd_wdbg.vh)
    localparam NID = 16;                               // 1 << ID_W
    wire [NID*12+4+20-1:0] ck;                         // axi4_check's bookkeeping
    dma_deleg #(.WR_CH(WR_CH), .RD_CH(RD_CH), .NUM_FUNC(NUM_FUNC), .MAX_BURST(MAX_BURST), .ID_W(4)) dut (
        .clk(clk), .rst(rst),
        .s_axil_loc_awaddr(la_awaddr), .s_axil_loc_awprot(3'd0), .s_axil_loc_awvalid(la_awvalid),
        .s_axil_loc_awready(), .s_axil_loc_wdata(la_wdata), .s_axil_loc_wstrb(la_wstrb),
        .s_axil_loc_wvalid(la_wvalid), .s_axil_loc_wready(), .s_axil_loc_bresp(), .s_axil_loc_bvalid(),
        .s_axil_loc_bready(la_bready), .s_axil_loc_araddr(la_araddr), .s_axil_loc_arprot(3'd0),
        .s_axil_loc_arvalid(la_arvalid), .s_axil_loc_arready(), .s_axil_loc_rdata(), .s_axil_loc_rresp(),
        .s_axil_loc_rvalid(), .s_axil_loc_rready(la_rready),
        .s_axil_host_awaddr(ha_awaddr), .s_axil_host_awprot(3'd0), .s_axil_host_awvalid(ha_awvalid),
        .s_axil_host_awready(), .s_axil_host_wdata(ha_wdata), .s_axil_host_wstrb(ha_wstrb),
        .s_axil_host_wvalid(ha_wvalid), .s_axil_host_wready(), .s_axil_host_bresp(), .s_axil_host_bvalid(),
        .s_axil_host_bready(ha_bready), .s_axil_host_araddr(ha_araddr), .s_axil_host_arprot(3'd0),
        .s_axil_host_arvalid(ha_arvalid), .s_axil_host_arready(), .s_axil_host_rdata(), .s_axil_host_rresp(),
        .s_axil_host_rvalid(), .s_axil_host_rready(ha_rready),
        .m_axi_awid(awid), .m_axi_awaddr(awaddr), .m_axi_awlen(awlen), .m_axi_awsize(awsize),
        .m_axi_awburst(awburst), .m_axi_awlock(), .m_axi_awcache(), .m_axi_awprot(),
        .m_axi_awvalid(awvalid), .m_axi_awready(m_awready), .m_axi_awuser(awuser),
        .m_axi_wdata(wdata), .m_axi_wstrb(wstrb), .m_axi_wlast(wlast), .m_axi_wvalid(wvalid),
        .m_axi_wready(m_wready), .m_axi_bid(m_bid), .m_axi_bresp(m_bresp), .m_axi_bvalid(m_bvalid),
        .m_axi_bready(bready),
        .m_axi_arid(arid), .m_axi_araddr(araddr), .m_axi_arlen(arlen), .m_axi_arsize(arsize),
        .m_axi_arburst(arburst), .m_axi_arlock(), .m_axi_arcache(), .m_axi_arprot(),
        .m_axi_arvalid(arvalid), .m_axi_arready(m_arready), .m_axi_aruser(aruser),
        .m_axi_rid(m_rid), .m_axi_rdata(m_rdata), .m_axi_rresp(m_rresp), .m_axi_rlast(m_rlast),
        .m_axi_rvalid(m_rvalid), .m_axi_rready(rready),
        .irq_loc(), .irq_host(), .f_mv_obs(mv)
    );
    axi4_check #(.ID_W(4), .MAX_BURST(MAX_BURST)) u_chk_m (
        .clk(clk), .rst(rst),
        .awid(awid), .awaddr(awaddr), .awlen(awlen), .awsize(awsize), .awburst(awburst),
        .awuser(awuser), .awvalid(awvalid), .awready(m_awready),
        .wdata(wdata), .wstrb(wstrb), .wlast(wlast), .wvalid(wvalid), .wready(m_wready),
        .bid(m_bid), .bvalid(m_bvalid), .bready(bready),
        .arid(arid), .araddr(araddr), .arlen(arlen), .arsize(arsize), .arburst(arburst),
        .aruser(aruser), .arvalid(arvalid), .arready(m_arready),
        .rid(m_rid), .rlast(m_rlast), .rvalid(m_rvalid), .rready(rready),
        .msg(), .fail_ev(), .fail_count(), .f_obs(ck)
    );

`ifdef DD_FORMAL_QUIET
    // A narrower environment for the deep planted-bug BMCs (tools/formal.py BUG_GUIDE):
    // the memory never answers and neither master reads. A counterexample found under it
    // is still a trace of the real design; what it saves is the solver's search over
    // inputs that bug's shortest counterexample does not need (it only needs an AR
    // presented, never accepted).
    always @* assume (!m_arready && !m_rvalid && !m_awready && !m_wready && !m_bvalid
                      && !la_arvalid && !ha_arvalid);
`endif
`ifdef DD_GUIDE_WRITES_ONLY
    // A search guide for a planted bug's BMC (tools/formal.py BUG_GUIDE), never for prove
    // or cover: no AXI4-Lite reads and no m_axi R or B. It only removes traces, so a
    // counterexample found under it is one of the free harness too.
    always @* assume (!la_arvalid && !ha_arvalid && !m_rvalid && !m_bvalid);
`endif

`ifdef DD_LEMMAS
    // Lemmas of the k-induction (tools/formal.py task prove): axi4_check's bookkeeping
    // (outstanding bursts, R beats due, W beats counted before and after the AW) equals
    // what the mover's own state says. The mover has one burst in flight (ID = its
    // channel slot `cur`): S_AR presents the AR, S_R takes its R beats, S_W presents the
    // AW and the W beats (either may go first) and waits for the B. Without these, the
    // induction step starts from a checker that expects other beats than the mover sends.
    localparam [1:0] MS_AR = 2'd1, MS_R = 2'd2, MS_W = 2'd3;
    wire [1:0] ms    = mv[`DD_MOBS_STATE +: 2];
    wire [4:0] mlen  = mv[`DD_MOBS_MLEN +: 5];
    wire [4:0] rcnt  = mv[`DD_MOBS_RCNT +: 5];
    wire [4:0] wcnt  = mv[`DD_MOBS_WCNT +: 5];
    wire [3:0] cur   = mv[`DD_MOBS_CUR +: 4];
    wire [11:0] ck_c = ck[cur*12 +: 12];
    wire       w_pre_last = ck[NID*12];
    wire [8:0] w_pre  = ck[NID*12 + 1 +: 9];
    wire [8:0] w_left = ck[NID*12 + 10 +: 9];
    wire [3:0] w_id   = ck[NID*12 + 19 +: 4];
    wire       w_act  = ck[NID*12 + 23];
    wire [8:0] beats_r = {4'd0, mlen - rcnt};
    wire [8:0] beats_w = {4'd0, mlen - wcnt};
    // per ID, ck[i*12 +: 12] = {wr_wdone, wr_out, rd_out, rd_left[8:0]}: outstanding
    // only for the mover's burst, in the phase and with the beats its state says
    // (wr_wdone alone may stay set after a B that came with the last W beat; it only
    // counts while wr_out, which lemma_w covers)
    reg [NID-1:0] rd_bad, wr_bad;
    integer i;
    always @* for (i = 0; i < NID; i = i + 1) begin
        rd_bad[i] = ck[i*12 + 9] && !(i == cur && ms == MS_R && ck[i*12 +: 9] == beats_r);
        wr_bad[i] = ck[i*12 + 10] && !(i == cur && ms == MS_W && !awvalid);
    end
    always @* if (!rst) begin
        lemma_rd_out: assert (rd_bad == {NID{1'b0}});
        lemma_wr_out: assert (wr_bad == {NID{1'b0}});
    end
    always @* if (!rst) begin
        lemma_r:  assert (ms != MS_R || ck_c[9]);
        lemma_ar: assert (ms != MS_AR || arlen == {3'd0, mlen - 5'd1});
        lemma_w:  assert (ms == MS_W ? (awlen == {3'd0, mlen - 5'd1} && wvalid == (wcnt != mlen)
                                        && (awvalid ? (!w_act && w_pre == {4'd0, wcnt} && w_pre_last == !wvalid)
                                                    : (ck_c[10] && w_pre == 9'd0 && !w_pre_last
                                                       && (wvalid ? (w_act && w_id == cur && w_left == beats_w && !ck_c[11])
                                                                  : (!w_act && ck_c[11])))))
                                     : (!w_act && w_pre == 9'd0 && !w_pre_last && !wvalid));
    end
`endif
endmodule
`default_nettype wire
