"""Serving the app: HTTP and HTTPS listeners around one aiohttp runner.

HTTPS uses the box's certificate (`edgectl.tls.ensure_certificate`: generated
on first start, replaceable by the user's own) with TLS 1.2+ unless TLS 1.0
is explicitly enabled (`[web] tls10 = true`, or an admin's security settings,
which win). `https_port = None` disables it. Changing TLS 1.0 at run time
restarts the HTTPS listener on the same port (`restart_https`): new
connections get the new setting, open ones keep theirs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog
from aiohttp import web

from edgectl.adapters.web.app import create_app
from edgectl.adapters.web.boxsettings import BOX
from edgectl.adapters.web.deps import WebDeps
from edgectl.tls import ensure_certificate, server_context

log = structlog.get_logger(__name__)


class WebServer:
    def __init__(self, deps: WebDeps, data_dir: Path) -> None:
        self.deps = deps
        deps.restart_https = self.restart_https if deps.config.https_port is not None else None
        self.app = create_app(deps)
        self._data_dir = data_dir
        # Live feeds are ended by on_shutdown; a short timeout bounds the rest.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=3.0)
        self.http_port: int | None = None
        self.https_port: int | None = None
        self._https: web.TCPSite | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        config = self.deps.config
        await self._runner.setup()
        http = web.TCPSite(self._runner, config.host, config.http_port)
        await http.start()
        self.http_port = _bound_port(http)
        tls10 = self.app[BOX].tls10  # set by the app's start-up from the stored security settings
        if config.https_port is not None:
            self._https = await self._start_https(config.https_port, tls10)
            self.https_port = _bound_port(self._https)
        log.info("web.started", host=config.host, http_port=self.http_port, https_port=self.https_port,
                 tls10=tls10)

    async def _start_https(self, port: int, tls10: bool) -> web.TCPSite:
        cert, key = ensure_certificate(self._data_dir, self.deps.clock.now())
        https = web.TCPSite(self._runner, self.deps.config.host, port,
                            ssl_context=server_context(cert, key, tls10))
        await https.start()
        return https

    async def restart_https(self, tls10: bool) -> bool:
        """Serve HTTPS again with TLS 1.0 on or off; False when there is no HTTPS listener."""
        async with self._lock:
            if self._https is None or self.https_port is None:
                return False
            await self._https.stop()
            self._https = await self._start_https(self.https_port, tls10)
            log.info("web.https_restarted", https_port=self.https_port, tls10=tls10)
            return True

    async def stop(self) -> None:
        await self._runner.cleanup()
        log.info("web.stopped")


def _bound_port(site: web.TCPSite) -> int | None:
    server = site._server  # aiohttp keeps the asyncio server here; port 0 means "any free one"
    sockets = getattr(server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else None
