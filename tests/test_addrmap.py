"""model/addrmap.py against SPEC 2.1/2.2 addresses, and encode/decode round trips."""

from __future__ import annotations

import pytest

from model import addrmap, regs


@pytest.mark.parametrize(("dir_", "n", "loc", "host_f1"), [
    (0, 0, 0x1000, 0x1000), (1, 0, 0x1100, 0x1100), (0, 1, 0x1200, 0x1200),
    (1, 7, 0x1F00, 0x1F00),
])
def test_spec_window_bases(dir_: int, n: int, loc: int, host_f1: int) -> None:
    g = addrmap.global_index(dir_, n)
    assert g == dir_ * 8 + n
    assert addrmap.loc_win_addr(g, 0) == loc            # 0x1000 + n*0x200 + dir*0x100
    assert addrmap.host_win_addr(1, g, 0) == host_f1    # f*0x1000 + n*0x200 + dir*0x100
    assert addrmap.host_win_addr(0, g, regs.CH_STAT) == loc - 0x1000 + 0x80


def test_ownership_entries() -> None:
    assert addrmap.own_addr(0, regs.OWN_CMD) == 0x100
    assert addrmap.own_addr(15, regs.Q_CYCLES) == 0x1F8


def test_round_trips_and_ignored_low_bits() -> None:
    for g in range(16):
        assert addrmap.split(g) == (g // 8, g % 8)
        for off in range(0, regs.WIN_SIZE, 4):
            for low in range(4):
                assert addrmap.decode_local(addrmap.loc_win_addr(g, off) + low) == ("win", g, off)
                for f in range(8):
                    assert addrmap.decode_host(addrmap.host_win_addr(f, g, off) + low) == (f, g, off)
        for off in (regs.OWN_CMD, regs.OWN_STAT, regs.Q_CYCLES, 0xC):
            assert addrmap.decode_local(addrmap.own_addr(g, off)) == ("own", g, off)
            assert addrmap.channel_of("loc", addrmap.own_addr(g, off)) == g


def test_other_local_addresses_decode_to_none() -> None:
    for a in (regs.ID, regs.CONFIG, regs.VIOL_LAST, regs.OWN_IRQ_EN, 0xFC, 0x200, 0x2000, 0xFFFC):
        assert addrmap.decode_local(a) is None
        assert addrmap.channel_of("loc", a) is None
