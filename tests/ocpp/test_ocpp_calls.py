"""StationCalls: success, timeout (late answer ignored), CALLERROR, not
connected, one call in flight per station."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp_support import RawStation, eventually

from edgectl.adapters.ocpp import OcppServer
from edgectl.ports import CallRejectedError, CallTimeoutError, StationNotConnectedError


async def _ready(server: OcppServer, st: RawStation) -> None:
    await st.boot()
    await eventually(lambda: st.ws.request is not None and len(server.connected()) > 0)
    await eventually(lambda: len(st.received) >= 2)  # setup done


async def test_call_success_and_lenient_result(server: OcppServer, stations: Any) -> None:
    async def responder(action: str, payload: dict[str, Any]) -> Any:
        if action == "GetConfiguration":
            return {"configurationKey": [{"key": "K", "readonly": False, "value": "v"}]}
        if action == "ClearCache":
            return {"status": "Perhaps", "extra": 1}  # breaks the schema: used anyway, logged
        return {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=responder)
    await _ready(server, st)
    result = await server.call("CP2", "GetConfiguration", {"key": ["K"]})
    assert result["configurationKey"][0]["value"] == "v"
    assert st.received[-1] == ("GetConfiguration", {"key": ["K"]})
    assert await server.call("CP2", "ClearCache", {}) == {"status": "Perhaps", "extra": 1}


async def test_call_rejected(server: OcppServer, stations: Any) -> None:
    async def responder(action: str, payload: dict[str, Any]) -> Any:
        return ("error", "NotSupported") if action == "SetChargingProfile" else {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=responder)
    await _ready(server, st)
    with pytest.raises(CallRejectedError) as info:
        await server.call("CP2", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {}})
    assert info.value.code == "NotSupported"


async def test_not_connected(server: OcppServer) -> None:
    with pytest.raises(StationNotConnectedError):
        await server.call("CP9", "Reset", {"type": "Soft"})


async def test_timeout_and_late_answer(server: OcppServer, stations: Any) -> None:

    async def responder(action: str, payload: dict[str, Any]) -> Any:
        if action == "Reset":
            return None  # answered by hand, too late
        return {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=responder)
    await _ready(server, st)
    with pytest.raises(CallTimeoutError):
        await server.call("CP2", "Reset", {"type": "Soft"}, timeout_s=0.2)
    # the station answers now: the box drops it without an answer and stays usable
    await st.send_raw(json.dumps([3, "some-old-id", {"status": "Accepted"}]))
    assert await server.call("CP2", "ClearCache", {}) == {"status": "Accepted"}
    assert "currentTime" in await st.ok("Heartbeat", {})
    await asyncio.sleep(0.05)
    assert st.answers.empty()


async def test_one_call_in_flight(server: OcppServer, stations: Any) -> None:
    in_flight = 0
    most = 0

    async def slow(action: str, payload: dict[str, Any]) -> Any:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=slow)
    await _ready(server, st)
    most = 0
    results = await asyncio.gather(*(server.call("CP2", "ClearCache", {}) for _ in range(4)))
    assert results == [{"status": "Accepted"}] * 4
    assert most == 1


async def test_calls_while_station_handles_its_own_messages(server: OcppServer, stations: Any) -> None:
    """A station call and the station's own CALLs interleave without deadlock."""
    st: RawStation = await stations("CP2")
    await _ready(server, st)
    call = asyncio.create_task(server.call("CP2", "ClearCache", {}))
    assert "currentTime" in await st.ok("Heartbeat", {})
    assert await call == {"status": "Accepted"}
