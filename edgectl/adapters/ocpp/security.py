"""OCPP security profiles 1 and 2: HTTP basic auth on the WebSocket handshake.

Rules (OCPP 1.6 security whitepaper, profiles 0-2):
- Profile 0 (default, private LAN): a station without a `password` in the
  site connects on the plain listener without credentials; unknown stations
  too (they are then *detected* and answered Pending).
- Profile 1: a station with a `password` must send `Authorization: Basic`
  with user = its identity and that password.
- Profile 2: the TLS listener (`OcppConfig.tls_port`, the box's certificate)
  always requires basic auth: a station without a password, or unknown to
  the site, is refused there.
- Credentials are checked whenever they are required (above) or offered (a
  request that carries an Authorization header is never let through with
  wrong ones).
- A refusal is the same HTTP 401 (same body, same WWW-Authenticate) whatever
  was wrong -- unknown identity, wrong password, missing or malformed header
  -- and the security event recorded in the store does not say either, so
  neither the peer nor a reader of the log can probe which identities exist.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Response

from edgectl.core.site import Station

REALM_HEADER = 'Basic realm="edgectl", charset="UTF-8"'
REFUSAL_BODY = "authentication required\n"
# Compared against when the identity is unknown, so a refusal costs the same time.
_DUMMY_SECRET = "edgectl-no-such-station-password"


def credentials_required(station: Station | None, headers: Headers, tls: bool) -> bool:
    return tls or (station is not None and bool(station.password)) or "Authorization" in headers


def credentials_ok(headers: Headers, identity: str, station: Station | None) -> bool:
    """True only for basic auth user = identity, password = the station's."""
    password = station.password if station is not None and station.password else None
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    try:
        user, _, given = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, given = "", ""
    # Both comparisons always run (no early exit that would time the answer).
    user_ok = hmac.compare_digest(user.encode(), identity.encode())
    secret_ok = hmac.compare_digest(given.encode(), (password or _DUMMY_SECRET).encode())
    return scheme.lower() == "basic" and user_ok and secret_ok and password is not None


def refusal(connection: ServerConnection) -> Response:
    response = connection.respond(HTTPStatus.UNAUTHORIZED, REFUSAL_BODY)
    response.headers["WWW-Authenticate"] = REALM_HEADER
    return response
