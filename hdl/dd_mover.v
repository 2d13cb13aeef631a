// dd_mover: the shared AXI4 data mover. One burst in flight in total:
// read a burst of L beats into a buffer, then write it, round robin between
// eligible channels (docs/microarch.md "Data mover").
//
// L = min(MAX_BURST, rem/8, beats to the next 4 KiB boundary of src and of dst),
// so no burst crosses 4 KiB on either side. A burst whose read returned an
// error, or whose channel is quiescing or fenced when the read ends (`drop`), is
// never written: write data already fetched is dropped, never partially written
// (SPEC 2.3 allows it for quiesce; the fence presents no AW after t0). A STOP
// doorbell does not drop it: the outstanding burst completes (SPEC 2.1;
// docs/microarch.md Decision 21).
// A memory protocol error (wrong RID or BID, RLAST off the length) counts as an
// error response, so a misbehaving memory aborts the channel instead of hanging it.
//
// Linked-list channels (SPEC 3) ask for two more kinds of work, one pick each: an
// element fetch (a read with no write phase: the burst ends at its last R beat, the
// beats go to the channel) and an MSI write (AW and one W beat from the pick, no
// read, AWSIZE=2, the 4 byte lanes of the address). An MSI slot is eligible whatever
// the channel's CH_STAT, so a channel asks for an MSI or for walk/copy work, never both.
`default_nettype none
`include "dd_wdbg.vh"
module dd_mover #(
    parameter MAX_BURST = 8,
    parameter ID_W      = 4
) (
    input  wire              clk,
    input  wire              rst,
    // channel side (16 slots, g = dir*8 + n)
    input  wire [15:0]       elig,        // RUNNING, instantiated, not blocked
    input  wire [15:0]       drop,        // per channel: a burst read now is not written
    input  wire [16*64-1:0]  src_v,
    input  wire [16*64-1:0]  dst_v,
    input  wire [16*32-1:0]  rem_v,
    input  wire [16*4-1:0]   user_v,
    input  wire [15:0]       fetch_v,     // the channel's next burst is an element fetch
    input  wire [15:0]       msi_v,       // the channel asks for its MSI write
    input  wire [16*64-1:0]  maddr_v,     // MSI address ([1:0] already 0)
    input  wire [16*32-1:0]  mdata_v,     // MSI data
    output wire              pick_ev,     // a channel is picked on this edge ...
    output wire [3:0]        pick_g,      // ... this one
    output reg               busy,
    output reg  [3:0]        cur,
    output reg               cur_fetch,   // the burst in flight is an element fetch
    output reg               cur_msi,     // ... an MSI write
    output wire              rbeat,       // an R beat of the burst handshakes on this edge
    output wire [63:0]       rbeat_data,
    output wire              done,        // burst of channel `cur` ends on this edge
    output wire              done_err,
    output wire              done_written,
    output wire [31:0]       done_bytes,
    // AXI4 master
    output wire [ID_W-1:0]   m_axi_awid,
    output reg  [63:0]       m_axi_awaddr,
    output reg  [7:0]        m_axi_awlen,
    output wire [2:0]        m_axi_awsize,
    output wire [1:0]        m_axi_awburst,
    output wire              m_axi_awlock,
    output wire [3:0]        m_axi_awcache,
    output wire [2:0]        m_axi_awprot,
    output reg               m_axi_awvalid,
    input  wire              m_axi_awready,
    output wire [3:0]        m_axi_awuser,
    output wire [63:0]       m_axi_wdata,
    output wire [7:0]        m_axi_wstrb,
    output wire              m_axi_wlast,
    output reg               m_axi_wvalid,
    input  wire              m_axi_wready,
    input  wire [ID_W-1:0]   m_axi_bid,
    input  wire [1:0]        m_axi_bresp,
    input  wire              m_axi_bvalid,
    output wire              m_axi_bready,
    output wire [ID_W-1:0]   m_axi_arid,
    output reg  [63:0]       m_axi_araddr,
    output reg  [7:0]        m_axi_arlen,
    output wire [2:0]        m_axi_arsize,
    output wire [1:0]        m_axi_arburst,
    output wire              m_axi_arlock,
    output wire [3:0]        m_axi_arcache,
    output wire [2:0]        m_axi_arprot,
    output reg               m_axi_arvalid,
    input  wire              m_axi_arready,
    output wire [3:0]        m_axi_aruser,
    input  wire [ID_W-1:0]   m_axi_rid,
    input  wire [63:0]       m_axi_rdata,
    input  wire [1:0]        m_axi_rresp,
    input  wire              m_axi_rlast,
    input  wire              m_axi_rvalid,
    output wire              m_axi_rready,
    // observation only (formal lemmas): burst state and counters, dd_wdbg.vh layout
    output wire [`DD_MOBS_W-1:0] obs
);
    localparam [1:0] S_IDLE = 2'd0, S_AR = 2'd1, S_R = 2'd2, S_W = 2'd3;

    reg [1:0]  state;
    reg [3:0]  rr;            // last channel served
    reg [4:0]  mlen;          // beats in this burst
    reg [3:0]  muser;
    reg [4:0]  rcnt, wcnt;
    reg        rerr;
    reg [63:0] msi_wdata;
    reg [7:0]  msi_wstrb;
    // buffer index width: enough for MAX_BURST beats
    localparam BW = (MAX_BURST > 8) ? 4 : (MAX_BURST > 4) ? 3 : (MAX_BURST > 2) ? 2 : 1;
    reg [63:0] bufm [0:(1<<BW)-1];

    // ----------------------------------------------------- round-robin pick
    reg        pick_ok;
    reg [3:0]  pick;
    integer    i;
    always @* begin
        pick_ok = 1'b0;
        pick    = 4'd0;
        for (i = 1; i <= 16; i = i + 1) begin
            if (!pick_ok && elig[(rr + i[3:0]) & 4'hF]) begin
                pick_ok = 1'b1;
                pick    = (rr + i[3:0]) & 4'hF;
            end
        end
    end

    // ------------------------------------------------------- burst length
    wire [63:0] p_src  = src_v[pick*64 +: 64];
    wire [63:0] p_dst  = dst_v[pick*64 +: 64];
    wire [31:0] p_rem  = rem_v[pick*32 +: 32];
    wire [63:0] p_maddr = maddr_v[pick*64 +: 64];
    wire [31:0] p_mdata = mdata_v[pick*32 +: 32];
    assign pick_ev = (state == S_IDLE) && pick_ok;
    assign pick_g  = pick;
    wire [12:0] s_room = (13'h1000 - {1'b0, p_src[11:0]}) >> 3;
    wire [12:0] d_room = (13'h1000 - {1'b0, p_dst[11:0]}) >> 3;
    wire [31:0] r_beats = p_rem >> 3;
    wire [31:0] l0 = (r_beats < MAX_BURST) ? r_beats : MAX_BURST;
    wire [31:0] l1 = ({19'd0, s_room} < l0) ? {19'd0, s_room} : l0;
    wire [31:0] blen = ({19'd0, d_room} < l1) ? {19'd0, d_room} : l1;

    // -------------------------------------------------------------- state
    wire r_hs   = m_axi_rvalid && m_axi_rready;
    wire r_due  = (rcnt == mlen - 5'd1);          // the length says: last beat
    // A beat the memory got wrong fails the burst like an error response: RRESP not
    // OKAY, another ID than this burst's, or RLAST where the length does not put it.
    // An early RLAST also ends the read there, so a short burst cannot hang the mover.
    wire r_beat_bad = (m_axi_rresp != 2'b00) || (m_axi_rid != m_axi_arid) || (m_axi_rlast != r_due);
    wire r_last = r_hs && (r_due || m_axi_rlast);
    wire r_bad  = rerr || r_beat_bad;
    wire b_hs   = m_axi_bvalid && m_axi_bready;
    wire w_hs   = m_axi_wvalid && m_axi_wready;

    assign done         = (state == S_R && r_last && (r_bad || drop[cur] || cur_fetch)) || (state == S_W && b_hs);
    // a B with another ID than the burst's fails it like an error response
    assign done_err     = (state == S_R) ? r_bad : ((m_axi_bresp != 2'b00) || (m_axi_bid != m_axi_awid));
    assign done_written = (state == S_W);
    assign done_bytes   = {24'd0, mlen, 3'd0};

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE; rr <= 4'hF; busy <= 1'b0; cur <= 4'd0;
            mlen <= 5'd0; muser <= 4'd0; rcnt <= 5'd0; wcnt <= 5'd0; rerr <= 1'b0;
            m_axi_arvalid <= 1'b0; m_axi_araddr <= 64'd0; m_axi_arlen <= 8'd0;
            m_axi_awvalid <= 1'b0; m_axi_awaddr <= 64'd0; m_axi_awlen <= 8'd0;
            m_axi_wvalid  <= 1'b0;
            cur_fetch <= 1'b0; cur_msi <= 1'b0; msi_wdata <= 64'd0; msi_wstrb <= 8'd0;
        end else begin
            case (state)
                S_IDLE: if (pick_ok && msi_v[pick]) begin
                    // MSI write: AW and its one W beat from the next edge
                    state         <= S_W;
                    busy          <= 1'b1;
                    cur           <= pick;
                    cur_fetch     <= 1'b0;
                    cur_msi       <= 1'b1;
                    mlen          <= 5'd1;
                    muser         <= user_v[pick*4 +: 4];
                    wcnt          <= 5'd0;
                    m_axi_awvalid <= 1'b1;
                    m_axi_awaddr  <= p_maddr;
                    m_axi_awlen   <= 8'd0;
                    m_axi_wvalid  <= 1'b1;
                    msi_wdata     <= p_maddr[2] ? {p_mdata, 32'd0} : {32'd0, p_mdata};
                    msi_wstrb     <= p_maddr[2] ? 8'hF0 : 8'h0F;
                end else if (pick_ok) begin
                    state         <= S_AR;
                    busy          <= 1'b1;
                    cur           <= pick;
                    cur_fetch     <= fetch_v[pick];
                    cur_msi       <= 1'b0;
                    mlen          <= blen[4:0];
                    muser         <= user_v[pick*4 +: 4];
                    rcnt          <= 5'd0;
                    rerr          <= 1'b0;
                    m_axi_arvalid <= 1'b1;
                    m_axi_araddr  <= p_src;
                    m_axi_arlen   <= {3'd0, blen[4:0] - 5'd1};
                end
                S_AR: if (m_axi_arready) begin
                    m_axi_arvalid <= 1'b0;
                    state         <= S_R;
                end
                S_R: if (r_hs) begin
                    bufm[rcnt[BW-1:0]] <= m_axi_rdata;
                    rcnt <= rcnt + 5'd1;
                    if (r_beat_bad) rerr <= 1'b1;
                    if (r_last) begin
                        if (r_bad || drop[cur] || cur_fetch) begin
                            state <= S_IDLE; busy <= 1'b0; rr <= cur;
                        end else begin
                            state         <= S_W;
                            wcnt          <= 5'd0;
                            m_axi_awvalid <= 1'b1;
                            m_axi_awaddr  <= dst_v[cur*64 +: 64];
                            m_axi_awlen   <= {3'd0, mlen - 5'd1};
                            m_axi_wvalid  <= 1'b1;
                        end
                    end
                end
                S_W: begin
                    if (m_axi_awvalid && m_axi_awready) m_axi_awvalid <= 1'b0;
                    if (w_hs) begin
                        wcnt <= wcnt + 5'd1;
                        if (m_axi_wlast) m_axi_wvalid <= 1'b0;
                    end
                    if (b_hs) begin
                        state <= S_IDLE; busy <= 1'b0; rr <= cur;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    wire [ID_W+3:0] id_ext = {{ID_W{1'b0}}, cur};
    assign m_axi_arid    = id_ext[ID_W-1:0];
    assign m_axi_awid    = id_ext[ID_W-1:0];
    assign m_axi_aruser  = muser;
    assign m_axi_awuser  = muser;
    assign m_axi_arsize  = 3'd3;
`ifdef DD_BUG_MSI_SIZE
    assign m_axi_awsize  = 3'd3;  // planted bug: the MSI is announced as 8 bytes
`else
    assign m_axi_awsize  = cur_msi ? 3'd2 : 3'd3;
`endif
    assign m_axi_arburst = 2'b01;
    assign m_axi_awburst = 2'b01;
    assign m_axi_arlock  = 1'b0;
    assign m_axi_awlock  = 1'b0;
    assign m_axi_arcache = 4'b0011;
    assign m_axi_awcache = 4'b0011;
    assign m_axi_arprot  = 3'b010;
    assign m_axi_awprot  = 3'b010;
    assign m_axi_wdata   = cur_msi ? msi_wdata : bufm[wcnt[BW-1:0]];
    assign m_axi_wstrb   = cur_msi ? msi_wstrb : 8'hFF;
    assign m_axi_wlast   = (wcnt == mlen - 5'd1);
    assign m_axi_rready  = (state == S_R);
    assign rbeat         = r_hs;
    assign rbeat_data    = m_axi_rdata;
    assign m_axi_bready  = 1'b1;

    assign obs = {cur_msi, cur_fetch, cur, busy, wcnt, rcnt, muser, mlen, state};

    // Lint sink for Verilator's UNUSED warning only (`ifdef VERILATOR): Icarus would
    // evaluate the reduction at every change of its inputs (docs/performance-log.md).
`ifdef VERILATOR
    wire _unused_ok = &{1'b0, blen[31:5], p_dst[63:12], p_maddr[1:0],
                        id_ext[ID_W+3:ID_W], 1'b0};
`endif
endmodule
`default_nettype wire
