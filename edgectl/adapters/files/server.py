"""The box's file endpoints for stations: firmware downloads, diagnostics uploads.

Stations fetch firmware and push diagnostics over plain HTTP (OCPP 1.6
UpdateFirmware / GetDiagnostics carry a URL), so this is a separate small
aiohttp app on its own port — it can also be mounted into the web app later.

Rules:
- GET `/firmware/<name>` serves `<firmware_dir>/<name>`; nothing else.
- `PUT`/`POST /diagnostics/<station>/<filename>` stores the raw body, and
  `POST /diagnostics/<station>/` a multipart form's file part, as
  `<diagnostics_dir>/<station>/<filename>` (a repeated upload replaces it).
- Names are checked, never rewritten: a name that is not `[A-Za-z0-9._-]`
  (first character alphanumeric, at most 128 characters; station at most 48)
  is refused with 400, so no path can leave the directories.
- Uploads are capped (`max_upload_bytes`, default 20 MB): a larger declared
  Content-Length is refused before reading (413), a body that grows past the
  cap while streaming is discarded (413). A partial file never appears: the
  body goes to a temporary file renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from aiohttp import BodyPartReader, web

log = structlog.get_logger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the spec's cap on station reports
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_STATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")
_CHUNK = 64 * 1024

Uploaded = Callable[[str, str, int], None]  # (station, file name, size in bytes)


def safe_name(name: str, station: bool = False) -> bool:
    """Whether `name` may be used as a file (or station directory) name as is."""
    pattern = _STATION if station else _NAME
    return bool(pattern.match(name)) and ".." not in name


class TooLargeError(Exception):
    pass


class FileEndpoints:
    def __init__(
        self,
        firmware_dir: Path,
        diagnostics_dir: Path,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        on_upload: Uploaded | None = None,
    ) -> None:
        self.firmware_dir = firmware_dir
        self.diagnostics_dir = diagnostics_dir
        self.max_upload_bytes = max_upload_bytes
        self._on_upload = on_upload

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/firmware/{name}", self.firmware)
        app.router.add_route("PUT", "/diagnostics/{station}/{name}", self.upload_raw)
        app.router.add_route("POST", "/diagnostics/{station}/{name}", self.upload_raw)
        app.router.add_post("/diagnostics/{station}/", self.upload_form)
        app.router.add_post("/diagnostics/{station}", self.upload_form)
        return app

    async def firmware(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.firmware_dir / name
        if not safe_name(name) or not path.is_file():
            raise web.HTTPNotFound(text="no such firmware file\n")
        log.info("files.firmware_served", name=name, peer=request.remote)
        return web.FileResponse(path)

    async def upload_raw(self, request: web.Request) -> web.Response:
        station, name = request.match_info["station"], request.match_info["name"]
        target = self._target(station, name)
        if request.content_length is not None and request.content_length > self.max_upload_bytes:
            return self._too_large(station, name)
        try:
            size = await self._write(target, _chunks_of(request.content))
        except TooLargeError:
            return self._too_large(station, name)
        return self._stored(station, name, size)

    async def upload_form(self, request: web.Request) -> web.Response:
        station = request.match_info["station"]
        if request.content_length is not None and request.content_length > self.max_upload_bytes + _CHUNK:
            return self._too_large(station, "?")
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            raise web.HTTPBadRequest(text="expected a multipart/form-data body\n") from None
        async for part in reader:
            if not isinstance(part, BodyPartReader) or not part.filename:
                continue
            name = part.filename
            target = self._target(station, name)
            try:
                size = await self._write(target, _chunks_of_part(part))
            except TooLargeError:
                return self._too_large(station, name)
            return self._stored(station, name, size)
        raise web.HTTPBadRequest(text="no file part in the form\n")

    # --- helpers ------------------------------------------------------------------

    def _target(self, station: str, name: str) -> Path:
        if not safe_name(station, station=True) or not safe_name(name):
            log.warning("files.upload_refused", station_id=station[:64], name=name[:140], reason="bad name")
            raise web.HTTPBadRequest(text="bad station or file name: use letters, digits, '.', '_', '-'\n")
        return self.diagnostics_dir / station / name

    async def _write(self, target: Path, chunks: Any) -> int:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        size = 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_upload_bytes:
                        raise TooLargeError
                    out.write(chunk)
            partial.replace(target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        return size

    def _too_large(self, station: str, name: str) -> web.Response:
        log.warning("files.upload_refused", station_id=station, name=name, reason="too large")
        return web.Response(status=413, text=f"upload larger than {self.max_upload_bytes} bytes\n")

    def _stored(self, station: str, name: str, size: int) -> web.Response:
        log.info("files.diagnostics_uploaded", station_id=station, name=name, size=size)
        if self._on_upload is not None:
            self._on_upload(station, name, size)
        return web.Response(status=201, text="stored\n")


async def _chunks_of(stream: Any) -> Any:
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return
        yield chunk


async def _chunks_of_part(part: BodyPartReader) -> Any:
    while True:
        chunk = await part.read_chunk(_CHUNK)
        if not chunk:
            return
        yield chunk


class FileServer:
    """`FileEndpoints` listening on host:port (port 0: an ephemeral one, see `.port`)."""

    def __init__(self, endpoints: FileEndpoints, host: str, port: int) -> None:
        self.endpoints = endpoints
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.endpoints.firmware_dir.mkdir(parents=True, exist_ok=True)
        self.endpoints.diagnostics_dir.mkdir(parents=True, exist_ok=True)
        runner = web.AppRunner(self.endpoints.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server  # aiohttp exposes the bound port only here
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("files.listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            log.info("files.stopped")
