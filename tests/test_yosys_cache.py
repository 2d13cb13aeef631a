"""tools/yosys_cache.py, the build cache in front of the formal runs' yosys steps, with
a stand-in yosys (a script that derives its output from every input it reads and counts
its runs): a step whose inputs are unchanged is taken from the cache, one whose inputs
differ in any byte runs, a step that could read or write outside its folders is never
kept, a failed step is never kept, a broken cache only costs the reuse, and the cache
keeps the most recently used steps."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tools import yosys_cache

#: the stand-in: its output depends on every .v and .vh of its working folder and on
#: every line of its script but sby's header, and it writes what its script names
FAKE = """\
import hashlib, os, pathlib, sys
pathlib.Path(os.environ["FAKE_COUNT"]).open("a").write("run\\n")
script = pathlib.Path(sys.argv[-1])
src = b"".join(p.read_bytes() for p in sorted(pathlib.Path(".").glob("*.v*")))
body = [ln for ln in script.read_text().splitlines() if not ln.startswith("# running in")]
named = [ln.split()[1] for ln in body if ln.startswith("write_rtlil ")]
out = pathlib.Path(named[-1]) if named else script.parent / "design.il"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(hashlib.sha256(src + "\\n".join(body).encode()).hexdigest() + "\\n")
log = pathlib.Path(sys.argv[sys.argv.index("-ql") + 1]) if "-ql" in sys.argv else None
log = log or script.parent / "design.log"
log.parent.mkdir(parents=True, exist_ok=True)
log.write_text("log of " + os.getcwd() + "\\n")
extra = os.environ.get("FAKE_EXTRA")
if extra:
    pathlib.Path(extra).write_text("a file the script does not name\\n")
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
    for v in ("FAKE_RC", "FAKE_EXTRA"):
        monkeypatch.delenv(v, raising=False)
    return exe


def runs(tmp_path: Path) -> int:
    f = tmp_path / "count"
    return len(f.read_text().splitlines()) if f.exists() else 0


SCRIPT = "read_verilog -I. top.v\nprep\nwrite_rtlil ../model/design.il\n"


def work(tmp_path: Path, name: str, rtl: str = "module m; endmodule\n",
         script: str = SCRIPT) -> Path:
    """A work folder as sby lays it out: src/ with the sources, model/ with the script,
    whose first line names the absolute work folder, as sby's does."""
    w = tmp_path / name
    (w / "src").mkdir(parents=True)
    (w / "model").mkdir()
    (w / "src" / "top.v").write_text(rtl)
    (w / "model" / "design.ys").write_text(f"# running in {w}/src/\n{script}")
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
    b = work(tmp_path, "b")   # same inputs; the script's header names another folder
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
    c = work(tmp_path, "c", script=SCRIPT.replace("prep", "prep -flatten"))
    assert step(fake, c, monkeypatch) == 0 and runs(tmp_path) == 3
    d = work(tmp_path, "d")
    monkeypatch.chdir(d)
    assert yosys_cache.main(["-q", *ARGS[1:]], yosys=str(fake)) == 0   # other arguments
    assert runs(tmp_path) == 4
    # a header in a source file, next to the sources: read by `include, so in the key
    e = work(tmp_path, "e")
    (e / "inc.vh").write_text("`define W 8\n")
    assert step(fake, e, monkeypatch) == 0 and runs(tmp_path) == 5
    f = work(tmp_path, "f")
    (f / "inc.vh").write_text("`define W 9\n")
    assert step(fake, f, monkeypatch) == 0 and runs(tmp_path) == 6


def test_only_sbys_header_line_is_left_out_of_the_key(fake, tmp_path, monkeypatch):
    """A line that starts with # inside a script can be input (a here-document's
    Verilog `#(.W(8))`): only sby's `# running in` header is not."""
    here = "read_verilog <<EOT\nmodule m;\n  #(.W({w}))\nendmodule\nEOT\n" + SCRIPT
    assert step(fake, work(tmp_path, "a", script=here.format(w=8)), monkeypatch) == 0
    b = work(tmp_path, "b", script=here.format(w=9))
    assert step(fake, b, monkeypatch) == 0 and runs(tmp_path) == 2
    assert (b.parent / "model" / "design.il").read_bytes() != \
        (tmp_path / "a" / "model" / "design.il").read_bytes()


M = "module m; endmodule\n"


@pytest.mark.parametrize("script, rtl, inc", [
    (SCRIPT.replace("-I.", "-I../../inc"), M, None),
    (SCRIPT.replace("-I.", "-I ../../inc"), M, None),
    (SCRIPT.replace("top.v", "../../elsewhere/top.v"), M, None),
    (SCRIPT.replace("top.v", "/abs/top.v"), M, None),
    (SCRIPT.replace("-I.", '-DINC="../../inc/x.vh"'), M, None),
    (SCRIPT.replace("-I.", "-D INC=../x.vh"), M, None),
    ("read_verilog top.v\nread_verilog 8'd1.v\nwrite_rtlil ../model/design.il\n", M, None),
    ("read_verilog_file_list -F list.f\nwrite_rtlil ../model/design.il\n", M, None),
    ("script helper.txt\nwrite_rtlil ../model/design.il\n", M, None),
    ("read_verilog top.v\nselect -read ../../sel.txt\nwrite_rtlil ../model/design.il\n", M, None),
    ("read_verilog top.v\nwrite_rtlil ../../elsewhere/design.il\n", M, None),
    ("read_verilog top.v\nwrite_rtlil ../elsewhere/design.il\n", M, None),
    (SCRIPT, '`include "../inc/v.vh"\nmodule m; endmodule\n', None),
    (SCRIPT, "`include `INC\nmodule m; endmodule\n", None),
    (SCRIPT, 'module m; initial $readmemh("../mem/init.hex", x); endmodule\n', None),
    (SCRIPT, 'module m; parameter F = "../m.hex"; initial $readmemh(F, x); endmodule\n', None),
    (SCRIPT, '`include "defs.inc"\nmodule m; endmodule\n', '`include "../../inc/x.vh"\n'),
], ids=["include-folder", "include-folder-word", "dotdot-source", "absolute-source",
        "define-path", "define-word", "quote", "file-list", "script-command", "select-read",
        "write-outside", "write-sibling", "verilog-include", "macro-include", "readmem", "readmem-parameter",
        "nested-include"])
def test_a_step_that_can_read_outside_its_folders_is_never_kept(
        fake, tmp_path, monkeypatch, capfd, script, rtl, inc):
    """The WebAssembly yosys sees every folder above its own: a step whose script is not
    a plain list of the commands this cache knows, with plain file names, or whose
    Verilog could name a file outside the working folder, may read an input the key
    does not hold, so it runs every time."""
    for name in ("a", "b"):
        src = work(tmp_path, name, rtl=rtl, script=script)
        if inc is not None:
            (src / "defs.inc").write_text(inc)
        assert step(fake, src, monkeypatch) == 0
    assert runs(tmp_path) == 2
    assert yosys_cache.NOT_KEPT in capfd.readouterr().err
    assert not any((tmp_path / "cache").glob("[0-9a-f]*"))


def test_a_log_outside_the_steps_folders_is_never_kept(fake, tmp_path, monkeypatch):
    """A hit could not write it back: the step runs every time."""
    for name in ("a", "b"):
        monkeypatch.chdir(work(tmp_path, name))
        assert yosys_cache.main(["-ql", "../../logs/step.log", ARGS[-1]], yosys=str(fake)) == 0
        shutil.rmtree(tmp_path / "logs")   # (an existing log's folder would enter the key)
    assert runs(tmp_path) == 2


def test_a_file_the_script_does_not_name_is_never_kept(fake, tmp_path, monkeypatch, capfd):
    """Written beside the step's outputs by something else (another step in the same
    folder, whose own script names it), or by the step without its script naming it:
    not the step's to restore."""
    for name in ("a", "b"):
        src = work(tmp_path, name)
        (src.parent / "model" / "sibling.ys").write_text("write_smt2 ../model/other.smt2\n")
        monkeypatch.setenv("FAKE_EXTRA", str(src.parent / "model" / "other.smt2"))
        assert step(fake, src, monkeypatch) == 0
    assert runs(tmp_path) == 2
    assert "other.smt2" in capfd.readouterr().err


def test_only_the_first_header_line_leaves_the_key(fake, tmp_path, monkeypatch):
    """sby's `# running in` header is the script's first line; the same text further
    down is the script's own (a comment now, but part of what was run)."""
    for i, name in enumerate(("a", "b")):
        body = f"read_verilog top.v\n# running in {name}\nwrite_rtlil ../model/design.il\n"
        assert step(fake, work(tmp_path, name, script=body), monkeypatch) == 0
        assert runs(tmp_path) == i + 1
    assert len(list((tmp_path / "cache").glob("[0-9a-f]*"))) == 2


def test_a_relative_cache_folder_is_the_checkouts(monkeypatch):
    """Not the step's working folder, where each task would get a cache of its own."""
    monkeypatch.setenv(yosys_cache.ENV, "rel-cache")
    assert yosys_cache.cache_dir() == yosys_cache.ROOT / "rel-cache"
    monkeypatch.setenv(yosys_cache.ENV, "0")
    assert yosys_cache.cache_dir() is None


def test_an_unreadable_cache_costs_the_reuse_only(fake, tmp_path, monkeypatch):
    assert step(fake, work(tmp_path, "a"), monkeypatch) == 0

    def denied(*_a, **_k):
        raise PermissionError("cache not readable")
    monkeypatch.setattr(yosys_cache, "_restore", denied)
    b = work(tmp_path, "b")
    assert step(fake, b, monkeypatch) == 0 and runs(tmp_path) == 2
    assert (b.parent / "model" / "design.il").is_file()


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
    (entry / "meta.json").write_text('{"files": 3}')   # JSON, of the wrong shape
    b = work(tmp_path, "b")
    assert step(fake, b, monkeypatch) == 0 and runs(tmp_path) == 2
    assert (b.parent / "model" / "design.il").is_file()


def test_a_cache_that_cannot_be_written_costs_the_reuse_only(fake, tmp_path, monkeypatch, capfd):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(yosys_cache.ENV, str(blocker / "cache"))
    src = work(tmp_path, "a")
    assert step(fake, src, monkeypatch) == 0 and runs(tmp_path) == 1
    assert (src.parent / "model" / "design.il").is_file()
    assert yosys_cache.NOT_KEPT in capfd.readouterr().err


def test_an_entry_evicted_while_restored_still_restores(fake, tmp_path, monkeypatch):
    """Another process's eviction may remove the entry just after its files were read."""
    assert step(fake, work(tmp_path, "a"), monkeypatch) == 0

    def gone(*_a, **_k):
        raise FileNotFoundError("evicted meanwhile")
    monkeypatch.setattr(yosys_cache.os, "utime", gone)
    b = work(tmp_path, "b")
    assert step(fake, b, monkeypatch) == 0 and runs(tmp_path) == 1
    assert (b.parent / "model" / "design.il").is_file()


def test_the_cache_keeps_the_most_recently_used(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(yosys_cache, "MAX_ENTRIES", 2)
    rtl = [f"module m{i}; endmodule\n" for i in range(3)]
    for i in (0, 1):
        assert step(fake, work(tmp_path, f"w{i}", rtl=rtl[i]), monkeypatch) == 0
    cache = tmp_path / "cache"
    # another process's eviction removed an entry between listing and stat: a name
    # that no longer resolves (a dangling link) must not stop this one's
    (cache / ("f" * 64)).symlink_to(tmp_path / "gone")
    # w0's entry is the older; then a hit makes it the most recently used
    old = {e: e.stat().st_mtime for e in cache.iterdir() if not e.is_symlink()}
    for k, e in enumerate(sorted(old, key=old.get)):
        os.utime(e, (1_000_000 + k, 1_000_000 + k))
    assert step(fake, work(tmp_path, "hit0", rtl=rtl[0]), monkeypatch) == 0
    assert runs(tmp_path) == 2
    assert step(fake, work(tmp_path, "w2", rtl=rtl[2]), monkeypatch) == 0   # evicts w1's
    assert runs(tmp_path) == 3
    assert step(fake, work(tmp_path, "again0", rtl=rtl[0]), monkeypatch) == 0
    assert runs(tmp_path) == 3, "the entry used last was evicted"
    assert step(fake, work(tmp_path, "again1", rtl=rtl[1]), monkeypatch) == 0
    assert runs(tmp_path) == 4, "the least recently used entry was kept"
