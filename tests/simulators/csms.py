"""A tiny test-only OCPP 1.6J central system on 127.0.0.1 (ephemeral port).

It accepts every station (or answers Pending/Rejected when told), records
every CALL it receives in arrival order, and exposes each station's
server-side ChargePoint so a test can send it requests. Schema validation of
incoming messages stays on by default: the station's frames must be valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from simulators.station.clock import SimClock


class CentralCP(ChargePoint):
    def __init__(self, identity: str, ws: ServerConnection, central: TestCentral) -> None:
        super().__init__(identity, ws, response_timeout=10)
        self.central = central

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.central.records.append((self.id, action, payload))
        self.central.changed.set()

    @on(Action.boot_notification)
    def on_boot(self, **kw: Any) -> Any:
        self._record("BootNotification", kw)
        status = self.central.boot_status(self.id)
        return call_result.BootNotification(
            current_time=self.central.now().isoformat(), interval=self.central.interval_s, status=status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw: Any) -> Any:
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time=self.central.now().isoformat())

    @on(Action.status_notification)
    def on_status(self, **kw: Any) -> Any:
        self._record("StatusNotification", kw)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **kw: Any) -> Any:
        self._record("Authorize", {"id_tag": id_tag})
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    def on_start(self, **kw: Any) -> Any:
        tx = next(self.central.tx_ids)
        self._record("StartTransaction", kw | {"assigned": tx})
        return call_result.StartTransaction(transaction_id=tx, id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    def on_meter_values(self, **kw: Any) -> Any:
        self._record("MeterValues", kw)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop(self, **kw: Any) -> Any:
        self._record("StopTransaction", kw)
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action.firmware_status_notification)
    def on_fw(self, **kw: Any) -> Any:
        self._record("FirmwareStatusNotification", kw)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diag(self, **kw: Any) -> Any:
        self._record("DiagnosticsStatusNotification", kw)
        return call_result.DiagnosticsStatusNotification()


class TestCentral:
    __test__ = False  # not a pytest class

    def __init__(self, now: Callable[[], datetime] | None = None, validate: bool = True, interval_s: int = 300):
        self.now = now or SimClock().now
        self.validate = validate
        self.interval_s = interval_s
        self.records: list[tuple[str, str, dict[str, Any]]] = []
        self.cps: dict[str, CentralCP] = {}
        self.changed = asyncio.Event()
        self.tx_ids = itertools.count(1001)
        self.boot_status: Callable[[str], str] = lambda _identity: "Accepted"
        self._server: Server | None = None

    async def __aenter__(self) -> TestCentral:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")], ping_interval=None
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        identity = ws.request.path.rstrip("/").split("/")[-1]
        cp = CentralCP(identity, ws, self)
        if not self.validate:
            for route in cp.route_map.values():
                route["_skip_schema_validation"] = True
        self.cps[identity] = cp
        with contextlib.suppress(Exception):  # the station hung up
            await cp.start()

    def actions(self, identity: str) -> list[str]:
        return [a for i, a, _ in self.records if i == identity]

    def of(self, identity: str, action: str) -> list[dict[str, Any]]:
        return [p for i, a, p in self.records if i == identity and a == action]

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()
