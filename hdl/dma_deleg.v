// dma_deleg: DMA-channel register block with host delegation (SPEC.md §2).
//
// Two AXI4-Lite slaves (endpoint CPU and host BAR), up to 8 EP_TO_RC ("write")
// and 8 RC_TO_EP ("read") channels, and one AXI4 data mover. The host can only
// program a channel while it is DELEGATED to the host function whose window the
// access arrives through; reclaim with quiesce stops and scrubs the channel.
// Cycle rules: docs/microarch.md. Register map: hdl/dma_deleg_regs.vh,
// generated from regs/dma_deleg.rdl.
//
// Planted bugs for the testbench's negative tests (never define them otherwise):
//   DD_BUG_LEAK_HOST_WRITE  one refused host write goes through as if allowed
//   DD_BUG_EXTRA_BURST      a quiescing channel issues bursts after t0
//   DD_BUG_SLOW_QUIESCE     quiesce completes later than the bound
//   DD_BUG_LITE_RW_TIE      an AXI4-Lite slave accepts a read on the edge a write executes
//   DD_BUG_NO_FENCE         (dd_chan.v) a fencing reclaim does not fence
//   DD_BUG_NO_SPOOF_CHECK   a host may set FUNC_NUM to another function
//   DD_BUG_REFUSED_WRITE    a refused host write answers SLVERR but still writes
//   DD_BUG_READ_LEAK        a refused host read returns the register's value
//   DD_BUG_IRQ_HOST_ROUTE   irq_host[f] ignores which function owns the channel
//   DD_BUG_USER_FUNCNUM     (dd_chan.v) AR/AW user is FUNC_NUM even while DELEGATED
//   DD_BUG_NO_SCRUB         (dd_chan.v) DELEGATE leaves SAR_LO unscrubbed
//   DD_BUG_IRQ_LOC_DELEG    (dd_chan.v) a delegated channel drives irq_loc
//   DD_BUG_MSI_AFTER_T0     (dd_chan.v) a RECLAIM leaves the MSI slot full: the MSI goes
//                           out from a fenced (LOCAL) channel after t0
//   DD_BUG_MSI_SIZE         (dd_mover.v) an MSI write is presented with AWSIZE=3, not 2
`default_nettype none
`include "dma_deleg_regs.vh"
`include "dd_wdbg.vh"
module dma_deleg #(
    parameter WR_CH     = 2,
    parameter RD_CH     = 2,
    parameter NUM_FUNC  = 2,
    parameter MAX_BURST = 8,
    parameter ID_W      = 4
) (
    input  wire                clk,
    input  wire                rst,
    // local (endpoint CPU) AXI4-Lite slave
    input  wire [15:0]         s_axil_loc_awaddr,
    input  wire [2:0]          s_axil_loc_awprot,
    input  wire                s_axil_loc_awvalid,
    output wire                s_axil_loc_awready,
    input  wire [31:0]         s_axil_loc_wdata,
    input  wire [3:0]          s_axil_loc_wstrb,
    input  wire                s_axil_loc_wvalid,
    output wire                s_axil_loc_wready,
    output wire [1:0]          s_axil_loc_bresp,
    output wire                s_axil_loc_bvalid,
    input  wire                s_axil_loc_bready,
    input  wire [15:0]         s_axil_loc_araddr,
    input  wire [2:0]          s_axil_loc_arprot,
    input  wire                s_axil_loc_arvalid,
    output wire                s_axil_loc_arready,
    output wire [31:0]         s_axil_loc_rdata,
    output wire [1:0]          s_axil_loc_rresp,
    output wire                s_axil_loc_rvalid,
    input  wire                s_axil_loc_rready,
    // host (PCIe BAR) AXI4-Lite slave; function f uses window f*0x1000
    input  wire [15:0]         s_axil_host_awaddr,
    input  wire [2:0]          s_axil_host_awprot,
    input  wire                s_axil_host_awvalid,
    output wire                s_axil_host_awready,
    input  wire [31:0]         s_axil_host_wdata,
    input  wire [3:0]          s_axil_host_wstrb,
    input  wire                s_axil_host_wvalid,
    output wire                s_axil_host_wready,
    output wire [1:0]          s_axil_host_bresp,
    output wire                s_axil_host_bvalid,
    input  wire                s_axil_host_bready,
    input  wire [15:0]         s_axil_host_araddr,
    input  wire [2:0]          s_axil_host_arprot,
    input  wire                s_axil_host_arvalid,
    output wire                s_axil_host_arready,
    output wire [31:0]         s_axil_host_rdata,
    output wire [1:0]          s_axil_host_rresp,
    output wire                s_axil_host_rvalid,
    input  wire                s_axil_host_rready,
    // AXI4 master (memory / PCIe)
    output wire [ID_W-1:0]     m_axi_awid,
    output wire [63:0]         m_axi_awaddr,
    output wire [7:0]          m_axi_awlen,
    output wire [2:0]          m_axi_awsize,
    output wire [1:0]          m_axi_awburst,
    output wire                m_axi_awlock,
    output wire [3:0]          m_axi_awcache,
    output wire [2:0]          m_axi_awprot,
    output wire                m_axi_awvalid,
    input  wire                m_axi_awready,
    output wire [3:0]          m_axi_awuser,
    output wire [63:0]         m_axi_wdata,
    output wire [7:0]          m_axi_wstrb,
    output wire                m_axi_wlast,
    output wire                m_axi_wvalid,
    input  wire                m_axi_wready,
    input  wire [ID_W-1:0]     m_axi_bid,
    input  wire [1:0]          m_axi_bresp,
    input  wire                m_axi_bvalid,
    output wire                m_axi_bready,
    output wire [ID_W-1:0]     m_axi_arid,
    output wire [63:0]         m_axi_araddr,
    output wire [7:0]          m_axi_arlen,
    output wire [2:0]          m_axi_arsize,
    output wire [1:0]          m_axi_arburst,
    output wire                m_axi_arlock,
    output wire [3:0]          m_axi_arcache,
    output wire [2:0]          m_axi_arprot,
    output wire                m_axi_arvalid,
    input  wire                m_axi_arready,
    output wire [3:0]          m_axi_aruser,
    input  wire [ID_W-1:0]     m_axi_rid,
    input  wire [63:0]         m_axi_rdata,
    input  wire [1:0]          m_axi_rresp,
    input  wire                m_axi_rlast,
    input  wire                m_axi_rvalid,
    output wire                m_axi_rready,
    // interrupts (level)
    output wire                irq_loc,
    output wire [NUM_FUNC-1:0] irq_host
`ifdef FORMAL
    // formal harness only (formal/dd_formal_top.v): the mover's observation vector, for
    // the lemmas tying tb/hdl/axi4_check.v's bookkeeping to the mover (dd_wdbg.vh layout)
    , output wire [`DD_MOBS_W-1:0] f_mv_obs
`endif
);
    // ------------------------------------------------------- parameter checks
    generate
        if (WR_CH < 1 || WR_CH > 8)         begin : bad_wr_ch     dd_error_WR_CH_must_be_1_to_8     u_err(); end
        if (RD_CH < 1 || RD_CH > 8)         begin : bad_rd_ch     dd_error_RD_CH_must_be_1_to_8     u_err(); end
        if (NUM_FUNC < 1 || NUM_FUNC > 8)   begin : bad_num_func  dd_error_NUM_FUNC_must_be_1_to_8  u_err(); end
        if (MAX_BURST < 2 || MAX_BURST > 16) begin : bad_burst    dd_error_MAX_BURST_must_be_2_to_16 u_err(); end
        if (ID_W < 4)                       begin : bad_id_w      dd_error_ID_W_must_be_at_least_4  u_err(); end
    endgenerate

    localparam [1:0] OKAY = 2'b00, SLVERR = 2'b10, DECERR = 2'b11;

    // ------------------------------------------------------------ AXI4-Lite
    wire        l_acc, l_we, h_acc, h_we;
    wire [15:0] l_addr_raw, h_addr_raw;
    wire [31:0] l_wdata, h_wdata;
    wire [3:0]  l_wstrb, h_wstrb;
    reg  [1:0]  l_resp, h_resp;
    reg  [31:0] l_rdata, h_rdata;
    wire [`DD_SOBS_W-1:0] l_sobs, h_sobs;   // observation only (dd_props lemmas)

    dd_axil_slave u_loc (
        .clk(clk), .rst(rst),
        .s_awaddr(s_axil_loc_awaddr), .s_awprot(s_axil_loc_awprot), .s_awvalid(s_axil_loc_awvalid),
        .s_awready(s_axil_loc_awready), .s_wdata(s_axil_loc_wdata), .s_wstrb(s_axil_loc_wstrb),
        .s_wvalid(s_axil_loc_wvalid), .s_wready(s_axil_loc_wready), .s_bresp(s_axil_loc_bresp),
        .s_bvalid(s_axil_loc_bvalid), .s_bready(s_axil_loc_bready), .s_araddr(s_axil_loc_araddr),
        .s_arprot(s_axil_loc_arprot), .s_arvalid(s_axil_loc_arvalid), .s_arready(s_axil_loc_arready),
        .s_rdata(s_axil_loc_rdata), .s_rresp(s_axil_loc_rresp), .s_rvalid(s_axil_loc_rvalid),
        .s_rready(s_axil_loc_rready),
        .acc(l_acc), .we(l_we), .addr(l_addr_raw), .wdata(l_wdata), .wstrb(l_wstrb),
        .resp(l_resp), .rdata(l_rdata), .obs(l_sobs)
    );
    dd_axil_slave u_host (
        .clk(clk), .rst(rst),
        .s_awaddr(s_axil_host_awaddr), .s_awprot(s_axil_host_awprot), .s_awvalid(s_axil_host_awvalid),
        .s_awready(s_axil_host_awready), .s_wdata(s_axil_host_wdata), .s_wstrb(s_axil_host_wstrb),
        .s_wvalid(s_axil_host_wvalid), .s_wready(s_axil_host_wready), .s_bresp(s_axil_host_bresp),
        .s_bvalid(s_axil_host_bvalid), .s_bready(s_axil_host_bready), .s_araddr(s_axil_host_araddr),
        .s_arprot(s_axil_host_arprot), .s_arvalid(s_axil_host_arvalid), .s_arready(s_axil_host_arready),
        .s_rdata(s_axil_host_rdata), .s_rresp(s_axil_host_rresp), .s_rvalid(s_axil_host_rvalid),
        .s_rready(s_axil_host_rready),
        .acc(h_acc), .we(h_we), .addr(h_addr_raw), .wdata(h_wdata), .wstrb(h_wstrb),
        .resp(h_resp), .rdata(h_rdata), .obs(h_sobs)
    );

    // address bits [1:0] are ignored
    wire [15:0] la = {l_addr_raw[15:2], 2'b00};
    wire [15:0] ha = {h_addr_raw[15:2], 2'b00};
    wire [31:0] l_bmask = {{8{l_wstrb[3]}}, {8{l_wstrb[2]}}, {8{l_wstrb[1]}}, {8{l_wstrb[0]}}};
    wire        l_any   = |l_wstrb;
    // Lint sink for Verilator's UNUSED warning only (`ifdef VERILATOR): Icarus would
    // evaluate the reduction at every change of its inputs (docs/performance-log.md).
`ifdef VERILATOR
    wire _unused_ok = &{1'b0, l_addr_raw[1:0], h_addr_raw[1:0], 1'b0};
`endif

    // ---------------------------------------------------------- per channel
    wire [15:0]       exists;
    wire [15:0]       ch_running, ch_blk, ch_drop, ch_irq_loc, ch_irq_host, ch_own_irq;
    wire [16*2-1:0]   ch_state;
    wire [16*4-1:0]   ch_func, ch_user;
    wire [16*32-1:0]  ch_rd_loc, ch_rd_host, ch_own_stat, ch_q_cycles, ch_rem;
    wire [16*64-1:0]  ch_src, ch_dst;
    wire [16*`DD_WDBG_W-1:0] ch_win;   // observation only (dd_props)
    wire [16*`DD_WK_W-1:0]   ch_wk;    // observation only (dd_props lemmas)
    wire [15:0]       ch_req_fetch, ch_req_msi;
    wire [16*64-1:0]  ch_msi_addr;
    wire [16*32-1:0]  ch_msi_data;

    wire        mv_busy, mv_done, mv_err, mv_written, mv_pick, mv_fetch, mv_msi, mv_rbeat;
    wire [3:0]  mv_cur, mv_pick_g;
    wire [31:0] mv_bytes;
    wire [63:0] mv_rdata;
    wire [`DD_MOBS_W-1:0] mv_obs;      // observation only (dd_props lemmas, formal harness)

    // local decode
    wire        l_is_own = (la >= `DD_OWN_BASE) && (la < `DD_OWN_BASE + 16 * `DD_OWN_STRIDE);
    wire [3:0]  l_own_g  = la[7:4];
    wire [3:0]  l_own_o  = la[3:0];
    wire        l_is_win = (la >= `DD_LOC_WIN_BASE) && (la < `DD_LOC_WIN_BASE + 16'h1000);
    wire [3:0]  l_win_g  = {la[8], la[11:9]};
    // host decode: window f = addr[15:12]
    wire [3:0]  hf       = ha[15:12];
    wire [3:0]  h_g      = {ha[8], ha[11:9]};
    wire [7:0]  h_off    = ha[7:0];
    wire        h_fn_ok  = ({28'd0, hf} < NUM_FUNC);
    wire        h_exists = exists[h_g];
    wire        h_allow  = (ch_state[h_g*2 +: 2] == `DD_ST_DELEGATED) && (ch_func[h_g*4 +: 4] == hf);
`ifdef DD_BUG_NO_SPOOF_CHECK
    wire        h_spoof  = 1'b0;
`else
    wire        h_spoof  = h_we && h_wstrb[0] && (h_off == `DD_WIN_FUNC_NUM) && (h_wdata[3:0] != hf);
`endif
`ifdef DD_BUG_LEAK_HOST_WRITE
    reg         leaked;
    wire        h_leak   = h_we && !leaked && !(h_allow && !h_spoof);
    always @(posedge clk) if (rst) leaked <= 1'b0; else if (h_acc && h_fn_ok && h_exists && h_leak) leaked <= 1'b1;
    wire        h_ok     = (h_allow && !h_spoof) || h_leak;
`else
    wire        h_ok     = h_allow && !h_spoof;
`endif
    wire        h_decerr = !h_fn_ok || !h_exists;
    wire        h_viol   = h_acc && !h_decerr && !h_ok;

    genvar g;
    generate
        for (g = 0; g < 16; g = g + 1) begin : ch
            localparam EX = (g < 8) ? (g < WR_CH) : ((g - 8) < RD_CH);
            wire [`DD_WDBG_W-1:0] win;   // this slot's window (observation only)
            assign exists[g] = EX;
            if (EX) begin : inst
                wire loc_wr  = l_acc && l_we && l_is_win && (l_win_g == g)
                               && (ch_state[g*2 +: 2] == `DD_ST_LOCAL);
`ifdef DD_BUG_REFUSED_WRITE
                wire host_wr = h_acc && h_we && !h_decerr && (h_g == g);
`else
                wire host_wr = h_acc && h_we && !h_decerr && h_ok && (h_g == g);
`endif
                dd_chan #(.NUM_FUNC(NUM_FUNC)) u_chan (
                    .clk(clk), .rst(rst),
                    .wr(loc_wr || host_wr), .wr_host(host_wr),
                    .wr_off(host_wr ? h_off : la[7:0]),
                    .wr_data(host_wr ? h_wdata : l_wdata),
                    .wr_strb(host_wr ? h_wstrb : l_wstrb),
                    .rd_off_loc(la[7:0]), .rd_data_loc(ch_rd_loc[g*32 +: 32]),
                    .rd_off_host(h_off), .rd_data_host(ch_rd_host[g*32 +: 32]),
                    .cmd_we(l_acc && l_we && l_any && l_is_own && l_own_g == g && l_own_o == `DD_OWN_CMD),
                    .cmd_val(l_wdata & l_bmask),
                    .stat_we(l_acc && l_we && l_any && l_is_own && l_own_g == g && l_own_o == `DD_OWN_STAT),
                    .stat_val(l_wdata & l_bmask),
                    .own_stat(ch_own_stat[g*32 +: 32]), .q_cycles(ch_q_cycles[g*32 +: 32]),
                    .own_state(ch_state[g*2 +: 2]), .own_func(ch_func[g*4 +: 4]),
                    .own_irq(ch_own_irq[g]), .irq_loc(ch_irq_loc[g]), .irq_host(ch_irq_host[g]),
                    .running(ch_running[g]), .blk(ch_blk[g]), .drop(ch_drop[g]),
                    .src(ch_src[g*64 +: 64]), .dst(ch_dst[g*64 +: 64]), .rem(ch_rem[g*32 +: 32]),
                    .user(ch_user[g*4 +: 4]),
                    // an MSI write is not engine work: it neither ends nor holds a run
                    .inflight(mv_busy && mv_cur == g && !mv_msi),
                    .mv_done(mv_done && mv_cur == g && !mv_msi), .mv_err(mv_err),
                    .mv_written(mv_written), .mv_bytes(mv_bytes),
                    .req_fetch(ch_req_fetch[g]), .req_msi(ch_req_msi[g]),
                    .msi_addr(ch_msi_addr[g*64 +: 64]), .msi_data(ch_msi_data[g*32 +: 32]),
                    .picked(mv_pick && mv_pick_g == g),
                    .busy_any(mv_busy && mv_cur == g),
                    .mv_fetch(mv_fetch), .mv_rbeat(mv_rbeat && mv_cur == g && mv_fetch),
                    .mv_rdata(mv_rdata),
                    .win(win),
                    .wk(ch_wk[g*`DD_WK_W +: `DD_WK_W])
                );
            end else begin : none
                assign ch_rd_loc[g*32 +: 32]   = 32'd0;
                assign ch_rd_host[g*32 +: 32]  = 32'd0;
                assign ch_own_stat[g*32 +: 32] = 32'd0;
                assign ch_q_cycles[g*32 +: 32] = 32'd0;
                assign ch_state[g*2 +: 2]      = `DD_ST_LOCAL;
                assign ch_func[g*4 +: 4]       = 4'd0;
                assign ch_own_irq[g]  = 1'b0;
                assign ch_irq_loc[g]  = 1'b0;
                assign ch_irq_host[g] = 1'b0;
                assign ch_running[g]  = 1'b0;
                assign ch_blk[g]      = 1'b0;
                assign ch_drop[g]     = 1'b0;
                assign ch_src[g*64 +: 64] = 64'd0;
                assign ch_dst[g*64 +: 64] = 64'd0;
                assign ch_rem[g*32 +: 32] = 32'd0;
                assign ch_user[g*4 +: 4]  = 4'd0;
                assign ch_req_fetch[g] = 1'b0;
                assign ch_req_msi[g]   = 1'b0;
                assign ch_msi_addr[g*64 +: 64] = 64'd0;
                assign ch_msi_data[g*32 +: 32] = 32'd0;
                assign win = {`DD_WDBG_W{1'b0}};
                assign ch_wk[g*`DD_WK_W +: `DD_WK_W] = {`DD_WK_W{1'b0}};
            end
        end
    endgenerate
    // The 16 windows as one concatenation, not one part-select driver per slot: Icarus
    // resolves a net of several part drivers at the strength level and rebuilt its
    // 6,448 bits one by one at every change of any window register (callgrind, the
    // register-heavy random test: 0.54 G of its 23.6 G instructions; README "Where the
    // time goes")
    assign ch_win = {ch[15].win, ch[14].win, ch[13].win, ch[12].win, ch[11].win, ch[10].win,
                     ch[9].win, ch[8].win, ch[7].win, ch[6].win, ch[5].win, ch[4].win,
                     ch[3].win, ch[2].win, ch[1].win, ch[0].win};

    // ------------------------------------------------------ global registers
    reg  [31:0] viol_count;
    reg  [15:0] viol_addr;
    reg         viol_write, viol_valid;
    reg  [15:0] own_irq_en;
    wire [15:0] own_irq_stat = ch_own_irq & exists;
    wire [31:0] config_val = ({28'd0, WR_CH[3:0]}     << `DD_CONFIG_WR_CH_LSB)
                           | ({28'd0, RD_CH[3:0]}     << `DD_CONFIG_RD_CH_LSB)
                           | ({28'd0, NUM_FUNC[3:0]}  << `DD_CONFIG_NUM_FUNC_LSB)
                           | ({27'd0, MAX_BURST[4:0]} << `DD_CONFIG_MAX_BURST_LSB);
    wire l_w_viol = l_acc && l_we && l_any && la == `DD_LOC_VIOL_COUNT;
    wire l_w_irqe = l_acc && l_we && la == `DD_LOC_OWN_IRQ_EN;

    always @(posedge clk) begin
        if (rst) begin
            viol_count <= 32'd0; viol_addr <= 16'd0; viol_write <= 1'b0; viol_valid <= 1'b0;
            own_irq_en <= 16'd0;
        end else begin
            // a same-edge clear and violation leave a count of one
            if (h_viol) begin
                viol_count <= l_w_viol ? 32'd1 : (viol_count == 32'hFFFFFFFF ? viol_count : viol_count + 32'd1);
                viol_addr  <= ha;
                viol_write <= h_we;
                viol_valid <= 1'b1;
            end else if (l_w_viol) begin
                viol_count <= 32'd0;
            end
            if (l_w_irqe)
                own_irq_en <= (own_irq_en & ~l_bmask[15:0]) | (l_wdata[15:0] & l_bmask[15:0]);
        end
    end

    // ------------------------------------------------------- local read mux
    always @* begin
        l_resp  = OKAY;
        l_rdata = 32'd0;
        if (la == `DD_LOC_ID)                l_rdata = `DD_ID_VALUE;
        else if (la == `DD_LOC_VERSION)      l_rdata = `DD_VERSION_VALUE;
        else if (la == `DD_LOC_CONFIG)       l_rdata = config_val;
        else if (la == `DD_LOC_VIOL_COUNT)   l_rdata = viol_count;
        else if (la == `DD_LOC_VIOL_LAST)    l_rdata = ({31'd0, viol_valid} << `DD_VIOL_LAST_VALID_LSB)
                                                     | ({31'd0, viol_write} << `DD_VIOL_LAST_WRITE_LSB)
                                                     | {16'd0, viol_addr};
        else if (la == `DD_LOC_OWN_IRQ_STAT) l_rdata = {16'd0, own_irq_stat};
        else if (la == `DD_LOC_OWN_IRQ_EN)   l_rdata = {16'd0, own_irq_en};
        else if (l_is_own) begin
            if (l_own_o == `DD_OWN_STAT)       l_rdata = ch_own_stat[l_own_g*32 +: 32];
            else if (l_own_o == `DD_OWN_Q_CYCLES)  l_rdata = ch_q_cycles[l_own_g*32 +: 32];
            else if (l_own_o != `DD_OWN_CMD)   l_resp  = DECERR;
        end else if (l_is_win && exists[l_win_g]) begin
            l_rdata = ch_rd_loc[l_win_g*32 +: 32];
            if (l_we && ch_state[l_win_g*2 +: 2] != `DD_ST_LOCAL) l_resp = SLVERR;
        end else
            l_resp = DECERR;
        if (l_we || l_resp != OKAY) l_rdata = 32'd0;
    end

    // -------------------------------------------------------- host read mux
    always @* begin
        if (h_decerr)      h_resp = DECERR;
        else if (!h_ok)    h_resp = SLVERR;
        else               h_resp = OKAY;
`ifdef DD_BUG_READ_LEAK
        h_rdata = (!h_decerr && !h_we) ? ch_rd_host[h_g*32 +: 32] : 32'd0;
`else
        h_rdata = (h_resp == OKAY && !h_we) ? ch_rd_host[h_g*32 +: 32] : 32'd0;
`endif
    end

    // --------------------------------------------------------- interrupts
    wire [15:0] irq_loc_src = (ch_irq_loc | (own_irq_stat & own_irq_en)) & exists;
    assign irq_loc = |irq_loc_src;
    genvar f;
    generate
        for (f = 0; f < NUM_FUNC; f = f + 1) begin : hirq
            wire [15:0] mine;
            genvar k;
            for (k = 0; k < 16; k = k + 1) begin : m
`ifdef DD_BUG_IRQ_HOST_ROUTE
                assign mine[k] = ch_irq_host[k];
`else
                assign mine[k] = ch_irq_host[k] && (ch_func[k*4 +: 4] == f);
`endif
            end
            assign irq_host[f] = |mine;
        end
    endgenerate

    // ---------------------------------------------------------- data mover
    dd_mover #(.MAX_BURST(MAX_BURST), .ID_W(ID_W)) u_mover (
        .clk(clk), .rst(rst),
        .elig(((ch_running & ~ch_blk) | ch_req_msi) & exists), .drop(ch_drop),
        .src_v(ch_src), .dst_v(ch_dst), .rem_v(ch_rem), .user_v(ch_user),
        .fetch_v(ch_req_fetch), .msi_v(ch_req_msi), .maddr_v(ch_msi_addr), .mdata_v(ch_msi_data),
        .pick_ev(mv_pick), .pick_g(mv_pick_g),
        .busy(mv_busy), .cur(mv_cur), .cur_fetch(mv_fetch), .cur_msi(mv_msi),
        .rbeat(mv_rbeat), .rbeat_data(mv_rdata),
        .done(mv_done), .done_err(mv_err),
        .done_written(mv_written), .done_bytes(mv_bytes),
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
        .obs(mv_obs)
    );
`ifdef FORMAL
    assign f_mv_obs = mv_obs;
`endif

    // ------------------------------------------- security properties (not synthesized)
    // hdl/dd_props.v, compiled with DD_PROPS by the simulation builds (tb/runner.py) and
    // by formal/: bound here so that no tool needs hierarchical references.
`ifdef DD_PROPS
    wire [8*256-1:0] props_msg;
    wire             props_fail_ev;
    wire [31:0]      props_fail_count;
    dd_props #(.NUM_FUNC(NUM_FUNC), .ID_W(ID_W), .MAX_BURST(MAX_BURST)) u_props (
        .clk(clk), .rst(rst),
        .h_awaddr(s_axil_host_awaddr), .h_awvalid(s_axil_host_awvalid), .h_awready(s_axil_host_awready),
        .h_wdata(s_axil_host_wdata[3:0]), .h_wstrb(s_axil_host_wstrb[0]), .h_wvalid(s_axil_host_wvalid),
        .h_wready(s_axil_host_wready), .h_bresp(s_axil_host_bresp), .h_bvalid(s_axil_host_bvalid),
        .h_araddr(s_axil_host_araddr), .h_arvalid(s_axil_host_arvalid),
        .h_arready(s_axil_host_arready), .h_rdata(s_axil_host_rdata), .h_rresp(s_axil_host_rresp),
        .h_rvalid(s_axil_host_rvalid),
        .l_awaddr(s_axil_loc_awaddr), .l_awvalid(s_axil_loc_awvalid), .l_awready(s_axil_loc_awready),
        .l_wvalid(s_axil_loc_wvalid), .l_wready(s_axil_loc_wready),
        .m_arid(m_axi_arid), .m_aruser(m_axi_aruser), .m_arvalid(m_axi_arvalid), .m_arready(m_axi_arready),
        .m_awid(m_axi_awid), .m_awuser(m_axi_awuser), .m_awvalid(m_axi_awvalid), .m_awready(m_axi_awready),
        .m_awsize(m_axi_awsize), .m_bid(m_axi_bid), .m_bvalid(m_axi_bvalid), .m_bready(m_axi_bready),
        .irq_loc(irq_loc), .irq_host(irq_host),
        .exists(exists), .st(ch_state), .func(ch_func), .own_stat(ch_own_stat),
        .own_irq_stat(own_irq_stat), .own_irq_en(own_irq_en), .win_i(ch_win),
        .h_obs(h_sobs), .l_obs(l_sobs), .mv_obs(mv_obs),
        .src_v(ch_src), .dst_v(ch_dst), .rem_v(ch_rem), .maddr_v(ch_msi_addr), .wk_v(ch_wk),
        .msg(props_msg), .fail_ev(props_fail_ev), .fail_count(props_fail_count)
    );
    // read by the testbench through u_props (tb/env.py), not by the design
`ifdef VERILATOR
    wire _unused_props = &{1'b0, props_msg, props_fail_ev, props_fail_count, 1'b0};
`endif
`else
`ifdef VERILATOR
    wire _unused_props = &{1'b0, ch_win, ch_wk, h_sobs, l_sobs, mv_obs, 1'b0};
`endif
`endif
endmodule
`default_nettype wire
