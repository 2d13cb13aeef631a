// tl_axi_mem: AXI4 memory of the transaction-level lane (LANE=tl) for dma_deleg's m_axi.
//
// Why in HDL: the VIP lane's AxiRam runs one Python coroutine per channel per edge.
// This memory answers every beat in HDL and offers, as registers Python writes once,
// what tb/faults.py and TB.set_backpressure inject on AxiRam:
//   * per channel (index 0 AR, 1 R, 2 AW, 3 W, 4 B): a seeded xorshift32 stall with
//     probability bp_thr/65536 (bp_seed, loaded when bp_load changes), a "one cycle in
//     `every`" throttle (0 = off) and a permanent hold (bit of `hold`); for R and B
//     (registered VALIDs) Python sets `go` and `ecnt` too when it changes a throttle
//     or hold, so the new pattern starts at the next edge with AxiRam's phase (lane
//     equivalence; tb/tl.py SOURCES says why not for the READYs);
//   * a W beat is accepted from the edge of its AW handshake on (as AxiRam);
//   * extra latency: lat_r cycles from the AR handshake to the burst's first R beat,
//     lat_b cycles from the last W beat to B;
//   * NZONES error zones (`zones`, 72 bits each: [31:0] lo, [63:32] hi, [65:64] resp,
//     [66] on reads, [67] on writes): an R beat whose address is in [lo, hi) carries
//     resp, a write burst with a beat there gets resp on B (the worst); data is still
//     read / stored, as tb/faults.py does. inj_r / inj_b count the injected responses.
//   * protocol faults, one-shot, as tb/faults.py MemFaults.protocol: when proto_req[k]
//     (8-bit counter k: 0 rid, 1 bid, 2 rlast) differs from proto_done[k], the next R
//     beat carries RID^1 (rid), the next B carries BID^1 (bid), or the next R beat that
//     is not its burst's last carries RLAST and ends the burst there, the rest never
//     sent (rlast); proto_done[k] then catches up and inj_proto[k] counts it.
// Storage: 64-bit words (byte address a is byte a % 8 of word a / 8, as the bus's
// lanes), so the bulk paths below move a word per file line and per loop step (byte
// lines cost Icarus about 0.2 us per byte each way: a quarter of a quiesce test).
// Bulk clear/load/dump, at the next rising edge (before that edge's beats):
// clear_req != clear_done -> every byte 0 (each TlTB starts from a zeroed memory);
// load_req != load_done -> if load_what[0], $readmemh(tl_mem_in.hex) (whole words,
// @word-address segments), then if load_what[1] the load_npatch byte-masked words of
// tl_mem_patch.hex (104 bits each: [103:72] word address, [71:64] byte strobes,
// [63:0] data: the ragged ends of byte ranges), all within [load_lo, load_hi);
// dump_req != dump_done -> $writememh(tl_mem_out.hex) of the words that hold bytes
// dump_lo..dump_hi. The acks change at the falling edge, when Python may read.
// Watermark: [wm_lo, wm_hi) covers every byte loaded or written since the last clear
// (outside it the memory is 0), so a clear or a whole-memory compare touches only that.
// Simulation only; Icarus 11 and Verilator 5 accept it.
`timescale 1ns/1ps
`default_nettype none
module tl_axi_mem #(
    parameter ID_W   = 4,
    parameter MEM_AW = 20,   // 2**MEM_AW bytes (tb/env.py MEM_SIZE; checked by tb/tl.py)
    parameter NZONES = 8
) (
    input  wire            clk,
    input  wire            rst,
    input  wire [63:0]     cycle,
    input  wire [ID_W-1:0] awid,
    input  wire [63:0]     awaddr,
    input  wire [7:0]      awlen,
    input  wire            awvalid,
    output wire            awready,
    input  wire [63:0]     wdata,
    input  wire [7:0]      wstrb,
    input  wire            wlast,
    input  wire            wvalid,
    output wire            wready,
    output reg  [ID_W-1:0] bid,
    output reg  [1:0]      bresp,
    output reg             bvalid,
    input  wire            bready,
    input  wire [ID_W-1:0] arid,
    input  wire [63:0]     araddr,
    input  wire [7:0]      arlen,
    input  wire            arvalid,
    output wire            arready,
    output reg  [ID_W-1:0] rid,
    output reg  [63:0]     rdata,
    output reg  [1:0]      rresp,
    output reg             rlast,
    output reg             rvalid,
    input  wire            rready
);
    localparam MEM_BYTES = 1 << MEM_AW;
    localparam MEM_WORDS = MEM_BYTES / 8;
    localparam NPATCH = 256;   // byte-masked words per load (tb/tl.py reads the width)
    localparam QD = 4;  // outstanding AR / AW / B entries

    // 2-state (SystemVerilog `bit`, both simulators run with -g2012 / SV): starts at 0
    // without a million-iteration initial loop, and a dump never shows X. In a scope of
    // its own: a VPI lookup of a control register below then does not walk the array
    // (0.2 s per scope on Icarus).
    if (1) begin : store
        bit [63:0] mem [0:MEM_WORDS-1];
        bit [103:0] patch [0:NPATCH-1];
    end
    initial begin
        bid = {ID_W{1'b0}}; bresp = 2'd0; bvalid = 1'b0;
        rid = {ID_W{1'b0}}; rdata = 64'd0; rresp = 2'd0; rlast = 1'b0; rvalid = 1'b0;
    end

    // ---- controls written by Python (tb/tl.py)
    reg [5*16-1:0] bp_thr = {5*16{1'b0}};
    reg [5*32-1:0] bp_seed = {5*32{1'b0}};
    reg [31:0]     bp_load = 32'd0;
    reg [4:0]      hold = 5'd0;
    reg [5*8-1:0]  every = {5*8{1'b0}};
    reg [15:0]     lat_r = 16'd0;
    reg [15:0]     lat_b = 16'd0;
    reg [NZONES*72-1:0] zones = {NZONES*72{1'b0}};
    reg [31:0]     clear_req = 32'd0;
    reg [31:0]     load_req = 32'd0;
    reg [31:0]     load_lo = 32'd0;
    reg [31:0]     load_hi = 32'd0;
    reg [1:0]      load_what = 2'd0;
    reg [31:0]     load_npatch = 32'd0;
    reg [31:0]     patch_cap = NPATCH;   // read by Python
    reg [31:0]     dump_req = 32'd0;
    reg [31:0]     dump_lo = 32'd0;
    reg [31:0]     dump_hi = 32'd0;
    // ---- read by Python
    reg [31:0]     inj_r = 32'd0;
    reg [31:0]     inj_b = 32'd0;
    reg [3*8-1:0]  proto_req = {3*8{1'b0}};   // written by Python (tb/tl.py TlFaults.protocol)
    reg [3*8-1:0]  proto_done = {3*8{1'b0}};
    reg [3*8-1:0]  inj_proto = {3*8{1'b0}};
    reg [31:0]     load_ack = 32'd0;
    reg [31:0]     dump_ack = 32'd0;
    reg [31:0]     clear_done = 32'd0;
    reg [31:0]     wm_lo = MEM_BYTES;
    reg [31:0]     wm_hi = 32'd0;
    reg [31:0]     load_done = 32'd0;
    reg [31:0]     dump_done = 32'd0;

    // ---- stall generators: go[c] = channel c may move this cycle
    reg [5*32-1:0] lfsr = {5{32'h1}};
    reg [31:0]     bp_loaded = 32'd0;
    reg [5*8-1:0]  ecnt = {5*8{1'b0}};
    reg [4:0]      go = 5'b11111;
    integer c;
    reg [31:0] x;
    // no stalls configured: the generators are skipped (vvp interprets this loop every
    // cycle otherwise); go is all ones then (the loop ran once more to make it so)
    wire stalls_on = bp_thr != {5*16{1'b0}} || every != {5*8{1'b0}} || hold != 5'd0
                     || bp_load != bp_loaded;
    always @(posedge clk) if (stalls_on || go != 5'b11111) begin
        for (c = 0; c < 5; c = c + 1) begin
            x = (bp_load != bp_loaded) ? bp_seed[c*32 +: 32] : lfsr[c*32 +: 32];
            if (x == 32'd0) x = 32'h1;
            x = x ^ (x << 13);
            x = x ^ (x >> 17);
            x = x ^ (x << 5);
            lfsr[c*32 +: 32] <= x;
            if (every[c*8 +: 8] == 8'd0 || ecnt[c*8 +: 8] + 8'd1 >= every[c*8 +: 8])
                ecnt[c*8 +: 8] <= 8'd0;
            else
                ecnt[c*8 +: 8] <= ecnt[c*8 +: 8] + 8'd1;
            // the count that applies next cycle is the one assigned just above
            go[c] <= !hold[c] && (x[15:0] >= bp_thr[c*16 +: 16])
                     && (every[c*8 +: 8] == 8'd0 || ecnt[c*8 +: 8] + 8'd1 >= every[c*8 +: 8]);
        end
        bp_loaded <= bp_load;
    end

    function [1:0] zone_resp(input [63:0] a, input is_write);
        integer z;
        reg [71:0] e;
        begin
            zone_resp = 2'd0;
            for (z = NZONES - 1; z >= 0; z = z - 1) begin  // the lowest index wins
                e = zones[z*72 +: 72];
                if ((is_write ? e[67] : e[66]) && a >= {32'd0, e[31:0]} && a < {32'd0, e[63:32]})
                    zone_resp = e[65:64];
            end
        end
    endfunction

    // ---- read side: AR queue, R beats
    reg [63:0]     arq_addr [0:QD-1];
    reg [7:0]      arq_len  [0:QD-1];
    reg [ID_W-1:0] arq_id   [0:QD-1];
    reg [63:0]     arq_t    [0:QD-1];
    reg [1:0] ar_h = 2'd0, ar_t = 2'd0;
    reg [2:0] ar_n = 3'd0;
    reg [7:0] r_beat = 8'd0;
    assign arready = go[0] && ar_n != QD[2:0];

    // ---- write side: AW queue, W beats, B queue
    reg [63:0]     awq_addr [0:QD-1];
    reg [ID_W-1:0] awq_id   [0:QD-1];
    reg [1:0] aw_h = 2'd0, aw_t = 2'd0;
    reg [2:0] aw_n = 3'd0;
    reg [7:0] w_beat = 8'd0;
    reg [1:0] w_resp = 2'd0;
    reg [ID_W-1:0] bq_id   [0:QD-1];
    reg [1:0]      bq_resp [0:QD-1];
    reg [63:0]     bq_t    [0:QD-1];
    reg [1:0] b_h = 2'd0, b_t = 2'd0;
    reg [2:0] b_n = 3'd0;
    assign awready = go[2] && aw_n != QD[2:0];
    // W may be accepted on the edge of its AW handshake (AxiRam's W channel does not
    // wait for AW either): the beat then takes its address from the AW bus itself
    wire aw_hs = awvalid && awready;
    assign wready = go[3] && (aw_n != 3'd0 || aw_hs) && b_n != QD[2:0];
    wire [63:0]     w_base = aw_n != 3'd0 ? awq_addr[aw_h] : awaddr;
    wire [ID_W-1:0] w_id   = aw_n != 3'd0 ? awq_id[aw_h] : awid;

    reg [MEM_AW-1:0] a;
    reg [103:0] pe;
    reg [63:0]  pm;
    reg [1:0] zr;
    reg ar_pop, aw_pop, b_pop, b_push;
    integer k;
    integer j;
    // Python's requests pending (one test per edge: each signal read in a procedural
    // block is a lookup on Icarus), and the R and B issue conditions of this edge
    wire ctl_due = clear_req != clear_done || load_req != load_done || dump_req != dump_done;
    wire r_issue = (!rvalid || rready) && ar_n != 3'd0 && cycle >= arq_t[ar_h] && go[1];
    wire b_issue = (!bvalid || bready) && b_n != 3'd0 && cycle >= bq_t[b_h] && go[4];
    // the beat paths' addresses and tests, computed as wires for the same reason (a
    // function call per beat is a simulator thread on Icarus): the address of this
    // edge's R and W beat's byte lane 0 on the 64-bit bus (WSTRB / RDATA lanes count
    // from the 8-byte-aligned address: an MSI write of SPEC 3 starts at addr % 8 == 4),
    // any error zone set (zone_resp is called only then), any protocol fault pending
    wire [63:0]       r_base  = arq_addr[ar_h];
    wire [MEM_AW-1:0] r_addr  = {r_base[MEM_AW-1:3], 3'b000} + {{(MEM_AW-11){1'b0}}, r_beat, 3'b000};
    wire [MEM_AW-1:0] w_addr  = {w_base[MEM_AW-1:3], 3'b000} + {{(MEM_AW-11){1'b0}}, w_beat, 3'b000};
    wire              zones_on = zones != {NZONES*72{1'b0}};
    wire [63:0]       wmask = {{8{wstrb[7]}}, {8{wstrb[6]}}, {8{wstrb[5]}}, {8{wstrb[4]}},
                               {8{wstrb[3]}}, {8{wstrb[2]}}, {8{wstrb[1]}}, {8{wstrb[0]}}};
    wire              proto_on = proto_req != proto_done;
    always @(posedge clk) begin
        if (ctl_due) begin
            if (clear_req != clear_done) begin   // a new test: memory starts zeroed, as AxiRam
                for (j = wm_lo / 8; j < (wm_hi + 7) / 8; j = j + 1) store.mem[j] = 64'd0;
                wm_lo = MEM_BYTES; wm_hi = 32'd0;
                clear_done <= clear_req;
            end
            if (load_req != load_done) begin
                if (load_what[0]) $readmemh("tl_mem_in.hex", store.mem);
                if (load_what[1]) begin
                    $readmemh("tl_mem_patch.hex", store.patch, 0, load_npatch - 1);
                    for (j = 0; j < load_npatch; j = j + 1) begin
                        pe = store.patch[j];
                        for (k = 0; k < 8; k = k + 1) pm[k*8 +: 8] = {8{pe[64 + k]}};
                        store.mem[pe[72 +: MEM_AW-3]] = (store.mem[pe[72 +: MEM_AW-3]] & ~pm)
                                                        | (pe[63:0] & pm);
                    end
                end
                if (load_lo < wm_lo) wm_lo = load_lo;
                if (load_hi > wm_hi) wm_hi = load_hi;
                load_done <= load_req;
            end
            if (dump_req != dump_done) begin
                $writememh("tl_mem_out.hex", store.mem, dump_lo / 8, dump_hi / 8);
                dump_done <= dump_req;
            end
        end
        ar_pop = 1'b0; aw_pop = 1'b0; b_pop = 1'b0; b_push = 1'b0;
        if (rst) begin
            ar_h <= 2'd0; ar_t <= 2'd0; ar_n <= 3'd0; r_beat <= 8'd0; rvalid <= 1'b0;
            aw_h <= 2'd0; aw_t <= 2'd0; aw_n <= 3'd0; w_beat <= 8'd0; w_resp <= 2'd0;
            b_h <= 2'd0; b_t <= 2'd0; b_n <= 3'd0; bvalid <= 1'b0;
        end else begin
            // AR
            if (arvalid && arready) begin
                arq_addr[ar_t] <= araddr; arq_len[ar_t] <= arlen; arq_id[ar_t] <= arid;
                arq_t[ar_t] <= cycle + 64'd1 + {48'd0, lat_r};
                ar_t <= ar_t + 2'd1;
            end
            // R
            if (rvalid && rready) rvalid <= 1'b0;
            if (r_issue) begin
                a = r_addr;
                rdata <= store.mem[a[MEM_AW-1:3]];
                zr = zones_on ? zone_resp(r_base + {53'd0, r_beat, 3'b000}, 1'b0) : 2'd0;
                rresp <= zr;
                if (zr != 2'd0) inj_r <= inj_r + 32'd1;
                rid <= arq_id[ar_h];
                rlast <= r_beat == arq_len[ar_h];
                rvalid <= 1'b1;
                if (!proto_on) begin
                    // no protocol fault pending: the common case, tested once
                end else if (proto_req[0 +: 8] != proto_done[0 +: 8]) begin        // rid
                    rid <= arq_id[ar_h] ^ {{(ID_W-1){1'b0}}, 1'b1};
                    proto_done[0 +: 8] <= proto_req[0 +: 8];
                    inj_proto[0 +: 8] <= inj_proto[0 +: 8] + 8'd1;
                end else if (proto_req[16 +: 8] != proto_done[16 +: 8]
                             && r_beat != arq_len[ar_h]) begin               // rlast
                    rlast <= 1'b1;
                    proto_done[16 +: 8] <= proto_req[16 +: 8];
                    inj_proto[16 +: 8] <= inj_proto[16 +: 8] + 8'd1;
                end
                if (r_beat == arq_len[ar_h] || (proto_on && proto_req[0 +: 8] == proto_done[0 +: 8]
                        && proto_req[16 +: 8] != proto_done[16 +: 8])) begin
                    r_beat <= 8'd0; ar_h <= ar_h + 2'd1; ar_pop = 1'b1;
                end else begin
                    r_beat <= r_beat + 8'd1;
                end
            end
            ar_n <= ar_n + {2'd0, arvalid && arready} - {2'd0, ar_pop};
            // AW
            if (awvalid && awready) begin
                awq_addr[aw_t] <= awaddr; awq_id[aw_t] <= awid; aw_t <= aw_t + 2'd1;
            end
            // W
            if (wvalid && wready) begin
                a = w_addr;
                if (wstrb == 8'hFF)   // a whole beat
                    store.mem[a[MEM_AW-1:3]] <= wdata;
                else
                    store.mem[a[MEM_AW-1:3]] <= (store.mem[a[MEM_AW-1:3]] & ~wmask) | (wdata & wmask);
                if ({{(32-MEM_AW){1'b0}}, a} < wm_lo) wm_lo = {{(32-MEM_AW){1'b0}}, a};
                if ({{(32-MEM_AW){1'b0}}, a} + 32'd8 > wm_hi) wm_hi = {{(32-MEM_AW){1'b0}}, a} + 32'd8;
                zr = zones_on ? zone_resp(w_base + {53'd0, w_beat, 3'b000}, 1'b1) : 2'd0;
                if (zr < w_resp) zr = w_resp;
                if (wlast) begin
                    bq_id[b_t] <= w_id; bq_resp[b_t] <= zr;
                    bq_t[b_t] <= cycle + 64'd1 + {48'd0, lat_b};
                    b_t <= b_t + 2'd1; b_push = 1'b1;
                    if (zr != 2'd0) inj_b <= inj_b + 32'd1;
                    w_beat <= 8'd0; w_resp <= 2'd0; aw_h <= aw_h + 2'd1; aw_pop = 1'b1;
                end else begin
                    w_beat <= w_beat + 8'd1; w_resp <= zr;
                end
            end
            aw_n <= aw_n + {2'd0, awvalid && awready} - {2'd0, aw_pop};
            // B
            if (bvalid && bready) bvalid <= 1'b0;
            if (b_issue) begin
                bid <= bq_id[b_h]; bresp <= bq_resp[b_h]; bvalid <= 1'b1;
                if (proto_on && proto_req[8 +: 8] != proto_done[8 +: 8]) begin          // bid
                    bid <= bq_id[b_h] ^ {{(ID_W-1){1'b0}}, 1'b1};
                    proto_done[8 +: 8] <= proto_req[8 +: 8];
                    inj_proto[8 +: 8] <= inj_proto[8 +: 8] + 8'd1;
                end
                b_h <= b_h + 2'd1; b_pop = 1'b1;
            end
            b_n <= b_n + {2'd0, b_push} - {2'd0, b_pop};
        end
    end

    wire acks_due = load_ack != load_done || dump_ack != dump_done;
    always @(negedge clk) if (acks_due) begin
        load_ack <= load_done;
        dump_ack <= dump_done;
    end
endmodule
`default_nettype wire
