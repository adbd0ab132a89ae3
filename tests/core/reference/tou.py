"""Time-of-use: which period caps a zone at a given instant.

Rules (SPEC §2 "Time-of-use"):
- the instant is converted to the site's local time (zoneinfo, so DST is
  right on both transition days: no slot runs twice or is skipped wrongly);
- a slot is [start, end) in local wall time on a listed weekday; a slot whose
  end is not after its start runs past midnight into the next day, and that
  tail belongs to the weekday the slot started on;
- a period applies to the zones it lists (all when it lists none) unless the
  zone has time-of-use disabled, and only while the period and TOU are enabled;
- overlapping periods: the lowest percent wins (ties: every name is reported).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from edgectl.core.site import WEEKDAYS, Tou, TouPeriod, Zone


@cache
def _zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(instant: datetime, timezone: str) -> datetime:
    return instant.astimezone(_zone_info(timezone))


def _in_period(period: TouPeriod, local: datetime) -> bool:
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local - timedelta(days=1)).weekday()]
    now = time(local.hour, local.minute, local.second)
    for slot in period.slots:
        if slot.start < slot.end:
            if today in period.days and slot.start <= now < slot.end:
                return True
        else:  # past midnight
            if today in period.days and now >= slot.start:
                return True
            if yesterday in period.days and now < slot.end:
                return True
    return False


def active_tou(tou: Tou, zone: Zone, local: datetime) -> tuple[int, tuple[str, ...]] | None:
    """(percent, period names) capping `zone` at local time, or None."""
    if not tou.enabled or not zone.tou_enabled:
        return None
    best: int | None = None
    names: list[str] = []
    for period in tou.periods:
        if not period.enabled:
            continue
        if period.zones is not None and zone.id not in period.zones:
            continue
        if not _in_period(period, local):
            continue
        if best is None or period.percent < best:
            best, names = period.percent, [period.name]
        elif period.percent == best:
            names.append(period.name)
    return None if best is None else (best, tuple(names))
