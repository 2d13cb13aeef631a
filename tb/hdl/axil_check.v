// axil_check: AXI4-Lite protocol checker for one of dma_deleg's slave ports
// (simulation only; reporting as in hdl/dd_props.v, read by tb/hdlcheck.py).
//
// Written from the AXI4-Lite rules of ARM IHI 0022 and SPEC 2 ("each AXI4-Lite port
// handles one transaction at a time; AW and W may arrive in either order").
//
// Rules (name in the message):
//   aw_hold / w_hold / ar_hold        the master keeps VALID high until READY
//   aw_stable / w_stable / ar_stable  ... with the payload unchanged
//   b_hold / r_hold                   the slave keeps BVALID / RVALID high until READY
//   b_stable / r_stable               ... with BRESP / RDATA, RRESP unchanged
//   b_unowed                          BVALID only for a write whose AW and W were accepted
//   r_unowed                          RVALID only for an accepted AR
//   one_txn                           the slave accepts no request of a new transaction
//                                     while another is incomplete (SPEC 2)
`timescale 1ns/1ps
`default_nettype none
module axil_check #(
    parameter MSG_W = 8 * 256
) (
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] awaddr,
    input  wire [2:0]  awprot,
    input  wire        awvalid,
    input  wire        awready,
    input  wire [31:0] wdata,
    input  wire [3:0]  wstrb,
    input  wire        wvalid,
    input  wire        wready,
    input  wire [1:0]  bresp,
    input  wire        bvalid,
    input  wire        bready,
    input  wire [15:0] araddr,
    input  wire [2:0]  arprot,
    input  wire        arvalid,
    input  wire        arready,
    input  wire [31:0] rdata,
    input  wire [1:0]  rresp,
    input  wire        rvalid,
    input  wire        rready,
    output reg  [MSG_W-1:0] msg,
    output reg         fail_ev,
    output reg  [31:0] fail_count
);
    reg armed;
    reg [63:0] edge_n;
    wire chk = armed && !rst;

    reg        aw_wait, w_wait, ar_wait, b_wait, r_wait;
    reg [18:0] aw_pq, ar_pq;
    reg [35:0] w_pq;
    reg [1:0]  b_pq;
    reg [33:0] r_pq;
    // the transaction in progress: AW / W / AR accepted, response not yet accepted
    reg        aw_got, w_got, ar_got;

    wire aw_hs = awvalid && awready;
    wire w_hs  = wvalid && wready;
    wire ar_hs = arvalid && arready;
    wire b_hs  = bvalid && bready;
    wire r_hs  = rvalid && rready;

    localparam NR = 13;
    localparam AW_HOLD = 0, AW_STABLE = 1, W_HOLD = 2, W_STABLE = 3, AR_HOLD = 4, AR_STABLE = 5,
               B_HOLD = 6, B_STABLE = 7, R_HOLD = 8, R_STABLE = 9, B_UNOWED = 10, R_UNOWED = 11,
               ONE_TXN = 12;
    // The rules as continuous assignments, not an always @* block: Icarus re-runs such
    // a block whole, reading every signal (a lookup each), whenever any of them changes,
    // where a continuous assignment is re-evaluated only when one of its own inputs does
    wire [NR-1:0] v;
    assign v[AW_HOLD]   = aw_wait && !awvalid;
    assign v[AW_STABLE] = aw_wait && awvalid && {awaddr, awprot} != aw_pq;
    assign v[W_HOLD]    = w_wait && !wvalid;
    assign v[W_STABLE]  = w_wait && wvalid && {wdata, wstrb} != w_pq;
    assign v[AR_HOLD]   = ar_wait && !arvalid;
    assign v[AR_STABLE] = ar_wait && arvalid && {araddr, arprot} != ar_pq;
    assign v[B_HOLD]    = b_wait && !bvalid;
    assign v[B_STABLE]  = b_wait && bvalid && bresp != b_pq;
    assign v[R_HOLD]    = r_wait && !rvalid;
    assign v[R_STABLE]  = r_wait && rvalid && {rdata, rresp} != r_pq;
    assign v[B_UNOWED]  = bvalid && !(aw_got && w_got);
    assign v[R_UNOWED]  = rvalid && !ar_got;
    assign v[ONE_TXN]   = (ar_hs && (aw_got || w_got || ar_got || aw_hs || w_hs))
                          || (aw_hs && (aw_got || ar_got)) || (w_hs && (w_got || ar_got));

    // An edge with every VALID low and nothing waiting changes nothing below (the wait
    // flags stay low, the payloads are read only after a wait, no handshake moves the
    // transaction): one test of `act` then, instead of reading every signal (each read
    // in a procedural block is a lookup on Icarus; the port idles most edges of a copy)
    wire act = rst || awvalid || wvalid || arvalid || bvalid || rvalid
               || aw_wait || w_wait || ar_wait || b_wait || r_wait;
    always @(posedge clk) begin
        edge_n <= edge_n + 64'd1;
        if (act) begin
            if (rst) armed <= 1'b1;
            aw_wait <= !rst && awvalid && !awready; aw_pq <= {awaddr, awprot};
            w_wait  <= !rst && wvalid && !wready;   w_pq  <= {wdata, wstrb};
            ar_wait <= !rst && arvalid && !arready; ar_pq <= {araddr, arprot};
            b_wait  <= !rst && bvalid && !bready;   b_pq  <= bresp;
            r_wait  <= !rst && rvalid && !rready;   r_pq  <= {rdata, rresp};
            if (rst) begin
                aw_got <= 1'b0; w_got <= 1'b0; ar_got <= 1'b0;
            end else begin
                if (b_hs) begin
                    aw_got <= 1'b0; w_got <= 1'b0;
                end else begin
                    if (aw_hs) aw_got <= 1'b1;
                    if (w_hs)  w_got  <= 1'b1;
                end
                if (r_hs)       ar_got <= 1'b0;
                else if (ar_hs) ar_got <= 1'b1;
            end
        end
    end

    initial begin
        armed = 1'b0; edge_n = 64'd0; fail_ev = 1'b0; fail_count = 32'd0; msg = {MSG_W{1'b0}};
        aw_wait = 1'b0; w_wait = 1'b0; ar_wait = 1'b0; b_wait = 1'b0; r_wait = 1'b0;
        aw_got = 1'b0; w_got = 1'b0; ar_got = 1'b0;
    end
    reg [MSG_W-1:0] m;
    always @(posedge clk) begin
        if (chk && v != {NR{1'b0}}) begin
            if (v[AW_HOLD])        $sformat(m, "aw_hold at edge %0d: AWVALID dropped before AWREADY", edge_n + 64'd1);
            else if (v[AW_STABLE]) $sformat(m, "aw_stable at edge %0d: AW payload changed while AWVALID and not AWREADY", edge_n + 64'd1);
            else if (v[W_HOLD])    $sformat(m, "w_hold at edge %0d: WVALID dropped before WREADY", edge_n + 64'd1);
            else if (v[W_STABLE])  $sformat(m, "w_stable at edge %0d: W payload changed while WVALID and not WREADY", edge_n + 64'd1);
            else if (v[AR_HOLD])   $sformat(m, "ar_hold at edge %0d: ARVALID dropped before ARREADY", edge_n + 64'd1);
            else if (v[AR_STABLE]) $sformat(m, "ar_stable at edge %0d: AR payload changed while ARVALID and not ARREADY", edge_n + 64'd1);
            else if (v[B_HOLD])    $sformat(m, "b_hold at edge %0d: BVALID dropped before BREADY", edge_n + 64'd1);
            else if (v[B_STABLE])  $sformat(m, "b_stable at edge %0d: BRESP changed while BVALID and not BREADY", edge_n + 64'd1);
            else if (v[R_HOLD])    $sformat(m, "r_hold at edge %0d: RVALID dropped before RREADY", edge_n + 64'd1);
            else if (v[R_STABLE])  $sformat(m, "r_stable at edge %0d: R payload changed while RVALID and not RREADY", edge_n + 64'd1);
            else if (v[B_UNOWED])  $sformat(m, "b_unowed at edge %0d: BVALID without an accepted AW and W", edge_n + 64'd1);
            else if (v[R_UNOWED])  $sformat(m, "r_unowed at edge %0d: RVALID without an accepted AR", edge_n + 64'd1);
            else                   $sformat(m, "one_txn at edge %0d: a request accepted while another transaction is incomplete", edge_n + 64'd1);
            msg        <= m;
            fail_count <= fail_count + 32'd1;
            fail_ev    <= !fail_ev;
        end
    end
endmodule
`default_nettype wire
