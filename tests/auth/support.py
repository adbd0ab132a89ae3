"""A hand-driven OCPP-J station for the auth tests: answers the box's CALLs
like a station with configuration keys, a local list and a cache would, and
records every CALL it got."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from edgectl.core.site import Card, Connector, DisconnectedAuth, Site, Station, Wiring, Zone

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def make_site(disconnected: DisconnectedAuth = DisconnectedAuth.USE_CACHE, cards: tuple[Card, ...] = ()) -> Site:
    return Site(
        zones=(Zone("main", "Main", 100), Zone("z1", "Z1", 63, parent="main")),
        stations=(
            Station(
                "CP1", "One", "generic_ac", "z1", (Connector(1, Wiring.TRI123, 32),), auth_disconnected=disconnected
            ),
            Station("SECRET", "Secured", "generic_ac", "z1", (Connector(1, Wiring.TRI123, 16),), password="s3cret"),
        ),
        cards=cards,
    )


@dataclass
class SiteHolder:
    site: Site = field(default_factory=make_site)

    def __call__(self) -> Site:
        return self.site


class NullObserver:
    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


@dataclass
class StationBehaviour:
    """How the fake station answers; `silent` actions are never answered."""

    profiles: str = "Core,SmartCharging,LocalAuthListManagement"
    list_max: int = 100
    send_max: int = 50
    list_version: int = 0
    local_list: dict[str, Any] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)
    send_local_list_status: str | None = None  # force an answer
    silent: set[str] = field(default_factory=set)
    cleared: int = 0

    def answer(self, action: str, p: dict[str, Any]) -> Any:
        if action in self.silent:
            return None
        if action == "GetConfiguration":
            values = {
                "SupportedFeatureProfiles": self.profiles,
                "LocalAuthListMaxLength": str(self.list_max),
                "SendLocalListMaxLength": str(self.send_max),
            }
            return {"configurationKey": [{"key": k, "readonly": True, "value": v} for k, v in values.items()]}
        if action == "ChangeConfiguration":
            self.config[p["key"]] = p["value"]
            return {"status": "Accepted"}
        if action == "GetLocalListVersion":
            return {"listVersion": self.list_version}
        if action == "SendLocalList":
            if self.send_local_list_status is not None:
                return {"status": self.send_local_list_status}
            if p["updateType"] == "Differential" and p["listVersion"] <= self.list_version:
                return {"status": "VersionMismatch"}
            if p["updateType"] == "Full":
                self.local_list.clear()
            for e in p.get("localAuthorizationList", []):
                if "idTagInfo" in e:
                    self.local_list[e["idTag"]] = e["idTagInfo"]
                else:
                    self.local_list.pop(e["idTag"], None)
            self.list_version = p["listVersion"]
            return {"status": "Accepted"}
        if action == "ClearCache":
            self.cleared += 1
            return {"status": "Accepted"}
        return {"status": "Accepted"}


class RawStation:
    def __init__(self, ws: ClientConnection, behaviour: StationBehaviour) -> None:
        self.ws = ws
        self.behaviour = behaviour
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers: asyncio.Queue[list[Any]] = asyncio.Queue()
        self._seq = 0
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="test.auth_station")

    async def _read(self) -> None:
        async for text in self.ws:
            msg = json.loads(text)
            if msg[0] == 2:
                self.received.append((msg[2], msg[3]))
                result = self.behaviour.answer(msg[2], msg[3])
                if result is not None:
                    await self.ws.send(json.dumps([3, msg[1], result]))
            else:
                await self.answers.put(msg)

    def actions(self) -> list[str]:
        return [a for a, _ in self.received]

    async def ok(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        await self.ws.send(json.dumps([2, f"t{self._seq}", action, payload]))
        async with asyncio.timeout(5):
            reply = await self.answers.get()
        assert reply[0] == 3, reply
        result: dict[str, Any] = reply[2]
        return result

    async def boot(self) -> dict[str, Any]:
        return await self.ok("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def connect_station(url: str, behaviour: StationBehaviour | None = None, **kw: Any) -> RawStation:
    ws = await connect(url, subprotocols=[Subprotocol("ocpp1.6")], open_timeout=5, **kw)
    return RawStation(ws, behaviour or StationBehaviour())


async def eventually(cond: Any, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not cond():  # noqa: ASYNC110 - polls state other tasks change
            await asyncio.sleep(0.01)
