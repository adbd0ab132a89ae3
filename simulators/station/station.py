"""A simulated OCPP 1.6J charging station: sessions, transactions, physics.

Rules:
- One websocket session at a time to <url>/<identity>, subprotocol ocpp1.6
  (HTTP basic auth when a password is given). After a (re)boot the first
  CALL is BootNotification, repeated while Pending/Rejected after the
  interval the central system gave; once Accepted, a StatusNotification for
  connector 0 and every connector, then a Heartbeat every HeartbeatInterval.
  A reconnect that is not a reboot does not boot again, it re-sends statuses.
- Every other CALL goes through one ordered outbox (outbox.py), never from
  inside an `@on` handler: the ocpp library would wait for a response its
  own blocked reader can never deliver.
- Going offline does not stop charging: the physics loop keeps applying the
  installed profiles, so an expired live profile falls back to the default.
- Physics tick every `tick_s` simulated seconds: offered current =
  min(effective profile limit, connector maximum) during a transaction, else
  0; the car follows it with its delay; status changes are notified.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from simulators.station.clock import SimClock, iso
from simulators.station.commands import StationCommands
from simulators.station.config import ConfigStore
from simulators.station.connector import Connector
from simulators.station.ev import Car, Ev
from simulators.station.handlers import StationCP
from simulators.station.models import behaviour
from simulators.station.outbox import Outbox, OutMsg
from simulators.station.profiles import Limit, ProfileStore
from simulators.station.transactions import TransactionsMixin

log = logging.getLogger("simulators.station")


@dataclass
class _Session:
    cp: StationCP
    ws: ClientConnection
    closed: asyncio.Event


class SimStation(TransactionsMixin):
    def __init__(
        self,
        identity: str,
        model: str = "generic_ac",
        connectors: Sequence[Connector] | None = None,
        url: str = "ws://127.0.0.1:9000/ocpp",
        password: str | None = None,
        *,
        clock: SimClock | None = None,
        serial: str | None = None,
        tick_s: float = 1.0,
        heartbeat_s: int = 300,
        meter_interval_s: int = 10,
        response_timeout_s: float = 10.0,
        reconnect_s: float = 5.0,
    ) -> None:
        self.identity = identity
        self.model = behaviour(model)
        self.url = url.rstrip("/")
        self.password = password
        self.clock = clock or SimClock()
        self.serial = serial or f"SIM{abs(hash(identity)) % 10**10:010d}"
        self.tick_s = tick_s
        self.response_timeout_s = response_timeout_s
        self.reconnect_s = reconnect_s
        self.connectors = {c.id: c for c in (connectors or [Connector(1)])}
        self.config = ConfigStore(
            connectors=len(self.connectors),
            charging_rate_units=self.model.charging_rate_units,
            max_stack_level=self.model.max_stack_level,
            local_list=self.model.supports_local_list,
            heartbeat_s=heartbeat_s,
            vendor_keys=self.model.setup_keys_factory,
        )
        self.config.set_internal("MeterValueSampleInterval", str(meter_interval_s))
        self.profiles = ProfileStore(
            self.connectors, allowed_units=self.model.charging_rate_units, max_stack_level=self.model.max_stack_level
        )
        self.outbox = Outbox()
        self.booted = asyncio.Event()  # set once a BootNotification was Accepted
        self.ready = asyncio.Event()  # set while a session is open and booted
        self.station_operative = True
        self.last_error: str | None = None
        self.sent: list[str] = []  # actions sent, in order (tests, control API)
        self.mute_calls = False  # True: CALLs from the central system are never answered (timeout tests)
        self._need_boot = True
        self._want_online = asyncio.Event()
        self._want_online.set()
        self._offline_requested = asyncio.Event()
        self._session: _Session | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._init_transactions()
        self.commands = StationCommands(self)

    # -- public API -----------------------------------------------------------
    async def start(self) -> None:
        for name, factory in (
            ("connection", self._connection_loop),
            ("sender", self._sender_loop),
            ("physics", self._physics_loop),
            ("meter", self._meter_loop),
        ):
            self._spawn(factory(), name)

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.ws.close()

    async def wait_ready(self, timeout_s: float = 10.0) -> None:
        await asyncio.wait_for(self.ready.wait(), timeout_s)

    @property
    def online(self) -> bool:
        return self.ready.is_set()

    async def go_offline(self) -> None:
        """Drop the connection and stay away until go_online()."""
        self._want_online.clear()
        self._offline_requested.set()
        if self._session is not None:
            await self._session.closed.wait()

    async def go_online(self, wait: bool = True, timeout_s: float = 10.0) -> None:
        self._offline_requested.clear()
        self._want_online.set()
        if wait:
            await self.wait_ready(timeout_s)

    def plug_in(self, connector_id: int, car: Car | None = None, id_tag: str | None = None) -> None:
        """A car is plugged in; with an id tag the driver also swipes a card."""
        c = self.connectors[connector_id]
        c.ev = Ev(car or Car(), connector_phases=c.phases)
        c.plug_id_tag = id_tag
        c.finished = False
        self._refresh_status(c)
        if id_tag is not None:
            self._spawn(self._authorize_and_start(c, id_tag), f"start-{connector_id}")

    def unplug(self, connector_id: int) -> None:
        c = self.connectors[connector_id]
        if c.tx is not None and self.config.bool("StopTransactionOnEVSideDisconnect"):
            self._end_transaction(c, "EVDisconnected")
        c.ev, c.plug_id_tag, c.finished = None, None, False
        self._refresh_status(c)

    def limit(self, connector_id: int) -> Limit | None:
        return self.profiles.limit_at(connector_id, self.clock.now())

    def effective_limit_a(self, connector_id: int) -> float:
        """What the station would offer now: profile limit capped by the connector maximum."""
        c = self.connectors[connector_id]
        lim = self.limit(connector_id)
        return c.max_current_a if lim is None else min(c.max_current_a, lim.limit_a)

    def drawn_current_a(self, connector_id: int) -> tuple[float, float, float]:
        """Current per station terminal (L1, L2, L3)."""
        return self.connectors[connector_id].phase_currents_a()

    def status(self, connector_id: int) -> str:
        if connector_id == 0:
            return "Available" if self.station_operative else "Unavailable"
        return self.connectors[connector_id].status()

    def set_config(self, key: str, value: str) -> str:
        """Change a key locally, as an installer would on the station's own UI."""
        return self.config.change(key, value)

    # -- plumbing ---------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.identity}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("station task failed", exc_info=task.exception(), extra={"station": self.identity})

    def _enqueue(
        self,
        build: Callable[[], Any],
        action: str,
        *,
        durable: bool = False,
        on_result: Callable[[Any], None] | None = None,
        want_future: bool = False,
    ) -> asyncio.Future[Any] | None:
        fut = asyncio.get_running_loop().create_future() if want_future else None
        if not durable and not self.ready.is_set():
            # Volatile messages are not kept for a connection that is not there.
            if fut is not None:
                fut.set_exception(ConnectionError("offline"))
            return fut
        self.outbox.put(OutMsg(build, durable, on_result, fut, action=action))
        return fut

    async def _sender_loop(self) -> None:
        while True:
            msg = await self.outbox.peek()
            await self.ready.wait()
            session = self._session
            assert session is not None
            try:
                result = await self._call(session, msg.build())
            except TimeoutError:  # first: TimeoutError is an OSError, but the connection is still up
                log.warning("%s: %s unanswered (attempt %d)", self.identity, msg.action, msg.attempts + 1)
                msg.attempts += 1
                if msg.attempts < max(1, self.config.int("TransactionMessageAttempts", 3)):
                    await self.clock.sleep(self.config.int("TransactionMessageRetryInterval", 10))
                    continue
                self.outbox.done(msg, error=TimeoutError("no response"))
                continue
            except (ConnectionClosed, OSError):
                await session.closed.wait()
                continue
            except OCPPError as exc:
                # A CALLERROR: real stations give up on the message.
                self.outbox.done(msg, error=exc)
                continue
            self.sent.append(msg.action)
            if msg.on_result is not None:
                msg.on_result(result)
            self.outbox.done(msg, result)

    async def _call(self, session: _Session, payload: Any) -> Any:
        # The library waits for a response until its timeout even when the socket
        # is gone; give up as soon as the session closes instead.
        request = asyncio.ensure_future(session.cp.call(payload, suppress=False, skip_schema_validation=True))
        closed = asyncio.ensure_future(session.closed.wait())
        try:
            await asyncio.wait({request, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if not request.done():
            request.cancel()
            raise ConnectionError("session closed while waiting for the response")
        return request.result()

    async def _connection_loop(self) -> None:
        backoff = self.reconnect_s
        while not self._stopping:
            await self._want_online.wait()
            headers = {}
            if self.password is not None:
                token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            try:
                async with connect(
                    f"{self.url}/{self.identity}",
                    subprotocols=[Subprotocol("ocpp1.6")],
                    additional_headers=headers,
                    open_timeout=self.response_timeout_s,
                    ping_interval=None,
                ) as ws:
                    backoff = self.reconnect_s
                    await self._run_session(ws)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                self.last_error = repr(exc)
            if self._stopping:
                return
            if self._want_online.is_set():
                # Jitter keeps hundreds of stations from reconnecting in lock step.
                await self.clock.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, 60.0)

    async def _run_session(self, ws: ClientConnection) -> None:
        cp = StationCP(self.identity, ws, self, response_timeout=self.response_timeout_s)
        session = _Session(cp, ws, asyncio.Event())
        self._session = session
        reader = asyncio.create_task(cp.start(), name=f"{self.identity}:reader")
        heartbeat: asyncio.Task[None] | None = None
        offline = asyncio.create_task(self._offline_requested.wait())
        try:
            booting = asyncio.create_task(self._boot(cp) if self._need_boot else asyncio.sleep(0))
            await asyncio.wait({booting, reader, offline}, return_when=asyncio.FIRST_COMPLETED)
            if not booting.done() or booting.exception() is not None:
                booting.cancel()
                return
            self._need_boot = False
            self.ready.set()
            self.booted.set()
            self._resend_statuses()
            heartbeat = asyncio.create_task(self._heartbeat_loop())
            await asyncio.wait({reader, offline}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.ready.clear()
            session.closed.set()
            for task in (reader, offline, heartbeat):
                if task is not None:
                    task.cancel()
            if reader.done() and not reader.cancelled():
                reader.exception()  # a closed socket ends the reader; that is the normal way out
            self.outbox.drop_volatile()
            with contextlib.suppress(Exception):
                await ws.close()

    async def _boot(self, cp: StationCP) -> None:
        while True:
            payload = call.BootNotification(
                charge_point_vendor=self.model.vendor,
                charge_point_model=self.model.charge_point_model[:20],
                charge_point_serial_number=self.serial[:25],
                charge_box_serial_number=self.serial[:25],
                firmware_version="sim-1.0",
            )
            res = await cp.call(payload, suppress=False, skip_schema_validation=True)
            self.sent.append("BootNotification")
            if res.status == "Accepted":
                if int(res.interval) > 0:
                    self.config.set_internal("HeartbeatInterval", str(int(res.interval)))
                return
            # Pending/Rejected: only BootNotification again, after the given interval.
            await self.clock.sleep(int(res.interval) if int(res.interval) > 0 else 10)

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.clock.sleep(max(1, self.config.int("HeartbeatInterval", 300)))
            self._enqueue(call.Heartbeat, "Heartbeat")

    async def _physics_loop(self) -> None:
        last = self.clock.monotonic()
        while True:
            await self.clock.sleep(self.tick_s)
            now_m = self.clock.monotonic()
            self.step(now_m - last)
            last = now_m

    def step(self, dt_s: float) -> None:
        """Advance every connector by dt_s simulated seconds."""
        now = self.clock.now()
        for c in self.connectors.values():
            if c.reservation is not None and now >= c.reservation.expiry:
                c.reservation = None
            charging_allowed = c.tx is not None and not c.faulted and self.station_operative
            c.offered_a = self.effective_limit_a(c.id) if charging_allowed else 0.0
            if c.ev is not None:
                before = c.ev.energy_wh
                lim = self.limit(c.id)
                c.ev.step(dt_s, c.offered_a, lim.number_phases if lim else None)
                c.meter_wh += c.ev.energy_wh - before
            self._refresh_status(c)

    async def _meter_loop(self) -> None:
        while True:
            interval = self.config.int("MeterValueSampleInterval", 10)
            await self.clock.sleep(interval or 5)
            if interval > 0:
                for c in self.connectors.values():
                    if c.tx is not None:
                        self._send_meter_values(c, "Sample.Periodic")

    def _send_status(self, connector_id: int, status: str) -> None:
        now = iso(self.clock.now())
        self._enqueue(
            lambda: call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status=status, timestamp=now
            ),
            "StatusNotification",
        )

    def _refresh_status(self, c: Connector) -> None:
        status = c.status()
        if status != c.sent_status and self.ready.is_set():
            c.sent_status = status
            self._send_status(c.id, status)

    def _resend_statuses(self) -> None:
        self._send_status(0, self.status(0))
        for c in self.connectors.values():
            c.sent_status = None
            self._refresh_status(c)
