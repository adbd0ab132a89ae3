"""Test helpers for the OCPP adapter: the test site, a recording observer and
`RawStation`, a hand-driven OCPP-J peer. (Not named `ocpp*` as a package: a
`tests/ocpp` package would shadow the `ocpp` library.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import ClientConnection

from edgectl.core.site import Card, Connector, Site, SiteSettings, Station, Wiring, Zone

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def make_site(auto_register: bool = False) -> Site:
    return Site(
        settings=SiteSettings(auto_register=auto_register),
        zones=(Zone("main", "Main", 100), Zone("z1", "Z1", 63, parent="main"), Zone("z2", "Z2", 63, parent="main")),
        stations=(
            Station("CP1", "Wallbox", "evlink_smart_wallbox", "z1", (Connector(1, Wiring.TRI123, 32),)),
            Station(
                "CP2", "Generic", "generic_ac", "z1", (Connector(1, Wiring.MONO2, 32), Connector(2, Wiring.TRI123, 32))
            ),
            Station("SECRET", "Secured", "generic_ac", "z1", (Connector(1, Wiring.TRI123, 16),), password="pw"),
        ),
        cards=(
            Card("GOOD"),
            Card("BLOCKED", authorized=False),
            Card("EXPIRED", valid_to=datetime(2026, 1, 1, tzinfo=UTC)),
            Card("LATER", valid_from=datetime(2026, 2, 1, tzinfo=UTC)),
            Card("OTHERZONE", zones=("z2",)),
            Card("PARENTZONE", zones=("main",)),
        ),
    )


class RecordingObserver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def _rec(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def station_connected(self, station_id: str) -> None:
        self._rec("station_connected", station_id)

    def station_disconnected(self, station_id: str) -> None:
        self._rec("station_disconnected", station_id)

    def connector_status(self, station_id: str, connector_id: int, status: str, error_code: str = "NoError") -> None:
        self._rec("connector_status", station_id, connector_id, status, error_code)

    def transaction_started(self, *args: Any) -> None:
        self._rec("transaction_started", *args)

    def meter_values(self, *args: Any) -> None:
        self._rec("meter_values", *args)

    def transaction_stopped(self, *args: Any) -> None:
        self._rec("transaction_stopped", *args)

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]


async def eventually(cond: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not cond():  # noqa: ASYNC110 - polls state that other tasks change, no event to wait on
            await asyncio.sleep(0.01)


@dataclass
class SiteHolder:
    site: Site = field(default_factory=make_site)

    def __call__(self) -> Site:
        return self.site

    def set_auto_register(self, on: bool) -> None:
        self.site = replace(self.site, settings=replace(self.site.settings, auto_register=on))


Responder = Callable[[str, dict[str, Any]], Awaitable[Any]]


async def accept_all(action: str, payload: dict[str, Any]) -> Any:
    if action == "GetConfiguration":
        return {"configurationKey": []}
    return {"status": "Accepted"}


class RawStation:
    """An OCPP-J peer driven by hand: `send` a CALL or raw text, read answers.

    The server's CALLs are answered by `responder` (a payload; ("error", code)
    for a CALLERROR; None for no answer) and listed in `received`.
    """

    def __init__(self, ws: ClientConnection, responder: Responder = accept_all) -> None:
        self.ws = ws
        self.responder = responder
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers: asyncio.Queue[list[Any]] = asyncio.Queue()
        self._seq = 0
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="test.raw_station")
        self._answering: set[asyncio.Task[None]] = set()

    async def _read(self) -> None:
        async for text in self.ws:
            msg = json.loads(text)
            if msg[0] == 2:
                self.received.append((msg[2], msg[3]))
                task = asyncio.get_running_loop().create_task(self._answer(msg))
                self._answering.add(task)
                task.add_done_callback(self._answering.discard)
            else:
                await self.answers.put(msg)

    async def _answer(self, msg: list[Any]) -> None:
        result = await self.responder(msg[2], msg[3])
        if result is None:
            return
        if isinstance(result, tuple):
            await self.ws.send(json.dumps([4, msg[1], result[1], "refused", {}]))
        else:
            await self.ws.send(json.dumps([3, msg[1], result]))

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def answer(self, timeout_s: float = 5.0) -> list[Any]:
        async with asyncio.timeout(timeout_s):
            return await self.answers.get()

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        self._seq += 1
        unique_id = f"t{self._seq}"
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        reply = await self.answer()
        assert reply[1] == unique_id, reply
        return reply

    async def ok(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = await self.call(action, payload)
        assert reply[0] == 3, reply
        result: dict[str, Any] = reply[2]
        return result

    async def boot(self, serial: str = "SN1") -> dict[str, Any]:
        return await self.ok(
            "BootNotification",
            {"chargePointVendor": "Schneider Electric", "chargePointModel": "EVlink", "chargeBoxSerialNumber": serial},
        )

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(self._reader, *self._answering, return_exceptions=True)


def ts(minutes: float = 0) -> str:
    from datetime import timedelta

    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
