"""`edgectl di set <channel> on|off` / `edgectl di show`: drive the simulated digital inputs.

Rules:
- A test/demo facility: it talks to the inputs control endpoint
  (simulators/inputs.py) that `edgectl demo` and the tests run beside the
  daemon; a real box has wires, not this endpoint.
- `--control URL` (default $EDGECTL_DI_CONTROL, else http://127.0.0.1:8766);
  only http:// on a loopback address is accepted, anything else is refused
  with exit 2 before any connection is made.
- `set` changes the raw level; the daemon reports it after its debounce time.
- Exit 0 ok; 1 the endpoint is unreachable or refused the request; 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import aiohttp

DEFAULT_CONTROL_URL = "http://127.0.0.1:8766"  # simulators.inputs.DEFAULT_PORT
TIMEOUT_S = 5.0


class ControlUrlError(ValueError):
    pass


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--control",
        default=None,
        help=f"inputs control endpoint, loopback only (default: $EDGECTL_DI_CONTROL or {DEFAULT_CONTROL_URL})",
    )
    sub = parser.add_subparsers(dest="di_action", required=True, metavar="ACTION")
    set_p = sub.add_parser("set", help="drive a digital input high (on) or low (off)")
    set_p.add_argument("channel", type=int, choices=(1, 2, 3), help="input channel 1-3")
    set_p.add_argument("state", choices=("on", "off"), help="on = 3.3 V (active), off = 0 V")
    set_p.add_argument("--control", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    show_p = sub.add_parser("show", help="print the inputs' levels and the reset bridge as JSON")
    show_p.add_argument("--control", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def loopback_base_url(url: str) -> str:
    """`url` without a trailing slash if it is http:// on a loopback address; else ControlUrlError."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ControlUrlError(f"control URL must start with http:// (got {url!r})")
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ControlUrlError(
            f"refusing control endpoint {host or url!r}: the inputs control endpoint is a test/demo facility "
            "reachable on loopback only (127.0.0.1, ::1, localhost)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ControlUrlError(f"control URL must be a base URL like http://127.0.0.1:PORT (got {url!r})")
    try:
        port = parts.port
    except ValueError as exc:
        raise ControlUrlError(f"bad port in control URL {url!r}") from exc
    netloc = f"[{host}]" if ":" in host else host
    return f"http://{netloc}:{port}" if port else f"http://{netloc}"


def main(args: argparse.Namespace) -> int:
    raw_url = args.control or os.environ.get("EDGECTL_DI_CONTROL") or DEFAULT_CONTROL_URL
    try:
        base = loopback_base_url(raw_url)
    except ControlUrlError as exc:
        print(f"edgectl di: {exc}", file=sys.stderr)
        return 2
    if args.di_action == "set":
        path, body = f"/di/{args.channel}", {"active": args.state == "on"}
    else:
        path, body = "/di", None
    try:
        answer = asyncio.run(_request(base + path, body))
    except aiohttp.ClientResponseError as exc:
        print(f"edgectl di: {base} refused the request: {exc.status} {exc.message}", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        print(f"edgectl di: cannot reach the inputs control endpoint at {base}: {reason}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


async def _request(url: str, body: dict[str, Any] | None) -> Any:
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    # trust_env=False: a proxy from the environment must never see loopback control traffic.
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        method = "GET" if body is None else "POST"
        async with session.request(method, url, json=body) as response:
            if response.status >= 400:
                text = await response.text()
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message=text.strip() or response.reason or ""
                )
            return await response.json()
