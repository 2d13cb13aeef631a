// dd_formal_top: the formal harness (tools/formal.py, `make formal`).
//
// dma_deleg with its security properties bound (DD_PROPS: hdl/dd_props.v asserts them)
// and the AXI4 checker on m_axi (tb/hdl/axi4_check.v: the master's handshake and burst
// rules asserted, the memory's assumed). Every input is free: the two AXI4-Lite masters
// and the memory may do anything the checkers do not assume away.
`default_nettype none
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
        .irq_loc(), .irq_host()
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
        .msg(), .fail_ev(), .fail_count()
    );
endmodule
`default_nettype wire
