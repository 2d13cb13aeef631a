"""Merge functional-coverage files (cocotb-coverage YAML) across seeds and simulators.

Each cocotb test writes ``coverage_<test>.yml`` into its run folder (``TB.finish``,
``tb/coverage.py``). This tool merges any number of them with cocotb-coverage's own
``merge_coverage`` and writes, into the output folder:

* ``coverage.yml``: the merged database (cocotb-coverage's YAML layout: per item
  ``size``, ``coverage``, ``cover_percentage``, ``bins:_hits``),
* ``coverage.xml``: the same as XML (elements named by item, ``bin`` children),
* ``coverage.txt``: the text table printed by ``make regress`` (per cover item:
  bins hit / bins defined, percentage, and the bins never hit).

Usage: ``python -m tools.covmerge -o build/regress/coverage FILE.yml... [--threshold 100]``
(exit 1 below the threshold; exit 2, nothing written, for a missing file, input with no
cover bins at all, or a file that is not a coverage database). Percentages are
recomputed here from the bins (a bin counts when hit at least ``at_least`` times), so they
do not depend on how the merge propagated parent totals.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tb import runner

BINS_KEY = "bins:_hits"


#: argparse type of a coverage threshold (``--threshold``, COV_MIN=): a finite percentage
#: from 0 to 100. ``nan`` once printed FAIL and exited 0 (no comparison with it is true),
#: a negative one always passed, one above 100 always failed.
percent_arg = runner.number_arg("a percentage from 0 to 100", 0, 100)


@dataclass
class ItemCov:
    """Coverage of one cover point / cross after merging."""

    name: str
    bins: dict[str, int]
    at_least: int = 1

    @property
    def size(self) -> int:
        return len(self.bins)

    @property
    def covered(self) -> int:
        return sum(1 for h in self.bins.values() if h >= self.at_least)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.size if self.size else 100.0

    @property
    def missing(self) -> list[str]:
        return [b for b, h in self.bins.items() if h < self.at_least]


@dataclass
class CovReport:
    items: list[ItemCov] = field(default_factory=list)
    files: int = 0

    def group(self, prefix: str = "") -> tuple[int, int]:
        """(bins covered, bins defined) of every item under *prefix*."""
        sel = [i for i in self.items if not prefix or i.name == prefix or i.name.startswith(prefix + ".")]
        return sum(i.covered for i in sel), sum(i.size for i in sel)

    def percent(self, prefix: str = "") -> float:
        c, s = self.group(prefix)
        return 100.0 * c / s if s else 100.0

    def roots(self, depth: int = 2) -> list[str]:
        """Item-name prefixes at *depth* (``dd.default``, ``dd.small``), sorted."""
        return sorted({".".join(i.name.split(".")[:depth]) for i in self.items})


class CovError(ValueError):
    """An input that is not a cocotb-coverage YAML database; the message names it."""


def read_db(path: Path) -> dict:
    """The cocotb-coverage database in ``path``, checked: a mapping of cover item names to
    their attributes, each item's bins (``BINS_KEY``) a mapping of bin to hit count.
    CovError otherwise, naming the file, before anything is merged or written (a file of
    something else once stopped the merge with a traceback inside cocotb-coverage)."""
    try:
        db = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CovError(f"{path}: not a readable YAML file ({type(exc).__name__})") from None
    if db is None:   # an empty file: no cover item
        db = {}
    if not isinstance(db, dict) or not all(isinstance(k, str) and isinstance(v, dict)
                                           for k, v in db.items()):
        raise CovError(f"{path}: not a cocotb-coverage database (a mapping of cover item "
                       "names to their attributes)")
    for name, attrs in db.items():
        bins = attrs.get(BINS_KEY)
        if bins is None:
            continue
        try:
            ok = isinstance(bins, dict) and all(int(v) >= 0 for v in bins.values())
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise CovError(f"{path}: cover item {name!r}: its {BINS_KEY} is not a mapping of "
                           "bins to hit counts")
        try:
            least = int(attrs.get("at_least", 1))
        except (TypeError, ValueError):
            least = 0
        if least < 1:
            raise CovError(f"{path}: cover item {name!r}: at_least {attrs['at_least']!r} is "
                           "not a hit count of 1 or more")
    return db


def load(db: Mapping[str, Mapping]) -> CovReport:
    """Cover items (the entries with bins) of a cocotb-coverage YAML database."""
    rep = CovReport()
    for name in sorted(db, key=str.lower):
        attrs = db[name]
        if BINS_KEY in attrs:
            rep.items.append(ItemCov(name, {str(k): int(v) for k, v in attrs[BINS_KEY].items()},
                                     int(attrs.get("at_least", 1))))
    return rep


def merge_files(files: Sequence[Path], out_yaml: Path) -> dict:
    """Merge YAML coverage files with cocotb-coverage's merge; returns the merged db."""
    from cocotb_coverage.coverage import merge_coverage

    files = [Path(f) for f in files]
    if not files:
        raise ValueError("no coverage files to merge")
    out_yaml.parent.mkdir(parents=True, exist_ok=True)
    merge_coverage(lambda *_: None, str(out_yaml), *map(str, files))
    with open(out_yaml) as fh:
        return yaml.safe_load(fh) or {}


def to_xml(db: Mapping[str, Mapping], path: Path) -> None:
    """Write the merged database as XML (one element per item, ``bin`` children)."""
    top = ET.Element("coverage")
    rep = load(db)
    for item in rep.items:
        el = ET.SubElement(top, "item", name=item.name, size=str(item.size), covered=str(item.covered),
                           cover_percentage=f"{item.percent:.2f}", at_least=str(item.at_least))
        for b, h in item.bins.items():
            ET.SubElement(el, "bin", name=b, hits=str(h))
    for root in rep.roots():
        top.set(root.replace(".", "_") + "_percentage", f"{rep.percent(root):.2f}")
    ET.indent(top)
    ET.ElementTree(top).write(path, encoding="unicode", xml_declaration=True)


def format_report(rep: CovReport, threshold: float | None = None) -> str:
    """Text table: item, bins hit/defined, percent, unhit bins; totals per root."""
    w = max([len(i.name) for i in rep.items] + [10])
    lines = [f"{'cover item':<{w}}  {'hit/bins':>9}  {'%':>6}  never hit"]
    for i in rep.items:
        miss = ", ".join(i.missing)
        if len(miss) > 90:
            miss = miss[:87] + "..."
        lines.append(f"{i.name:<{w}}  {f'{i.covered}/{i.size}':>9}  {i.percent:6.1f}  {miss}")
    lines.append("")
    for root in rep.roots():
        c, s = rep.group(root)
        lines.append(f"{root:<{w}}  {f'{c}/{s}':>9}  {rep.percent(root):6.1f}  (total)")
    c, s = rep.group()
    verdict = ""
    if threshold is not None:
        verdict = "  PASS" if rep.percent() >= threshold else f"  FAIL (below {threshold:g} %)"
    lines.append(f"{'all':<{w}}  {f'{c}/{s}':>9}  {rep.percent():6.1f}  "
                 f"(from {rep.files} file(s); threshold {threshold if threshold is not None else '-'} %)"
                 + verdict)
    return "\n".join(lines)


def merge_and_report(files: Iterable[Path], out_dir: Path,
                     threshold: float | None = None) -> tuple[CovReport, str]:
    """Merge *files* into ``out_dir`` (yml, xml, txt); returns the report and its text."""
    files = sorted(Path(f) for f in files)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = merge_files(files, out_dir / "coverage.yml")
    to_xml(db, out_dir / "coverage.xml")
    rep = load(db)
    rep.files = len(files)
    text = format_report(rep, threshold)
    (out_dir / "coverage.txt").write_text(text + "\n")
    return rep, text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.covmerge", description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path, help="coverage_*.yml files (or folders to search)")
    ap.add_argument("-o", "--out", type=runner.out_dir_arg, default=Path("build/regress/coverage"))
    ap.add_argument("--threshold", type=percent_arg, default=None,
                    help="fail (exit 1) below this percentage (0 to 100)")
    ns = ap.parse_args(argv)
    files: list[Path] = []
    for f in ns.files:
        if not f.exists():
            print(f"covmerge: {f}: no such file or folder", file=sys.stderr)
            return 2
        files += sorted(f.rglob("coverage_*.yml")) if f.is_dir() else [f]
    if not files:
        print("covmerge: no coverage files found", file=sys.stderr)
        return 2
    try:
        items = sum(len(load(read_db(f)).items) for f in files)
    except CovError as exc:
        print(f"covmerge: {exc}", file=sys.stderr)
        return 2
    if not items:   # 0 of 0 bins is no coverage, not 100 %: never a PASS
        print(f"covmerge: the {len(files)} file(s) hold no cover bins", file=sys.stderr)
        return 2
    rep, text = merge_and_report(files, ns.out, ns.threshold)
    print(text)
    print(f"merged coverage: {ns.out}/coverage.yml, coverage.xml, coverage.txt")
    return 1 if ns.threshold is not None and rep.percent() < ns.threshold else 0


if __name__ == "__main__":
    sys.exit(main())
