// bench_pure: pure C++ reference harness of dma_deleg under Verilator.
//
// Why it exists: `make bench-sim` (tools/bench_sim.py) divides the cocotb
// testbench's cycles/s by what the same RTL reaches when nothing but the
// Verilated model and this loop run, so the testbench's overhead is a measured
// ratio. Same work as tb/hdl/bench_pure.v (the Icarus harness): every round
// programs each instantiated channel through the LOCAL port for a 64 KiB copy
// (SPEC 2.1), starts them all, polls CH_STAT until each is STOPPED, then
// compares every destination word with its source. A mismatch, a refused
// access, a burst outside memory or a hang exits with status 1.
//
// Usage: bench_pure [--rounds N] [--seed N] [--copy BYTES] [--corrupt]
//   --copy: bytes per copy, a multiple of 8 up to and by default 64 KiB (the
//   benchmark copies 64 KiB; tests/test_bench_sim.py checks the harness on less)
//   --corrupt: the memory flips one bit of one written beat; the check must fail
//   (tests/test_bench_sim.py relies on that).
// Output: the last line is "bench_pure: PASS cycles=<edges> bytes=<copied>".
// Register offsets come from the generated include/dma_deleg_regs.h only; the
// channel counts are read from the CONFIG register, not assumed.

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vdma_deleg.h"
#include "dma_deleg_regs.h"
#include "verilated.h"

namespace {

constexpr uint64_t kMemWords = 1u << 17;  // 1 MiB of 8-byte words
constexpr uint64_t kCopyBytes = 64 * 1024;
constexpr uint64_t kRegion = 2 * kCopyBytes;  // per channel: source, then destination

// Print "bench_pure: FAIL <message>" and exit 1 (arguments are unsigned long long).
[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* fmt, ...) {
    std::printf("bench_pure: FAIL ");
    va_list ap;
    va_start(ap, fmt);
    std::vprintf(fmt, ap);
    va_end(ap);
    std::printf("\n");
    std::fflush(stdout);
    std::exit(1);
}

using ull = unsigned long long;

// Handshakes and values seen just before a rising edge (what the RTL sampled).
struct Edge {
    bool l_aw, l_w, l_b, l_ar, l_r;
    uint32_t l_bresp, l_rresp, l_rdata;
};

class Harness {
  public:
    explicit Harness(VerilatedContext* ctx, bool corrupt)
        : top_(new Vdma_deleg{ctx}), mem_(kMemWords, 0), corrupt_(corrupt) {}

    uint64_t cycles() const { return cycles_; }
    std::vector<uint64_t>& mem() { return mem_; }

    void reset() {
        top_->rst = 1;
        for (int i = 0; i < 4; ++i) tick();
        top_->rst = 0;
    }

    // One clock cycle: settle at clk=0, sample, rising edge, update the memory model.
    Edge tick() {
        Vdma_deleg& t = *top_;
        t.clk = 0;
        t.eval();
        Edge e{};
        e.l_aw = t.s_axil_loc_awvalid && t.s_axil_loc_awready;
        e.l_w = t.s_axil_loc_wvalid && t.s_axil_loc_wready;
        e.l_b = t.s_axil_loc_bvalid && t.s_axil_loc_bready;
        e.l_ar = t.s_axil_loc_arvalid && t.s_axil_loc_arready;
        e.l_r = t.s_axil_loc_rvalid && t.s_axil_loc_rready;
        e.l_bresp = t.s_axil_loc_bresp;
        e.l_rresp = t.s_axil_loc_rresp;
        e.l_rdata = t.s_axil_loc_rdata;
        const bool ar = t.m_axi_arvalid && t.m_axi_arready;
        const bool r = t.m_axi_rvalid && t.m_axi_rready;
        const bool aw = t.m_axi_awvalid && t.m_axi_awready;
        const bool w = t.m_axi_wvalid && t.m_axi_wready;
        const bool b = t.m_axi_bvalid && t.m_axi_bready;
        const uint64_t araddr = t.m_axi_araddr, awaddr = t.m_axi_awaddr, wdata = t.m_axi_wdata;
        const uint32_t arlen = t.m_axi_arlen, awlen = t.m_axi_awlen, wstrb = t.m_axi_wstrb;
        const bool wlast = t.m_axi_wlast, rlast = t.m_axi_rlast;
        const uint32_t arid = t.m_axi_arid, awid = t.m_axi_awid;
        t.clk = 1;
        t.eval();
        ++cycles_;
        if (t.rst) {
            t.m_axi_arready = t.m_axi_rvalid = t.m_axi_rlast = 0;
            t.m_axi_awready = t.m_axi_wready = t.m_axi_bvalid = 0;
            rd_busy_ = wr_busy_ = false;
            return e;
        }
        // read side: AR accepted -> beats from the next edge on, one per RREADY
        const bool arready_prev = t.m_axi_arready;
        if (ar) {
            rd_busy_ = true;
            rd_a_ = word_of(araddr, arlen);
            rd_left_ = arlen;
            t.m_axi_rid = arid;
            t.m_axi_rdata = mem_[rd_a_++];
            t.m_axi_rresp = 0;
            t.m_axi_rlast = arlen == 0;
            t.m_axi_rvalid = 1;
        } else if (r) {
            if (rlast) {
                t.m_axi_rvalid = 0;
                rd_busy_ = false;
            } else {
                t.m_axi_rdata = mem_[rd_a_++];
                --rd_left_;
                t.m_axi_rlast = rd_left_ == 0;
            }
        }
        t.m_axi_arready = !rd_busy_ && !(ar && arready_prev);
        // write side: AW accepted -> W beats -> B
        const bool awready_prev = t.m_axi_awready;
        if (aw) {
            wr_busy_ = true;
            wr_a_ = word_of(awaddr, awlen);
            t.m_axi_bid = awid;
            t.m_axi_wready = 1;
        }
        if (w) {
            uint64_t& word = mem_[wr_a_++];
            for (int i = 0; i < 8; ++i)
                if (wstrb >> i & 1) word = (word & ~(0xFFull << 8 * i)) | (wdata & (0xFFull << 8 * i));
            if (corrupt_ && wbeats_ == 1000) word ^= 1;
            ++wbeats_;
            if (wlast) {
                t.m_axi_wready = 0;
                t.m_axi_bvalid = 1;
                t.m_axi_bresp = 0;
            }
        }
        if (b) {
            t.m_axi_bvalid = 0;
            wr_busy_ = false;
        }
        t.m_axi_awready = !wr_busy_ && !(aw && awready_prev);
        return e;
    }

    void lite_write(uint32_t addr, uint32_t data) {
        Vdma_deleg& t = *top_;
        t.s_axil_loc_awaddr = addr;
        t.s_axil_loc_awvalid = 1;
        t.s_axil_loc_wdata = data;
        t.s_axil_loc_wstrb = 0xF;
        t.s_axil_loc_wvalid = 1;
        t.s_axil_loc_bready = 1;
        while (t.s_axil_loc_awvalid || t.s_axil_loc_wvalid) {
            const Edge e = tick();
            if (e.l_aw) t.s_axil_loc_awvalid = 0;
            if (e.l_w) t.s_axil_loc_wvalid = 0;
        }
        for (;;) {
            const Edge e = tick();
            if (e.l_b) {
                if (e.l_bresp != 0) fail("write %#llx <- %#llx answered %llu", ull(addr), ull(data), ull(e.l_bresp));
                break;
            }
        }
        t.s_axil_loc_bready = 0;
    }

    uint32_t lite_read(uint32_t addr) {
        Vdma_deleg& t = *top_;
        t.s_axil_loc_araddr = addr;
        t.s_axil_loc_arvalid = 1;
        t.s_axil_loc_rready = 1;
        uint32_t data = 0;
        for (;;) {
            const Edge e = tick();
            if (e.l_ar) t.s_axil_loc_arvalid = 0;
            if (e.l_r) {
                if (e.l_rresp != 0) fail("read %#llx answered %llu", ull(addr), ull(e.l_rresp));
                data = e.l_rdata;
                break;
            }
        }
        t.s_axil_loc_rready = 0;
        return data;
    }

    void finish() { top_->final(); }

  private:
    uint64_t word_of(uint64_t a, uint32_t len) const {
        if ((a & 7) != 0 || a + 8 * (uint64_t(len) + 1) > 8 * kMemWords)
            fail("burst at %#llx (len %llu) outside the 1 MiB memory", ull(a), ull(len));
        return a >> 3;
    }

    std::unique_ptr<Vdma_deleg> top_;
    std::vector<uint64_t> mem_;
    bool corrupt_;
    uint64_t cycles_ = 0, wbeats_ = 0;
    bool rd_busy_ = false, wr_busy_ = false;
    uint64_t rd_a_ = 0, wr_a_ = 0;
    uint32_t rd_left_ = 0;
};

uint32_t field(uint32_t v, uint32_t shift, uint32_t width) { return v >> shift & ((1u << width) - 1); }

uint32_t win(uint32_t g, uint32_t off) {
    return DD_LOC_WIN_ADDR(g / DD_MAX_CH_PER_DIR, g % DD_MAX_CH_PER_DIR) + off;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t rounds = 4, seed = 1, copy = kCopyBytes;
    bool corrupt = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rounds" && i + 1 < argc) {
            rounds = std::strtoull(argv[++i], nullptr, 0);
        } else if (a == "--seed" && i + 1 < argc) {
            seed = std::strtoull(argv[++i], nullptr, 0);
        } else if (a == "--copy" && i + 1 < argc) {
            copy = std::strtoull(argv[++i], nullptr, 0);
        } else if (a == "--corrupt") {
            corrupt = true;
        } else if (a.rfind("+verilator", 0) != 0) {
            std::fprintf(stderr, "usage: %s [--rounds N] [--seed N] [--copy BYTES] [--corrupt]; bad argument %s\n",
                         argv[0], argv[i]);
            return 2;
        }
    }
    if (copy < 8 || copy > kCopyBytes || copy % 8 != 0)
        fail("--copy %llu: a copy is a multiple of 8 bytes, 8 to %llu", ull(copy), ull(kCopyBytes));
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    Harness h(ctx.get(), corrupt);
    h.reset();
    if (h.lite_read(DD_LOC_ID) != DD_ID_VALUE) fail("ID register does not read %#llx", ull(DD_ID_VALUE));
    const uint32_t cfg = h.lite_read(DD_LOC_CONFIG);
    std::vector<uint32_t> chans;
    for (uint32_t n = 0; n < field(cfg, DD_CONFIG_WR_CH_SHIFT, DD_CONFIG_WR_CH_WIDTH); ++n)
        chans.push_back(DD_CH_INDEX(0, n));
    for (uint32_t n = 0; n < field(cfg, DD_CONFIG_RD_CH_SHIFT, DD_CONFIG_RD_CH_WIDTH); ++n)
        chans.push_back(DD_CH_INDEX(1, n));
    if (chans.empty() || chans.size() * kRegion > 8 * kMemWords)
        fail("%llu channels do not fit the 1 MiB memory", ull(chans.size()));

    uint64_t x = seed * 0x9E3779B97F4A7C15ull | 1;  // xorshift64 source data
    uint64_t bytes = 0;
    auto& mem = h.mem();
    for (uint64_t r = 0; r < rounds; ++r) {
        // fresh source data each round, so a copy that moved nothing fails too
        for (size_t k = 0; k < chans.size(); ++k) {
            for (uint64_t w = 0; w < copy / 8; ++w) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                mem[k * kRegion / 8 + w] = x;
            }
        }
        for (size_t k = 0; k < chans.size(); ++k) {
            const uint32_t g = chans[k];
            const uint64_t src = k * kRegion, dst = k * kRegion + kCopyBytes;
            h.lite_write(win(g, DD_WIN_CH_EN), 1);
            h.lite_write(win(g, DD_WIN_XFER_SIZE), uint32_t(copy));
            h.lite_write(win(g, DD_WIN_SAR_LO), uint32_t(src));
            h.lite_write(win(g, DD_WIN_SAR_HI), uint32_t(src >> 32));
            h.lite_write(win(g, DD_WIN_DAR_LO), uint32_t(dst));
            h.lite_write(win(g, DD_WIN_DAR_HI), uint32_t(dst >> 32));
            h.lite_write(win(g, DD_WIN_DOORBELL), DD_DOORBELL_START_MASK);
        }
        for (size_t k = 0; k < chans.size(); ++k) {
            const uint32_t g = chans[k];
            uint32_t st = DD_CH_RUNNING;
            for (uint64_t polls = 0; field(st, DD_CH_STAT_STATE_SHIFT, DD_CH_STAT_STATE_WIDTH) == DD_CH_RUNNING;
                 ++polls) {
                if (polls > 100000) fail("channel %llu never finished", ull(g));
                for (int i = 0; i < 64; ++i) h.tick();
                st = h.lite_read(win(g, DD_WIN_CH_STAT));
            }
            if (field(st, DD_CH_STAT_STATE_SHIFT, DD_CH_STAT_STATE_WIDTH) != DD_CH_STOPPED)
                fail("channel %llu ended with CH_STAT %#llx", ull(g), ull(st));
            h.lite_write(win(g, DD_WIN_INT_CLEAR), DD_INT_CLEAR_STOP_MASK | DD_INT_CLEAR_ABORT_MASK);
            const uint64_t* s = &mem[k * kRegion / 8];
            const uint64_t* d = &mem[(k * kRegion + kCopyBytes) / 8];
            if (std::memcmp(s, d, copy) != 0) {
                uint64_t w = 0;
                while (s[w] == d[w]) ++w;
                fail("round %llu channel %llu: destination word %llu is %#llx, source %#llx", ull(r),
                     ull(g), ull(w), ull(d[w]), ull(s[w]));
            }
            bytes += copy;
        }
    }
    h.finish();
    std::printf("bench_pure: PASS cycles=%llu bytes=%llu\n", ull(h.cycles()), ull(bytes));
    return 0;
}
