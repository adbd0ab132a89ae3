"""`StationObserverTee`: one `StationObserver` that reports to several.

The OCPP server takes one observer; the control loop and the alarm monitor
both listen. Each receiver is called in order; one that raises is logged
and does not keep the others from hearing (the OCPP adapter's SafeObserver
only guards the whole tee).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from edgectl.core.phases import Phases
from edgectl.ports import StationObserver

log = structlog.get_logger(__name__)


class StationObserverTee:
    def __init__(self, *observers: StationObserver) -> None:
        self._observers = observers

    def _each(self, method: str, *args: Any) -> None:
        for observer in self._observers:
            try:
                getattr(observer, method)(*args)
            except Exception:
                log.exception("observer.failed", method=method, observer=type(observer).__name__)

    def station_connected(self, station_id: str) -> None:
        self._each("station_connected", station_id)

    def station_disconnected(self, station_id: str) -> None:
        self._each("station_disconnected", station_id)

    def connector_status(self, station_id: str, connector_id: int, status: str, error_code: str = "NoError") -> None:
        self._each("connector_status", station_id, connector_id, status, error_code)

    def transaction_started(
        self, station_id: str, connector_id: int, transaction_id: int, id_tag: str, started: datetime,
        meter_start_wh: float,
    ) -> None:
        self._each("transaction_started", station_id, connector_id, transaction_id, id_tag, started, meter_start_wh)

    def meter_values(
        self, station_id: str, connector_id: int, transaction_id: int | None, energy_wh: float | None,
        current_a: Phases | None, power_w: float | None = None, soc_percent: float | None = None,
        offered_a: float | None = None,
    ) -> None:
        self._each(
            "meter_values", station_id, connector_id, transaction_id, energy_wh, current_a, power_w, soc_percent,
            offered_a,
        )

    def transaction_stopped(self, station_id: str, connector_id: int, transaction_id: int) -> None:
        self._each("transaction_stopped", station_id, connector_id, transaction_id)
