"""The digital-input control endpoint: drives gpiozero mock pins over HTTP (test/demo only).

The daemon's GPIO adapter and this endpoint share one `MockFactory` in the
same process (`edgectl demo`, the tests): this side plays the wiring, i.e.
it drives the input pins like a contact would, and can place a wire between
the factory-reset pins.

Routes (JSON, 127.0.0.1 only):
  GET  /di                      {"inputs": [{"channel", "pin", "active"}], "reset_bridge": {...}}
  POST /di/{channel}            body {"active": true|false}      -> that input
  POST /reset-bridge            body {"bridged": true|false}     -> the bridge
Unknown channel -> 404; bad body -> 400.

`active` here is the *raw* pin level the wiring applies; the daemon reports
it only after its debounce time (docs/inputs.md).

The bridge uses gpiozero's `MockConnectedPin`: the reset output pin is
created as one (so this object must be built before the adapter opens its
pins), and "bridged" points it at the reset input pin, which then follows
every level the adapter drives — like a wire would.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from gpiozero.pins.mock import MockConnectedPin, MockFactory, MockPin

DEFAULT_PORT = 8766  # `edgectl di` uses the same default (edgectl/commands/di.py)

_CONTROL: web.AppKey[InputsControl] = web.AppKey("inputs_control")


class InputsControl:
    def __init__(self, factory: MockFactory, di_pins: Sequence[int], reset_pins: tuple[int, int] = (7, 8)) -> None:
        self.factory = factory
        self.di_pins = tuple(di_pins)
        self.reset_pins = reset_pins
        out_pin = factory.pin(reset_pins[0], pin_class=MockConnectedPin)
        if not isinstance(out_pin, MockConnectedPin):
            raise RuntimeError(
                f"GPIO {reset_pins[0]} already exists as a plain mock pin: build InputsControl before the GPIO adapter"
            )
        self._out: MockConnectedPin = out_pin
        self._in: MockPin = factory.pin(reset_pins[1])
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    # -- the wiring --------------------------------------------------------

    def set_input(self, channel: int, active: bool) -> None:
        """Drive DI `channel` (1-based) high (3.3 V, active) or low."""
        if not 1 <= channel <= len(self.di_pins):
            raise KeyError(channel)
        pin = self.factory.pin(self.di_pins[channel - 1])
        if active:
            pin.drive_high()
        else:
            pin.drive_low()

    def input_level(self, channel: int) -> bool:
        return bool(self.factory.pin(self.di_pins[channel - 1]).state)

    @property
    def bridged(self) -> bool:
        return self._out.input_pin is not None

    def set_bridge(self, bridged: bool) -> None:
        """Place (or remove) a wire from the reset output pin to the reset input pin."""
        if bridged:
            self._out.input_pin = self._in
            # The wire makes the input follow the level the output holds right now.
            self._in.drive_high() if self._out.state else self._in.drive_low()
        else:
            self._out.input_pin = None
            self._in.drive_low()  # released: the pull-down wins

    def snapshot(self) -> dict[str, Any]:
        return {
            "inputs": [
                {"channel": ch, "pin": pin, "active": self.input_level(ch)}
                for ch, pin in enumerate(self.di_pins, start=1)
            ],
            "reset_bridge": {"pins": list(self.reset_pins), "bridged": self.bridged},
        }

    # -- the HTTP endpoint -------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a loopback address (port 0: ephemeral); returns the base URL."""
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the inputs control endpoint listens on loopback only, not {host}")
        app = web.Application()
        app[_CONTROL] = self
        app.router.add_get("/di", _show)
        app.router.add_post("/di/{channel}", _set_input)
        app.router.add_post("/reset-bridge", _set_bridge)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{host}:{bound[1]}" if ":" not in host else f"http://[{host}]:{bound[1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _json_flag(request: web.Request, key: str) -> bool:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(text=f"body must be JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get(key), bool):
        raise web.HTTPBadRequest(text=f'body must be {{"{key}": true|false}}')
    return bool(body[key])


async def _show(request: web.Request) -> web.Response:
    return web.json_response(request.app[_CONTROL].snapshot())


async def _set_input(request: web.Request) -> web.Response:
    control = request.app[_CONTROL]
    try:
        channel = int(request.match_info["channel"])
    except ValueError as exc:
        raise web.HTTPNotFound(text="channel must be 1-3") from exc
    if not 1 <= channel <= len(control.di_pins):
        raise web.HTTPNotFound(text=f"no digital input {channel} (1-{len(control.di_pins)})")
    active = await _json_flag(request, "active")
    control.set_input(channel, active)
    return web.json_response({"channel": channel, "pin": control.di_pins[channel - 1], "active": active})


async def _set_bridge(request: web.Request) -> web.Response:
    control = request.app[_CONTROL]
    control.set_bridge(await _json_flag(request, "bridged"))
    return web.json_response({"pins": list(control.reset_pins), "bridged": control.bridged})
