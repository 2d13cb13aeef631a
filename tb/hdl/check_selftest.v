// check_selftest: negative tests of the protocol checkers, without the DUT.
//
// Drives axi4_check and axil_check with one short scripted scenario per rule: each
// scenario resets the checkers, shows a legal prefix, then breaks exactly that rule.
// It prints "SCENARIO <name>" before each one and "FIRED <message>" for every report
// of a checker; tests/test_protocol_checkers.py runs it on Icarus and requires that
// each scenario fires its own rule first (and that the legal scenarios fire nothing).
`timescale 1ns/1ps
`default_nettype none
module check_selftest;
    reg clk = 1'b0;
    always #5 clk = ~clk;
    reg rst = 1'b1;

    // ------------------------------------------------------------ AXI4
    reg [3:0]  awid = 0, arid = 0, bid = 0, rid = 0;
    reg [63:0] awaddr = 0, araddr = 0, wdata = 0;
    reg [7:0]  awlen = 0, arlen = 0, wstrb = 8'hFF;
    reg [2:0]  awsize = 3, arsize = 3;
    reg [1:0]  awburst = 1, arburst = 1;
    reg [3:0]  awuser = 0, aruser = 0;
    reg awvalid = 0, awready = 0, wlast = 0, wvalid = 0, wready = 0, bvalid = 0, bready = 0;
    reg arvalid = 0, arready = 0, rlast = 0, rvalid = 0, rready = 0;
    wire [8*256-1:0] m_msg;
    wire             m_ev;
    wire [31:0]      m_cnt;
    axi4_check #(.ID_W(4), .MAX_BURST(8)) u_m (
        .clk(clk), .rst(rst),
        .awid(awid), .awaddr(awaddr), .awlen(awlen), .awsize(awsize), .awburst(awburst),
        .awuser(awuser), .awvalid(awvalid), .awready(awready),
        .wdata(wdata), .wstrb(wstrb), .wlast(wlast), .wvalid(wvalid), .wready(wready),
        .bid(bid), .bvalid(bvalid), .bready(bready),
        .arid(arid), .araddr(araddr), .arlen(arlen), .arsize(arsize), .arburst(arburst),
        .aruser(aruser), .arvalid(arvalid), .arready(arready),
        .rid(rid), .rlast(rlast), .rvalid(rvalid), .rready(rready),
        .msg(m_msg), .fail_ev(m_ev), .fail_count(m_cnt)
    );

    // ------------------------------------------------------------ AXI4-Lite
    reg [15:0] l_awaddr = 0, l_araddr = 0;
    reg [2:0]  l_awprot = 0, l_arprot = 0;
    reg [31:0] l_wdata = 0, l_rdata = 0;
    reg [3:0]  l_wstrb = 4'hF;
    reg [1:0]  l_bresp = 0, l_rresp = 0;
    reg l_awvalid = 0, l_awready = 0, l_wvalid = 0, l_wready = 0, l_bvalid = 0, l_bready = 0;
    reg l_arvalid = 0, l_arready = 0, l_rvalid = 0, l_rready = 0;
    wire [8*256-1:0] l_msg;
    wire             l_ev;
    wire [31:0]      l_cnt;
    axil_check u_l (
        .clk(clk), .rst(rst),
        .awaddr(l_awaddr), .awprot(l_awprot), .awvalid(l_awvalid), .awready(l_awready),
        .wdata(l_wdata), .wstrb(l_wstrb), .wvalid(l_wvalid), .wready(l_wready),
        .bresp(l_bresp), .bvalid(l_bvalid), .bready(l_bready),
        .araddr(l_araddr), .arprot(l_arprot), .arvalid(l_arvalid), .arready(l_arready),
        .rdata(l_rdata), .rresp(l_rresp), .rvalid(l_rvalid), .rready(l_rready),
        .msg(l_msg), .fail_ev(l_ev), .fail_count(l_cnt)
    );

    always @(m_ev) if ($time > 0) $display("FIRED %0s", m_msg);
    always @(l_ev) if ($time > 0) $display("FIRED %0s", l_msg);

    // one cycle: the values set now are S(e) of the next rising edge
    task cyc; begin @(posedge clk); #1; end endtask
    task idle_all; begin
        awvalid = 0; awready = 0; wvalid = 0; wready = 0; wlast = 0; bvalid = 0; bready = 0;
        arvalid = 0; arready = 0; rvalid = 0; rready = 0; rlast = 0;
        awid = 0; arid = 0; bid = 0; rid = 0; awaddr = 0; araddr = 0; awlen = 0; arlen = 0;
        awsize = 3; arsize = 3; awburst = 1; arburst = 1; wdata = 0;
        l_awvalid = 0; l_awready = 0; l_wvalid = 0; l_wready = 0; l_bvalid = 0; l_bready = 0;
        l_arvalid = 0; l_arready = 0; l_rvalid = 0; l_rready = 0; l_awaddr = 0; l_araddr = 0;
        l_wdata = 0; l_rdata = 0; l_bresp = 0; l_rresp = 0;
    end endtask
    task scenario(input [8*16-1:0] name); begin
        idle_all;
        rst = 1; cyc; cyc; rst = 0;
        $display("SCENARIO %0s", name);
        cyc;
    end endtask

    initial begin
        #1;
        // ---------------- AXI4: a legal read and write burst of two beats
        scenario("m_clean");
        arvalid = 1; arid = 2; araddr = 64'h1000; arlen = 1; cyc;       // waits a cycle
        arready = 1; cyc; arvalid = 0; arready = 0;
        rvalid = 1; rready = 1; rid = 2; cyc; rlast = 1; cyc; rvalid = 0; rlast = 0;
        awvalid = 1; awready = 1; awid = 2; awaddr = 64'h2000; awlen = 1;
        wvalid = 1; wready = 1; cyc; awvalid = 0; wlast = 1; cyc; wvalid = 0; wlast = 0;
        bvalid = 1; bready = 1; bid = 2; cyc; bvalid = 0; cyc;

        scenario("ar_hold");   arvalid = 1; cyc; arvalid = 0; cyc;
        scenario("ar_stable"); arvalid = 1; araddr = 64'h100; cyc; araddr = 64'h108; cyc;
        scenario("aw_hold");   awvalid = 1; cyc; awvalid = 0; cyc;
        scenario("aw_stable"); awvalid = 1; awlen = 0; cyc; awlen = 1; cyc;
        scenario("w_hold");    awvalid = 1; awready = 1; cyc; awvalid = 0; awready = 0;
                               wvalid = 1; cyc; wvalid = 0; cyc;
        scenario("w_stable");  awvalid = 1; awready = 1; cyc; awvalid = 0; awready = 0;
                               wvalid = 1; wlast = 1; wdata = 1; cyc; wdata = 2; cyc;
        scenario("ar_burst");  arvalid = 1; arready = 1; araddr = 64'hFF8; arlen = 1; cyc;
        scenario("aw_burst");  awvalid = 1; awready = 1; awlen = 8; cyc;
        scenario("wlast");     awvalid = 1; awready = 1; awlen = 1; wvalid = 1; wready = 1; wlast = 1; cyc;
        scenario("m_clean_wfirst");                                    // W ahead of its AW: legal
        wvalid = 1; wready = 1; cyc; wlast = 1; cyc; wvalid = 0; wlast = 0;
        awvalid = 1; awready = 1; awlen = 1; cyc; awvalid = 0; bvalid = 1; bready = 1; cyc; bvalid = 0; cyc;
        scenario("wlast_wfirst");  wvalid = 1; wready = 1; wlast = 1; cyc; wvalid = 0; wlast = 0;
                                   awvalid = 1; awready = 1; awlen = 1; cyc;
        scenario("rid");       rvalid = 1; rready = 1; rid = 3; rlast = 1; cyc;
        scenario("rlast");     arvalid = 1; arready = 1; arlen = 1; cyc; arvalid = 0;
                               rvalid = 1; rready = 1; rlast = 1; cyc;
        scenario("bid");       bvalid = 1; bready = 1; bid = 5; cyc;
        scenario("b_early");   awvalid = 1; awready = 1; awlen = 1; wvalid = 1; wready = 1; cyc;
                               awvalid = 0; wvalid = 0; bvalid = 1; bready = 1; cyc;
        scenario("id_reuse");  arvalid = 1; arready = 1; arlen = 1; cyc; cyc;

        // ---------------- AXI4-Lite: a legal write and read
        scenario("l_clean");
        l_awvalid = 1; l_wvalid = 1; cyc; l_awready = 1; l_wready = 1; cyc;
        l_awvalid = 0; l_wvalid = 0; l_awready = 0; l_wready = 0;
        l_bvalid = 1; cyc; l_bready = 1; cyc; l_bvalid = 0; l_bready = 0;
        l_arvalid = 1; l_arready = 1; cyc; l_arvalid = 0; l_arready = 0;
        l_rvalid = 1; l_rdata = 5; cyc; l_rready = 1; cyc; l_rvalid = 0; l_rready = 0; cyc;

        scenario("l_aw_hold");   l_awvalid = 1; cyc; l_awvalid = 0; cyc;
        scenario("l_aw_stable"); l_awvalid = 1; cyc; l_awaddr = 16'h40; cyc;
        scenario("l_w_hold");    l_wvalid = 1; cyc; l_wvalid = 0; cyc;
        scenario("l_w_stable");  l_wvalid = 1; cyc; l_wdata = 7; cyc;
        scenario("l_ar_hold");   l_arvalid = 1; cyc; l_arvalid = 0; cyc;
        scenario("l_ar_stable"); l_arvalid = 1; cyc; l_araddr = 16'h40; cyc;
        scenario("l_b_hold");    l_awvalid = 1; l_awready = 1; l_wvalid = 1; l_wready = 1; cyc;
                                 l_awvalid = 0; l_awready = 0; l_wvalid = 0; l_wready = 0;
                                 l_bvalid = 1; cyc; l_bvalid = 0; cyc;
        scenario("l_b_stable");  l_awvalid = 1; l_awready = 1; l_wvalid = 1; l_wready = 1; cyc;
                                 l_awvalid = 0; l_awready = 0; l_wvalid = 0; l_wready = 0;
                                 l_bvalid = 1; cyc; l_bresp = 2; cyc;
        scenario("l_r_hold");    l_arvalid = 1; l_arready = 1; cyc; l_arvalid = 0; l_arready = 0;
                                 l_rvalid = 1; cyc; l_rvalid = 0; cyc;
        scenario("l_r_stable");  l_arvalid = 1; l_arready = 1; cyc; l_arvalid = 0; l_arready = 0;
                                 l_rvalid = 1; cyc; l_rdata = 9; cyc;
        scenario("l_b_unowed");  l_awvalid = 1; l_awready = 1; cyc; l_awvalid = 0; l_awready = 0;
                                 l_bvalid = 1; l_bready = 1; cyc;
        scenario("l_r_unowed");  l_rvalid = 1; l_rready = 1; cyc;
        scenario("l_one_txn");   l_arvalid = 1; l_arready = 1; cyc; l_arready = 1; l_araddr = 4; cyc;
        $display("SELFTEST DONE");
        $finish;
    end
endmodule
`default_nettype wire
