"""End to end: `edgectl di` -> the inputs control endpoint -> mock pins -> DigitalInputs -> observer."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from structlog.testing import capture_logs

from edgectl import cli
from edgectl.adapters.gpio import DigitalInputs, ResetBridge
from edgectl.commands import di
from simulators.inputs import DEFAULT_PORT, InputsControl

from .helpers import CONFIG, DI_PINS, RecordingObserver


@pytest.fixture
def edgectl_with_di(monkeypatch):
    """cli.py with the `di` entry the lead adds to COMMANDS."""
    monkeypatch.setitem(cli.COMMANDS, "di", ("edgectl.commands.di", "drive the simulated digital inputs (test/demo)"))
    monkeypatch.delenv("EDGECTL_DI_CONTROL", raising=False)
    return lambda *argv: asyncio.to_thread(cli.main, ["--config", "/nonexistent.toml", "di", *argv])


@pytest.fixture
async def control(factory):
    ctl = InputsControl(factory, DI_PINS, CONFIG.reset_pins)  # before the adapter opens its pins
    await ctl.start()
    yield ctl
    await ctl.close()


async def wait_for_calls(observer: RecordingObserver, calls: list[tuple[int, bool]]) -> None:
    """Until the observer has received exactly these calls so far (a repeated call counts again)."""

    async def wait() -> None:
        while observer.calls[: len(calls)] != calls:
            observer.changed.clear()
            await observer.changed.wait()

    await asyncio.wait_for(wait(), timeout=5)


async def test_cli_drives_an_input_end_to_end(factory, clock, observer, control, edgectl_with_di, capsys):
    inputs = DigitalInputs(CONFIG, observer, clock, pin_factory=factory)
    task = asyncio.create_task(inputs.run())
    with capture_logs():  # keep the adapter's events out of the captured stdout
        await _drive_through_cli(observer, control, edgectl_with_di, capsys, task)


async def _drive_through_cli(observer, control, edgectl_with_di, capsys, task) -> None:
    try:
        initial = [(1, False), (2, False), (3, False)]
        await wait_for_calls(observer, initial)
        assert await edgectl_with_di("set", "2", "on", "--control", control.url) == 0
        await wait_for_calls(observer, [*initial, (2, True)])
        assert json.loads(capsys.readouterr().out) == {"channel": 2, "pin": 27, "active": True}
        assert await edgectl_with_di("--control", control.url, "show") == 0
        shown = json.loads(capsys.readouterr().out)
        assert [i["active"] for i in shown["inputs"]] == [False, True, False]
        assert await edgectl_with_di("set", "2", "off", "--control", control.url) == 0
        await wait_for_calls(observer, [*initial, (2, True), (2, False)])
        assert len(observer.calls) == 5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_http_bridge_reaches_the_reset_hook(factory, clock, control):
    calls = []
    bridge = ResetBridge(CONFIG, clock, lambda: calls.append(clock.monotonic()), pin_factory=factory)
    assert bridge.open()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{control.url}/reset-bridge", json={"bridged": True}) as r:
            assert r.status == 200 and (await r.json())["bridged"] is True
        for _ in range(62):
            await bridge.step()
        async with session.post(f"{control.url}/reset-bridge", json={"bridged": False}) as r:
            assert r.status == 200
        async with session.get(f"{control.url}/di") as r:
            assert (await r.json())["reset_bridge"] == {"pins": [7, 8], "bridged": False}
    assert len(calls) == 1
    bridge.close()


async def test_endpoint_rejects_bad_requests(control):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{control.url}/di/4", json={"active": True}) as r:
            assert r.status == 404
        async with session.post(f"{control.url}/di/x", json={"active": True}) as r:
            assert r.status == 404
        async with session.post(f"{control.url}/di/1", json={"active": "yes"}) as r:
            assert r.status == 400
        async with session.post(f"{control.url}/di/1", data=b"not json") as r:
            assert r.status == 400


async def test_endpoint_listens_on_loopback_only(factory):
    ctl = InputsControl(factory, DI_PINS)
    with pytest.raises(ValueError, match="loopback"):
        await ctl.start(host="0.0.0.0")


@pytest.mark.parametrize(
    "url",
    [
        "http://192.168.0.128:8766",
        "http://0.0.0.0:8766",
        "http://example.com:8766",
        "https://127.0.0.1:8766",
        "http://127.0.0.1:8766/di",
    ],
)
async def test_cli_refuses_non_loopback_control(url, edgectl_with_di, capsys):
    assert await edgectl_with_di("set", "1", "on", "--control", url) == 2
    err = capsys.readouterr().err
    assert "edgectl di:" in err and "Traceback" not in err


async def test_cli_refusal_names_loopback(edgectl_with_di, capsys):
    assert await edgectl_with_di("show", "--control", "http://10.0.0.5:8766") == 2
    assert "loopback only" in capsys.readouterr().err


async def test_cli_unreachable_endpoint_is_exit_1(edgectl_with_di, capsys, unused_tcp_port):
    assert await edgectl_with_di("show", "--control", f"http://127.0.0.1:{unused_tcp_port}") == 1
    assert "cannot reach" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:8766", "http://127.0.0.1:8766"),
        ("http://127.0.0.1:8766/", "http://127.0.0.1:8766"),
        ("http://localhost:1234", "http://localhost:1234"),
        ("http://[::1]:1234", "http://[::1]:1234"),
        ("http://127.1.2.3:80", "http://127.1.2.3:80"),
    ],
)
def test_loopback_urls_accepted(url, base):
    assert di.loopback_base_url(url) == base


def test_cli_default_port_matches_the_endpoint():
    assert f"http://127.0.0.1:{DEFAULT_PORT}" == di.DEFAULT_CONTROL_URL
