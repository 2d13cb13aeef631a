// tb_dma_deleg_tl: simulation top of the transaction-level lane (LANE=tl).
//
// Why a second top: in the VIP lane (tb_dma_deleg.v) cocotbext-axi drives the DUT's
// ports and tb/monitor.py reads them on every falling edge, so Python runs per cycle.
// Here everything per cycle happens in HDL: the clock (both simulators: no bus model
// samples around the edge, so the Verilator post-edge problem of the VIP lane does
// not arise), an AXI4-Lite master transactor per port (tl_axil_master.v), the AXI4
// memory (tl_axi_mem.v), the status poller and the event recorder below. Python
// (tb/tl.py) is woken only by a completion, a requested wake-up (`wake_at`), an
// interrupt it waits for (`irq_wake`), a memory dump or a poller slot that stops.
//
// Event recorder: writes, per busy edge, one line with exactly what
// tb/monitor.py's EdgeSample holds (same busy-edge rule, same AW/W pairing, same
// "presented" rule for AR/AW), so the scoreboard judges the same samples with the
// same code. Line format (hex numbers; parsed by tb/tl.py parse_line):
//   <edge> <irq: irq_host<<1 | irq_loc> then tokens, in this order:
//   LW addr data strb | LR addr        access executed at this edge (port L / H)
//   LA addr                            a read handshaken beside the executed write
//   Lb resp, Lr resp data              every B / R handshake of that port (B first)
//   AP id addr len user size, AH id, R id data resp last, WP id addr len user size, WH id,
//   W data strb last, B id resp        m_axi events (as in EdgeMonitor._sample_dma)
// except that consecutive edges with one beat or none share a beat-run line (`Z`, see
// "Beat runs" below).
// The file is flushed at every falling edge that wakes Python (wake_any), so a wake
// always finds the recorder complete up to its edge. It does not grow with the run:
// when Python has read everything flushed at a wake (tb/tl.py TlMonitor.rotate), it
// moves `rec_trunc` on, and the next rising edge reopens the file empty before it
// writes that edge's line (`rec_trunc_ack` follows, so Python knows it happened).
`timescale 1ns/1ps
`default_nettype none
module tb_dma_deleg_tl #(
    parameter WR_CH     = 2,
    parameter RD_CH     = 2,
    parameter NUM_FUNC  = 2,
    parameter MAX_BURST = 8,
    parameter MEM_AW    = 20
) ();
    localparam ID_W = 4;
    reg clk = 1'b0;
    always #5 clk = ~clk;   // half of tb/runner.py CLK_PERIOD_NS
    reg rst = 1'b0;         // driven by TlTB.reset

    // edge counter: after the e-th rising edge, cycle == e
    reg [63:0] cycle = 64'd0;
    always @(posedge clk) cycle <= cycle + 64'd1;

    // wake-up timer: Python sets wake_at; every falling edge with cycle >= wake_at wakes
    // Python (wake_any below) until it moves wake_at on
    reg [63:0] wake_at = {64{1'b1}};
    // interrupt wake-up (TlTB.poll_irq): every falling edge that finds one of these lines
    // high ({irq_host, irq_loc}) wakes Python until it clears the bit
    reg [NUM_FUNC:0] irq_wake = {(NUM_FUNC + 1){1'b0}};
    // memory size for Python (tb/tl.py checks it against the model's)
    reg [31:0] mem_aw = MEM_AW;

    // ---- status poller (tb/tl.py TlTB.wait_status): NSLOT slots, each a driver's
    // completion wait handed to the HDL. Armed by Python (p_arm[s] moves on) with the
    // edge its current interrupt wait ends (p_at0) and p_cfg: [7:0] interrupt line,
    // [8] port (1 host), [31:16] poll period, [47:32] status address, [79:48] the
    // status value that means "still running", [95:80] rounds. At the end edge, if
    // nothing else wakes Python there, no other slot ends there and the port is idle,
    // the status read is injected into the port's transactor (what Python would have
    // pushed at that wake); if it returns OKAY and "running", the line is low, nothing
    // else wakes Python and rounds are left, the next wait (8 polls from that edge)
    // starts in HDL. Otherwise the slot stops (p_ack = p_arm, p_why 1: a read ended it,
    // 2: its end edge needs Python) and wakes Python, which reads p_reads, p_rsp, p_t0.
    // p_gen counts the falling edges at which the poller could change any of the
    // vectors Python reads (p_ack, p_why, p_phase, p_reads, p_rsp, p_t0): while it
    // stands, Python keeps what it read of them at an earlier wake (tb/tl.py _pget).
    // While a slot waits, Python still watches its line (irq_wake) and takes the wait
    // over when it goes high (p_cancel = p_arm).
    localparam NSLOT = 8;
    localparam CFG_W = 96;
    reg [NSLOT*32-1:0]    p_arm = {NSLOT*32{1'b0}};      // written by Python
    reg [NSLOT*32-1:0]    p_cancel = {NSLOT*32{1'b0}};   // written by Python
    reg [NSLOT*64-1:0]    p_at0 = {NSLOT*64{1'b0}};      // written by Python
    reg [NSLOT*CFG_W-1:0] p_cfg = {NSLOT*CFG_W{1'b0}};   // written by Python
    reg [NSLOT*32-1:0]    p_seen = {NSLOT*32{1'b0}};
    reg [NSLOT*32-1:0]    p_ack = {NSLOT*32{1'b0}};
    reg [NSLOT*2-1:0]     p_why = {NSLOT*2{1'b0}};
    reg [NSLOT*2-1:0]     p_phase = {NSLOT*2{1'b0}};     // 1 waiting, 2 read injected
    reg [NSLOT*64-1:0]    p_at = {NSLOT*64{1'b0}};
    reg [NSLOT*64-1:0]    p_t0 = {NSLOT*64{1'b0}};
    reg [NSLOT*16-1:0]    p_reads = {NSLOT*16{1'b0}};
    reg [NSLOT*16-1:0]    p_left = {NSLOT*16{1'b0}};
    reg [NSLOT*35-1:0]    p_rsp = {NSLOT*35{1'b0}};
    reg [31:0]            p_gen = 32'd0;
    reg [31:0] loc_inj_req = 32'd0, host_inj_req = 32'd0;
    reg [15:0] loc_inj_addr = 16'd0, host_inj_addr = 16'd0;
    reg [31:0] loc_inj_seen = 32'd0, host_inj_seen = 32'd0;
    wire [NSLOT-1:0] p_live, p_fresh, p_due;
    genvar gs;
    generate for (gs = 0; gs < NSLOT; gs = gs + 1) begin : g_slot
        assign p_live[gs] = p_arm[gs*32 +: 32] != p_ack[gs*32 +: 32]
                            && p_arm[gs*32 +: 32] != p_cancel[gs*32 +: 32];
        assign p_fresh[gs] = p_seen[gs*32 +: 32] != p_arm[gs*32 +: 32];
        assign p_due[gs] = p_phase[gs*2 +: 2] == 2'd1 && p_at[gs*64 +: 64] == cycle;
    end endgenerate

    wire [15:0] s_axil_loc_awaddr;  wire s_axil_loc_awvalid;  wire s_axil_loc_awready;
    wire [31:0] s_axil_loc_wdata;   wire [3:0] s_axil_loc_wstrb;
    wire s_axil_loc_wvalid;         wire s_axil_loc_wready;
    wire [1:0]  s_axil_loc_bresp;   wire s_axil_loc_bvalid;   wire s_axil_loc_bready;
    wire [15:0] s_axil_loc_araddr;  wire s_axil_loc_arvalid;  wire s_axil_loc_arready;
    wire [31:0] s_axil_loc_rdata;   wire [1:0] s_axil_loc_rresp;
    wire s_axil_loc_rvalid;         wire s_axil_loc_rready;
    wire [15:0] s_axil_host_awaddr; wire s_axil_host_awvalid; wire s_axil_host_awready;
    wire [31:0] s_axil_host_wdata;  wire [3:0] s_axil_host_wstrb;
    wire s_axil_host_wvalid;        wire s_axil_host_wready;
    wire [1:0]  s_axil_host_bresp;  wire s_axil_host_bvalid;  wire s_axil_host_bready;
    wire [15:0] s_axil_host_araddr; wire s_axil_host_arvalid; wire s_axil_host_arready;
    wire [31:0] s_axil_host_rdata;  wire [1:0] s_axil_host_rresp;
    wire s_axil_host_rvalid;        wire s_axil_host_rready;

    wire [ID_W-1:0] m_axi_awid;   wire [63:0] m_axi_awaddr; wire [7:0] m_axi_awlen;
    wire [2:0]  m_axi_awsize;     wire [1:0]  m_axi_awburst; wire m_axi_awlock;
    wire [3:0]  m_axi_awcache;    wire [2:0]  m_axi_awprot;  wire m_axi_awvalid;
    wire        m_axi_awready;    wire [3:0]  m_axi_awuser;
    wire [63:0] m_axi_wdata;      wire [7:0]  m_axi_wstrb;   wire m_axi_wlast;  wire m_axi_wvalid;
    wire        m_axi_wready;
    wire [ID_W-1:0] m_axi_bid;    wire [1:0] m_axi_bresp;
    wire        m_axi_bvalid;     wire m_axi_bready;
    wire [ID_W-1:0] m_axi_arid;   wire [63:0] m_axi_araddr; wire [7:0] m_axi_arlen;
    wire [2:0]  m_axi_arsize;     wire [1:0]  m_axi_arburst; wire m_axi_arlock;
    wire [3:0]  m_axi_arcache;    wire [2:0]  m_axi_arprot;  wire m_axi_arvalid;
    wire        m_axi_arready;    wire [3:0]  m_axi_aruser;
    wire [ID_W-1:0] m_axi_rid;    wire [63:0] m_axi_rdata;
    wire [1:0]  m_axi_rresp;      wire m_axi_rlast; wire m_axi_rvalid;
    wire        m_axi_rready;
    wire        irq_loc;
    wire [NUM_FUNC-1:0] irq_host;
    // the interrupt lines as one word for Python (tb/tl.py TlTB.irq_levels, the bits of
    // the recorder's irq token)
    wire [NUM_FUNC:0] irq_word = {irq_host, irq_loc};

    wire loc_idle, host_idle;
    tl_axil_master loc_m (
        .clk(clk), .inj_req(loc_inj_req), .inj_addr(loc_inj_addr), .idle(loc_idle),
        .awaddr(s_axil_loc_awaddr), .awvalid(s_axil_loc_awvalid), .awready(s_axil_loc_awready),
        .wdata(s_axil_loc_wdata), .wstrb(s_axil_loc_wstrb), .wvalid(s_axil_loc_wvalid),
        .wready(s_axil_loc_wready), .bresp(s_axil_loc_bresp), .bvalid(s_axil_loc_bvalid),
        .bready(s_axil_loc_bready), .araddr(s_axil_loc_araddr), .arvalid(s_axil_loc_arvalid),
        .arready(s_axil_loc_arready), .rdata(s_axil_loc_rdata), .rresp(s_axil_loc_rresp),
        .rvalid(s_axil_loc_rvalid), .rready(s_axil_loc_rready)
    );
    tl_axil_master host_m (
        .clk(clk), .inj_req(host_inj_req), .inj_addr(host_inj_addr), .idle(host_idle),
        .awaddr(s_axil_host_awaddr), .awvalid(s_axil_host_awvalid), .awready(s_axil_host_awready),
        .wdata(s_axil_host_wdata), .wstrb(s_axil_host_wstrb), .wvalid(s_axil_host_wvalid),
        .wready(s_axil_host_wready), .bresp(s_axil_host_bresp), .bvalid(s_axil_host_bvalid),
        .bready(s_axil_host_bready), .araddr(s_axil_host_araddr), .arvalid(s_axil_host_arvalid),
        .arready(s_axil_host_arready), .rdata(s_axil_host_rdata), .rresp(s_axil_host_rresp),
        .rvalid(s_axil_host_rvalid), .rready(s_axil_host_rready)
    );
    tl_axi_mem #(.ID_W(ID_W), .MEM_AW(MEM_AW)) mem (
        .clk(clk), .rst(rst), .cycle(cycle),
        .awid(m_axi_awid), .awaddr(m_axi_awaddr), .awlen(m_axi_awlen), .awvalid(m_axi_awvalid),
        .awready(m_axi_awready), .wdata(m_axi_wdata), .wstrb(m_axi_wstrb), .wlast(m_axi_wlast),
        .wvalid(m_axi_wvalid), .wready(m_axi_wready), .bid(m_axi_bid), .bresp(m_axi_bresp),
        .bvalid(m_axi_bvalid), .bready(m_axi_bready), .arid(m_axi_arid), .araddr(m_axi_araddr),
        .arlen(m_axi_arlen), .arvalid(m_axi_arvalid), .arready(m_axi_arready), .rid(m_axi_rid),
        .rdata(m_axi_rdata), .rresp(m_axi_rresp), .rlast(m_axi_rlast), .rvalid(m_axi_rvalid),
        .rready(m_axi_rready)
    );

    // AXI protocol checkers, shared with the VIP lane's top (the transactors drive no
    // AxPROT: the checkers see 0, as the DUT does)
    wire [2:0] s_axil_loc_awprot = 3'd0, s_axil_loc_arprot = 3'd0;
    wire [2:0] s_axil_host_awprot = 3'd0, s_axil_host_arprot = 3'd0;
`include "tb_checkers.vh"

    // A registered copy of the RTL's per-channel STATE: tb/timing.py takes each quiesce's
    // completion edge from it (as in tb_dma_deleg.v), not from the model.
    reg [31:0] own_state = 32'd0;
    always @(posedge clk) own_state <= dut.ch_state;

    // dma_deleg and the monitor vector `mon`, shared with the VIP lane's top
`include "tb_dut.vh"

    // ------------------------------------------------------------------ recorder
    // `mon` comes from tb_dut.vh (bit layout of tb/monitor.py MON_*).
    localparam [31:0] MON_ACTIVE = (32'd1 << 17) - 32'd1;

    integer fd;
    initial fd = $fopen("tl_rec.txt", "w");
    reg [31:0] rec_trunc = 32'd0;       // written by Python: truncate the file ...
    reg [31:0] rec_trunc_ack = 32'd0;   // ... done at the rising edge that set this
    reg        armed = 1'b0;   // set by the first reset: before it the DUT is unreset
    reg [31:0] prev = 32'd0;
    // write halves seen but not yet paired, per port (EdgeMonitor _LitePort)
    reg        l_awv = 1'b0, l_wv = 1'b0, h_awv = 1'b0, h_wv = 1'b0;
    reg [15:0] l_aw = 16'd0, h_aw = 16'd0;
    reg [35:0] l_w = 36'd0, h_w = 36'd0;
    reg        awv, wv;
    reg [15:0] aw;
    reg [35:0] w;

    // Beat runs: consecutive busy edges without an AXI4-Lite handshake, at the interrupt
    // levels of the line before, that carry nothing but one beat of a burst (an R beat
    // with RRESP OKAY, its burst's last included, or any W beat), nothing at all (a
    // VALID waiting, or the edge after a handshake), or one of a burst's *event edges*
    // (an AR presented and handshaken; an AW presented and handshaken with one W beat;
    // a B with BRESP OKAY), each alone on m_axi, share one line:
    //   <first edge> <irq> Z <item> ...
    //   item: r:<id>:<data> (RLAST low) | l:<id>:<data> (RLAST high) | w:<data>:<strb>:<last> | s
    //       | a:<id>:<addr>:<len>:<user>:<size>                       (AP + AH)
    //       | v:<id>:<addr>:<len>:<user>:<size>:<data>:<strb>:<last>  (WP + WH + W)
    //       | b:<id>                                                  (B, OKAY)
    // one item per edge, in edge order (tb/tl.py LineFeeder judges the run piece by
    // piece, or expands it into the per-edge lines it stands for), so a clean copy
    // burst (AR, R beats, AW with the first W beat, W beats, B, the pick after it) is
    // part of one line. A run ends at any other edge (busy or not), after RUN_MAX
    // items, at a reset, and at every wake-up (the negedge block below ends it before
    // the flush), so a wake finds it complete.
    localparam [6:0] RUN_MAX = 7'd64;
    reg [31:0] run_seq = 32'd0;     // runs opened (posedge block)
    reg [31:0] run_pend = 32'd0;    // runs ended by the posedge block
    reg [31:0] run_wend = 32'd0;    // runs ended by the wake-up (negedge block)
    reg [6:0]  run_len = 7'd0;
    reg [8:0]  line_irq = 9'd0;     // interrupt levels of the last line written
    reg        ropen;
    // The edge's class, as continuous assignments read once per edge below (each signal
    // read in a procedural block is a lookup on Icarus): busy is the monitor's busy-edge
    // rule; beatlike an edge a beat run may take (one beat or none, no request, no B, no
    // error, at the levels of the line before)
    // (ar_new / aw_new: an AR / AW presented at this edge, the monitor's "presented"
    // rule; ev_a / ev_v / ev_b: the event edges a run takes)
    wire busy = (mon & MON_ACTIVE) != 32'd0 || mon != prev;
    wire ar_new = mon[10] && !(prev[10] && !prev[11]);
    wire aw_new = mon[13] && !(prev[13] && !prev[14]);
    wire ev_a = ar_new && mon[11] && !mon[12] && !aw_new && !mon[14] && !mon[15] && !mon[16];
    wire ev_v = aw_new && mon[14] && mon[15] && !ar_new && !mon[11] && !mon[12] && !mon[16];
    wire ev_b = mon[16] && m_axi_bresp == 2'd0 && !ar_new && !mon[11] && !mon[12]
        && !aw_new && !mon[14] && !mon[15];
    wire beat_only = !ar_new && !mon[11] && !aw_new && !mon[14] && !mon[16]
        && !(mon[12] && mon[15]) && !(mon[12] && m_axi_rresp != 2'd0);
    wire beatlike = !rst && mon[9:0] == 10'd0 && mon[31:23] == line_irq
        && (beat_only || ev_a || ev_v || ev_b);
    wire trunc_due = rec_trunc != rec_trunc_ack;

    always @(posedge clk) begin
        if (trunc_due) begin   // before this edge's line
            $fclose(fd);
            fd = $fopen("tl_rec.txt", "w");
            rec_trunc_ack <= rec_trunc;
        end
        if (rst) armed <= 1'b1;
        if (armed) begin
            prev <= mon;
            ropen = run_seq != run_pend && run_seq != run_wend;
            if (ropen && !(beatlike && busy)) begin
                $fwrite(fd, "\n");   // the run ends before this edge
                run_pend = run_seq;
                ropen = 1'b0;
            end
            if (busy) begin
                if (rst) begin
                    prev <= 32'd0;
                    l_awv <= 1'b0; l_wv <= 1'b0; h_awv <= 1'b0; h_wv <= 1'b0;
                end else if (beatlike) begin
                    if (!ropen) begin
                        $fwrite(fd, "%0h %0h Z", cycle + 64'd1, mon[31:23]);
                        run_seq = run_seq + 32'd1;
                        run_len = 7'd0;
                    end
                    if (ev_a)
                        $fwrite(fd, " a:%0h:%0h:%0h:%0h:%0h", m_axi_arid, m_axi_araddr,
                                m_axi_arlen, m_axi_aruser, m_axi_arsize);
                    else if (ev_v)
                        $fwrite(fd, " v:%0h:%0h:%0h:%0h:%0h:%0h:%0h:%0h", m_axi_awid,
                                m_axi_awaddr, m_axi_awlen, m_axi_awuser, m_axi_awsize,
                                m_axi_wdata, m_axi_wstrb, m_axi_wlast);
                    else if (ev_b) $fwrite(fd, " b:%0h", m_axi_bid);
                    else if (mon[12] && m_axi_rlast) $fwrite(fd, " l:%0h:%0h", m_axi_rid, m_axi_rdata);
                    else if (mon[12]) $fwrite(fd, " r:%0h:%0h", m_axi_rid, m_axi_rdata);
                    else if (mon[15])
                        $fwrite(fd, " w:%0h:%0h:%0h", m_axi_wdata, m_axi_wstrb, m_axi_wlast);
                    else $fwrite(fd, " s");
                    run_len = run_len + 7'd1;
                    if (run_len == RUN_MAX) begin
                        $fwrite(fd, "\n");
                        run_pend = run_seq;
                    end
                end else begin
                    line_irq <= mon[31:23];
                    $fwrite(fd, "%0h %0h", cycle + 64'd1, mon[31:23]);
                    // local port
                    awv = l_awv; aw = l_aw; wv = l_wv; w = l_w;
                    if (mon[0]) begin awv = 1'b1; aw = s_axil_loc_awaddr; end
                    if (mon[1]) begin wv = 1'b1; w = {s_axil_loc_wstrb, s_axil_loc_wdata}; end
                    // every handshake of the edge (as tb/monitor.py): a read beside an
                    // executed write is reported too (LA), never dropped
                    if (awv && wv) begin
                        $fwrite(fd, " LW %0h %0h %0h", aw, w[31:0], w[35:32]);
                        awv = 1'b0; wv = 1'b0;
                        if (mon[2]) $fwrite(fd, " LA %0h", s_axil_loc_araddr);
                    end else if (mon[2]) begin
                        $fwrite(fd, " LR %0h", s_axil_loc_araddr);
                    end
                    l_awv <= awv; l_aw <= aw; l_wv <= wv; l_w <= w;
                    if (mon[3]) $fwrite(fd, " Lb %0h", s_axil_loc_bresp);
                    if (mon[4]) $fwrite(fd, " Lr %0h %0h", s_axil_loc_rresp, s_axil_loc_rdata);
                    // host port
                    awv = h_awv; aw = h_aw; wv = h_wv; w = h_w;
                    if (mon[5]) begin awv = 1'b1; aw = s_axil_host_awaddr; end
                    if (mon[6]) begin wv = 1'b1; w = {s_axil_host_wstrb, s_axil_host_wdata}; end
                    // every handshake of the edge (as tb/monitor.py): a read beside an
                    // executed write is reported too (HA), never dropped
                    if (awv && wv) begin
                        $fwrite(fd, " HW %0h %0h %0h", aw, w[31:0], w[35:32]);
                        awv = 1'b0; wv = 1'b0;
                        if (mon[7]) $fwrite(fd, " HA %0h", s_axil_host_araddr);
                    end else if (mon[7]) begin
                        $fwrite(fd, " HR %0h", s_axil_host_araddr);
                    end
                    h_awv <= awv; h_aw <= aw; h_wv <= wv; h_w <= w;
                    if (mon[8]) $fwrite(fd, " Hb %0h", s_axil_host_bresp);
                    if (mon[9]) $fwrite(fd, " Hr %0h %0h", s_axil_host_rresp, s_axil_host_rdata);
                    // m_axi, in EdgeMonitor._sample_dma order
                    if (mon[10] && !(prev[10] && !prev[11]))
                        $fwrite(fd, " AP %0h %0h %0h %0h %0h", m_axi_arid, m_axi_araddr, m_axi_arlen,
                                m_axi_aruser, m_axi_arsize);
                    if (mon[11]) $fwrite(fd, " AH %0h", m_axi_arid);
                    if (mon[12])
                        $fwrite(fd, " R %0h %0h %0h %0h", m_axi_rid, m_axi_rdata, m_axi_rresp, m_axi_rlast);
                    if (mon[13] && !(prev[13] && !prev[14]))
                        $fwrite(fd, " WP %0h %0h %0h %0h %0h", m_axi_awid, m_axi_awaddr, m_axi_awlen,
                                m_axi_awuser, m_axi_awsize);
                    if (mon[14]) $fwrite(fd, " WH %0h", m_axi_awid);
                    if (mon[15]) $fwrite(fd, " W %0h %0h %0h", m_axi_wdata, m_axi_wstrb, m_axi_wlast);
                    if (mon[16]) $fwrite(fd, " B %0h %0h", m_axi_bid, m_axi_bresp);
                    $fwrite(fd, "\n");
                end
            end
        end
    end

    // The one Python wake-up: at a falling edge with news (a port's batch complete:
    // each transactor announces a completion by moving `done` up to `rd` at this same
    // edge, and the one that empties its queue, rd reaching wr, wakes Python; the
    // timer; a memory dump, announced by `dump_ack`; an interrupt line in irq_wake
    // high), flush the recorder and change wake_any. Why not every completion: a task
    // that queued a batch (tb/tl.py TlPort.run, one task per port at a time) resumes
    // only when all of it is done, so a wake before that judged lines and resumed
    // nothing.
    // Python (tb/tl.py TlTB._dispatch) then reads what the rising edge settled (rd, rspq,
    // dump_done, cycle) and resumes the waiting tasks in a fixed order, so both
    // simulators run the same stimulus whatever order they fire callbacks in.
    reg [31:0] wake_any = 32'd0;
    wire wake_now = (loc_m.rd != loc_m.done && loc_m.rd == loc_m.wr)
                    || (host_m.rd != host_m.done && host_m.rd == host_m.wr) || cycle >= wake_at
                    || mem.dump_done != mem.dump_ack || (irq_word & irq_wake) != 0;
    wire p_work = (p_live & (p_fresh | p_due)) != {NSLOT{1'b0}}
                  || loc_m.inj_rd != loc_inj_seen || host_m.inj_rd != host_inj_seen;
    integer ps;
    reg [NSLOT-1:0] dm;
    reg p_stop, hp, ok;
    reg [CFG_W-1:0] pc;
    reg [34:0] pr;
    reg [NUM_FUNC:0] lw;
    // a slot stops: Python takes it from here (wakes at this edge)
    task automatic p_end(input integer k, input [1:0] why);
        begin
            p_ack[k*32 +: 32] = p_arm[k*32 +: 32];
            p_why[k*2 +: 2] = why;
            p_phase[k*2 +: 2] = 2'd0;
            p_stop = 1'b1;
        end
    endtask
    // the injected read of port hp (1 host) completed with pr: its slot's next step (the
    // next wait only if Python sleeps through this edge: a slot stopped just before, the
    // local port's, wakes it, and its task would start its next wait before this one)
    task automatic p_read_done(input port_host);
        integer k;
        begin
            for (k = 0; k < NSLOT; k = k + 1)
                if (p_live[k] && p_phase[k*2 +: 2] == 2'd2 && p_cfg[k*CFG_W + 8] == port_host) begin
                    pc = p_cfg[k*CFG_W +: CFG_W];
                    lw = irq_word >> pc[7:0];
                    p_reads[k*16 +: 16] = p_reads[k*16 +: 16] + 16'd1;
                    p_rsp[k*35 +: 35] = pr;
                    if (!pr[34] && pr[33:32] == 2'd0 && pr[31:0] == pc[79:48]
                            && p_left[k*16 +: 16] != 16'd0 && !lw[0] && !wake_now && !p_stop) begin
                        p_left[k*16 +: 16] = p_left[k*16 +: 16] - 16'd1;
                        p_t0[k*64 +: 64] = cycle;
                        p_at[k*64 +: 64] = cycle + {45'd0, pc[31:16], 3'd0};
                        p_phase[k*2 +: 2] = 2'd1;
                    end else
                        p_end(k, 2'd1);
                end
        end
    endtask
    always @(negedge clk) begin
        p_stop = 1'b0;
        if (p_work) begin
            p_gen = p_gen + 32'd1;
            for (ps = 0; ps < NSLOT; ps = ps + 1)
                if (p_live[ps] && p_fresh[ps]) begin   // armed since the last edge
                    p_seen[ps*32 +: 32] = p_arm[ps*32 +: 32];
                    p_phase[ps*2 +: 2] = 2'd1;
                    p_at[ps*64 +: 64] = p_at0[ps*64 +: 64];
                    p_reads[ps*16 +: 16] = 16'd0;
                    p_left[ps*16 +: 16] = p_cfg[ps*CFG_W + 80 +: 16];
                end
            if (loc_m.inj_rd != loc_inj_seen) begin
                pr = loc_m.inj_rsp; p_read_done(1'b0); loc_inj_seen = loc_m.inj_rd;
            end
            if (host_m.inj_rd != host_inj_seen) begin
                pr = host_m.inj_rsp; p_read_done(1'b1); host_inj_seen = host_m.inj_rd;
            end
            for (ps = 0; ps < NSLOT; ps = ps + 1)   // the slots whose wait ends here
                dm[ps] = p_live[ps] && p_phase[ps*2 +: 2] == 2'd1 && p_at[ps*64 +: 64] == cycle;
            for (ps = 0; ps < NSLOT; ps = ps + 1)
                if (dm[ps]) begin
                    hp = p_cfg[ps*CFG_W + 8];
                    ok = dm == ({{(NSLOT-1){1'b0}}, 1'b1} << ps) && !wake_now && !p_stop
                         && (hp ? host_idle : loc_idle);
                    if (ok) begin
                        p_phase[ps*2 +: 2] = 2'd2;
                        if (hp) begin
                            host_inj_addr = p_cfg[ps*CFG_W + 32 +: 16];
                            host_inj_req = host_inj_req + 32'd1;
                        end else begin
                            loc_inj_addr = p_cfg[ps*CFG_W + 32 +: 16];
                            loc_inj_req = loc_inj_req + 32'd1;
                        end
                    end else
                        p_end(ps, 2'd2);
                end
        end
        if (wake_now || p_stop) begin
            if (run_seq != run_pend && run_seq != run_wend) begin
                // Python reads whole lines: the beat run ends here
                $fwrite(fd, "\n");
                run_wend = run_seq;
            end
            $fflush(fd);
            wake_any <= wake_any + 32'd1;
        end
    end
endmodule
`default_nettype wire
