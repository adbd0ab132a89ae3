"""The web/OCPP TLS context: TLS 1.2+ by default, TLS 1.0 only when enabled (real handshakes on loopback)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from edgectl.tls import ensure_certificate, server_context


def client(version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions: the server must decide
    return ctx


async def handshake(server_ctx: ssl.SSLContext, version: ssl.TLSVersion) -> str | None:
    """The negotiated version, or None when the server refused the handshake."""

    async def serve(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        try:
            _r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=client(version)), 10)
        except (ssl.SSLError, ConnectionResetError):
            return None
        negotiated = w.get_extra_info("ssl_object").version()
        w.close()
        return str(negotiated)
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return ensure_certificate(tmp_path)


async def test_default_refuses_tls_1_0_and_1_1_and_accepts_1_2_and_1_3(cert: tuple[Path, Path]) -> None:
    ctx = server_context(*cert)
    assert await handshake(ctx, ssl.TLSVersion.TLSv1) is None
    assert await handshake(ctx, ssl.TLSVersion.TLSv1_1) is None
    assert await handshake(ctx, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert await handshake(ctx, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"


async def test_tls_1_0_only_when_enabled(cert: tuple[Path, Path]) -> None:
    ctx = server_context(*cert, allow_tls10=True)
    got = await handshake(ctx, ssl.TLSVersion.TLSv1)
    if got is None:
        pytest.skip("this OpenSSL build cannot speak TLS 1.0 at all")
    assert got == "TLSv1"
