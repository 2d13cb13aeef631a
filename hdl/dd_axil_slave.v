// dd_axil_slave: AXI4-Lite slave front end, one transaction at a time.
//
// Turns the five AXI4-Lite channels into a single access strobe `acc` that is
// high on exactly the edge at which the access executes (docs/microarch.md):
// a write executes on the edge where the later of AW and W handshakes, a read
// on its AR handshake edge. The register block answers combinationally with
// `resp`/`rdata`, which are registered into the B/R channel on that edge.
// AW and W may arrive in either order; writes win a tie against reads.
`default_nettype none
`include "dd_wdbg.vh"
module dd_axil_slave #(
    parameter AW = 16
) (
    input  wire          clk,
    input  wire          rst,
    // AXI4-Lite slave
    input  wire [AW-1:0] s_awaddr,
    input  wire [2:0]    s_awprot,
    input  wire          s_awvalid,
    output wire          s_awready,
    input  wire [31:0]   s_wdata,
    input  wire [3:0]    s_wstrb,
    input  wire          s_wvalid,
    output wire          s_wready,
    output reg  [1:0]    s_bresp,
    output reg           s_bvalid,
    input  wire          s_bready,
    input  wire [AW-1:0] s_araddr,
    input  wire [2:0]    s_arprot,
    input  wire          s_arvalid,
    output wire          s_arready,
    output reg  [31:0]   s_rdata,
    output reg  [1:0]    s_rresp,
    output reg           s_rvalid,
    input  wire          s_rready,
    // register-block side
    output wire          acc,     // an access executes on this edge
    output wire          we,      // ... and it is a write
    output wire [AW-1:0] addr,
    output wire [31:0]   wdata,
    output wire [3:0]    wstrb,
    input  wire [1:0]    resp,    // combinational answer for this access
    input  wire [31:0]   rdata,
    // observation only (formal lemmas, hdl/dd_props.v): the held halves, dd_wdbg.vh layout
    output wire [`DD_SOBS_W-1:0] obs
);
    reg          aw_held, w_held;
    reg [AW-1:0] aw_addr_q;
    reg [31:0]   w_data_q;
    reg [3:0]    w_strb_q;

    wire resp_busy = s_rvalid | s_bvalid;
    assign s_awready = !resp_busy && !aw_held;
    assign s_wready  = !resp_busy && !w_held;
`ifdef DD_BUG_LITE_RW_TIE
    // planted bug (hdl/dma_deleg.v): AR does not wait for a pending AW/W, so a read can
    // handshake on the edge a write executes (two transactions at once)
    assign s_arready = !resp_busy && !aw_held && !w_held;
`else
    assign s_arready = !resp_busy && !aw_held && !w_held && !s_awvalid && !s_wvalid;
`endif

    wire aw_hs = s_awvalid && s_awready;
    wire w_hs  = s_wvalid && s_wready;
    wire ar_hs = s_arvalid && s_arready;
    wire do_wr = (aw_held || aw_hs) && (w_held || w_hs);

    assign acc   = do_wr || ar_hs;
    assign we    = do_wr;
    assign addr  = do_wr ? (aw_held ? aw_addr_q : s_awaddr) : s_araddr;
    assign wdata = w_held ? w_data_q : s_wdata;
    assign wstrb = w_held ? w_strb_q : s_wstrb;

    always @(posedge clk) begin
        if (rst) begin
            aw_held   <= 1'b0;
            w_held    <= 1'b0;
            aw_addr_q <= {AW{1'b0}};
            w_data_q  <= 32'd0;
            w_strb_q  <= 4'd0;
            s_bvalid  <= 1'b0;
            s_bresp   <= 2'd0;
            s_rvalid  <= 1'b0;
            s_rresp   <= 2'd0;
            s_rdata   <= 32'd0;
        end else begin
            if (do_wr) begin
                aw_held  <= 1'b0;
                w_held   <= 1'b0;
                s_bvalid <= 1'b1;
                s_bresp  <= resp;
            end else begin
                if (aw_hs) begin
                    aw_held   <= 1'b1;
                    aw_addr_q <= s_awaddr;
                end
                if (w_hs) begin
                    w_held   <= 1'b1;
                    w_data_q <= s_wdata;
                    w_strb_q <= s_wstrb;
                end
            end
            if (ar_hs) begin
                s_rvalid <= 1'b1;
                s_rresp  <= resp;
                s_rdata  <= rdata;
            end
            if (s_bvalid && s_bready) s_bvalid <= 1'b0;
            if (s_rvalid && s_rready) s_rvalid <= 1'b0;
        end
    end

    wire [15:0] obs_aw = aw_addr_q[15:0];
    assign obs = {w_strb_q, w_data_q, obs_aw, w_held, aw_held};

    // AxPROT carries no meaning for this block.
    // Lint sink for Verilator's UNUSED warning only (`ifdef VERILATOR): Icarus would
    // evaluate the reduction at every change of its inputs (docs/performance-log.md).
`ifdef VERILATOR
    wire _unused_ok = &{1'b0, s_awprot, s_arprot, 1'b0};
`endif
endmodule
`default_nettype wire
