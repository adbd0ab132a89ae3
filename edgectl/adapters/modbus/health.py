"""Meter health: a small pure state machine, one per meter.

Rules of this module:
- States: `not_connected` (never had a good sample since start), `connected`
  (the last poll gave a good sample), `connection_error` (the last poll failed:
  no answer, exception response, wrong length, garbage ...).
- One failed poll is enough to leave `connected`: stale data means less
  current, never more, so we do not wait for a second opinion.
- Transitions are what gets logged: `meter.lost` when failures start,
  `meter.recovered` once on the first good sample after that. The tracker
  returns the event name; the caller logs it (this module does no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class HealthState(StrEnum):
    CONNECTED = "connected"
    NOT_CONNECTED = "not_connected"
    CONNECTION_ERROR = "connection_error"


LOST = "meter.lost"
RECOVERED = "meter.recovered"


@dataclass(frozen=True, slots=True)
class MeterHealth:
    meter_id: str
    state: HealthState = HealthState.NOT_CONNECTED
    last_error: str | None = None
    last_good_at: datetime | None = None  # sampled_at of the last published reading
    last_attempt_at: datetime | None = None
    failing_since: datetime | None = None
    consecutive_failures: int = 0

    def sample_age_s(self, now: datetime) -> float | None:
        """Seconds since the last good sample (None: never had one)."""
        if self.last_good_at is None:
            return None
        return (now - self.last_good_at).total_seconds()

    def is_stale(self, now: datetime, max_age_s: float) -> bool:
        """True when the consumer must not use this meter's last reading any more."""
        age = self.sample_age_s(now)
        return age is None or age > max_age_s


class HealthTracker:
    def __init__(self, meter_id: str) -> None:
        self._health = MeterHealth(meter_id)

    @property
    def health(self) -> MeterHealth:
        return self._health

    def success(self, now: datetime) -> str | None:
        previous = self._health.state
        self._health = replace(
            self._health,
            state=HealthState.CONNECTED,
            last_error=None,
            last_good_at=now,
            last_attempt_at=now,
            failing_since=None,
            consecutive_failures=0,
        )
        return RECOVERED if previous is HealthState.CONNECTION_ERROR else None

    def failure(self, now: datetime, error: str) -> str | None:
        previous = self._health.state
        self._health = replace(
            self._health,
            state=HealthState.CONNECTION_ERROR,
            last_error=error,
            last_attempt_at=now,
            failing_since=self._health.failing_since or now,
            consecutive_failures=self._health.consecutive_failures + 1,
        )
        return LOST if previous is not HealthState.CONNECTION_ERROR else None
