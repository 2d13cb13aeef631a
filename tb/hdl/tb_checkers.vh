// The AXI protocol checkers of a simulation top (tb/hdl/axi4_check.v, axil_check.v),
// reported through tb/hdlcheck.py like the properties of hdl/dd_props.v. Included by
// both lanes' tops (tb_dma_deleg.v, tb_dma_deleg_tl.v), which name their wires alike.
    wire chk_ev_m, chk_ev_loc, chk_ev_host;
    axi4_check #(.ID_W(ID_W), .MAX_BURST(MAX_BURST)) u_chk_m (
        .clk(clk), .rst(rst),
        .awid(m_axi_awid), .awaddr(m_axi_awaddr), .awlen(m_axi_awlen), .awsize(m_axi_awsize),
        .awburst(m_axi_awburst), .awuser(m_axi_awuser), .awvalid(m_axi_awvalid), .awready(m_axi_awready),
        .wdata(m_axi_wdata), .wstrb(m_axi_wstrb), .wlast(m_axi_wlast), .wvalid(m_axi_wvalid),
        .wready(m_axi_wready), .bid(m_axi_bid), .bvalid(m_axi_bvalid), .bready(m_axi_bready),
        .arid(m_axi_arid), .araddr(m_axi_araddr), .arlen(m_axi_arlen), .arsize(m_axi_arsize),
        .arburst(m_axi_arburst), .aruser(m_axi_aruser), .arvalid(m_axi_arvalid), .arready(m_axi_arready),
        .rid(m_axi_rid), .rlast(m_axi_rlast), .rvalid(m_axi_rvalid), .rready(m_axi_rready),
        .msg(), .fail_ev(chk_ev_m), .fail_count()
    );
    axil_check u_chk_loc (
        .clk(clk), .rst(rst),
        .awaddr(s_axil_loc_awaddr), .awprot(s_axil_loc_awprot), .awvalid(s_axil_loc_awvalid),
        .awready(s_axil_loc_awready), .wdata(s_axil_loc_wdata), .wstrb(s_axil_loc_wstrb),
        .wvalid(s_axil_loc_wvalid), .wready(s_axil_loc_wready), .bresp(s_axil_loc_bresp),
        .bvalid(s_axil_loc_bvalid), .bready(s_axil_loc_bready), .araddr(s_axil_loc_araddr),
        .arprot(s_axil_loc_arprot), .arvalid(s_axil_loc_arvalid), .arready(s_axil_loc_arready),
        .rdata(s_axil_loc_rdata), .rresp(s_axil_loc_rresp), .rvalid(s_axil_loc_rvalid),
        .rready(s_axil_loc_rready),
        .msg(), .fail_ev(chk_ev_loc), .fail_count()
    );
    axil_check u_chk_host (
        .clk(clk), .rst(rst),
        .awaddr(s_axil_host_awaddr), .awprot(s_axil_host_awprot), .awvalid(s_axil_host_awvalid),
        .awready(s_axil_host_awready), .wdata(s_axil_host_wdata), .wstrb(s_axil_host_wstrb),
        .wvalid(s_axil_host_wvalid), .wready(s_axil_host_wready), .bresp(s_axil_host_bresp),
        .bvalid(s_axil_host_bvalid), .bready(s_axil_host_bready), .araddr(s_axil_host_araddr),
        .arprot(s_axil_host_arprot), .arvalid(s_axil_host_arvalid), .arready(s_axil_host_arready),
        .rdata(s_axil_host_rdata), .rresp(s_axil_host_rresp), .rvalid(s_axil_host_rvalid),
        .rready(s_axil_host_rready),
        .msg(), .fail_ev(chk_ev_host), .fail_count()
    );
    // Every checker's fail_ev in one vector, bit k toggling with tb/hdlcheck.py
    // CHECKER_PATHS[k]'s: Python watches this one signal (Verilator checks each watched
    // signal for a change at every evaluation of the model).
`ifdef DD_PROPS
    wire       chk_ev_props = dut.u_props.fail_ev;
`else
    wire       chk_ev_props = 1'b0;
`endif
    wire [3:0] chk_fail_ev = {chk_ev_host, chk_ev_loc, chk_ev_m, chk_ev_props};
