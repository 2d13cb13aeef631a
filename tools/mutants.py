"""The mutation catalogue of `make mutate` (tools/mutate.py): one source of truth.

Each entry is one realistic single-point RTL change (operator flip, off-by-one, dropped
term, wrong index, swapped condition, stuck bit) written for this project; none is a
planted ``DD_BUG_*`` bug. An entry names the file under ``hdl/``, a small distinctive
snippet of the original text that must occur there exactly once, and its replacement,
so an entry that no longer matches the RTL (after an edit of ``hdl/``) is a clear error
(tools/mutate.py exit 2, ``tests/test_mutate.py``), never a silently skipped mutant.

``equivalent`` is set only for a mutant that no test or property can kill because it
does not change the block's behaviour at its ports; it says why. Such a mutant still
runs, and a kill of it is reported as a catalogue error (the reason was wrong).

Families (``FAMILIES``) follow the SPEC rule groups; the first campaign outside the
project left survivors in anti-spoofing, VIOL_COUNT/VIOL_LAST, a window register the
scrub checks never read back, INT_CLEAR with both bits pending, AW/W order and the
AXI4-Lite slave's read/write arbitration, so each of those has entries here.
"""

from __future__ import annotations

import dataclasses

#: SPEC rule families every catalogue must cover (tests/test_mutate.py checks it).
FAMILIES: dict[str, str] = {
    "access": "host/local access rules (SPEC 2.4)",
    "spoof": "FUNC_NUM anti-spoofing and how a spoof is refused and counted (2.4)",
    "scrub": "window scrub on DELEGATE and quiesce completion (2.3)",
    "irq": "interrupt routing, masks, INT_STAT/INT_CLEAR (2.1, 2.4)",
    "quiesce": "RECLAIM+QUIESCE: no burst after t0, completion, Q_CYCLES (2.3)",
    "fence": "fencing plain RECLAIM of an exposed or running channel (SPEC v2 2.3)",
    "counters": "VIOL_COUNT / VIOL_LAST (2.2)",
    "mover": "AXI4 data mover: bursts, 4 KiB split, WLAST, responses (2, 2.1)",
    "axil": "AXI4-Lite slave: AW/W order, read/write arbitration, responses (2)",
    "walk": "linked-list walks: START, element fetch, CB/CCS, link elements, LLP/CCS "
            "write-back (SPEC 3)",
    "msi": "MSI writes: which event owes one, enables and masks, address, data, the "
           "slot's hold on START (SPEC 3, Decision 16)",
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One single-point change: *orig* (exactly once in ``hdl/<file>``) -> *repl*."""

    id: str
    family: str
    file: str
    orig: str
    repl: str
    what: str                      # the change in words (report)
    equivalent: str | None = None  # why no check can kill it (documented survivor)
    #: the test that killed it in the last full run (``module.test``, ``tl:`` prefix for
    #: the transaction-level lane): `make mutate` runs it alone first, a speed-up only;
    #: when it no longer kills, the full stages decide and the report marks it stale
    hint: str | None = None


_CATALOGUE: tuple[Mutant, ...] = (
    # ------------------------------------------------------------- access rules
    Mutant("acc_no_func_check", "access", "dma_deleg.v",
           "&& (ch_func[h_g*4 +: 4] == hf);", ";",
           "host access allowed for any function while the channel is DELEGATED"),
    Mutant("acc_loc_wr_any_state", "access", "dma_deleg.v",
           "&& (ch_state[g*2 +: 2] == `DD_ST_LOCAL);", ";",
           "local window write takes effect although the channel is not LOCAL"),
    Mutant("acc_fn_ok_off_by_one", "access", "dma_deleg.v",
           "({28'd0, hf} < NUM_FUNC)", "({28'd0, hf} <= NUM_FUNC)",
           "window f == NUM_FUNC answers SLVERR instead of DECERR"),
    Mutant("acc_dir_bit_dropped", "access", "dma_deleg.v",
           "wire [3:0]  h_g      = {ha[8], ha[11:9]};", "wire [3:0]  h_g      = {1'b0, ha[11:9]};",
           "host decode drops the direction bit: RC_TO_EP windows reach EP_TO_RC channels"),
    Mutant("acc_loc_slverr_delegated_only", "access", "dma_deleg.v",
           "if (l_we && ch_state[l_win_g*2 +: 2] != `DD_ST_LOCAL) l_resp = SLVERR;",
           "if (l_we && ch_state[l_win_g*2 +: 2] == `DD_ST_DELEGATED) l_resp = SLVERR;",
           "refused local write to a QUIESCING channel answers OKAY"),
    # ------------------------------------------------------------ anti-spoofing
    Mutant("spoof_bit3_ignored", "spoof", "dma_deleg.v",
           "(h_wdata[3:0] != hf)", "(h_wdata[2:0] != hf[2:0])",
           "spoof check compares FUNC_NUM[2:0] only: a value with bit 3 set passes"),
    Mutant("spoof_wstrb_ignored", "spoof", "dma_deleg.v",
           "h_we && h_wstrb[0] && (h_off", "h_we && (h_off",
           "a FUNC_NUM write whose byte 0 is not written is judged as a spoof"),
    Mutant("spoof_not_counted", "spoof", "dma_deleg.v",
           "wire        h_viol   = h_acc && !h_decerr && !h_ok;",
           "wire        h_viol   = h_acc && !h_decerr && !h_allow;",
           "a refused spoof does not count in VIOL_COUNT / VIOL_LAST"),
    Mutant("spoof_vs_owner", "spoof", "dma_deleg.v",
           "(h_wdata[3:0] != hf)", "(h_wdata[3:0] != ch_func[h_g*4 +: 4])",
           "spoof check compares with the channel's owner instead of the window's function",
           equivalent="h_spoof only matters through h_ok = h_allow && !h_spoof, and h_allow "
                      "already requires ch_func[h_g] == hf, so both comparisons agree "
                      "whenever the result is used"),
    # -------------------------------------------------------------------- scrub
    Mutant("scrub_keeps_llp_hi", "scrub", "dd_chan.v",
           "                // scrub: no endpoint-private or host-written state survives\n"
           "                ch_en <= 1'b0; llp_lo <= 32'd0; llp_hi <= 32'd0;",
           "                // scrub: no endpoint-private or host-written state survives\n"
           "                ch_en <= 1'b0; llp_lo <= 32'd0;",
           "scrub forgets LLP_HI"),
    Mutant("scrub_keeps_int_setup", "scrub", "dd_chan.v",
           "                int_stop <= 1'b0; int_abort <= 1'b0; int_setup <= 7'd0;",
           "                int_stop <= 1'b0; int_abort <= 1'b0;",
           "scrub forgets INT_SETUP (the host's enables survive)"),
    Mutant("scrub_keeps_func_num", "scrub", "dd_chan.v",
           "                lle <= 1'b0; func_num <= 4'd0; ch_stat <= `DD_CH_IDLE;",
           "                lle <= 1'b0; ch_stat <= `DD_CH_IDLE;",
           "scrub forgets FUNC_NUM"),
    Mutant("scrub_not_on_quiesce", "scrub", "dd_chan.v",
           "if (del_ok || q_done) begin", "if (del_ok) begin",
           "quiesce completion does not scrub the window"),
    # --------------------------------------------------------------- interrupts
    Mutant("irq_host_local_enable", "irq", "dd_chan.v",
           "((stop_pend && int_setup[`DD_INT_SETUP_RSTOP_EN_LSB])",
           "((stop_pend && int_setup[`DD_INT_SETUP_LSTOP_EN_LSB])",
           "irq_host follows the local STOP enable instead of the remote one"),
    Mutant("irq_stop_mask_ignored", "irq", "dd_chan.v",
           "wire stop_pend  = int_stop && !smask;", "wire stop_pend  = int_stop;",
           "the STOP mask does not mask"),
    Mutant("irq_own_enable_ignored", "irq", "dma_deleg.v",
           "(ch_irq_loc | (own_irq_stat & own_irq_en))", "(ch_irq_loc | own_irq_stat)",
           "irq_loc ignores OWN_IRQ_EN"),
    Mutant("irq_own_no_cmd_err", "irq", "dd_chan.v",
           "assign own_irq   = qdone || unsafe || cmd_err;", "assign own_irq   = qdone || unsafe;",
           "CMD_ERR does not reach OWN_IRQ_STAT"),
    Mutant("irq_host_while_quiescing", "irq", "dd_chan.v",
           "assign irq_host = (st == `DD_ST_DELEGATED)", "assign irq_host = (st != `DD_ST_LOCAL)",
           "a QUIESCING channel keeps driving irq_host"),
    Mutant("irq_clear_both_keeps_abort", "irq", "dd_chan.v",
           "(int_abort && !iclr[`DD_INT_CLEAR_ABORT_LSB])",
           "(int_abort && !(iclr[`DD_INT_CLEAR_ABORT_LSB] && !iclr[`DD_INT_CLEAR_STOP_LSB]))",
           "INT_CLEAR with both bits clears only STOP (ABORT stays pending)"),
    Mutant("irq_clear_beats_set", "irq", "dd_chan.v",
           "int_stop  <= (int_stop  && !iclr[`DD_INT_CLEAR_STOP_LSB])  || set_stop;",
           "int_stop  <= (int_stop  || set_stop) && !iclr[`DD_INT_CLEAR_STOP_LSB];",
           "a same-edge INT_CLEAR wins over the hardware setting INT_STAT.STOP"),
    # ------------------------------------------------------------------ quiesce
    Mutant("q_no_block_at_t0", "quiesce", "dd_chan.v",
           "wire qblk = quiescing || rq_ok;", "wire qblk = quiescing;",
           "a burst may still be picked on the RECLAIM+QUIESCE edge itself"),
    Mutant("q_cycles_off_by_one", "quiesce", "dd_chan.v",
           "q_cyc <= q_cnt + 32'd1;", "q_cyc <= q_cnt;",
           "Q_CYCLES one short"),
    Mutant("q_done_while_running", "quiesce", "dd_chan.v",
           "wire q_done = quiescing && !running && !busy_any;",
           "wire q_done = quiescing && !inflight && !busy_any;",
           "quiesce completion judged on 'no burst in flight' instead of 'not RUNNING'",
           equivalent="from t0 on, blk is high, and a RUNNING channel with no burst in flight "
                      "is aborted on that very edge (running && !inflight && blk), so while "
                      "QUIESCING, RUNNING implies a burst in flight: both conditions agree on "
                      "every reachable edge"),
    Mutant("q_reclaim_while_quiescing", "quiesce", "dd_chan.v",
           "st == `DD_ST_DELEGATED && c_q;", "st != `DD_ST_LOCAL && c_q;",
           "RECLAIM+QUIESCE of a QUIESCING channel restarts the quiesce instead of CMD_ERR"),
    Mutant("q_fetched_burst_written", "quiesce", "dd_mover.v",
           "if (r_bad || drop[cur] || cur_fetch) begin", "if (r_bad || cur_fetch) begin",
           "a burst read before t0 is still written after a quiesce or the fence (drop)"),
    # -------------------------------------------------------------------- fence
    Mutant("fence_start_allowed", "fence", "dd_chan.v",
           "&& !lle\n                     && !fenced && !r_fence;",
           "&& !lle\n                     && !r_fence;",
           "a fenced channel accepts DOORBELL START"),
    Mutant("fence_same_edge_write", "fence", "dd_chan.v",
           "(exposed || running || (wr && wr_host))", "(exposed || running)",
           "a host write on the RECLAIM edge does not make the reclaim UNSAFE"),
    Mutant("fence_redelegate", "fence", "dd_chan.v",
           "&& ({28'd0, c_func} < NUM_FUNC) && !fenced;", "&& ({28'd0, c_func} < NUM_FUNC);",
           "a fenced channel can be delegated again before UNSAFE is cleared"),
    Mutant("fence_irq_loc", "fence", "dd_chan.v",
           "(st == `DD_ST_LOCAL) && !fenced", "(st == `DD_ST_LOCAL)",
           "a fenced channel drives irq_loc"),
    Mutant("fence_no_stop", "fence", "dd_chan.v",
           "(db_stopbit || db_startbit || r_fence)", "(db_stopbit || db_startbit)",
           "the fencing RECLAIM does not stop the running transfer on its own edge"),
    # ----------------------------------------------------------------- counters
    Mutant("viol_clear_wins", "counters", "dma_deleg.v",
           "viol_count <= l_w_viol ? 32'd1 :", "viol_count <= l_w_viol ? 32'd0 :",
           "same-edge VIOL_COUNT clear and violation leave 0 instead of 1"),
    Mutant("viol_write_stuck", "counters", "dma_deleg.v",
           "viol_write <= h_we;", "viol_write <= 1'b1;",
           "VIOL_LAST.WRITE stuck at 1"),
    Mutant("viol_addr_no_window", "counters", "dma_deleg.v",
           "viol_addr  <= ha;", "viol_addr  <= {4'd0, ha[11:0]};",
           "VIOL_LAST address loses the function window bits"),
    Mutant("viol_clear_wstrb0", "counters", "dma_deleg.v",
           "wire l_w_viol = l_acc && l_we && l_any &&", "wire l_w_viol = l_acc && l_we &&",
           "a VIOL_COUNT write with WSTRB=0 clears the count"),
    Mutant("viol_valid_on_write_only", "counters", "dma_deleg.v",
           "viol_valid <= 1'b1;", "viol_valid <= h_we;",
           "VIOL_LAST.VALID set by refused writes only"),
    # -------------------------------------------------------------------- mover
    Mutant("mv_src_room_from_dst", "mover", "dd_mover.v",
           "(13'h1000 - {1'b0, p_src[11:0]})", "(13'h1000 - {1'b0, p_dst[11:0]})",
           "4 KiB split computed from DAR for the read side too"),
    Mutant("mv_wlast_late", "mover", "dd_mover.v",
           "assign m_axi_wlast   = (wcnt == mlen - 5'd1);", "assign m_axi_wlast   = (wcnt == mlen);",
           "WLAST one beat late"),
    Mutant("mv_rid_unchecked", "mover", "dd_mover.v",
           " || (m_axi_rid != m_axi_arid)", "",
           "a read beat with another ID is accepted"),
    Mutant("mv_round_robin_stuck", "mover", "dd_mover.v",
           "if (b_hs) begin\n                        state <= S_IDLE; busy <= 1'b0; rr <= cur;",
           "if (b_hs) begin\n                        state <= S_IDLE; busy <= 1'b0;",
           "round robin does not advance after a written burst"),
    Mutant("mv_decerr_ignored", "mover", "dd_mover.v",
           "((m_axi_bresp != 2'b00) ||", "((m_axi_bresp == 2'b10) ||",
           "a DECERR write response does not abort the channel"),
    Mutant("mv_arlen_off_by_one", "mover", "dd_mover.v",
           "m_axi_arlen   <= {3'd0, blen[4:0] - 5'd1};", "m_axi_arlen   <= {3'd0, blen[4:0]};",
           "ARLEN one beat too long"),
    Mutant("mv_burst_one_short", "mover", "dd_mover.v",
           "(r_beats < MAX_BURST) ? r_beats : MAX_BURST;",
           "(r_beats < MAX_BURST - 1) ? r_beats : MAX_BURST - 1;",
           "bursts capped at MAX_BURST-1 beats"),
    # -------------------------------------------------------- linked-list walk
    Mutant("walk_llp_align_4", "walk", "dd_chan.v",
           "(llp_lo[2:0] == 3'd0)", "(llp_lo[1:0] == 2'd0)",
           "a linked-list START accepts an LLP that is 4-byte but not 8-byte aligned"),
    Mutant("walk_cb_not_checked", "walk", "dd_chan.v",
           "end else if (el_cb != ccs) begin", "end else if (1'b0) begin",
           "an element whose CB differs from CCS is walked instead of ending the list"),
    Mutant("walk_link_no_toggle", "walk", "dd_chan.v",
           "ccs_n = ccs ^ el_tcb;", "ccs_n = ccs;",
           "a link element's TCB does not toggle CCS"),
    Mutant("walk_link_skips", "walk", "dd_chan.v",
           "lp_n  = fb1;", "lp_n  = fb1 + ELEM_SIZE;",
           "a link element's target is entered one element late"),
    Mutant("walk_llp_stays", "walk", "dd_chan.v",
           "lp_n = lp + ELEM_SIZE;", "lp_n = lp;",
           "a finished data element leaves LLP on itself (the walk repeats it)"),
    Mutant("walk_end_no_writeback", "walk", "dd_chan.v",
           "if (set_stop || set_abort) wb = 1'b1;", "if (set_abort) wb = 1'b1;",
           "a walk that ends STOPPED does not show its LLP / CCS in the window"),
    # --------------------------------------------------------------------- MSI
    Mutant("msi_stop_mask_ignored", "msi", "dd_chan.v",
           "&& !int_setup[`DD_INT_SETUP_SMASK_LSB]", "",
           "a done MSI is written while INT_SETUP masks the stop event"),
    Mutant("msi_abort_to_stop_addr", "msi", "dd_chan.v",
           "msi_full <= 1'b1; msi_a <= msi_aa;", "msi_full <= 1'b1; msi_a <= msi_sa;",
           "an abort MSI goes to the done MSI's address"),
    Mutant("msi_addr_low_bits", "msi", "dd_chan.v",
           "{msi_stop_hi, msi_stop_lo[31:2], 2'b00}", "{msi_stop_hi, msi_stop_lo}",
           "a done MSI's address keeps bits [1:0] of MSI_STOP_LO"),
    Mutant("msi_start_while_full", "msi", "dd_chan.v",
           "&& !db_stopbit && !msi_full;", "&& !db_stopbit;",
           "a START while the MSI slot is full is taken (Decision 16: ignored)"),
    # -------------------------------------------------------------- AXI4-Lite
    Mutant("axil_ar_ignores_w", "axil", "dd_axil_slave.v",
           "&& !s_awvalid && !s_wvalid;", "&& !s_awvalid;",
           "AR is accepted while a W (without its AW) is offered"),
    Mutant("axil_wdata_wrong_hold", "axil", "dd_axil_slave.v",
           "assign wdata = w_held ? w_data_q : s_wdata;",
           "assign wdata = aw_held ? w_data_q : s_wdata;",
           "held write data selected by the AW flag (wrong when W arrives first)"),
    Mutant("axil_addr_wrong_hold", "axil", "dd_axil_slave.v",
           "(aw_held ? aw_addr_q : s_awaddr)", "(w_held ? aw_addr_q : s_awaddr)",
           "held write address selected by the W flag (wrong when AW and W arrive apart)"),
    Mutant("axil_wstrb_not_held", "axil", "dd_axil_slave.v",
           "assign wstrb = w_held ? w_strb_q : s_wstrb;", "assign wstrb = s_wstrb;",
           "WSTRB of a W that arrived before its AW is lost"),
    Mutant("axil_aw_during_r", "axil", "dd_axil_slave.v",
           "assign s_awready = !resp_busy && !aw_held;", "assign s_awready = !s_bvalid && !aw_held;",
           "AW accepted while a read response is pending"),
)


#: Each mutant's kill hint: the test that killed it in the last full run (``make mutate
#: MUTATE_HINTS=0``, SEED=1, on icarus; ``tl:`` = the transaction-level lane).
#: ``make mutate`` runs it alone before the stages, so most mutants are judged in one
#: short simulation. Only the order changes: a hint that no longer kills its mutant
#: (after an RTL or test change) sends it through every stage as before, and the report
#: marks it stale. Mutants that no simulation kills (the equivalent ones,
#: ``axil_ar_ignores_w``) have none.
HINTS: dict[str, str] = {
    "acc_no_func_check": "test_access_rules",
    "acc_loc_wr_any_state": "test_access_rules",
    "acc_fn_ok_off_by_one": "test_reset_values",
    "acc_dir_bit_dropped": "test_access_rules",
    "acc_loc_slverr_delegated_only": "test_quiescing_refusals",
    "spoof_bit3_ignored": "test_access_rules",
    "spoof_wstrb_ignored": "test_access_rules",
    "spoof_not_counted": "test_access_rules",
    "scrub_keeps_llp_hi": "test_access_rules",
    "scrub_keeps_int_setup": "test_access_rules",
    "scrub_keeps_func_num": "test_access_rules",
    "scrub_not_on_quiesce": "test_access_rules",
    "irq_host_local_enable": "test_transfers",
    "irq_stop_mask_ignored": "test_irq_routing",
    "irq_own_enable_ignored": "test_access_rules",
    "irq_own_no_cmd_err": "test_cmd_err_cases",
    "irq_host_while_quiescing": "test_quiescing_refusals",
    "irq_clear_both_keeps_abort": "test_memory_errors_and_every_channel",
    "irq_clear_beats_set": "test_int_clear_races_completion",
    "q_no_block_at_t0": "test_random",
    "q_cycles_off_by_one": "test_access_rules",
    "q_reclaim_while_quiescing": "test_quiescing_refusals",
    "q_fetched_burst_written": "test_reclaim_quiesce_and_unsafe",
    "fence_start_allowed": "test_fence_running_channel",
    "fence_same_edge_write": "test_same_edge_command_and_access",
    "fence_redelegate": "test_quiescing_refusals",
    "fence_irq_loc": "test_fence_running_channel",
    "fence_no_stop": "test_fence_on_the_pick_edge",
    "viol_clear_wins": "test_same_edge_command_and_access",
    "viol_write_stuck": "test_access_rules",
    "viol_addr_no_window": "test_access_rules",
    "viol_clear_wstrb0": "test_same_edge_command_and_access",
    "viol_valid_on_write_only": "test_access_rules",
    "mv_src_room_from_dst": "test_transfers",
    "mv_wlast_late": "test_cmd_err_cases",
    "mv_rid_unchecked": "test_mem_wrong_rid",
    "mv_round_robin_stuck": "test_random",
    "mv_decerr_ignored": "test_memory_errors_and_every_channel",
    "mv_arlen_off_by_one": "test_cmd_err_cases",
    "mv_burst_one_short": "test_cmd_err_cases",
    "axil_wdata_wrong_hold": "tl:test_orders_delays_and_batches",
    "axil_addr_wrong_hold": "tl:test_orders_delays_and_batches",
    "axil_wstrb_not_held": "tl:test_orders_delays_and_batches",
    "axil_aw_during_r": "test_random",
    "walk_llp_align_4": "test_transfers",
    "walk_cb_not_checked": "test_host_lists",
    "walk_link_no_toggle": "test_tcb_ring_and_cycle_mismatch",
    "walk_link_skips": "test_tcb_ring_and_cycle_mismatch",
    "walk_llp_stays": "test_host_lists",
    "walk_end_no_writeback": "test_walk_end_shows_its_own_llp_over_a_host_write",
    "msi_stop_mask_ignored": "test_msi_on_off_masked",
    "msi_abort_to_stop_addr": "test_random",
    "msi_addr_low_bits": "test_msi_address_bits_1_0_are_ignored",
    "msi_start_while_full": "test_start_ignored_while_the_msi_waits_for_the_mover",
}

MUTANTS: tuple[Mutant, ...] = tuple(dataclasses.replace(m, hint=HINTS.get(m.id)) for m in _CATALOGUE)
