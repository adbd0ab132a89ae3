"""The OCPP 1.6J central system: WebSocket server and `StationCalls`.

Rules:
- Stations connect at ws://<host>:<port>/ocpp/<identity> or /<identity>
  (percent-decoded). The identity must be non-empty, at most 48 characters,
  without whitespace, '/' or control characters; otherwise HTTP 400. A
  handshake that does not offer the `ocpp1.6` subprotocol gets HTTP 400 with
  a plain-text reason. Security profiles 1 and 2 (basic auth; TLS listener
  on `tls_port` with the `ssl_context` given): see security.py; a refusal is
  HTTP 401 and a security event in the store.
- Every connection is recorded in the detected-stations registry.
- One connection per identity: a newer one replaces the older, which is
  retired first (pending calls fail with StationNotConnectedError, its tasks
  are cancelled, the observer hears station_disconnected if it had heard
  station_connected) and then closed (1000, "replaced by a new connection")
  in a server-owned task, so a dead peer cannot hold up the new connection.
- `stop()` closes the listener and every connection (observer hears each
  disconnect) and awaits every task it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from edgectl import stationmodels
from edgectl.adapters.ocpp import security
from edgectl.adapters.ocpp.auth_sync import AuthSync
from edgectl.adapters.ocpp.connection import StationConnection
from edgectl.adapters.ocpp.deps import Deps, ModelCatalogue, SafeObserver
from edgectl.adapters.ocpp.handlers import CentralSystem
from edgectl.adapters.ocpp.setup import post_boot_setup
from edgectl.adapters.store import Event, EventType, Store
from edgectl.clock import Clock
from edgectl.core.site import Site
from edgectl.ports import EncodedPayload, StationNotConnectedError, StationObserver
from edgectl.settings import OcppConfig

log = structlog.get_logger(__name__)

SUBPROTOCOL = "ocpp1.6"
MAX_IDENTITY_LENGTH = 48


def identity_from_path(path: str) -> str | None:
    """The charge-box identity in a request path, or None when invalid."""
    raw = urlsplit(path).path
    parts = raw.split("/")
    if len(parts) == 3 and parts[0] == "" and parts[1] == "ocpp":
        segment = parts[2]
    elif len(parts) == 2 and parts[0] == "":
        segment = parts[1]
    else:
        return None
    identity = unquote(segment, errors="strict") if "%" in segment else segment
    if not identity or len(identity) > MAX_IDENTITY_LENGTH or "/" in identity:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in identity):
        return None
    return identity


def _offered_subprotocols(headers: Headers) -> list[str]:
    return [p.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",")]


class OcppServer:
    """The central system. Implements `edgectl.ports.StationCalls`."""

    def __init__(
        self,
        config: OcppConfig,
        store: Store,
        observer: StationObserver,
        clock: Clock,
        site: Callable[[], Site],
        models: ModelCatalogue = stationmodels,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.deps = Deps(config, store, SafeObserver(observer), clock, site, models)
        self.central = CentralSystem(self.deps)
        self._connections: dict[str, StationConnection] = {}
        self._server: Server | None = None
        self._tls_server: Server | None = None
        self._ssl_context = ssl_context
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int = config.port
        self.tls_port: int | None = config.tls_port
        # The web/card layer calls `auth_sync.cards_changed()` after a card change.
        self.auth_sync = AuthSync(self.deps, lambda: list(self._connections.values()))

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            process_request=self._process_request,
            close_timeout=5,
            # OCPP frames are small and the LAN is fast: per-message deflate
            # costs more CPU than it saves (measured in bench/ocpp_load.py).
            compression=None,
        )
        sockets = list(self._server.sockets)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("ocpp.listening", host=self.config.host, port=self.port)
        if self.config.tls_port is not None:
            await self._start_tls(self.config.tls_port)

    async def _start_tls(self, port: int) -> None:
        """Security profile 2: the same central system behind TLS, basic auth required."""
        if self._ssl_context is None:
            raise ValueError("ocpp.tls_port is set but no TLS context was given (edgectl.tls.server_context)")

        async def process_request(connection: ServerConnection, request: Request) -> Response | None:
            return self._process_request(connection, request, tls=True)

        self._tls_server = await serve(
            self._handle,
            self.config.host,
            port,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            process_request=process_request,
            ssl=self._ssl_context,
            close_timeout=5,
            compression=None,
        )
        sockets = list(self._tls_server.sockets)
        if sockets:
            self.tls_port = int(sockets[0].getsockname()[1])
        log.info("ocpp.listening_tls", host=self.config.host, port=self.tls_port)

    async def stop(self) -> None:
        if self._server is None:
            return
        for server in (self._server, self._tls_server):
            if server is not None:
                server.close(close_connections=True)
                await server.wait_closed()
        self._server = self._tls_server = None
        for conn in list(self._connections.values()):
            await self._retire(conn)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        log.info("ocpp.stopped")

    async def __aenter__(self) -> OcppServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- StationCalls -------------------------------------------------------------

    def connected(self) -> frozenset[str]:
        return frozenset(sid for sid, conn in self._connections.items() if conn.ready)

    def online(self) -> frozenset[str]:
        """Identities with an open socket, accepted and set up or not."""
        return frozenset(self._connections)

    def local_address(self, station_id: str) -> str | None:
        """The box's IP address as this station reached it (None when not connected):
        an address the station can also use for the box's file endpoints."""
        conn = self._connections.get(station_id)
        address = conn.ws.local_address if conn is not None else None
        return str(address[0]) if address else None

    async def call(
        self, station_id: str, action: str, payload: dict[str, Any] | EncodedPayload, timeout_s: float | None = None
    ) -> dict[str, Any]:
        conn = self._connections.get(station_id)
        if conn is None:
            raise StationNotConnectedError(station_id)
        return await conn.call(action, payload, self.config.call_timeout_s if timeout_s is None else timeout_s)

    def start_call(
        self, station_id: str, action: str, payload: dict[str, Any] | EncodedPayload, timeout_s: float
    ) -> asyncio.Future[dict[str, Any]]:
        conn = self._connections.get(station_id)
        if conn is None:
            failed: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            failed.set_exception(StationNotConnectedError(station_id))
            return failed
        return conn.start_call(action, payload, timeout_s)

    # --- connections --------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request, tls: bool = False) -> Response | None:
        identity = identity_from_path(request.path)
        if identity is None:
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                "expected /ocpp/<chargeBoxIdentity>: non-empty, at most 48 characters, no spaces\n",
            )
        if SUBPROTOCOL not in _offered_subprotocols(request.headers):
            log.warning("ocpp.handshake_refused", station_id=identity, reason="no ocpp1.6 subprotocol")
            return connection.respond(
                HTTPStatus.BAD_REQUEST, "this central system speaks the ocpp1.6 subprotocol only\n"
            )
        station = self.deps.station(identity)
        if security.credentials_required(station, request.headers, tls) and not security.credentials_ok(
            request.headers, identity, station
        ):
            peer = connection.remote_address[0] if connection.remote_address else None
            # Deliberately no reason (unknown identity / wrong password / no header): see security.py.
            log.warning("ocpp.authentication_failed", station_id=identity, remote_address=peer, tls=tls)
            self._spawn(f"ocpp.security_event:{identity}", self._record_refusal(identity, peer, tls))
            return security.refusal(connection)
        return None

    async def _record_refusal(self, identity: str, peer: str | None, tls: bool) -> None:
        details = {"remote_address": peer, "listener": "tls" if tls else "plain"}
        try:
            await self.deps.store.events.append(
                Event(EventType.SECURITY, "station authentication failed", source=identity, details=details)
            )
        except Exception:
            log.exception("ocpp.security_event_not_stored", station_id=identity)

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        identity = identity_from_path(ws.request.path)
        assert identity is not None  # checked in _process_request
        peer = ws.remote_address[0] if ws.remote_address else None
        conn = StationConnection(identity, ws, remote_address=peer)
        old = self._connections.get(identity)
        self._connections[identity] = conn
        if old is not None:
            log.info("station.replaced", station_id=identity, remote_address=peer)
            await self._retire(old)
            self._spawn(f"ocpp.close_replaced:{identity}", self._close(old, "replaced by a new connection"))
        log.info("station.socket_open", station_id=identity, remote_address=peer)
        try:
            await self.deps.store.stations_registry.seen(identity, self.deps.clock.now(), peer)
        except Exception:
            log.exception("ocpp.registry_failed", station_id=identity)
        try:
            await conn.run(self.central.dispatch, self._setup)
        finally:
            await self._retire(conn)
            if self._connections.get(identity) is conn:
                del self._connections[identity]
            log.info("station.socket_closed", station_id=identity, code=ws.close_code, reason=ws.close_reason)

    async def _setup(self, conn: StationConnection) -> None:
        try:
            await post_boot_setup(self.deps, conn)
        except StationNotConnectedError:
            log.info("ocpp.setup_interrupted", station_id=conn.station_id)
            return
        if conn.ready:
            # Offline authorization (keys, local list) in its own task: never delays the announcement.
            self.auth_sync.station_ready(conn)

    async def _retire(self, conn: StationConnection) -> None:
        announced = conn.announced
        if await conn.retire() and announced:
            log.info("station.disconnected", station_id=conn.station_id)
            self.deps.observer.station_disconnected(conn.station_id)

    async def _close(self, conn: StationConnection, reason: str) -> None:
        with contextlib.suppress(Exception):
            await conn.ws.close(1000, reason)

    def _spawn(self, name: str, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
