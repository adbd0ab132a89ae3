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

from datetime import datetime
from typing import Any, Protocol

from edgectl.core.phases import Phases
from edgectl.core.snapshot import MeterReading


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


class MeterObserver(Protocol):
    def meter_reading(self, meter_id: str, reading: MeterReading) -> None: ...

    def meter_failed(self, meter_id: str, error: str) -> None: ...


class InputObserver(Protocol):
    def digital_input(self, channel: int, active: bool) -> None: ...
