"""tools/bench_sim.py and what it relies on: the table and bench.json, the pure
harnesses' copy checks, the edge-trace replay, the bus-model warning filter.

The benchmark itself is never timed here (figures are not test results); these tests
check that its numbers come from runs that really check their work.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings
from pathlib import Path

import pytest

from tb import runner
from tools import bench_sim
from tools.bench_sim import BenchError, Record

# ---------------------------------------------------------------- table and JSON


def test_peak_rss_must_stay_flat() -> None:
    """The flat-memory figure fails the benchmark when the longer run's peak RSS is
    RSS_FLAT_LIMIT or more above the shorter one's (and on a nonsense reading)."""
    runs = [{"rounds": 10, "cycles": 1_000_000, "wall_s": 30.0, "peak_rss_kib": 100_000},
            {"rounds": 100, "cycles": 10_000_000, "wall_s": 300.0, "peak_rss_kib": 110_000}]
    info = bench_sim.rss_summary("icarus", runs)
    assert info["flat"] is True and info["growth"] == pytest.approx(0.10)
    assert "growth +10.0%" in bench_sim.format_rss([info])
    runs[1]["peak_rss_kib"] = 1_000 * (100 + bench_sim.RSS_FLAT_LIMIT_PCT)
    with pytest.raises(BenchError, match="peak RSS judged inline grew by 20.0%"):
        bench_sim.rss_summary("icarus", runs)
    runs[0]["peak_rss_kib"] = 0
    with pytest.raises(BenchError, match="must be positive"):
        bench_sim.rss_summary("icarus", runs)
    # each judging mode is its own entry, named as the table names its lane
    runs[0]["peak_rss_kib"] = 100_000
    runs[1]["peak_rss_kib"] = 90_000
    forked = bench_sim.rss_summary("verilator", runs, "fork")
    assert forked["judge"] == "fork" and forked["flat"] is True
    assert bench_sim.format_rss([forked]).startswith("peak RSS verilator transaction+fork dma: ")
    runs[1]["peak_rss_kib"] = 130_000
    with pytest.raises(BenchError, match="peak RSS judged fork grew by 30.0%"):
        bench_sim.rss_summary("verilator", runs, "fork")


def _fake_rss_run(tmp_path: Path, calls: list[tuple[str, str]], forks: dict[str, bool]):
    """A stand-in for runner.run of the flat-memory runs: 100,000 cycles, a peak RSS of
    1,000 KiB, and the fork's log line when the run asked to fork and ``forks["fork"]``."""
    def fake_run(sim, test, params, seed, *, log_to_file, run_name, extra_env, lane, timeout):
        judge = extra_env[runner.TL_JUDGE_ENV]
        calls.append((judge, extra_env["DD_BENCH_DMA_ROUNDS"]))
        d = tmp_path / sim / f"{len(calls)}-{run_name}"
        d.mkdir(parents=True)
        (d / bench_sim.RSS_FILE).write_text("1000\n")
        log = d / "sim.log"
        log.write_text(f"{bench_sim.FORKED_LINE} 7 on in process 1\n"
                       if judge == "fork" and forks["fork"] else "no fork\n")
        return runner.RunResult(sim, params, seed, [runner.TestResult("t", True, sim_time_ns=1e6,
                                                                      real_time_s=1.0)],
                                d / "results.xml", d, log, None, 0)
    return fake_run


def test_rss_only_keeps_each_figure_as_it_is_measured(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """``--rss-only`` merges each judging mode's entry into bench.json when it ends: a
    fork run that fails keeps the inline figure just measured, drops the simulator's
    entries of an earlier run, and keeps the other simulator's (an entry from before
    the judging modes is marked ``judge: inline``)."""
    forks = {"fork": False}
    monkeypatch.setattr(bench_sim.runner, "run", _fake_rss_run(tmp_path, [], forks))
    monkeypatch.setattr(bench_sim.runner, "setup_tool_env", lambda: None)
    monkeypatch.setattr(bench_sim.runner, "build", lambda *a, **k: None)
    monkeypatch.setattr(bench_sim, "BENCH_DIR", tmp_path / "bench")
    out = tmp_path / "bench" / "bench.json"
    out.parent.mkdir()
    old = {"lane": "transaction", "workload": "dma", "runs": [], "growth": 0.0, "flat": True}
    out.write_text(json.dumps({"records": [{"sim": "icarus"}],
                               "peak_rss": [{"sim": "icarus", **old}, {"sim": "verilator", **old}]}))
    with pytest.raises(BenchError, match="no judge process was forked"):
        bench_sim.rss_only(["verilator"], 1, "default", [1_000_000, 2_000_000])
    data = json.loads(out.read_text())
    assert data["records"] == [{"sim": "icarus"}]
    assert [(i["sim"], i["judge"]) for i in data["peak_rss"]] == [("icarus", "inline"),
                                                                  ("verilator", "inline")]
    assert [r["cycles"] for r in data["peak_rss"][1]["runs"]] == [100_000, 100_000]
    forks["fork"] = True   # both modes measured: both entries, the earlier ones replaced
    bench_sim.rss_only(["verilator"], 1, "default", [1_000_000, 2_000_000])
    assert [(i["sim"], i["judge"]) for i in json.loads(out.read_text())["peak_rss"]] == [
        ("icarus", "inline"), ("verilator", "inline"), ("verilator", "fork")]


def test_flat_memory_runs_every_judging_mode(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """run_rss_all measures each mode of RSS_JUDGES at each length, with DD_TL_JUDGE set
    to it; a run asked to fork whose log shows no judge process fails the benchmark (a
    figure of the inline judge would pass for the forked one's)."""
    calls: list[tuple[str, str]] = []
    forks = {"fork": True}
    monkeypatch.setattr(bench_sim.runner, "run", _fake_rss_run(tmp_path, calls, forks))
    infos = bench_sim.run_rss_all("verilator", 1, "default", 100_000.0, [1_000_000, 10_000_000])
    assert [i["judge"] for i in infos] == list(bench_sim.RSS_JUDGES) == ["inline", "fork"]
    assert calls == [("inline", "10"), ("inline", "100"), ("fork", "10"), ("fork", "100")]
    forks["fork"] = False
    with pytest.raises(BenchError, match="no judge process was forked"):
        bench_sim.run_rss("verilator", 1, "default", 100_000.0, [1, 2], judge="fork")



def _records() -> list[Record]:
    return [
        Record("icarus", "pure", "dma", 100_000, 2.0),
        Record("icarus", "vip", "register", 10_000, 2.0),
        Record("icarus", "vip", "dma", 20_000, 4.0),
        Record("verilator", "pure", "dma", 4_000_000, 1.0),
        Record("verilator", "vip", "dma", 8_000, 1.0),
    ]


def test_ratios_table_and_json(tmp_path: Path) -> None:
    recs = _records()
    bench_sim.add_ratios(recs)
    assert [r.ratio_to_pure for r in recs] == [1.0, 0.1, 0.1, 1.0, 0.002]
    table = bench_sim.format_table(recs).splitlines()
    assert table[0].split() == ["simulator", "lane", "workload", "cycles", "wall", "s", "cycles/s",
                                "vs", "pure"]
    assert table[2].split() == ["icarus", "vip", "register", "10000", "2.00", "5,000", "1/10"]
    assert table[5].split()[-2:] == ["8,000", "1/500"]
    out = tmp_path / "b" / "bench.json"
    bench_sim.write_json(recs, out, {"seed": 1})
    doc = json.loads(out.read_text())
    assert doc["seed"] == 1 and len(doc["records"]) == len(recs)
    for rec in doc["records"]:
        assert set(rec) == {"sim", "lane", "workload", "cycles", "wall_s", "cycles_per_s", "ratio_to_pure"}
    assert doc["records"][4] == {"sim": "verilator", "lane": "vip", "workload": "dma", "cycles": 8000,
                                 "wall_s": 1.0, "cycles_per_s": 8000.0, "ratio_to_pure": 0.002}


def test_ratio_without_pure_row_is_none_and_bad_records_are_refused(tmp_path: Path) -> None:
    recs = [Record("icarus", "vip", "dma", 10, 1.0)]
    bench_sim.add_ratios(recs)
    assert recs[0].ratio_to_pure is None
    assert bench_sim.format_table(recs).splitlines()[1].split()[-1] == "-"
    with pytest.raises(ValueError, match="unknown lane or workload"):
        bench_sim.write_json([Record("icarus", "fast", "dma", 1, 1.0)], tmp_path / "x.json", {})
    with pytest.raises(ValueError, match="unknown lane or workload"):
        bench_sim.write_json([Record("icarus", "vip", "soak", 1, 1.0)], tmp_path / "x.json", {})
    with pytest.raises(ValueError, match="unknown lane or workload"):   # the runner's name
        bench_sim.write_json([Record("icarus", "tl", "dma", 1, 1.0)], tmp_path / "x.json", {})
    bench_sim.write_json([Record("icarus", "transaction", "dma", 1, 1.0)], tmp_path / "t.json", {})
    assert json.loads((tmp_path / "t.json").read_text())["records"][0]["lane"] == "transaction"


def test_judge_modes_are_rows_of_their_own(tmp_path: Path) -> None:
    """The transaction lane's two judge modes (DD_TL_JUDGE) are separate rows: a repeat
    of one is not a run of the other; the table and bench.json name the mode, and each
    run's simulator CPU seconds are kept."""
    inline = Record("verilator", "transaction", "register", 100, 1.0, judge="inline",
                    cpu_runs=[1.5])
    fork = Record("verilator", "transaction", "register", 100, 0.5, judge="fork",
                  cpu_runs=[2.0])
    with pytest.raises(ValueError, match="is not a run of"):
        inline.again(fork)
    fork.again(Record("verilator", "transaction", "register", 100, 0.7, judge="fork",
                      cpu_runs=[2.4]))
    assert fork.runs == [0.5, 0.7] and fork.cpu_runs == [2.0, 2.4]
    table = bench_sim.format_table([inline, fork]).splitlines()
    assert table[1].split()[1] == "transaction" and table[2].split()[1] == "transaction+fork"
    assert table[2].endswith("[simulator CPU 2.20 s]"), table[2]
    bench_sim.write_json([inline, fork], tmp_path / "b.json", {})
    recs = json.loads((tmp_path / "b.json").read_text())["records"]
    assert [(r["lane"], r["judge"], r["sim_cpu_s_runs"]) for r in recs] == [
        ("transaction", "inline", [1.5]), ("transaction", "fork", [2.0, 2.4])]


def test_repeated_rows_report_the_median(tmp_path: Path) -> None:
    """``--repeat``: each further run of a row joins its runs, the wall time is their
    median (so is the ratio's), the ratio paired by round is the median of each round's
    ratio, the table shows the spread and both ratios, bench.json every run;
    a repeat with another cycle count (another workload) or of another row is refused,
    and so is ``--repeat 0``."""
    pure = Record("verilator", "pure", "dma", 1000, 1.0)
    tl = Record("verilator", "transaction", "dma", 100, 2.0)
    for w in (0.5, 0.8):
        pure.again(Record("verilator", "pure", "dma", 1000, w))
    for w in (1.0, 9.0):
        tl.again(Record("verilator", "transaction", "dma", 100, w))
    assert (pure.runs, pure.wall_s) == ([1.0, 0.5, 0.8], 0.8)
    assert (tl.runs, tl.wall_s) == ([2.0, 1.0, 9.0], 2.0)
    recs = [pure, tl]
    bench_sim.add_ratios(recs)
    assert tl.ratio_to_pure == pytest.approx((100 / 2.0) / (1000 / 0.8))
    # paired by round: 0.05, 0.05 and 0.0089, median 0.05 (the medians' ratio: 0.04)
    assert tl.ratio_paired == pytest.approx(0.05) and pure.ratio_paired is None
    row = bench_sim.format_table(recs).splitlines()[2]
    assert row.endswith("(median of 3: 1.00-9.00 s; paired 1/20.0)"), row
    out = tmp_path / "bench.json"
    bench_sim.write_json(recs, out, {"repeat": 3})
    doc = json.loads(out.read_text())
    assert doc["records"][1]["wall_s_runs"] == [2.0, 1.0, 9.0] and doc["records"][1]["wall_s"] == 2.0
    assert doc["records"][1]["ratio_paired_median"] == 0.05
    assert "ratio_paired_median" not in doc["records"][0]
    # rounds that do not pair up (another number of runs): no paired ratio
    tl4 = Record("verilator", "transaction", "register", 10, 1.0)
    tl4.again(Record("verilator", "transaction", "register", 10, 2.0))
    bench_sim.add_ratios([pure, tl4])
    assert tl4.ratio_paired is None and tl4.ratio_to_pure is not None
    with pytest.raises(BenchError, match="not the same from run to run"):
        tl.again(Record("verilator", "transaction", "dma", 101, 1.0))
    with pytest.raises(ValueError, match="is not a run of"):
        tl.again(Record("icarus", "transaction", "dma", 100, 1.0))
    assert tl.runs == [2.0, 1.0, 9.0]   # nothing kept from the refused runs
    assert bench_sim.main(["--repeat", "0", "--no-rss"]) == 1
    # an empty simulator list is refused, before bench.json is touched
    out = bench_sim.BENCH_DIR / "bench.json"
    before = out.read_bytes() if out.is_file() else None
    for sims in (",", " , "):
        assert bench_sim.main(["--sims", sims, "--no-rss"]) == 1
    assert (out.read_bytes() if out.is_file() else None) == before


# ---------------------------------------------------------------- pure harnesses


@pytest.mark.sim
@pytest.mark.slow  # first run builds the harnesses (Verilator -O3: about 30 s)
@pytest.mark.parametrize("sim", [pytest.param(s, marks=getattr(pytest.mark, s)) for s in runner.SIMULATORS])
def test_pure_harness_checks_its_copies(sim: str) -> None:
    """One round passes with a cycle count; a corrupted memory beat makes it fail; a
    copy size it cannot do is refused. On 8 KiB copies, not the benchmark's 64 KiB
    (the same code; an Icarus round of 64 KiB takes about 5 s)."""
    runner.setup_tool_env()
    exe = bench_sim.build_pure(sim)
    rec = bench_sim.run_pure(sim, exe, rounds=1, copy=8192)
    assert rec.lane == "pure" and rec.workload == "dma" and rec.cycles > 4 * 8192 // 8
    with pytest.raises(BenchError, match=r"FAIL .*destination word \d+ is"):
        bench_sim.run_pure(sim, exe, rounds=1, corrupt=True, copy=8192)
    for bad in (12, 0, 65544):
        with pytest.raises(BenchError, match=r"FAIL .*copy.* multiple of 8 bytes, 8 to 65536"):
            bench_sim.run_pure(sim, exe, rounds=1, copy=bad)


# ---------------------------------------------------------------- trace replay


@pytest.fixture(scope="session")
def dma_trace(sim_seed: int, session_id: str) -> Path:
    """A trace recorded by tb/test_bench_dma.py (default size) on Icarus, once per pytest
    session: with ``-n``, the tests that use it run on both workers, and the first to
    need it records it under a file lock while the other waits, then reads it (each
    worker recorded its own before: 2.5 s of make test twice). The stamp file names the
    session and seed the trace was recorded for; a later session records anew."""
    from tb.trace import TRACE_ENV

    stamp = runner.BUILD_ROOT / "trace-replay.json"
    want = {"session": session_id, "seed": sim_seed}
    with runner._locked(stamp.with_suffix(".lock")):
        if stamp.is_file():
            got = json.loads(stamp.read_text())
            path = Path(got.pop("trace"))
            if got == want and path.is_file():
                return path
        stamp.unlink(missing_ok=True)
        res = runner.run("icarus", "test_bench_dma", "default", sim_seed, log_to_file=True,
                         run_name="trace-replay", extra_env={TRACE_ENV: "1"})
        if not res.ok:
            pytest.fail(res.report(), pytrace=False)
        path = res.run_dir / "dma_trace.pkl"
        assert path.is_file(), f"DD_TRACE=1 but no trace at {path}"
        stamp.write_text(json.dumps({**want, "trace": str(path)}))
    return path


def _tampered(trace, kind: str):
    """A copy of *trace* with one observed value changed (kind: 'rbeat' or 'read')."""
    from model.hw import RBeat
    from tb.monitor import LiteResponse

    t = copy.copy(trace)
    t.samples = list(trace.samples)
    for i, s in enumerate(t.samples):
        if kind == "rbeat":
            beats = [k for k, x in enumerate(s.dma) if isinstance(x, RBeat)]
            if beats:
                dma = list(s.dma)
                dma[beats[0]] = dataclasses.replace(dma[beats[0]], data=dma[beats[0]].data ^ 1)
                t.samples[i] = dataclasses.replace(s, dma=dma)
                return t
        else:  # EdgeSample.loc_resp holds every B/R of the edge: tamper with a read's R
            reads = [k for k, r in enumerate(s.loc_resp) if not r.write]
            if reads:
                rs = list(s.loc_resp)
                r = rs[reads[0]]
                rs[reads[0]] = LiteResponse(r.edge, False, r.resp, r.data ^ 4)
                t.samples[i] = dataclasses.replace(s, loc_resp=tuple(rs))
                return t
    raise AssertionError(f"trace has no {kind} to tamper with")


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.slow
def test_replay_reproduces_the_verdict(dma_trace: Path, tmp_path: Path) -> None:
    import pickle

    from tb.trace import load, replay

    trace = load(dma_trace)
    assert trace.live_mismatches == 0 and trace.samples
    res = replay(trace)
    assert res.verdict == 0 and res.cycles > 0 and res.events >= res.edges
    info = bench_sim.do_replay(dma_trace)
    assert info["verdict"] == 0 and info["events_per_s"] > 0

    bad = _tampered(trace, "rbeat")
    res = replay(bad)
    assert res.verdict > 0 and "R data" in str(res.mismatches[0])
    bad_file = tmp_path / "bad.pkl"
    bad_file.write_bytes(pickle.dumps(bad))
    with pytest.raises(BenchError, match="differs from the live run"):
        bench_sim.do_replay(bad_file)
    assert bench_sim.main(["--replay", str(bad_file)]) == 1

    res = replay(_tampered(trace, "read"))
    assert res.verdict > 0 and "read data" in str(res.mismatches[0])


def _judge_lines(trace, lines: list[str], fast: bool, *, attach=None):
    """Judge recorder lines as the tl lane does (tb/tl.py LineFeeder), on a fresh model;
    ``attach(sb)`` before the first line (an observer)."""
    from tb.tl import LineFeeder
    from tb.trace import fresh_scoreboard

    sb = fresh_scoreboard(trace, fast_beats=True)   # as TlTB
    if attach is not None:
        attach(sb)
    feeder = LineFeeder((1 << trace.params.num_func) - 1, fast=fast)
    feeder.feed(lines, trace.reset_edge, [sb.on_edge], sb)
    return feeder, sb, sb.model


def _run_item(t: list[str], events: bool) -> str | None:
    """The beat-run item (tb_dma_deleg_tl.v) of a per-edge line's tokens ``t``, or None
    when the recorder would not put that edge in a run; its event edges (an AR
    presented and handshaken, an AW presented and handshaken with a W beat, a B with
    OKAY, each alone) only when ``events``."""
    from tb.tl import beat_line_item

    if beat_line_item(t)[0]:
        return ("s" if len(t) == 2 else f"{'l' if t[6] == '1' else 'r'}:{t[3]}:{t[4]}"
                if t[2] == "R" else f"w:{t[3]}:{t[4]}:{t[5]}")
    if not events:
        return None
    n = len(t)
    if n == 10 and t[2] == "AP" and t[8:10] == ["AH", t[3]]:
        return "a:" + ":".join(t[3:8])
    if n == 14 and t[2] == "WP" and t[8:11] == ["WH", t[3], "W"]:
        return "v:" + ":".join(t[3:8] + t[11:14])
    if n == 5 and t[2] == "B" and t[4] == "0":
        return f"b:{t[3]}"
    return None


def _as_runs(lines: list[str], run_max: int = 5, events: bool = False) -> list[str]:
    """The per-edge lines with consecutive beat-like edges at equal levels grouped into
    beat-run lines (``Z``), at most ``run_max`` items each: short runs, so that many of
    them start and end, and runs that start where the levels change (the recorder
    starts none there, but after a reset the feeder does not know the levels before);
    with ``events``, the event edges join the runs too (``_run_item``)."""
    out: list[str] = []
    run: list[str] = []
    run_end = -2
    for line in lines:
        t = line.split()
        e = int(t[0], 16)
        item = _run_item(t, events)
        if item is not None:
            if run and (e != run_end + 1 or len(run) - 3 == run_max or t[1] != run[1]):
                out.append(" ".join(run))
                run = []
            if not run:
                run = [t[0], t[1], "Z"]
            run.append(item)
            run_end = e
        else:
            if run:
                out.append(" ".join(run))
                run = []
            out.append(line)
    if run:
        out.append(" ".join(run))
    return out


def _verdict(sb, model) -> tuple:
    return ([str(m) for m in sb.mismatches], sb.compared, {k: len(v) for k, v in sb.pending.items()},
            model.cycle, model.mem.tobytes(), [str(e) for e in model.events], len(model.errors))


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.slow
def test_beat_path_judges_as_the_full_samples(dma_trace: Path) -> None:
    """The tl lane's beat path (beat lines straight to DelegationScoreboard.on_beat, no
    sample, no observer) reaches exactly what feeding every line as a full sample reaches:
    the same mismatches, responses, model state and memory image, on the recorded copy
    traffic and on copies of it with one R beat (mid-burst or last) or W beat corrupted,
    or a last W beat's WLAST dropped; and so do the
    same lines grouped into beat runs (``Z`` lines, one per run of beat edges, judged as
    pieces by ``on_run`` / ``HwModel.beat_cols``, by ``on_beats`` /
    ``HwModel.beats`` in one step, or expanded edge by edge), with and without a
    burst's event edges (AR, AW with its first W beat, B) in the runs, also with one of
    those corrupted."""
    from model.hw import BEAT
    from tb.monitor import format_sample
    from tb.tl import beat_line_item
    from tb.trace import load

    trace = load(dma_trace)
    lines = [format_sample(s) for s in trace.samples]
    fast, sb_f, m_f = _judge_lines(trace, lines, True)
    slow, sb_s, m_s = _judge_lines(trace, lines, False)
    assert slow.fast_lines == 0 and fast.samples == slow.samples == len(lines)
    assert fast.fast_lines > len(lines) // 2, (fast.fast_lines, len(lines))
    # exactly the beat lines at the levels of the line before take the beat path (the
    # trace starts after the reset: its first line's levels before are unknown)
    toks = [x.split() for x in lines]
    assert fast.fast_lines == sum(beat_line_item(t)[0] and t[1] == p[1]
                                  for p, t in zip(toks, toks[1:], strict=False))
    assert _verdict(sb_f, m_f) == _verdict(sb_s, m_s)
    assert not sb_f.mismatches and sb_f.compared > 0
    # beat runs (one line for several edges, HwModel.beats): judged as the same edges
    runs = _as_runs(lines)
    assert len(runs) < len(lines) * 2 // 3 and sum(" Z " in x for x in runs) > 1000, len(runs)
    for fast_runs in (True, False):
        r, sb_r, m_r = _judge_lines(trace, runs, fast_runs)
        assert r.samples == len(lines) and _verdict(sb_r, m_r) == _verdict(sb_s, m_s)
        assert r.fast_lines == (fast.fast_lines if fast_runs else 0)
    # and with the event edges in the runs (AR, AW with a W beat, B), short runs and
    # runs as long as the recorder's
    for run_max in (5, 64):
        runs = _as_runs(lines, run_max, events=True)
        assert all(sum(f" {k}:" in x for x in runs) > 100 for k in "avb"), run_max
        for fast_runs in (True, False):
            r, sb_r, m_r = _judge_lines(trace, runs, fast_runs)
            assert r.samples == len(lines) and _verdict(sb_r, m_r) == _verdict(sb_s, m_s)
            assert r.fast_lines > (fast.fast_lines if fast_runs else -1)

    for kind, last, what in (("R", "0", "R data at"), ("R", "1", "R data at"),
                             ("W", "0", "W data beat"), ("W", "1", "WLAST on beat")):
        # a beat line at unchanged interrupt levels: one the beat path takes (R id data
        # resp=0 last / W data strb last); a data bit flipped, or the last W beat's
        # WLAST dropped
        def beat_line(i: int, kind: str = kind, last: str = last) -> bool:
            t = lines[i].split()
            return (t[1] == lines[i - 1].split()[1] and t[2:3] == [kind] and t[-1] == last
                    and (len(t) == 6 if kind == "W" else len(t) == 7 and t[5] == "0"))

        i = next(i for i in range(len(lines) // 2, len(lines)) if beat_line(i))
        t = lines[i].split()
        if kind == "W" and last == "1":
            t[5] = "0"
        else:
            k = 4 if kind == "R" else 3
            t[k] = f"{int(t[k], 16) ^ (1 << (8 * BEAT - 1)):x}"
        bad = [*lines[:i], " ".join(t), *lines[i + 1:]]
        f2, sb2, m2 = _judge_lines(trace, bad, True)
        s2, sb3, m3 = _judge_lines(trace, bad, False)
        assert _verdict(sb2, m2) == _verdict(sb3, m3)
        assert sb2.mismatches and what in str(sb2.mismatches[0]), (kind, last, sb2.mismatches[:1])
        for ev in (False, True):
            f4, sb4, m4 = _judge_lines(trace, _as_runs(bad, events=ev), True)
            assert _verdict(sb4, m4) == _verdict(sb3, m3)

    # an event edge of a run with one field wrong: an AR's address, an AW's first W
    # beat, a B's ID (an error response to the channel: it aborts, so its interrupt
    # line rises, or, where the trace has that channel's interrupts masked, the next
    # read of its status differs; which one depends on the session's seed); the runs
    # judge it as the per-edge lines do, with a mismatch
    def shows(key: str, g: int, m) -> bool:
        if key == "AP":
            return "AR" in str(m)
        if key == "WP":
            return "W data" in str(m)
        return ("irq_host levels" in m.what
                or (m.channel == g and m.what.startswith("read data for read")))

    for key, k in (("AP", 4), ("WP", 11), ("B", 3)):
        i = next(i for i in range(len(lines) // 2, len(lines))
                 if lines[i].split()[2:3] == [key] and _run_item(lines[i].split(), True)
                 and lines[i].split()[1] == lines[i - 1].split()[1])
        t = lines[i].split()
        g = int(t[3], 16) & 0xF   # the channel: each event's ID is the channel's
        t[k] = f"{int(t[k], 16) ^ (1 << 6):x}"
        bad = [*lines[:i], " ".join(t), *lines[i + 1:]]
        s2, sb3, m3 = _judge_lines(trace, bad, False)
        assert any(shows(key, g, m) for m in sb3.mismatches), (key, sb3.mismatches[:3])
        for run_max in (5, 64):
            f4, sb4, m4 = _judge_lines(trace, _as_runs(bad, run_max, events=True), True)
            assert _verdict(sb4, m4) == _verdict(sb3, m3), key

    # an interrupt level the model does not predict, through a stretch of beat edges:
    # a mismatch line per edge, whether the edges come one per line or as runs
    i = next(i for i in range(len(lines) // 2, len(lines) - 40)
             if all(beat_line_item(lines[j].split())[0] for j in range(i, i + 6)))
    bad = [" ".join([t[0], f"{int(t[1], 16) ^ 1:x}", *t[2:]]) if i <= k < i + 6 else x
           for k, x in enumerate(lines) for t in (x.split(),)]
    verdicts = [_verdict(*_judge_lines(trace, b, fast)[1:])
                for b, fast in ((bad, False), (bad, True), (_as_runs(bad), True),
                                (_as_runs(bad, 64, events=True), True))]
    assert verdicts[0] == verdicts[1] == verdicts[2] == verdicts[3]
    assert sum("irq_loc level" in m for m in verdicts[0][0]) == 6, verdicts[0][0][:3]


@pytest.mark.sim
@pytest.mark.icarus
@pytest.mark.slow
def test_beat_observers_see_what_the_samples_show(dma_trace: Path) -> None:
    """The quiesce tests' handshake log (tb/qharness.py Traffic: every AR, R beat, last
    R beat, AW and B with its edge) is the same whether each line is a full sample or
    the beat path skips the samples (the beats it takes reach Traffic through the
    scoreboard's ``beat_observers``), with the lines one per edge or as beat runs; and
    without ``beat_observers`` the beat path would lose R beats (so the test can fail)."""
    from types import SimpleNamespace

    from tb.monitor import format_sample
    from tb.qharness import Traffic
    from tb.trace import load

    trace = load(dma_trace)
    lines = [format_sample(s) for s in trace.samples]

    def events(ls: list[str], fast: bool, beat_observers: bool = True) -> dict:
        logs: list[Traffic] = []

        def attach(sb) -> None:
            logs.append(Traffic(SimpleNamespace(sb=sb)))
            if not beat_observers:
                sb.beat_observers.clear()

        _judge_lines(trace, ls, fast, attach=attach)
        return logs[0].events

    ref = events(lines, False)
    n_r = sum(k == "r" for log in ref.values() for _, k in log)
    assert n_r > 1000 and all(any(k == "rlast" for _, k in log) for log in ref.values())
    assert events(lines, True) == ref
    assert events(_as_runs(lines), True) == ref
    assert events(_as_runs(lines, 64, events=True), True) == ref
    lost = events(_as_runs(lines), True, beat_observers=False)
    assert sum(k == "r" for log in lost.values() for _, k in log) < n_r // 2


def test_replay_refuses_a_file_that_is_no_trace(tmp_path: Path) -> None:
    from tb.trace import TraceError, load

    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(TraceError, match="cannot read trace"):
        load(junk)
    assert bench_sim.main(["--replay", str(junk)]) == 1


# ---------------------------------------------------------------- dma workload knobs


def test_dma_workload_knobs_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from tb import test_bench_dma as w

    monkeypatch.delenv(w.ROUNDS_ENV, raising=False)
    monkeypatch.delenv(w.MAX_ENV, raising=False)
    assert w.knobs() == (1, 8 * 1024)
    monkeypatch.setenv(w.MAX_ENV, str(64 * 1024))
    assert w.knobs() == (1, 64 * 1024)
    for name, value, msg in ((w.MAX_ENV, str(128 * 1024), "multiple of 8 in"),
                             (w.MAX_ENV, "4097", "multiple of 8 in"),
                             (w.ROUNDS_ENV, "0", "at least one round"),
                             (w.ROUNDS_ENV, "x", "an integer number of rounds")):
        monkeypatch.setenv(w.MAX_ENV, str(64 * 1024))
        monkeypatch.setenv(w.ROUNDS_ENV, "1")
        monkeypatch.setenv(name, value)
        with pytest.raises(ValueError, match=msg):
            w.knobs()


def test_random_ops_knob_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    """DD_RANDOM_OPS (the register workload's size) is a whole number, at least 1; 0 or a
    word is named as the knob's error, not left to look like a testbench failure."""
    from tb import test_random as w

    monkeypatch.delenv(w.OPS_ENV, raising=False)
    assert w.random_ops() == 1500
    monkeypatch.setenv(w.OPS_ENV, "3000")
    assert w.random_ops() == 3000
    for bad in ("0", "-1", "abc", "1.5"):
        monkeypatch.setenv(w.OPS_ENV, bad)
        with pytest.raises(ValueError, match="DD_RANDOM_OPS=.*at least 1"):
            w.random_ops()


def test_probe_figures_and_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--probe``: per phase the median round's time per operation, the spread and the
    cycles per operation; rounds with other cycle counts (not the same operations) or no
    time are refused, and so are probe sizes the test cannot split into batches of four."""
    from tb import test_bench_probe as p

    raw = {"wake": {"ops": 10, "wall_s": [0.002, 0.001, 0.003], "cycles": [10, 10, 10]},
           "read": {"ops": 4, "wall_s": [0.004, 0.002, 0.001], "cycles": [12, 12, 12]}}
    info = bench_sim.probe_summary("verilator", raw)
    assert info["phases"]["wake"] == {"ops": 10, "rounds": 3, "us_per_op": 200.0,
                                      "us_min": 100.0, "us_max": 300.0, "cycles_per_op": 1}
    assert info["phases"]["read"]["us_per_op"] == 500.0
    assert info["phases"]["read"]["cycles_per_op"] == 3
    rows = bench_sim.format_probe([info]).splitlines()
    assert rows[2] == "| verilator | wake | 200.0 (100.0-300.0) | 1 |", rows
    bad = copy.deepcopy(raw)
    bad["read"]["cycles"] = [12, 13, 12]
    with pytest.raises(BenchError, match="different cycle counts"):
        bench_sim.probe_summary("icarus", bad)
    bad = copy.deepcopy(raw)
    bad["wake"]["wall_s"] = []
    with pytest.raises(BenchError, match="no usable rounds"):
        bench_sim.probe_summary("icarus", bad)
    assert bench_sim.main(["--probe", "6"]) == 1
    monkeypatch.delenv(p.N_ENV, raising=False)
    assert p.probe_n() == 100
    for value, msg in (("6", "multiple of 4"), ("0", "multiple of 4"), ("x", "an integer")):
        monkeypatch.setenv(p.N_ENV, value)
        with pytest.raises(ValueError, match=msg):
            p.probe_n()


# ---------------------------------------------------------------- warning filter


def test_vip_deprecation_filter_is_targeted() -> None:
    from tb.vip_warnings import install

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        install()
        for mod in ("cocotbext.axi.stream", "cocotbext.axi", "cocotb_bus.monitors"):
            warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module=mod)
        assert seen == []
        # other categories from the bus models, and deprecations elsewhere, still show
        warnings.warn_explicit("odd", UserWarning, "x.py", 1, module="cocotbext.axi.stream")
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="tb.env")
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="cocotbext.axis")
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="cocotb.handle")
    assert [(w.category, w.filename) for w in seen] == [(UserWarning, "x.py")] + [
        (DeprecationWarning, "x.py")] * 3
