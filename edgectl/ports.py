"""The small interfaces between the adapters and the control loop.

Adapters depend on these Protocols, never on edgectl.control: the OCPP
adapter reports what stations say through a `StationObserver` and offers
`StationCalls` for what the controller says to them; the meter and input
adapters report through `MeterObserver` / `InputObserver`. The control loop
implements the observers and holds a `StationCalls`.

Observers are synchronous and cheap: they only record the latest value and
wake the loop. They never do I/O, so an adapter may call them from inside a
message handler.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from edgectl.core.phases import Phases
from edgectl.core.result import Allocation
from edgectl.core.snapshot import MeterReading, Snapshot


class StationNotConnectedError(Exception):
    """The station has no live connection to the box."""


class CallTimeoutError(Exception):
    """The station did not answer a call in time."""


class CallRejectedError(Exception):
    """The station answered a call with a CALLERROR."""

    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description


class EncodedPayload(str):
    """A CALL payload already encoded as one JSON object (compact text).

    The applier pre-encodes its SetChargingProfile payloads (a zone step
    sends a thousand at once); `StationCalls.start_call` puts the text in the
    frame as it is."""

    __slots__ = ()


def payload_dict(payload: dict[str, Any] | EncodedPayload) -> dict[str, Any]:
    """The payload as a dict, whichever form it came in (for fakes and logs)."""
    if isinstance(payload, EncodedPayload):
        decoded: dict[str, Any] = json.loads(payload)
        return decoded
    return payload


class StationObserver(Protocol):
    def station_connected(self, station_id: str) -> None:
        """A *registered* station (re)connected and was accepted."""

    def station_disconnected(self, station_id: str) -> None: ...

    def connector_status(self, station_id: str, connector_id: int, status: str, error_code: str = "NoError") -> None:
        """A StatusNotification (connector 0 is the station itself)."""

    def transaction_started(
        self,
        station_id: str,
        connector_id: int,
        transaction_id: int,
        id_tag: str,
        started: datetime,
        meter_start_wh: float,
    ) -> None: ...

    def meter_values(
        self,
        station_id: str,
        connector_id: int,
        transaction_id: int | None,
        energy_wh: float | None,
        current_a: Phases | None,
        power_w: float | None = None,
        soc_percent: float | None = None,
        offered_a: float | None = None,
    ) -> None:
        """Latest readings; `current_a` per *station-side* phase; `energy_wh`
        is the session's delivered energy (register minus meter start)."""

    def transaction_stopped(self, station_id: str, connector_id: int, transaction_id: int) -> None: ...


class StationCalls(Protocol):
    """Calls from the box to a station. One call in flight per station."""

    def connected(self) -> frozenset[str]:
        """Identities of the stations connected and accepted right now."""
        ...

    async def call(
        self, station_id: str, action: str, payload: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Send an OCPP 1.6 CALL (action as in the spec, e.g. "SetChargingProfile",
        payload in camelCase as on the wire) and return the CALLRESULT payload.

        Raises StationNotConnectedError, CallTimeoutError or CallRejectedError.
        """
        ...

    def start_call(
        self, station_id: str, action: str, payload: dict[str, Any] | EncodedPayload, timeout_s: float
    ) -> Awaitable[dict[str, Any]]:
        """Like `call`, but the CALL goes out before this returns when the
        station has nothing in flight (else it queues, as `call` does); await
        the result for the answer. Lets one loop hand a thousand stations
        their commands without a task each. Never raises itself: the result
        carries the errors `call` would raise.
        """
        ...


class MeterObserver(Protocol):
    def meter_reading(self, meter_id: str, reading: MeterReading) -> None: ...

    def meter_failed(self, meter_id: str, error: str) -> None: ...


class InputObserver(Protocol):
    def digital_input(self, channel: int, active: bool) -> None: ...


# --- for the web/REST layer and the station-management service -----------------


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a remote command got: the station's answer, or why there is none."""

    station_id: str
    command: str
    status: str  # the station's status ("Accepted", "Rejected", ...) or "Timeout" / "NotConnected" / "Error"
    payload: dict[str, Any] = field(default_factory=dict)  # the full CALLRESULT payload, if any
    error: str | None = None


class CommandError(ValueError):
    """A command that cannot be sent as asked (unknown command, bad parameters)."""


class StationCommands(Protocol):
    """Remote commands an operator (web, API, CLI) sends to a station.

    `command` is one of: remote_start, remote_stop, force_stop, soft_reset,
    hard_reset, unlock, set_available, set_unavailable, clear_cache,
    get_configuration, change_configuration, trigger_message, reserve_now,
    cancel_reservation, update_firmware, get_diagnostics, maintenance_report.
    Every call is recorded in the event log with `actor` (who asked).
    """

    async def execute(self, station_id: str, command: str, params: dict[str, Any], actor: str) -> CommandResult: ...


class LiveStatus(Protocol):
    """The running controller as the web layer sees it (read side + remote setpoints)."""

    def allocation(self) -> Allocation | None:
        """The last cycle's allocation (None before the first cycle)."""
        ...

    def snapshot(self) -> Snapshot:
        """What the controller observes right now."""
        ...

    def connected_stations(self) -> frozenset[str]: ...

    def meter_health(self) -> dict[str, dict[str, Any]]:
        """Per meter: state (connected / not_connected / connection_error), last_error, sample_age_s."""
        ...

    def subscribe(self, callback: Callable[[Allocation], None]) -> Callable[[], None]:
        """Call `callback` after every cycle; returns the unsubscribe function."""
        ...

    def set_remote_setpoint(self, zone_id: str, amps: float | None) -> None:
        """Cap a zone (remote energy management); None returns it to local control."""
        ...
