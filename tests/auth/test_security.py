"""OCPP security profiles: 0 (no auth, LAN default), 1 (basic auth) and 2
(TLS with the box's generated certificate + basic auth). Every refusal is the
same HTTP 401 and a security event that does not say what was wrong."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from edgectl.adapters.ocpp import OcppServer
from edgectl.adapters.store import EventQuery, EventType, Store

from .support import RawStation, basic, connect_station, eventually

Stations = Callable[..., Awaitable[RawStation]]


async def _refused(url: str, **kw: Any) -> tuple[int, bytes, str | None]:
    with pytest.raises(InvalidStatus) as info:
        await connect_station(url, **kw)
    response = info.value.response
    return response.status_code, bytes(response.body or b""), response.headers.get("WWW-Authenticate")


async def _security_events(store: Store, n: int) -> list[Any]:
    """The security events, once `n` were recorded (they are written after the 401 went out)."""
    async with asyncio.timeout(5):
        while len(found := await store.events.query(EventQuery(types=(EventType.SECURITY,)))) < n:  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # rows written by another task: nothing to wait on
    return found


async def test_profile_0_and_1_on_the_plain_listener(server: OcppServer, stations: Stations, store: Store) -> None:
    base = f"ws://127.0.0.1:{server.port}/ocpp"
    # Profile 0: a station without a password, and an unknown one (detected, Pending), need nothing.
    assert (await (await stations("CP1")).boot())["status"] == "Accepted"
    assert (await (await stations("NEWBOX")).boot())["status"] == "Pending"
    # Profile 1: right credentials.
    st = await connect_station(f"{base}/SECRET", additional_headers=basic("SECRET", "s3cret"))
    try:
        assert (await st.boot())["status"] == "Accepted"
    finally:
        await st.close()
    # Wrong password, missing header, wrong user, garbage, unknown station presenting credentials,
    # credentials offered by a station that has no password: all the same 401.
    refusals = [
        await _refused(f"{base}/SECRET", additional_headers=basic("SECRET", "wrong")),
        await _refused(f"{base}/SECRET"),
        await _refused(f"{base}/SECRET", additional_headers=basic("CP1", "s3cret")),
        await _refused(f"{base}/SECRET", additional_headers={"Authorization": "Basic !!!"}),
        await _refused(f"{base}/GHOST", additional_headers=basic("GHOST", "s3cret")),
        await _refused(f"{base}/CP1", additional_headers=basic("CP1", "anything")),
    ]
    assert set(refusals) == {(401, b"authentication required\n", 'Basic realm="edgectl", charset="UTF-8"')}
    events = await _security_events(store, len(refusals))
    assert len(events) == len(refusals)
    for event in events:
        assert event.message == "station authentication failed"
        assert set(event.details) == {"remote_address", "listener"}  # no reason given
        assert event.details["listener"] == "plain"
    assert {e.source for e in events} == {"SECRET", "GHOST", "CP1"}


async def test_profile_2_tls_with_the_box_certificate(
    server: OcppServer, store: Store, client_tls: ssl.SSLContext
) -> None:
    assert server.tls_port is not None and server.tls_port != server.port
    base = f"wss://127.0.0.1:{server.tls_port}/ocpp"
    st = await connect_station(f"{base}/SECRET", additional_headers=basic("SECRET", "s3cret"), ssl=client_tls)
    try:
        assert (await st.boot())["status"] == "Accepted"
        await eventually(lambda: "SECRET" in server.connected())
    finally:
        await st.close()
    refusals = [
        await _refused(f"{base}/SECRET", additional_headers=basic("SECRET", "nope"), ssl=client_tls),
        await _refused(f"{base}/SECRET", ssl=client_tls),
        await _refused(f"{base}/CP1", ssl=client_tls),  # no password: profile 2 needs basic auth
        await _refused(f"{base}/GHOST", additional_headers=basic("GHOST", "x"), ssl=client_tls),
    ]
    assert {r[0] for r in refusals} == {401} and len(set(refusals)) == 1
    events = await _security_events(store, len(refusals))
    assert [e.details["listener"] for e in events] == ["tls"] * len(refusals)
    # A client that does not trust the box's certificate cannot even start the handshake.
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect_station(
            f"{base}/SECRET", additional_headers=basic("SECRET", "s3cret"), ssl=ssl.create_default_context()
        )
    # Plain WebSocket on the TLS port does not get through either.
    with pytest.raises(Exception):  # noqa: B017 - closed or invalid, depending on timing
        await connect_station(
            f"ws://127.0.0.1:{server.tls_port}/ocpp/SECRET", additional_headers=basic("SECRET", "s3cret")
        )


async def test_tls_port_without_a_context_is_refused_at_start(store: Store, site: Any, clock: Any) -> None:
    from edgectl.settings import OcppConfig

    from .support import NullObserver

    srv = OcppServer(OcppConfig(host="127.0.0.1", port=0, tls_port=0), store, NullObserver(), clock, site)
    with pytest.raises(ValueError, match="tls_port"):
        await srv.start()
    await srv.stop()
