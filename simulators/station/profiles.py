"""OCPP 1.6 smart-charging profiles as a charge point evaluates them (pure).

Rules (OCPP 1.6 §3.13 Smart Charging, §5.5 ClearChargingProfile, §5.7
GetCompositeSchedule, §5.16 SetChargingProfile), and the choices where the
standard is silent:

- Profiles live per connector; connector 0 means the whole station.
  ChargePointMaxProfile only on connector 0; TxProfile only on a connector > 0
  with an active transaction (and a matching transactionId if one is given);
  TxDefaultProfile on 0 (applies to every connector) or on one connector.
- A new profile replaces any installed profile with the same chargingProfileId
  (on any connector) and any profile on the same connector with the same
  purpose and stackLevel.
- A profile applies at t when validFrom <= t < validTo, its schedule has
  started, its duration has not elapsed, and a period covers t. Otherwise it
  gives no limit and the next lower stack level is tried, so an expired live
  profile falls back to the station's default by itself.
- Schedule start: Absolute = startSchedule (the time of receipt when absent);
  Recurring = startSchedule repeated every day/week; Relative = the start of
  the connector's transaction (or t itself without one).
- Effective limit of connector c at t = min(the top applying
  ChargePointMaxProfile, the top applying TxProfile of c — or, when none
  applies, the top applying TxDefaultProfile of c or of connector 0). At an
  equal stack level a connector-specific TxDefaultProfile beats connector 0's.
  Connector 0's own limit is the ChargePointMaxProfile alone.
- Limits are amps per phase; a schedule in W converts with 230 V x
  numberPhases (3 when absent).
- Ending a transaction removes the TxProfiles of its connector.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

VOLTAGE_V = 230.0
DEFAULT_PHASES = 3


class Purpose(StrEnum):
    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class Recurrency(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


_RECURRENCE_S = {Recurrency.DAILY: 86_400, Recurrency.WEEKLY: 7 * 86_400}


class ProfileError(ValueError):
    """A profile the station must answer `Rejected`; the message says why."""


@dataclass(frozen=True)
class Period:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class Schedule:
    unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    duration_s: int | None = None
    start: datetime | None = None
    min_rate: float | None = None


@dataclass(frozen=True)
class Profile:
    id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: Schedule
    recurrency: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | None = None


@dataclass(frozen=True)
class Limit:
    """What a connector may draw now: amps per phase, phases, and which profile said so."""

    limit_a: float
    number_phases: int | None
    source: str


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ProfileError(f"bad date-time {value!r}") from exc
    if dt.tzinfo is None:
        raise ProfileError(f"date-time {value!r} has no time zone")
    return dt


def _field(data: Mapping[str, Any], snake: str, camel: str) -> Any:
    # The ocpp library hands handlers snake_case keys; raw frames use camelCase.
    return data[snake] if snake in data else data.get(camel)


def parse_profile(data: Mapping[str, Any]) -> Profile:
    """Build a Profile from a csChargingProfiles object (snake_case or camelCase)."""
    try:
        sched = _field(data, "charging_schedule", "chargingSchedule")
        raw_periods = _field(sched, "charging_schedule_period", "chargingSchedulePeriod") or []
        periods = tuple(
            Period(
                start_s=int(_field(p, "start_period", "startPeriod")),
                limit=float(p["limit"]),
                number_phases=None
                if _field(p, "number_phases", "numberPhases") is None
                else int(_field(p, "number_phases", "numberPhases")),
            )
            for p in raw_periods
        )
        start_raw = _field(sched, "start_schedule", "startSchedule")
        duration = _field(sched, "duration", "duration")
        min_rate = _field(sched, "min_charging_rate", "minChargingRate")
        schedule = Schedule(
            unit=str(_field(sched, "charging_rate_unit", "chargingRateUnit")),
            periods=periods,
            duration_s=None if duration is None else int(duration),
            start=None if start_raw is None else parse_datetime(start_raw),
            min_rate=None if min_rate is None else float(min_rate),
        )
        recurrency = _field(data, "recurrency_kind", "recurrencyKind")
        valid_from = _field(data, "valid_from", "validFrom")
        valid_to = _field(data, "valid_to", "validTo")
        tx_id = _field(data, "transaction_id", "transactionId")
        return Profile(
            id=int(_field(data, "charging_profile_id", "chargingProfileId")),
            stack_level=int(_field(data, "stack_level", "stackLevel")),
            purpose=Purpose(_field(data, "charging_profile_purpose", "chargingProfilePurpose")),
            kind=Kind(_field(data, "charging_profile_kind", "chargingProfileKind")),
            schedule=schedule,
            recurrency=None if recurrency is None else Recurrency(recurrency),
            valid_from=None if valid_from is None else parse_datetime(valid_from),
            valid_to=None if valid_to is None else parse_datetime(valid_to),
            transaction_id=None if tx_id is None else int(tx_id),
        )
    except ProfileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"malformed charging profile: {exc}") from exc


def to_amps(limit: float, unit: str, number_phases: int | None) -> float:
    if unit == "W":
        return limit / (VOLTAGE_V * (number_phases or DEFAULT_PHASES))
    return limit


def _occurrence_start(p: Profile, t: datetime, relative_anchor: datetime) -> datetime | None:
    if p.kind is Kind.RELATIVE:
        return relative_anchor
    start = p.schedule.start
    if start is None:
        return None
    if p.kind is Kind.RECURRING and p.recurrency is not None:
        elapsed = (t - start).total_seconds()
        if elapsed < 0:
            return None
        every = _RECURRENCE_S[p.recurrency]
        return start + timedelta(seconds=every * (elapsed // every))
    return start


def period_at(p: Profile, t: datetime, relative_anchor: datetime) -> Period | None:
    """The schedule period of `p` covering t, or None when `p` does not apply at t."""
    if p.valid_from is not None and t < p.valid_from:
        return None
    if p.valid_to is not None and t >= p.valid_to:
        return None
    start = _occurrence_start(p, t, relative_anchor)
    if start is None:
        return None
    elapsed = (t - start).total_seconds()
    if elapsed < 0:
        return None
    if p.schedule.duration_s is not None and elapsed >= p.schedule.duration_s:
        return None
    for period in reversed(p.schedule.periods):
        if period.start_s <= elapsed:
            return period
    return None


@dataclass
class _Tx:
    transaction_id: int | None
    started: datetime


class ProfileStore:
    """The profiles installed on one station and the transactions they can bind to."""

    def __init__(
        self,
        connector_ids: Iterable[int],
        *,
        allowed_units: Iterable[str] = ("A",),
        max_stack_level: int = 8,
        max_periods: int = 24,
    ) -> None:
        self.connector_ids = {0, *connector_ids}
        self.allowed_units = set(allowed_units)
        self.max_stack_level = max_stack_level
        self.max_periods = max_periods
        self.installed: dict[int, list[Profile]] = {c: [] for c in self.connector_ids}
        self._tx: dict[int, _Tx] = {}

    # -- transactions ---------------------------------------------------------
    def start_transaction(self, connector_id: int, transaction_id: int | None, at: datetime) -> None:
        self._tx[connector_id] = _Tx(transaction_id, at)

    def bind_transaction_id(self, connector_id: int, transaction_id: int) -> None:
        # Offline starts learn their id only when the central system answers.
        if connector_id in self._tx:
            self._tx[connector_id].transaction_id = transaction_id

    def end_transaction(self, connector_id: int) -> None:
        self._tx.pop(connector_id, None)
        self.installed[connector_id] = [p for p in self.installed[connector_id] if p.purpose is not Purpose.TX]

    def has_transaction(self, connector_id: int) -> bool:
        return connector_id in self._tx

    # -- SetChargingProfile / ClearChargingProfile ----------------------------
    def check(self, connector_id: int, p: Profile) -> None:
        """Raise ProfileError if the station must reject `p` on `connector_id`."""
        if connector_id not in self.connector_ids:
            raise ProfileError(f"unknown connector {connector_id}")
        if not 0 <= p.stack_level <= self.max_stack_level:
            raise ProfileError(f"stackLevel {p.stack_level} outside 0..{self.max_stack_level}")
        if p.schedule.unit not in self.allowed_units:
            raise ProfileError(f"chargingRateUnit {p.schedule.unit} not supported")
        periods = p.schedule.periods
        if not periods or periods[0].start_s != 0:
            raise ProfileError("the first period must start at 0")
        if len(periods) > self.max_periods:
            raise ProfileError(f"more than {self.max_periods} periods")
        if any(b.start_s <= a.start_s for a, b in itertools.pairwise(periods)):
            raise ProfileError("periods must start in increasing order")
        if any(q.limit < 0 or q.number_phases not in (None, 1, 2, 3) for q in periods):
            raise ProfileError("a period has a negative limit or a bad numberPhases")
        if p.kind is Kind.RECURRING and (p.recurrency is None or p.schedule.start is None):
            raise ProfileError("a Recurring profile needs recurrencyKind and startSchedule")
        if p.purpose is Purpose.CHARGE_POINT_MAX and connector_id != 0:
            raise ProfileError("ChargePointMaxProfile only on connector 0")
        if p.purpose is Purpose.TX:
            if connector_id == 0:
                raise ProfileError("TxProfile needs a connector > 0")
            tx = self._tx.get(connector_id)
            if tx is None:
                raise ProfileError(f"no transaction on connector {connector_id}")
            if p.transaction_id is not None and tx.transaction_id not in (None, p.transaction_id):
                raise ProfileError(f"transaction {p.transaction_id} is not active on connector {connector_id}")

    def set(self, connector_id: int, p: Profile, now: datetime) -> None:
        """Install `p` (raises ProfileError to reject it)."""
        self.check(connector_id, p)
        if p.kind is Kind.ABSOLUTE and p.schedule.start is None:
            p = replace(p, schedule=replace(p.schedule, start=now))
        for c, profiles in self.installed.items():
            self.installed[c] = [
                q
                for q in profiles
                if q.id != p.id
                and not (c == connector_id and q.purpose == p.purpose and q.stack_level == p.stack_level)
            ]
        self.installed[connector_id].append(p)

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: Purpose | str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """ClearChargingProfile: True (Accepted) when something was removed, else Unknown."""
        removed = False
        for c, profiles in self.installed.items():
            keep = []
            for q in profiles:
                if profile_id is not None:
                    # An id names one profile; the other criteria are ignored (§5.5).
                    match = q.id == profile_id
                else:
                    match = (
                        (connector_id is None or c == connector_id)
                        and (purpose is None or q.purpose == purpose)
                        and (stack_level is None or q.stack_level == stack_level)
                    )
                removed |= match
                if not match:
                    keep.append(q)
            self.installed[c] = keep
        return removed

    # -- evaluation -------------------------------------------------------------
    def _top(self, candidates: list[Profile], t: datetime, anchor: datetime) -> tuple[Profile, Period] | None:
        # sorted() is stable: at an equal stack level the earlier candidate wins.
        for p in sorted(candidates, key=lambda q: -q.stack_level):
            period = period_at(p, t, anchor)
            if period is not None:
                return p, period
        return None

    def _limit(self, connector_id: int, t: datetime, anchor: datetime | None) -> Limit | None:
        tx = self._tx.get(connector_id)
        rel = tx.started if tx is not None else (anchor or t)
        found: list[tuple[Profile, Period]] = []
        cp_max = self._top([p for p in self.installed[0] if p.purpose is Purpose.CHARGE_POINT_MAX], t, rel)
        if cp_max:
            found.append(cp_max)
        if connector_id != 0:
            own = self.installed[connector_id]
            tx_top = self._top([p for p in own if p.purpose is Purpose.TX], t, rel)
            if tx_top is None:
                defaults = [p for p in own if p.purpose is Purpose.TX_DEFAULT]
                defaults += [p for p in self.installed[0] if p.purpose is Purpose.TX_DEFAULT]
                tx_top = self._top(defaults, t, rel)
            if tx_top:
                found.append(tx_top)
        if not found:
            return None
        best = min(found, key=lambda pp: to_amps(pp[1].limit, pp[0].schedule.unit, pp[1].number_phases))
        p, period = best
        return Limit(
            limit_a=to_amps(period.limit, p.schedule.unit, period.number_phases),
            number_phases=period.number_phases,
            source=f"{p.purpose.value}#{p.id}@{p.stack_level}",
        )

    def limit_at(self, connector_id: int, t: datetime) -> Limit | None:
        """The effective limit of a connector at t; None means no profile limits it."""
        return self._limit(connector_id, t, None)

    def _breakpoints(self, connector_id: int, start: datetime, end: datetime, rel: datetime) -> list[datetime]:
        points = {start}
        profiles = self.installed[0] + (self.installed[connector_id] if connector_id else [])
        for p in profiles:
            points.update(d for d in (p.valid_from, p.valid_to) if d is not None)
            if p.kind is Kind.RELATIVE:
                occurrences = [rel]
            elif p.kind is Kind.RECURRING and p.recurrency is not None and p.schedule.start is not None:
                every = timedelta(seconds=_RECURRENCE_S[p.recurrency])
                first = _occurrence_start(p, max(start, p.schedule.start), rel) or p.schedule.start
                occurrences = []
                while first < end:
                    occurrences.append(first)
                    first += every
            else:
                occurrences = [p.schedule.start] if p.schedule.start else []
            for s in occurrences:
                points.update(s + timedelta(seconds=q.start_s) for q in p.schedule.periods)
                if p.schedule.duration_s is not None:
                    points.add(s + timedelta(seconds=p.schedule.duration_s))
        return sorted(d for d in points if start <= d < end)

    def composite(
        self, connector_id: int, start: datetime, duration_s: int, unit: str, hardware_limit_a: float
    ) -> Schedule:
        """GetCompositeSchedule: the limits the station will apply over [start, start+duration).

        Stretches without any applying profile report the hardware limit.
        """
        end = start + timedelta(seconds=duration_s)
        tx = self._tx.get(connector_id)
        rel = tx.started if tx is not None else start
        periods: list[Period] = []
        for point in self._breakpoints(connector_id, start, end, rel):
            lim = self._limit(connector_id, point, rel)
            amps = hardware_limit_a if lim is None else min(lim.limit_a, hardware_limit_a)
            phases = None if lim is None else lim.number_phases
            value = amps * VOLTAGE_V * (phases or DEFAULT_PHASES) if unit == "W" else amps
            value = round(value, 1)
            if periods and periods[-1].limit == value and periods[-1].number_phases == phases:
                continue
            periods.append(Period(int((point - start).total_seconds()), value, phases))
        return Schedule(unit=unit, periods=tuple(periods), duration_s=duration_s, start=start)


def schedule_to_ocpp(s: Schedule) -> dict[str, Any]:
    """A Schedule as the snake_case dict the ocpp library turns into a chargingSchedule."""
    out: dict[str, Any] = {
        "charging_rate_unit": s.unit,
        "charging_schedule_period": [
            {"start_period": q.start_s, "limit": q.limit}
            | ({"number_phases": q.number_phases} if q.number_phases else {})
            for q in s.periods
        ],
    }
    if s.duration_s is not None:
        out["duration"] = s.duration_s
    if s.start is not None:
        out["start_schedule"] = s.start.isoformat()
    return out
