// tb_dma_deleg: simulation-only wrapper around dma_deleg.
//
// Why a wrapper: on Icarus the clock is generated here (`always #5`), cheaper
// than a cocotb Clock because Python is not woken per edge; the wrapper also
// counts edges (`cycle`) and packs every handshake the testbench
// monitors into one vector (`mon`), so the Python monitor reads one signal per
// cycle and returns immediately on idle cycles. cocotbext-axi drives the `reg`s
// below by name, exactly as it would drive DUT ports.
`timescale 1ns/1ps
`default_nettype none
module tb_dma_deleg #(
    parameter WR_CH     = 2,
    parameter RD_CH     = 2,
    parameter NUM_FUNC  = 2,
    parameter MAX_BURST = 8
) ();
    localparam ID_W = 4;
    reg clk = 1'b0;
`ifndef VERILATOR
    // Icarus: the clock is generated here (no Python wake-up per edge). Under
    // Verilator the testbench drives it with a cocotb Clock instead: with an
    // HDL-generated clock, Verilator shows cocotb the values *after* each
    // rising edge, which breaks the pre-edge sampling cocotbext-axi relies on
    // (a phantom W beat, a B before the last beat). See tb/env.py.
    always #5 clk = ~clk;   // half of tb/runner.py CLK_PERIOD_NS
`endif
    reg rst = 1'b0;   // raised by the testbench (TB.reset) so bus models see an edge

    // edge counter: after the e-th rising edge, cycle == e
    reg [63:0] cycle = 64'd0;
    always @(posedge clk) cycle <= cycle + 64'd1;

    reg  [15:0] s_axil_loc_awaddr = 16'd0; reg [2:0] s_axil_loc_awprot = 3'd0; reg s_axil_loc_awvalid = 1'b0; wire s_axil_loc_awready;
    reg  [31:0] s_axil_loc_wdata = 32'd0; reg [3:0] s_axil_loc_wstrb = 4'd0; reg s_axil_loc_wvalid = 1'b0; wire s_axil_loc_wready;
    wire [1:0]  s_axil_loc_bresp; wire s_axil_loc_bvalid; reg s_axil_loc_bready = 1'b0;
    reg  [15:0] s_axil_loc_araddr = 16'd0; reg [2:0] s_axil_loc_arprot = 3'd0; reg s_axil_loc_arvalid = 1'b0; wire s_axil_loc_arready;
    wire [31:0] s_axil_loc_rdata; wire [1:0] s_axil_loc_rresp; wire s_axil_loc_rvalid; reg s_axil_loc_rready = 1'b0;
    reg  [15:0] s_axil_host_awaddr = 16'd0; reg [2:0] s_axil_host_awprot = 3'd0; reg s_axil_host_awvalid = 1'b0; wire s_axil_host_awready;
    reg  [31:0] s_axil_host_wdata = 32'd0; reg [3:0] s_axil_host_wstrb = 4'd0; reg s_axil_host_wvalid = 1'b0; wire s_axil_host_wready;
    wire [1:0]  s_axil_host_bresp; wire s_axil_host_bvalid; reg s_axil_host_bready = 1'b0;
    reg  [15:0] s_axil_host_araddr = 16'd0; reg [2:0] s_axil_host_arprot = 3'd0; reg s_axil_host_arvalid = 1'b0; wire s_axil_host_arready;
    wire [31:0] s_axil_host_rdata; wire [1:0] s_axil_host_rresp; wire s_axil_host_rvalid; reg s_axil_host_rready = 1'b0;

    wire [ID_W-1:0] m_axi_awid;   wire [63:0] m_axi_awaddr; wire [7:0] m_axi_awlen;
    wire [2:0]  m_axi_awsize;     wire [1:0]  m_axi_awburst; wire m_axi_awlock;
    wire [3:0]  m_axi_awcache;    wire [2:0]  m_axi_awprot;  wire m_axi_awvalid;
    reg         m_axi_awready = 1'b0;         wire [3:0]  m_axi_awuser;
    wire [63:0] m_axi_wdata;      wire [7:0]  m_axi_wstrb;   wire m_axi_wlast;  wire m_axi_wvalid;
    reg         m_axi_wready = 1'b0;
    reg  [ID_W-1:0] m_axi_bid = {ID_W{1'b0}}; reg [1:0] m_axi_bresp = 2'd0;
    reg         m_axi_bvalid = 1'b0;          wire m_axi_bready;
    wire [ID_W-1:0] m_axi_arid;   wire [63:0] m_axi_araddr; wire [7:0] m_axi_arlen;
    wire [2:0]  m_axi_arsize;     wire [1:0]  m_axi_arburst; wire m_axi_arlock;
    wire [3:0]  m_axi_arcache;    wire [2:0]  m_axi_arprot;  wire m_axi_arvalid;
    reg         m_axi_arready = 1'b0;         wire [3:0]  m_axi_aruser;
    reg  [ID_W-1:0] m_axi_rid = {ID_W{1'b0}}; reg [63:0] m_axi_rdata = 64'd0;
    reg  [1:0]  m_axi_rresp = 2'd0; reg m_axi_rlast = 1'b0; reg m_axi_rvalid = 1'b0;
    wire        m_axi_rready;
    wire        irq_loc;
    wire [NUM_FUNC-1:0] irq_host;

    // The RTL's ownership STATE of every channel slot (2 bits each), one edge late: after
    // edge e it shows S(e). tb/timing.py measures quiesce lengths on it, waking only when
    // it changes. A register, not an alias of dut.ch_state: Verilator may not report
    // value changes of a wire that merely renames internal state.
    reg [31:0] own_state = 32'd0;
    always @(posedge clk) own_state <= dut.ch_state;


    // AXI protocol checkers, shared with the tl lane's top
`include "tb_checkers.vh"

    // dma_deleg and the monitor vector `mon`, shared with the tl lane's top
`include "tb_dut.vh"
endmodule
`default_nettype wire
