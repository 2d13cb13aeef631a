// bench_pure: pure-Verilog reference harness of dma_deleg (no cocotb, no Python).
//
// Why it exists: `make bench-sim` (tools/bench_sim.py) divides the cocotb
// testbench's cycles/s by what the same RTL reaches on the same simulator when
// nothing but HDL runs, so the testbench's overhead is a measured ratio, not a
// guess. It does real, checked work, so the figure cannot come from a design
// that idles: every round programs each instantiated channel through the LOCAL
// port for a 64 KiB copy (SPEC 2.1), starts them all, waits for each to reach
// CH_STAT=STOPPED, then compares every destination word with its source.
// A mismatch, a refused access or a channel that ends other than STOPPED is a
// $fatal (nonzero exit of vvp).
//
// Plusargs: +rounds=N (default 4), +seed=N (source data, default 1),
// +copy=N (bytes per copy, a multiple of 8 up to and by default 64 KiB: the
// benchmark copies 64 KiB; tests/test_bench_sim.py checks the harness on less),
// +corrupt (the memory flips one bit of one written beat: the check must fail;
// tests/test_bench_sim.py relies on that).
// Output: the last line is "bench_pure: PASS cycles=<edges> bytes=<copied>".
//
// Register offsets come from the generated hdl/dma_deleg_regs.vh only.
`timescale 1ns/1ps
`default_nettype none
`include "dma_deleg_regs.vh"
module bench_pure #(
    parameter WR_CH     = 2,
    parameter RD_CH     = 2,
    parameter NUM_FUNC  = 2,
    parameter MAX_BURST = 8
) ();
    localparam ID_W       = 4;
    localparam MEM_AW     = 17;                 // 2^17 words of 8 bytes = 1 MiB
    localparam MEM_WORDS  = 1 << MEM_AW;
    localparam COPY_BYTES = 64 * 1024;
    localparam REGION     = 2 * COPY_BYTES;     // per channel: source, then destination
    localparam NCH        = WR_CH + RD_CH;

    reg clk = 1'b0;
    always #5 clk = ~clk;
    reg rst = 1'b1;
    reg [63:0] cycles = 64'd0;
    always @(posedge clk) cycles <= cycles + 64'd1;

    // ------------------------------------------------------------ DUT pins
    reg  [15:0] l_awaddr = 16'd0; reg l_awvalid = 1'b0; wire l_awready;
    reg  [31:0] l_wdata = 32'd0;  reg [3:0] l_wstrb = 4'd0; reg l_wvalid = 1'b0; wire l_wready;
    wire [1:0]  l_bresp; wire l_bvalid; reg l_bready = 1'b0;
    reg  [15:0] l_araddr = 16'd0; reg l_arvalid = 1'b0; wire l_arready;
    wire [31:0] l_rdata; wire [1:0] l_rresp; wire l_rvalid; reg l_rready = 1'b0;
    wire h_awready, h_wready, h_bvalid, h_arready, h_rvalid;
    wire [1:0] h_bresp, h_rresp; wire [31:0] h_rdata;

    wire [ID_W-1:0] awid, arid; wire [63:0] awaddr, araddr; wire [7:0] awlen, arlen;
    wire [2:0] awsize, arsize, awprot, arprot; wire [1:0] awburst, arburst;
    wire awlock, arlock; wire [3:0] awcache, arcache, awuser, aruser;
    wire awvalid, arvalid, wvalid, wlast, bready, rready;
    wire [63:0] wdata; wire [7:0] wstrb;
    reg  awready = 1'b0, wready = 1'b0, arready = 1'b0;
    reg  [ID_W-1:0] bid = {ID_W{1'b0}}, rid = {ID_W{1'b0}};
    reg  [1:0] bresp = 2'd0, rresp = 2'd0;
    reg  bvalid = 1'b0, rvalid = 1'b0, rlast = 1'b0;
    reg  [63:0] rdata = 64'd0;
    wire irq_loc; wire [NUM_FUNC-1:0] irq_host;

    dma_deleg #(
        .WR_CH(WR_CH), .RD_CH(RD_CH), .NUM_FUNC(NUM_FUNC), .MAX_BURST(MAX_BURST), .ID_W(ID_W)
    ) dut (
        .clk(clk), .rst(rst),
        .s_axil_loc_awaddr(l_awaddr), .s_axil_loc_awprot(3'd0), .s_axil_loc_awvalid(l_awvalid),
        .s_axil_loc_awready(l_awready), .s_axil_loc_wdata(l_wdata), .s_axil_loc_wstrb(l_wstrb),
        .s_axil_loc_wvalid(l_wvalid), .s_axil_loc_wready(l_wready), .s_axil_loc_bresp(l_bresp),
        .s_axil_loc_bvalid(l_bvalid), .s_axil_loc_bready(l_bready), .s_axil_loc_araddr(l_araddr),
        .s_axil_loc_arprot(3'd0), .s_axil_loc_arvalid(l_arvalid), .s_axil_loc_arready(l_arready),
        .s_axil_loc_rdata(l_rdata), .s_axil_loc_rresp(l_rresp), .s_axil_loc_rvalid(l_rvalid),
        .s_axil_loc_rready(l_rready),
        .s_axil_host_awaddr(16'd0), .s_axil_host_awprot(3'd0), .s_axil_host_awvalid(1'b0),
        .s_axil_host_awready(h_awready), .s_axil_host_wdata(32'd0), .s_axil_host_wstrb(4'd0),
        .s_axil_host_wvalid(1'b0), .s_axil_host_wready(h_wready), .s_axil_host_bresp(h_bresp),
        .s_axil_host_bvalid(h_bvalid), .s_axil_host_bready(1'b1), .s_axil_host_araddr(16'd0),
        .s_axil_host_arprot(3'd0), .s_axil_host_arvalid(1'b0), .s_axil_host_arready(h_arready),
        .s_axil_host_rdata(h_rdata), .s_axil_host_rresp(h_rresp), .s_axil_host_rvalid(h_rvalid),
        .s_axil_host_rready(1'b1),
        .m_axi_awid(awid), .m_axi_awaddr(awaddr), .m_axi_awlen(awlen), .m_axi_awsize(awsize),
        .m_axi_awburst(awburst), .m_axi_awlock(awlock), .m_axi_awcache(awcache),
        .m_axi_awprot(awprot), .m_axi_awvalid(awvalid), .m_axi_awready(awready),
        .m_axi_awuser(awuser), .m_axi_wdata(wdata), .m_axi_wstrb(wstrb), .m_axi_wlast(wlast),
        .m_axi_wvalid(wvalid), .m_axi_wready(wready), .m_axi_bid(bid), .m_axi_bresp(bresp),
        .m_axi_bvalid(bvalid), .m_axi_bready(bready),
        .m_axi_arid(arid), .m_axi_araddr(araddr), .m_axi_arlen(arlen), .m_axi_arsize(arsize),
        .m_axi_arburst(arburst), .m_axi_arlock(arlock), .m_axi_arcache(arcache),
        .m_axi_arprot(arprot), .m_axi_arvalid(arvalid), .m_axi_arready(arready),
        .m_axi_aruser(aruser), .m_axi_rid(rid), .m_axi_rdata(rdata), .m_axi_rresp(rresp),
        .m_axi_rlast(rlast), .m_axi_rvalid(rvalid), .m_axi_rready(rready),
        .irq_loc(irq_loc), .irq_host(irq_host)
    );

    // ------------------------------------------- AXI4 memory, zero latency
    // One read and one write burst at a time (ARREADY/AWREADY low while one is
    // being served: legal back-pressure). INCR bursts of 8-byte beats; an
    // address outside the memory is a harness error, not a response.
    reg [63:0] mem [0:MEM_WORDS-1];
    reg        rd_busy = 1'b0, wr_busy = 1'b0;
    reg [MEM_AW-1:0] rd_a, wr_a;
    reg [7:0]  rd_left;
    reg        corrupt = 1'b0;
    reg [31:0] wbeats = 32'd0;
    integer    bi;

    function automatic [MEM_AW-1:0] word_of(input [63:0] a, input [7:0] len);
        begin
            if (a[2:0] != 3'd0 || a + 64'd8 * ({56'd0, len} + 64'd1) > 64'd8 * MEM_WORDS) begin
                $display("bench_pure: FAIL burst at %h (len %0d) outside the 1 MiB memory", a, len);
                $fatal(1);
            end
            word_of = a[MEM_AW+2:3];
        end
    endfunction

    always @(posedge clk) begin
        if (rst) begin
            arready <= 1'b0; rvalid <= 1'b0; rlast <= 1'b0; rd_busy <= 1'b0;
            awready <= 1'b0; wready <= 1'b0; bvalid <= 1'b0; wr_busy <= 1'b0;
        end else begin
            // read: AR accepted -> beats from the next edge on, one per RREADY
            arready <= !rd_busy && !(arvalid && arready);
            if (arvalid && arready) begin
                rd_busy <= 1'b1;
                rd_a    <= word_of(araddr, arlen) + 1'b1;
                rd_left <= arlen;
                rid     <= arid;
                rdata   <= mem[word_of(araddr, arlen)];
                rresp   <= 2'd0;
                rlast   <= (arlen == 8'd0);
                rvalid  <= 1'b1;
            end else if (rvalid && rready) begin
                if (rlast) begin
                    rvalid <= 1'b0; rd_busy <= 1'b0;
                end else begin
                    rdata   <= mem[rd_a];
                    rd_a    <= rd_a + 1'b1;
                    rd_left <= rd_left - 8'd1;
                    rlast   <= (rd_left == 8'd1);
                end
            end
            // write: AW accepted -> W beats -> B
            awready <= !wr_busy && !(awvalid && awready);
            if (awvalid && awready) begin
                wr_busy <= 1'b1;
                wr_a    <= word_of(awaddr, awlen);
                bid     <= awid;
                wready  <= 1'b1;
            end
            if (wvalid && wready) begin
                for (bi = 0; bi < 8; bi = bi + 1)
                    if (wstrb[bi]) mem[wr_a][8*bi +: 8] <= wdata[8*bi +: 8]
                        ^ ((corrupt && wbeats == 32'd1000 && bi == 0) ? 8'h01 : 8'h00);
                wbeats <= wbeats + 32'd1;
                wr_a <= wr_a + 1'b1;
                if (wlast) begin
                    wready <= 1'b0; bvalid <= 1'b1; bresp <= 2'd0;
                end
            end
            if (bvalid && bready) begin
                bvalid <= 1'b0; wr_busy <= 1'b0;
            end
        end
    end

    // ---------------------------------------------- AXI4-Lite master (local)
    // Drives at the falling edge, samples handshakes right after the rising
    // edge (before the DUT's nonblocking updates land).
    task automatic lite_write(input [15:0] addr, input [31:0] data);
        reg aw_done, w_done;
        begin
            @(negedge clk);
            l_awaddr = addr; l_awvalid = 1'b1; l_wdata = data; l_wstrb = 4'hF; l_wvalid = 1'b1;
            l_bready = 1'b1;
            aw_done = 1'b0; w_done = 1'b0;
            while (!(aw_done && w_done)) begin
                @(posedge clk);
                if (l_awvalid && l_awready) aw_done = 1'b1;
                if (l_wvalid && l_wready) w_done = 1'b1;
                @(negedge clk);
                if (aw_done) l_awvalid = 1'b0;
                if (w_done) l_wvalid = 1'b0;
            end
            while (!l_bvalid) @(negedge clk);
            if (l_bresp != 2'd0) begin
                $display("bench_pure: FAIL write %h <- %h answered %0d", addr, data, l_bresp);
                $fatal(1);
            end
            @(posedge clk);
            @(negedge clk);
            l_bready = 1'b0;
        end
    endtask

    task automatic lite_read(input [15:0] addr, output [31:0] data);
        begin
            @(negedge clk);
            l_araddr = addr; l_arvalid = 1'b1; l_rready = 1'b1;
            @(posedge clk);
            while (!l_arready) @(posedge clk);
            @(negedge clk);
            l_arvalid = 1'b0;
            while (!l_rvalid) @(negedge clk);
            data = l_rdata;
            if (l_rresp != 2'd0) begin
                $display("bench_pure: FAIL read %h answered %0d", addr, l_rresp);
                $fatal(1);
            end
            @(posedge clk);
            @(negedge clk);
            l_rready = 1'b0;
        end
    endtask

    // ------------------------------------------------------------ the copies
    function automatic [4:0] chan_g(input integer k);   // k-th instantiated channel
        integer t;
        begin
            t = (k < WR_CH) ? k : `DD_MAX_CH_PER_DIR + k - WR_CH;
            chan_g = t[4:0];
        end
    endfunction

    function automatic [15:0] win(input integer k, input [7:0] off);
        reg [4:0] g;
        begin
            g = chan_g(k);
            win = `DD_LOC_WIN_BASE + g[2:0] * `DD_WIN_CH_STRIDE
                  + {15'd0, g[3]} * `DD_WIN_DIR_STRIDE + {8'd0, off};
        end
    endfunction

    integer rounds, seed, copy, r, k, w, errors, polls;
    reg [31:0] st, v;
    reg [63:0] src, dst;
    reg [63:0] bytes_copied = 64'd0;

    initial begin
        if (!$value$plusargs("rounds=%d", rounds)) rounds = 4;
        if (!$value$plusargs("seed=%d", seed)) seed = 1;
        if (!$value$plusargs("copy=%d", copy)) copy = COPY_BYTES;
        if (copy < 8 || copy > COPY_BYTES || copy % 8 != 0) begin
            $display("bench_pure: FAIL +copy=%0d: a copy is a multiple of 8 bytes, 8 to %0d",
                     copy, COPY_BYTES);
            $fatal(1);
        end
        corrupt = $test$plusargs("corrupt");
        if (NCH * REGION > 8 * MEM_WORDS) begin
            $display("bench_pure: FAIL %0d channels do not fit the 1 MiB memory", NCH);
            $fatal(1);
        end
        repeat (4) @(posedge clk);
        @(negedge clk) rst = 1'b0;
        lite_read(`DD_LOC_ID, v);
        if (v != `DD_ID_VALUE) begin
            $display("bench_pure: FAIL ID reads %h", v);
            $fatal(1);
        end
        for (r = 0; r < rounds; r = r + 1) begin
            // fresh source data each round, so a copy that moved nothing fails too
            for (k = 0; k < NCH; k = k + 1)
                for (w = 0; w < copy / 8; w = w + 1)
                    mem[(k * REGION) / 8 + w] = {$random(seed), $random(seed)};
            for (k = 0; k < NCH; k = k + 1) begin
                src = k * REGION;
                dst = k * REGION + COPY_BYTES;
                lite_write(win(k, `DD_WIN_CH_EN), 32'd1);
                lite_write(win(k, `DD_WIN_XFER_SIZE), copy);
                lite_write(win(k, `DD_WIN_SAR_LO), src[31:0]);
                lite_write(win(k, `DD_WIN_SAR_HI), src[63:32]);
                lite_write(win(k, `DD_WIN_DAR_LO), dst[31:0]);
                lite_write(win(k, `DD_WIN_DAR_HI), dst[63:32]);
                lite_write(win(k, `DD_WIN_DOORBELL), 32'd1 << `DD_DOORBELL_START_LSB);
            end
            for (k = 0; k < NCH; k = k + 1) begin
                polls = 0;
                st = {30'd0, `DD_CH_RUNNING};
                while (st[`DD_CH_STAT_STATE_LSB +: `DD_CH_STAT_STATE_W] == `DD_CH_RUNNING) begin
                    repeat (64) @(posedge clk);
                    lite_read(win(k, `DD_WIN_CH_STAT), st);
                    polls = polls + 1;
                    if (polls > 100000) begin
                        $display("bench_pure: FAIL channel %0d never finished", chan_g(k));
                        $fatal(1);
                    end
                end
                if (st[`DD_CH_STAT_STATE_LSB +: `DD_CH_STAT_STATE_W] != `DD_CH_STOPPED) begin
                    $display("bench_pure: FAIL channel %0d ended with CH_STAT %h", chan_g(k), st);
                    $fatal(1);
                end
                lite_write(win(k, `DD_WIN_INT_CLEAR),
                           (32'd1 << `DD_INT_CLEAR_STOP_LSB) | (32'd1 << `DD_INT_CLEAR_ABORT_LSB));
                errors = 0;
                for (w = 0; w < copy / 8; w = w + 1)
                    if (mem[(k * REGION + COPY_BYTES) / 8 + w] !== mem[(k * REGION) / 8 + w]) begin
                        if (errors == 0)
                            $display("bench_pure: FAIL round %0d channel %0d: destination word %0d is %h, source %h",
                                     r, chan_g(k), w, mem[(k * REGION + COPY_BYTES) / 8 + w],
                                     mem[(k * REGION) / 8 + w]);
                        errors = errors + 1;
                    end
                if (errors != 0) begin
                    $display("bench_pure: FAIL %0d word(s) differ", errors);
                    $fatal(1);
                end
                bytes_copied = bytes_copied + copy;
            end
        end
        $display("bench_pure: PASS cycles=%0d bytes=%0d", cycles, bytes_copied);
        $finish;
    end
endmodule
`default_nettype wire
