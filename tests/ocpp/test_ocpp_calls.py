"""StationCalls: success, timeout (late answer ignored), CALLERROR, not
connected, one call in flight per station."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp_support import RawStation, eventually

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.ocpp.connection import OneInFlight, next_unique_id
from edgectl.ports import CallRejectedError, CallTimeoutError, EncodedPayload, StationNotConnectedError


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


# --- start_call: the applier's synchronous fast path ----------------------------------


def _profile_payload(limit: int) -> EncodedPayload:
    return EncodedPayload(
        json.dumps({"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 2001, "limit": limit}},
                   separators=(",", ":"))
    )


async def test_start_call_writes_before_it_returns_and_resolves_with_the_answer(
    server: OcppServer, stations: Any
) -> None:
    gate = asyncio.Event()

    async def held(action: str, payload: dict[str, Any]) -> Any:
        if action == "SetChargingProfile":
            await gate.wait()
        return {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=held)
    await _ready(server, st)
    before = len(st.received)
    answer = server.start_call("CP2", "SetChargingProfile", _profile_payload(13), 5.0)
    assert isinstance(answer, asyncio.Future) and not isinstance(answer, asyncio.Task)  # no task: written already
    await eventually(lambda: len(st.received) > before)
    assert st.received[-1] == ("SetChargingProfile", json.loads(_profile_payload(13)))
    assert not answer.done()
    gate.set()
    assert await answer == {"status": "Accepted"}


async def test_start_call_waits_its_turn_behind_a_call_in_flight(server: OcppServer, stations: Any) -> None:
    order: list[str] = []
    release = asyncio.Event()

    async def responder(action: str, payload: dict[str, Any]) -> Any:
        order.append(action)
        if action == "GetConfiguration":
            await release.wait()
            return {"configurationKey": []}
        return {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=responder)
    await _ready(server, st)
    order.clear()
    first = asyncio.create_task(server.call("CP2", "GetConfiguration", {}))
    await eventually(lambda: order == ["GetConfiguration"])
    second = server.start_call("CP2", "SetChargingProfile", _profile_payload(10), 5.0)
    third = server.start_call("CP2", "ClearChargingProfile", {"id": 2001}, 5.0)
    await asyncio.sleep(0.05)
    assert order == ["GetConfiguration"]  # one call in flight: the others queue
    release.set()
    assert await second == {"status": "Accepted"}
    assert await third == {"status": "Accepted"}
    await first
    assert order == ["GetConfiguration", "SetChargingProfile", "ClearChargingProfile"]  # in their order


async def test_start_call_errors_come_in_the_result(server: OcppServer, stations: Any) -> None:
    async def responder(action: str, payload: dict[str, Any]) -> Any:
        if action == "SetChargingProfile":
            return ("error", "NotSupported")
        if action == "Reset":
            return None  # never answered
        return {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=responder)
    await _ready(server, st)
    with pytest.raises(CallRejectedError):
        await server.start_call("CP2", "SetChargingProfile", _profile_payload(8), 5.0)
    with pytest.raises(CallTimeoutError):
        await server.start_call("CP2", "Reset", {"type": "Soft"}, 0.2)
    # the turn was given back after the timeout: the next call goes out and is answered
    assert await server.start_call("CP2", "ClearCache", {}, 5.0) == {"status": "Accepted"}
    with pytest.raises(StationNotConnectedError):
        await server.start_call("CP9", "ClearCache", {}, 5.0)


async def test_start_call_pending_when_the_station_goes_away(server: OcppServer, stations: Any) -> None:
    async def silent(action: str, payload: dict[str, Any]) -> Any:
        return None if action == "SetChargingProfile" else {"status": "Accepted"}

    st: RawStation = await stations("CP2", responder=silent)
    await _ready(server, st)
    answer = server.start_call("CP2", "SetChargingProfile", _profile_payload(8), 30.0)
    await eventually(lambda: st.received[-1][0] == "SetChargingProfile")
    await st.ws.close()
    with pytest.raises(StationNotConnectedError):
        await asyncio.wait_for(answer, 5.0)


def test_call_ids_are_unique_and_fit_ocpp() -> None:
    ids = {next_unique_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) <= 36 for i in ids)


async def test_one_in_flight_hands_turns_over_in_order_and_skips_the_cancelled() -> None:
    gate = OneInFlight()
    assert gate.try_take()
    assert not gate.try_take()
    got: list[int] = []

    async def waiter(n: int) -> None:
        await gate.take()
        got.append(n)
        await asyncio.sleep(0)
        gate.give_back()

    tasks = [asyncio.create_task(waiter(n)) for n in range(4)]
    await asyncio.sleep(0)
    tasks[1].cancel()  # gives up while waiting: skipped, the turn is not lost
    await asyncio.sleep(0)
    gate.give_back()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert got == [0, 2, 3]
    assert gate.try_take()  # free again at the end
