// tl_axil_master: AXI4-Lite master transactor of the transaction-level lane (LANE=tl).
//
// Why: the VIP lane's cocotbext-axi master wakes Python on every edge of every channel.
// Here Python writes whole accesses into a command queue (`cmdq`, QDEPTH slots of
// CMD_W bits, one VPI write), bumps `wr`, and is woken once per batch: `rd` and the
// response slot change at the B/R handshake edge, `done` follows `rd` at the falling
// edge after it, which is when tb_dma_deleg_tl.v wakes Python (wake_any) if that
// completion emptied the queue (rd == wr).
// The access runs at full speed in HDL.
//
// Command slot (mirrored by tb/tl.py, CMD_* constants):
//   [15:0] addr  [47:16] data  [51:48] strb  [52] write
//   [54:53] order (0 AW and W together, 1 AW first, 2 W first)  [70:55] issue delay (cycles)
// Response slot (mirrored by tb/tl.py, RSP_* constants):
//   [1:0] resp  [33:2] rdata  [34] timeout (no B/R within TIMEOUT cycles)
//   (no more: Python reads the whole vector at every wake with a completion, so every
//   bit of it is parsed there; the handshake's edge is the recorder's to tell)
// Injected reads (the status poller of tb_dma_deleg_tl.v): when inj_req moves on, the
// read of inj_addr runs as soon as the queue is empty; its response goes to inj_rsp
// ([31:0] rdata, [33:32] resp, [34] timeout) and inj_rd counts it, apart from the
// queue's slots and counts, which stay Python's. `idle`: nothing queued, running or
// injected.
// After each handshake the channel's payload is inverted until its next access (legal
// while VALID is low), so a slave that uses the live bus instead of what it accepted
// shows it (make mutate: axil_addr_wrong_hold, axil_wdata_wrong_hold, axil_wstrb_not_held).
// Simulation only; Icarus 11 and Verilator 5 accept it.
`timescale 1ns/1ps
`default_nettype none
module tl_axil_master #(
    parameter QDEPTH  = 4,
    parameter TIMEOUT = 100000
) (
    input  wire        clk,
    output reg  [15:0] awaddr,
    output reg         awvalid,
    input  wire        awready,
    output reg  [31:0] wdata,
    output reg  [3:0]  wstrb,
    output reg         wvalid,
    input  wire        wready,
    input  wire [1:0]  bresp,
    input  wire        bvalid,
    output wire        bready,
    output reg  [15:0] araddr,
    output reg         arvalid,
    input  wire        arready,
    input  wire [31:0] rdata,
    input  wire [1:0]  rresp,
    input  wire        rvalid,
    output wire        rready,
    input  wire [31:0] inj_req,
    input  wire [15:0] inj_addr,
    output wire        idle
);
    localparam CMD_W = 72;
    localparam RSP_W = 35;
    localparam QW = $clog2(QDEPTH);

    // written by Python (tb/tl.py): the queue slots and the count of pushed commands
    reg [QDEPTH*CMD_W-1:0] cmdq = {QDEPTH*CMD_W{1'b0}};
    reg [31:0] wr = 32'd0;
    // read by Python: responses per slot, count of completed commands; `done`: the
    // completions announced so far (follows rd at the falling edge)
    reg [QDEPTH*RSP_W-1:0] rspq = {QDEPTH*RSP_W{1'b0}};
    reg [31:0] rd = 32'd0;
    reg [31:0] done = 32'd0;
    reg [31:0] timeout_cycles = TIMEOUT;   // the watchdog (Python may read and set it)

    initial begin
        awaddr = 16'd0; awvalid = 1'b0; wdata = 32'd0; wstrb = 4'd0; wvalid = 1'b0;
        araddr = 16'd0; arvalid = 1'b0;
    end
    assign bready = 1'b1;
    assign rready = 1'b1;

    localparam S_IDLE = 2'd0, S_DELAY = 2'd1, S_RUN = 2'd2;
    reg [1:0]  state = S_IDLE;
    reg [15:0] delay = 16'd0;
    reg [31:0] watch = 32'd0;
    reg        is_write = 1'b0;
    reg [1:0]  order = 2'd0;
    reg [CMD_W-1:0] cur = {CMD_W{1'b0}};
    reg        cur_inj = 1'b0;
    reg [31:0] inj_start = 32'd0;
    reg [31:0] inj_rd = 32'd0;
    reg [34:0] inj_rsp = 35'd0;
    assign idle = state == S_IDLE && rd == wr && inj_req == inj_start;

    wire [QW-1:0]    slot = rd[QW-1:0];
    wire [CMD_W-1:0] head = cmdq[slot*CMD_W +: CMD_W];

    task automatic finish(input [1:0] resp, input [31:0] data, input tmo);
        begin
            if (cur_inj) begin
                inj_rsp <= {tmo, resp, data};
                inj_rd <= inj_rd + 32'd1;
            end else begin
                rspq[slot*RSP_W +: RSP_W] <= {tmo, data, resp};
                rd <= rd + 32'd1;
            end
            state <= S_IDLE;
        end
    endtask

    always @(posedge clk) begin
        case (state)
            S_IDLE: if (rd != wr) begin   // also in reset: the watchdog then ends it
                cur_inj <= 1'b0;
                cur <= head;
                is_write <= head[52];
                order <= head[54:53];
                if (head[70:55] != 16'd0) begin
                    delay <= head[70:55];
                    state <= S_DELAY;
                end else begin
                    state <= S_RUN;
                    watch <= 32'd0;
                    if (head[52]) begin
                        awaddr <= head[15:0];  awvalid <= head[54:53] != 2'd2;
                        wdata <= head[47:16];  wstrb <= head[51:48];
                        wvalid <= head[54:53] != 2'd1;
                    end else begin
                        araddr <= head[15:0];  arvalid <= 1'b1;
                    end
                end
            end else if (inj_req != inj_start) begin   // the poller's read
                inj_start <= inj_req;
                cur_inj <= 1'b1;
                is_write <= 1'b0;
                state <= S_RUN;
                watch <= 32'd0;
                araddr <= inj_addr;  arvalid <= 1'b1;
            end
            S_DELAY: begin
                if (delay == 16'd1) begin
                    state <= S_RUN;
                    watch <= 32'd0;
                    if (is_write) begin
                        awaddr <= cur[15:0];  awvalid <= order != 2'd2;
                        wdata <= cur[47:16];  wstrb <= cur[51:48];
                        wvalid <= order != 2'd1;
                    end else begin
                        araddr <= cur[15:0];  arvalid <= 1'b1;
                    end
                end
                delay <= delay - 16'd1;
            end
            default: begin  // S_RUN
                watch <= watch + 32'd1;
                // after its handshake a channel's payload is inverted (AXI lets a master
                // drive anything while VALID is low): a slave that reads the bus where
                // it should read its held copy then sees a wrong address, data or strobe
                if (awvalid && awready) begin
                    awvalid <= 1'b0;  awaddr <= ~awaddr;
                    if (order == 2'd1) wvalid <= 1'b1;
                end
                if (wvalid && wready) begin
                    wvalid <= 1'b0;  wdata <= ~wdata;  wstrb <= ~wstrb;
                    if (order == 2'd2) awvalid <= 1'b1;
                end
                if (arvalid && arready) begin
                    arvalid <= 1'b0;  araddr <= ~araddr;
                end
                if (is_write && bvalid) finish(bresp, 32'd0, 1'b0);
                else if (!is_write && rvalid) finish(rresp, rdata, 1'b0);
                else if (watch == timeout_cycles) begin
                    awvalid <= 1'b0; wvalid <= 1'b0; arvalid <= 1'b0;
                    finish(2'd0, 32'd0, 1'b1);
                end
            end
        endcase
    end

    // Completions are announced at the falling edge (all of the rising edge's updates
    // settled); the top flushes the recorder and wakes Python at that same edge.
    always @(negedge clk) done <= rd;
endmodule
`default_nettype wire
