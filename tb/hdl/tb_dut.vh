// The DUT instance and the packed handshake vector `mon` of a simulation top, shared by
// both lanes' tops (tb_dma_deleg.v, tb_dma_deleg_tl.v), which name their wires alike.
// `mon`'s bit layout is mirrored in tb/monitor.py (MON_* constants) and read by the tl
// lane's recorder. The AxSIZE fields are 0 while their VALID is low, so they change only
// on edges a VALID changes (busy anyway): the busy-edge rule (`mon` changed) is unaffected.
    wire [8:0] irq_host9 = {{(9 - NUM_FUNC){1'b0}}, irq_host};    // zero-extend (NUM_FUNC <= 8)
    wire [7:0] irq_host8 = irq_host9[7:0];
    wire [31:0] mon = {
        irq_host8, irq_loc,                                                        // [31:23]
        m_axi_awsize & {3{m_axi_awvalid}},                                         // [22:20]
        m_axi_arsize & {3{m_axi_arvalid}},                                         // [19:17]
        m_axi_bvalid & m_axi_bready,                                               // [16]
        m_axi_wvalid & m_axi_wready,                                               // [15]
        m_axi_awvalid & m_axi_awready,                                             // [14]
        m_axi_awvalid,                                                             // [13]
        m_axi_rvalid & m_axi_rready,                                               // [12]
        m_axi_arvalid & m_axi_arready,                                             // [11]
        m_axi_arvalid,                                                             // [10]
        s_axil_host_rvalid & s_axil_host_rready,                                   // [9]
        s_axil_host_bvalid & s_axil_host_bready,                                   // [8]
        s_axil_host_arvalid & s_axil_host_arready,                                 // [7]
        s_axil_host_wvalid & s_axil_host_wready,                                   // [6]
        s_axil_host_awvalid & s_axil_host_awready,                                 // [5]
        s_axil_loc_rvalid & s_axil_loc_rready,                                     // [4]
        s_axil_loc_bvalid & s_axil_loc_bready,                                     // [3]
        s_axil_loc_arvalid & s_axil_loc_arready,                                   // [2]
        s_axil_loc_wvalid & s_axil_loc_wready,                                     // [1]
        s_axil_loc_awvalid & s_axil_loc_awready                                    // [0]
    };

    dma_deleg #(
        .WR_CH(WR_CH), .RD_CH(RD_CH), .NUM_FUNC(NUM_FUNC), .MAX_BURST(MAX_BURST), .ID_W(ID_W)
    ) dut (
        .clk(clk), .rst(rst),
        .s_axil_loc_awaddr(s_axil_loc_awaddr), .s_axil_loc_awprot(s_axil_loc_awprot),
        .s_axil_loc_awvalid(s_axil_loc_awvalid), .s_axil_loc_awready(s_axil_loc_awready),
        .s_axil_loc_wdata(s_axil_loc_wdata), .s_axil_loc_wstrb(s_axil_loc_wstrb),
        .s_axil_loc_wvalid(s_axil_loc_wvalid), .s_axil_loc_wready(s_axil_loc_wready),
        .s_axil_loc_bresp(s_axil_loc_bresp), .s_axil_loc_bvalid(s_axil_loc_bvalid),
        .s_axil_loc_bready(s_axil_loc_bready), .s_axil_loc_araddr(s_axil_loc_araddr),
        .s_axil_loc_arprot(s_axil_loc_arprot), .s_axil_loc_arvalid(s_axil_loc_arvalid),
        .s_axil_loc_arready(s_axil_loc_arready), .s_axil_loc_rdata(s_axil_loc_rdata),
        .s_axil_loc_rresp(s_axil_loc_rresp), .s_axil_loc_rvalid(s_axil_loc_rvalid),
        .s_axil_loc_rready(s_axil_loc_rready),
        .s_axil_host_awaddr(s_axil_host_awaddr), .s_axil_host_awprot(s_axil_host_awprot),
        .s_axil_host_awvalid(s_axil_host_awvalid), .s_axil_host_awready(s_axil_host_awready),
        .s_axil_host_wdata(s_axil_host_wdata), .s_axil_host_wstrb(s_axil_host_wstrb),
        .s_axil_host_wvalid(s_axil_host_wvalid), .s_axil_host_wready(s_axil_host_wready),
        .s_axil_host_bresp(s_axil_host_bresp), .s_axil_host_bvalid(s_axil_host_bvalid),
        .s_axil_host_bready(s_axil_host_bready), .s_axil_host_araddr(s_axil_host_araddr),
        .s_axil_host_arprot(s_axil_host_arprot), .s_axil_host_arvalid(s_axil_host_arvalid),
        .s_axil_host_arready(s_axil_host_arready), .s_axil_host_rdata(s_axil_host_rdata),
        .s_axil_host_rresp(s_axil_host_rresp), .s_axil_host_rvalid(s_axil_host_rvalid),
        .s_axil_host_rready(s_axil_host_rready),
        .m_axi_awid(m_axi_awid), .m_axi_awaddr(m_axi_awaddr), .m_axi_awlen(m_axi_awlen),
        .m_axi_awsize(m_axi_awsize), .m_axi_awburst(m_axi_awburst), .m_axi_awlock(m_axi_awlock),
        .m_axi_awcache(m_axi_awcache), .m_axi_awprot(m_axi_awprot), .m_axi_awvalid(m_axi_awvalid),
        .m_axi_awready(m_axi_awready), .m_axi_awuser(m_axi_awuser),
        .m_axi_wdata(m_axi_wdata), .m_axi_wstrb(m_axi_wstrb), .m_axi_wlast(m_axi_wlast),
        .m_axi_wvalid(m_axi_wvalid), .m_axi_wready(m_axi_wready),
        .m_axi_bid(m_axi_bid), .m_axi_bresp(m_axi_bresp), .m_axi_bvalid(m_axi_bvalid),
        .m_axi_bready(m_axi_bready),
        .m_axi_arid(m_axi_arid), .m_axi_araddr(m_axi_araddr), .m_axi_arlen(m_axi_arlen),
        .m_axi_arsize(m_axi_arsize), .m_axi_arburst(m_axi_arburst), .m_axi_arlock(m_axi_arlock),
        .m_axi_arcache(m_axi_arcache), .m_axi_arprot(m_axi_arprot), .m_axi_arvalid(m_axi_arvalid),
        .m_axi_arready(m_axi_arready), .m_axi_aruser(m_axi_aruser),
        .m_axi_rid(m_axi_rid), .m_axi_rdata(m_axi_rdata), .m_axi_rresp(m_axi_rresp),
        .m_axi_rlast(m_axi_rlast), .m_axi_rvalid(m_axi_rvalid), .m_axi_rready(m_axi_rready),
        .irq_loc(irq_loc), .irq_host(irq_host)
    );
