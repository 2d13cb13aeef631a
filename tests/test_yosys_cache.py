"""tools/yosys_cache.py, the build cache in front of the formal runs' yosys steps, with
a stand-in yosys (a script that derives its output from its inputs and counts its runs):
a step whose inputs are unchanged is taken from the cache, one whose inputs differ in any
byte runs, a failed step is never kept, and the cache stays bounded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools import yosys_cache

FAKE = """\
import hashlib, os, pathlib, sys
pathlib.Path(os.environ["FAKE_COUNT"]).open("a").write("run\\n")
script = pathlib.Path(sys.argv[-1])
src = b"".join(p.read_bytes() for p in sorted(pathlib.Path(".").glob("*.v")))
body = [ln for ln in script.read_text().splitlines() if not ln.startswith("#")]
out = script.parent / "design.il"
out.write_text(hashlib.sha256(src + "\\n".join(body).encode()).hexdigest() + "\\n")
(script.parent / "design.log").write_text("log of " + os.getcwd() + "\\n")
print("yosys said something", file=sys.stderr)
sys.exit(int(os.environ.get("FAKE_RC", "0")))
"""


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = tmp_path / "fake_yosys"
    exe.write_text(f"#!{sys.executable}\n{FAKE}")
    exe.chmod(0o755)
    monkeypatch.setenv("FAKE_COUNT", str(tmp_path / "count"))
    monkeypatch.setenv(yosys_cache.ENV, str(tmp_path / "cache"))
    return exe


def runs(tmp_path: Path) -> int:
    f = tmp_path / "count"
    return len(f.read_text().splitlines()) if f.exists() else 0


def work(tmp_path: Path, name: str, rtl: str = "module m; endmodule\n") -> Path:
    """A work folder as sby lays it out: src/ with the sources, model/ with the script
    (whose first line names the absolute work folder, as sby's does)."""
    w = tmp_path / name
    (w / "src").mkdir(parents=True)
    (w / "model").mkdir()
    (w / "src" / "top.v").write_text(rtl)
    (w / "model" / "design.ys").write_text(f"# running in {w}/src/\nread_verilog top.v\nprep\n")
    return w / "src"


ARGS = ["-ql", "../model/design.log", "../model/design.ys"]


def step(fake: Path, src: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(src)
    return yosys_cache.main(list(ARGS), yosys=str(fake))


def test_an_unchanged_step_is_reused_in_another_folder(fake, tmp_path, monkeypatch, capfd):
    a = work(tmp_path, "a")
    assert step(fake, a, monkeypatch) == 0 and runs(tmp_path) == 1
    first = (a.parent / "model" / "design.il").read_bytes()
    capfd.readouterr()
    b = work(tmp_path, "b")   # same inputs; the script's comment names another folder
    assert step(fake, b, monkeypatch) == 0
    assert runs(tmp_path) == 1, "the step ran again although nothing it reads changed"
    assert (b.parent / "model" / "design.il").read_bytes() == first
    # every file the step wrote comes back, the log included, and so does its output
    assert (b.parent / "model" / "design.log").read_text() == f"log of {a}\n"
    err = capfd.readouterr().err
    assert "yosys said something" in err and yosys_cache.HIT in err


def test_a_changed_input_runs_the_step(fake, tmp_path, monkeypatch):
    assert step(fake, work(tmp_path, "a"), monkeypatch) == 0
    b = work(tmp_path, "b", rtl="module m; wire w; endmodule\n")
    assert step(fake, b, monkeypatch) == 0 and runs(tmp_path) == 2
    c = work(tmp_path, "c")
    (c.parent / "model" / "design.ys").write_text("read_verilog top.v\nprep -flatten\n")
    assert step(fake, c, monkeypatch) == 0 and runs(tmp_path) == 3
    d = work(tmp_path, "d")
    monkeypatch.chdir(d)
    assert yosys_cache.main(["-q", *ARGS[1:]], yosys=str(fake)) == 0   # other arguments
    assert runs(tmp_path) == 4


def test_a_failed_step_is_not_kept(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_RC", "3")
    assert step(fake, work(tmp_path, "a"), monkeypatch) == 3
    monkeypatch.delenv("FAKE_RC")
    assert step(fake, work(tmp_path, "b"), monkeypatch) == 0
    assert runs(tmp_path) == 2


def test_disabled_runs_every_time_and_keeps_nothing(fake, tmp_path, monkeypatch):
    monkeypatch.setenv(yosys_cache.ENV, "0")
    assert step(fake, work(tmp_path, "a"), monkeypatch) == 0
    assert step(fake, work(tmp_path, "b"), monkeypatch) == 0
    assert runs(tmp_path) == 2 and not (tmp_path / "cache").exists()


def test_a_damaged_entry_runs_the_step(fake, tmp_path, monkeypatch):
    assert step(fake, work(tmp_path, "a"), monkeypatch) == 0
    (entry,) = (tmp_path / "cache").iterdir()
    (entry / "meta.json").write_text("{not json")
    b = work(tmp_path, "b")
    assert step(fake, b, monkeypatch) == 0 and runs(tmp_path) == 2
    assert (b.parent / "model" / "design.il").is_file()


def test_the_cache_keeps_the_most_recently_used(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(yosys_cache, "MAX_ENTRIES", 2)
    for i in range(3):
        assert step(fake, work(tmp_path, f"w{i}", rtl=f"module m{i}; endmodule\n"), monkeypatch) == 0
    entries = list((tmp_path / "cache").iterdir())
    assert len(entries) == 2
    # the oldest (w0's) was dropped: it runs again; w2's is still there
    assert step(fake, work(tmp_path, "again0", rtl="module m0; endmodule\n"), monkeypatch) == 0
    assert runs(tmp_path) == 4
    assert step(fake, work(tmp_path, "again2", rtl="module m2; endmodule\n"), monkeypatch) == 0
    assert runs(tmp_path) == 4
