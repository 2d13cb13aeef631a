"""tools/report.py on synthetic latency samples: statistics, files, bound violations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import report


def _row(scenario: str, measured: int, bound: int, **kw) -> dict:
    d = {"sim": "icarus", "scenario": scenario, "g": 0, "t0": 100, "measured": measured,
         "bound": bound, "q_rtl": measured, "out_bytes": 64 if bound > 4 else 0,
         "resp_delay": bound - 4, "phase": "mid_read" if bound > 4 else "no_burst"}
    d.update(kw)
    return d


def _write(tmp: Path, rows: list[dict]) -> Path:
    f = tmp / "quiesce_latency.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f


def test_report_clean(tmp_path: Path, capsys) -> None:
    rows = [_row("state:idle", 2, 4) for _ in range(5)]
    rows += [_row("load:bp0.5", q, q + 2) for q in range(5, 105)]
    f = _write(tmp_path, rows)
    out = tmp_path / "out"
    assert report.main([str(f), "--out", str(out)]) == 0
    js = json.loads((out / "quiesce_report.json").read_text())
    assert js["samples"] == 105 and not js["violations"]
    by = {s["scenario"]: s for s in js["scenarios"]}
    assert by["state:idle"]["min"] == by["state:idle"]["max"] == 2
    assert by["state:idle"]["margin"] == 2
    load = by["load:bp0.5"]
    assert (load["min"], load["max"], load["median"]) == (5, 104, 54.5)
    assert 103 <= load["p99"] <= 104 and load["margin"] == 2
    assert (out / "latency_vs_outstanding.png").stat().st_size > 10_000
    assert (out / "latency_hist_load.png").exists() and (out / "latency_hist_state.png").exists()
    assert "| icarus | load:bp0.5 | 100 |" in (out / "quiesce_report.md").read_text()
    assert str(out / "quiesce_report.json") in capsys.readouterr().out


def test_report_fails_on_bound_violation(tmp_path: Path, capsys) -> None:
    rows = [_row("state:idle", 2, 4), _row("load:x", 9, 8, last_resp=120)]
    f = _write(tmp_path, rows)
    assert report.main([str(f), "--out", str(tmp_path / "o"), "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert "quiesce took 9 cycles, bound 8" in err
    js = json.loads((tmp_path / "o" / "quiesce_report.json").read_text())
    assert len(js["violations"]) == 1
    assert next(s for s in js["scenarios"] if s["scenario"] == "load:x")["margin"] == -1


def test_report_fails_on_rtl_mismatch_and_empty(tmp_path: Path) -> None:
    f = _write(tmp_path, [_row("state:idle", 2, 4, q_rtl=3)])
    assert report.main([str(f), "--out", str(tmp_path / "o"), "--no-plots"]) == 1
    # no sample at all: refused before anything is written, an earlier report kept
    import pytest

    empty = tmp_path / "e"
    empty.mkdir()
    before = {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()}
    for out in (tmp_path / "o2", tmp_path / "o"):
        with pytest.raises(SystemExit, match="no quiesce samples found in .*: nothing written"):
            report.main([str(empty), "--out", str(out), "--no-plots"])
    assert not (tmp_path / "o2").exists()
    assert {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()} == before


def test_report_bad_input_and_stale_figures(tmp_path: Path) -> None:
    """A missing input or a line that is not a sample is a clear error (not a traceback);
    a report without figures removes an earlier report's figures from its folder."""
    import pytest

    with pytest.raises(SystemExit, match="no such file or folder"):
        report.main([str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n")
    with pytest.raises(SystemExit, match="not a quiesce sample"):
        report.main([str(bad), "--out", str(tmp_path / "r")])
    out = tmp_path / "r"
    out.mkdir(exist_ok=True)
    (out / "latency_hist_old.png").write_bytes(b"old")
    f = _write(tmp_path, [_row("idle", 2, 4)])
    assert report.main([str(f), "--out", str(out), "--no-plots"]) == 0
    assert not list(out.glob("latency_*.png"))


def test_a_sample_field_that_is_no_number_is_named(tmp_path: Path) -> None:
    """A measured, bound or other field the report computes with that is not a number
    (or null) is named with its file and line; it was a ValueError traceback."""
    for field, value in (("measured", "abc"), ("bound", [5]), ("q_rtl", True), ("out_bytes", "8")):
        row = _row("s", 3, 5)
        row[field] = value
        f = _write(tmp_path, [_row("s", 2, 5), row])
        with pytest.raises(SystemExit, match=rf"{f}:2: {field}=.* is not a number"):
            report.load([f])
    report.load([_write(tmp_path, [{**_row("s", 2, 5), "q_rtl": None}])])


def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path, capsys) -> None:
    f = _write(tmp_path, [_row("s", 2, 5)])
    with pytest.raises(SystemExit) as exc:
        report.main([str(f), "--out", str(f)])
    assert exc.value.code == 2 and "exists and is not a folder" in capsys.readouterr().err
