"""The OCPP 1.6J central system: WebSocket server and `StationCalls`.

Rules:
- Stations connect at ws://<host>:<port>/ocpp/<identity> or /<identity>
  (percent-decoded). The identity must be non-empty, at most 48 characters,
  without whitespace, '/' or control characters; otherwise HTTP 400. A
  handshake that does not offer the `ocpp1.6` subprotocol gets HTTP 400 with
  a plain-text reason. A registered station with a `password` must present
  HTTP basic auth (user = identity) -- security profile 1; otherwise 401.
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
import base64
import binascii
import contextlib
import hmac
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
from edgectl.adapters.ocpp.connection import StationConnection
from edgectl.adapters.ocpp.deps import Deps, ModelCatalogue, SafeObserver
from edgectl.adapters.ocpp.handlers import CentralSystem
from edgectl.adapters.ocpp.setup import post_boot_setup
from edgectl.adapters.store import Store
from edgectl.clock import Clock
from edgectl.core.site import Site
from edgectl.ports import StationNotConnectedError, StationObserver
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


def _basic_auth_ok(headers: Headers, identity: str, password: str) -> bool:
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, given = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user, identity) and hmac.compare_digest(given, password)


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
    ) -> None:
        self.config = config
        self.deps = Deps(config, store, SafeObserver(observer), clock, site, models)
        self.central = CentralSystem(self.deps)
        self._connections: dict[str, StationConnection] = {}
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int = config.port

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            process_request=self._process_request,
            close_timeout=5,
        )
        sockets = list(self._server.sockets)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("ocpp.listening", host=self.config.host, port=self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None
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

    async def call(
        self, station_id: str, action: str, payload: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        conn = self._connections.get(station_id)
        if conn is None:
            raise StationNotConnectedError(station_id)
        return await conn.call(action, payload, self.config.call_timeout_s if timeout_s is None else timeout_s)

    # --- connections --------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
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
        if station is not None and station.password and not _basic_auth_ok(request.headers, identity, station.password):
            log.warning("ocpp.handshake_refused", station_id=identity, reason="basic auth")
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication required\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="edgectl", charset="UTF-8"'
            return response
        return None

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
