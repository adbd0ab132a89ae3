"""SPEC §2 "Time-of-use": % of max kept while a period applies, local time of
the site's time zone (DST-correct), slots past midnight, per-zone disable,
overlapping periods -> lowest %."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edgectl.core.site import Tou

from .build import limit, period, result, run, setpoints, site, snap, station, zone, zres


def _site(*periods, enabled=True, tz="Europe/Paris", zones=None):
    zs = zones or [zone("z", 100)]
    return site(zs, [station("A", zs[-1].id)], tou=Tou(enabled, tuple(periods)), timezone=tz)


def _limit_at(s, when, zid="z"):
    alloc, _ = run(s, snap(s, {("A", 1): 0}, at=when))
    return limit(alloc, zid)[0]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_spec_example_90_percent_of_150_is_135():
    s = _site(period("on-peak", 90, [("08:00", "12:00")]), zones=[zone("z", 150)])
    alloc, _ = run(s, snap(s, {("A", 1): 0}, at=utc(2026, 11, 23, 9, 0)))  # 10:00 Paris
    assert limit(alloc, "z") == (135, 135, 135)
    assert "tou:on-peak" in zres(alloc, "z").limited_by


def test_zero_percent_suspends_all_charging_in_the_zone():
    s = _site(period("blackout", 0, [("08:00", "12:00")]))
    alloc, _ = run(s, snap(s, {("A", 1): 0}, at=utc(2026, 11, 23, 9, 0)))
    assert setpoints(alloc)[("A", 1)] == 0
    assert result(alloc, ("A", 1)).state == "suspended"


@pytest.mark.parametrize(
    ("local_hhmm", "expected"),
    [("07:59", 100), ("08:00", 50), ("11:59", 50), ("12:00", 100)],
)
def test_slot_is_start_inclusive_end_exclusive(local_hhmm, expected):
    s = _site(period("p", 50, [("08:00", "12:00")]), tz="UTC")
    h, m = map(int, local_hhmm.split(":"))
    assert _limit_at(s, utc(2026, 11, 23, h, m)) == expected


def test_week_days_filter():
    s = _site(period("weekdays", 50, [("08:00", "12:00")], days=["mon", "tue", "wed", "thu", "fri"]), tz="UTC")
    assert _limit_at(s, utc(2026, 11, 23, 9, 0)) == 50  # Monday
    assert _limit_at(s, utc(2026, 11, 22, 9, 0)) == 100  # Sunday


def test_local_weekday_and_time_not_utc():
    # Sunday 23:30 UTC is Monday 00:30 in Paris (CET, UTC+1).
    s = _site(period("monday-night", 40, [("00:00", "01:00")], days=["mon"]))
    assert _limit_at(s, utc(2026, 11, 22, 23, 30)) == 40
    assert _limit_at(s, utc(2026, 11, 23, 0, 30)) == 100  # Monday 01:30 local


def test_dst_spring_forward_last_sunday_of_march():
    # 2026-03-29: 02:00 CET -> 03:00 CEST. 06:30 UTC is 08:30 local (not 07:30).
    s = _site(period("sunday-morning", 50, [("08:00", "12:00")], days=["sun"]))
    assert _limit_at(s, utc(2026, 3, 29, 6, 30)) == 50
    assert _limit_at(s, utc(2026, 3, 29, 5, 59)) == 100  # 07:59 CEST
    assert _limit_at(s, utc(2026, 3, 29, 10, 0)) == 100  # 12:00 CEST
    assert _limit_at(s, utc(2026, 3, 22, 7, 30)) == 50  # a week earlier, CET: 08:30


def test_dst_fall_back_last_sunday_of_october():
    # 2026-10-25: 03:00 CEST -> 02:00 CET. 06:30 UTC is 07:30 local (not 08:30).
    s = _site(period("sunday-morning", 50, [("08:00", "12:00")], days=["sun"]))
    assert _limit_at(s, utc(2026, 10, 25, 6, 30)) == 100
    assert _limit_at(s, utc(2026, 10, 25, 7, 0)) == 50  # 08:00 CET
    assert _limit_at(s, utc(2026, 10, 25, 10, 59)) == 50  # 11:59 CET
    assert _limit_at(s, utc(2026, 10, 18, 6, 30)) == 50  # a week earlier, CEST: 08:30


def test_dst_night_slot_across_the_repeated_hour():
    # 01:00-04:00 local on the fall-back night lasts four real hours.
    s = _site(period("night", 30, [("01:00", "04:00")]))
    assert _limit_at(s, utc(2026, 10, 24, 23, 30)) == 30  # 01:30 CEST
    assert _limit_at(s, utc(2026, 10, 25, 0, 30)) == 30  # 02:30 CEST
    assert _limit_at(s, utc(2026, 10, 25, 1, 30)) == 30  # 02:30 CET (again)
    assert _limit_at(s, utc(2026, 10, 25, 2, 30)) == 30  # 03:30 CET
    assert _limit_at(s, utc(2026, 10, 25, 3, 0)) == 100  # 04:00 CET


@pytest.mark.parametrize(
    ("hh", "mm", "expected"),
    [(21, 59, 100), (22, 0, 60), (23, 59, 60), (0, 0, 60), (3, 0, 60), (5, 59, 60), (6, 0, 100), (12, 0, 100)],
)
def test_slot_over_midnight(hh, mm, expected):
    s = _site(period("night", 60, [("22:00", "06:00")]), tz="UTC")
    assert _limit_at(s, utc(2026, 11, 24, hh, mm)) == expected


def test_slot_over_midnight_starts_on_its_listed_day():
    s = _site(period("mon-night", 60, [("22:00", "06:00")], days=["mon"]), tz="UTC")
    assert _limit_at(s, utc(2026, 11, 23, 23, 0)) == 60  # Monday 23:00
    assert _limit_at(s, utc(2026, 11, 22, 23, 0)) == 100  # Sunday 23:00


def test_overlapping_periods_lowest_percent_wins():
    s = _site(period("a", 80, [("08:00", "12:00")]), period("b", 40, [("10:00", "14:00")]), tz="UTC")
    assert _limit_at(s, utc(2026, 11, 23, 9, 0)) == 80
    assert _limit_at(s, utc(2026, 11, 23, 11, 0)) == 40
    assert _limit_at(s, utc(2026, 11, 23, 13, 0)) == 40
    assert _limit_at(s, utc(2026, 11, 23, 15, 0)) == 100


def test_several_slots_in_one_period():
    s = _site(period("p", 50, [("08:00", "12:00"), ("14:00", "19:30")]), tz="UTC")
    assert _limit_at(s, utc(2026, 11, 23, 13, 0)) == 100
    assert _limit_at(s, utc(2026, 11, 23, 19, 29)) == 50
    assert _limit_at(s, utc(2026, 11, 23, 19, 30)) == 100


def test_tou_disabled_globally_or_per_period():
    p = period("p", 50, [("00:00", "23:59")])
    assert _limit_at(_site(p, enabled=False), utc(2026, 11, 23, 9, 0)) == 100
    off = period("p", 50, [("00:00", "23:59")], enabled=False)
    assert _limit_at(_site(off), utc(2026, 11, 23, 9, 0)) == 100


def test_tou_disabled_per_zone_and_restricted_to_listed_zones():
    zones = [zone("main", 200), zone("a", 100, parent="main", tou=False), zone("b", 100, parent="main")]
    s = site(
        zones,
        [station("A", "a"), station("B", "b")],
        tou=Tou(True, (period("p", 50, [("00:00", "23:59")], zones=["a", "b"]),)),
        timezone="UTC",
    )
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 0}, at=utc(2026, 11, 23, 9, 0)))
    assert limit(alloc, "a") == (100, 100, 100)  # disabled on the zone
    assert limit(alloc, "b") == (50, 50, 50)
    assert limit(alloc, "main") == (200, 200, 200)  # not listed by the period


def test_tou_on_parent_bounds_children():
    zones = [zone("main", 100), zone("a", 100, parent="main")]
    s = site(
        zones,
        [station("A", "a"), station("B", "a")],
        tou=Tou(True, (period("p", 20, [("00:00", "23:59")], zones=["main"]),)),
        timezone="UTC",
    )
    alloc, _ = run(s, snap(s, {("A", 1): 0, ("B", 1): 1}, at=utc(2026, 11, 23, 9, 0)))
    assert limit(alloc, "main") == (20, 20, 20)
    assert setpoints(alloc) == {("A", 1): 10, ("B", 1): 10}
