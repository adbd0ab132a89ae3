"""The file endpoints on loopback: firmware served, diagnostics uploads
stored, capped and refused for bad names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from edgectl.adapters.files import FileEndpoints, FileServer, safe_name

CAP = 4096


@pytest.fixture
async def files(tmp_path: Path) -> AsyncIterator[tuple[FileServer, list[tuple[str, str, int]]]]:
    uploads: list[tuple[str, str, int]] = []
    endpoints = FileEndpoints(
        tmp_path / "firmware", tmp_path / "diagnostics", max_upload_bytes=CAP,
        on_upload=lambda s, n, size: uploads.append((s, n, size)),
    )
    server = FileServer(endpoints, "127.0.0.1", 0)
    await server.start()
    try:
        yield server, uploads
    finally:
        await server.stop()


def url(server: FileServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


async def test_firmware_is_served_and_nothing_else(files: tuple[FileServer, list[tuple[str, str, int]]]) -> None:
    server, _ = files
    (server.endpoints.firmware_dir / "fw-1.2.bin").write_bytes(b"IMAGE")
    (server.endpoints.firmware_dir.parent / "secret.txt").write_text("no")
    async with aiohttp.ClientSession() as http:
        async with http.get(url(server, "/firmware/fw-1.2.bin")) as r:
            assert r.status == 200 and await r.read() == b"IMAGE"
        for path in ("/firmware/missing.bin", "/firmware/..%2Fsecret.txt", "/firmware/.hidden"):
            async with http.get(url(server, path)) as r:
                assert r.status == 404, path


async def test_raw_upload_stored_and_replaced(files: tuple[FileServer, list[tuple[str, str, int]]]) -> None:
    server, uploads = files
    target = server.endpoints.diagnostics_dir / "S1" / "diag.log"
    async with aiohttp.ClientSession() as http:
        async with http.put(url(server, "/diagnostics/S1/diag.log"), data=b"first") as r:
            assert r.status == 201
        async with http.post(url(server, "/diagnostics/S1/diag.log"), data=b"second") as r:
            assert r.status == 201
    assert target.read_bytes() == b"second"
    assert uploads == [("S1", "diag.log", 5), ("S1", "diag.log", 6)]


async def test_multipart_upload(files: tuple[FileServer, list[tuple[str, str, int]]]) -> None:
    server, _ = files
    form = aiohttp.FormData()
    form.add_field("file", b"zipped", filename="S1_report.zip", content_type="application/zip")
    async with aiohttp.ClientSession() as http, http.post(url(server, "/diagnostics/S1/"), data=form) as r:
        assert r.status == 201
    assert (server.endpoints.diagnostics_dir / "S1" / "S1_report.zip").read_bytes() == b"zipped"


async def test_size_cap_declared_and_streamed(files: tuple[FileServer, list[tuple[str, str, int]]]) -> None:
    server, uploads = files

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000  # no Content-Length: the cap holds while streaming

    async with aiohttp.ClientSession() as http:
        async with http.put(url(server, "/diagnostics/S1/big.log"), data=b"x" * (CAP + 1)) as r:
            assert r.status == 413
        async with http.put(url(server, "/diagnostics/S1/big.log"), data=chunked()) as r:
            assert r.status == 413
        async with http.put(url(server, "/diagnostics/S1/ok.log"), data=b"x" * CAP) as r:
            assert r.status == 201
    folder = server.endpoints.diagnostics_dir / "S1"
    assert sorted(p.name for p in folder.iterdir()) == ["ok.log"]  # no partial file left
    assert uploads == [("S1", "ok.log", CAP)]


@pytest.mark.parametrize(
    "path",
    [
        "/diagnostics/S1/..%2F..%2Fedgectl.db",
        "/diagnostics/S1/.hidden",
        "/diagnostics/S1/a%20b.log",
        "/diagnostics/..%2Fx/diag.log",
        "/diagnostics/S1/" + "a" * 200,
    ],
)
async def test_bad_names_refused(files: tuple[FileServer, list[tuple[str, str, int]]], path: str) -> None:
    server, uploads = files
    async with aiohttp.ClientSession() as http, http.put(url(server, path), data=b"data") as r:
        assert r.status in (400, 404)
    assert uploads == []
    assert not any(server.endpoints.diagnostics_dir.parent.glob("edgectl.db"))


def test_safe_name() -> None:
    assert safe_name("S1-diagnostics.log") and safe_name("fw_1.2.bin")
    for bad in ("", ".", "..", "../x", "a/b", "a b", ".hidden", "a..b", "é.log", "x" * 129):
        assert not safe_name(bad), bad
