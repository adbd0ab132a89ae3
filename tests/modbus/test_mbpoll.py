"""Cross-check register numbering with an independent client (mbpoll: `-r` is 1-based)."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from .simhelpers import BASE_A, EV_A, sim_meter, tcp_server

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed (apt-get install mbpoll)")


async def mbpoll(port: int, *args: str) -> dict[int, float]:
    proc = await asyncio.create_subprocess_exec(
        "mbpoll",
        "-m",
        "tcp",
        "-p",
        str(port),
        "-a",
        "1",
        "-1",
        "-q",
        *args,
        "127.0.0.1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    return {int(r): float(v) for r, v in re.findall(r"\[(\d+)\]:\s+(-?[\d.]+)", out.decode())}


async def test_vendor_register_numbers_seen_by_mbpoll() -> None:
    expected = BASE_A + EV_A
    async with tcp_server(sim_meter("pm5320")) as (_s, port):
        floats = await mbpoll(port, "-r", "3000", "-c", "3", "-t", "4:float", "-B")
    assert floats == pytest.approx({3000: expected.l1, 3002: expected.l2, 3004: expected.l3}, abs=1e-3)
    async with tcp_server(sim_meter("nsx")) as (_s, port):
        ints = await mbpoll(port, "-r", "1016", "-c", "3", "-t", "4")
    assert ints == {1016: expected.l1, 1017: expected.l2, 1018: expected.l3}
