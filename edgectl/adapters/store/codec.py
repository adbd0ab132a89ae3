"""Conversions between Python values and the columns of the store.

Range-queried instants are stored as integer microseconds since the epoch
(UTC): they sort and compare as numbers and cannot drift in format. They must
be timezone-aware: a naive instant in a CDR would be ambiguous forever.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} cannot be stored as an instant")
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def to_us_opt(at: datetime | None) -> int | None:
    return None if at is None else to_us(at)


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def from_us_opt(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


def dt_text(at: datetime | None) -> str | None:
    """ISO text that keeps the value exactly (naive stays naive, the offset stays)."""
    return None if at is None else at.isoformat()


def dt_from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def date_text(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def date_from_text(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def time_text(t: time) -> str:
    return t.isoformat()


def time_from_text(text: str) -> time:
    return time.fromisoformat(text)


def opt_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)
