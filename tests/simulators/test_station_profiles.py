"""Smart-charging rules of the simulated station (pure profiles.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.station.profiles import (
    Kind,
    Period,
    Profile,
    ProfileError,
    ProfileStore,
    Purpose,
    Recurrency,
    Schedule,
    parse_profile,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def prof(
    pid: int, purpose: Purpose, stack: int, limit: float, *, kind: Kind = Kind.ABSOLUTE, start: float | None = 0,
    duration: int | None = None, valid_from: float | None = None, valid_to: float | None = None,
    periods: list[tuple[int, float]] | None = None, unit: str = "A", recurrency: Recurrency | None = None,
    phases: int | None = None,
) -> Profile:
    return Profile(
        id=pid, stack_level=stack, purpose=purpose, kind=kind, recurrency=recurrency,
        schedule=Schedule(unit, tuple(Period(s, lim, phases) for s, lim in (periods or [(0, limit)])),
                          duration, None if start is None else at(start)),
        valid_from=None if valid_from is None else at(valid_from),
        valid_to=None if valid_to is None else at(valid_to),
    )


def store(*installed: tuple[int, Profile], tx: tuple[int, ...] = (1,)) -> ProfileStore:
    s = ProfileStore([1, 2], allowed_units=("A", "W"))
    for c in tx:
        s.start_transaction(c, 100 + c, T0)
    for connector, p in installed:
        s.set(connector, p, T0)
    return s


def lim(s: ProfileStore, c: int, t: float) -> float | None:
    got = s.limit_at(c, at(t))
    return None if got is None else got.limit_a


CPMAX, TXD, TX = Purpose.CHARGE_POINT_MAX, Purpose.TX_DEFAULT, Purpose.TX

# (case, installed profiles, connector, t, expected limit)
CASES: list[tuple[str, list[tuple[int, Profile]], int, float, float | None]] = [
    ("nothing installed: no limit", [], 1, 10, None),
    ("default on connector 0 applies to every connector", [(0, prof(1, TXD, 0, 16))], 2, 10, 16),
    ("TxProfile overrides the default, even lower stack",
     [(0, prof(1, TXD, 5, 16)), (1, prof(2, TX, 1, 20))], 1, 10, 20),
    ("ChargePointMax caps the TxProfile", [(0, prof(1, CPMAX, 0, 12)), (1, prof(2, TX, 1, 20))], 1, 10, 12),
    ("ChargePointMax alone limits connector 0", [(0, prof(1, CPMAX, 0, 40))], 0, 10, 40),
    ("live TxProfile before validTo", [(0, prof(1, TXD, 0, 6)), (1, prof(2, TX, 8, 10, valid_to=3))], 1, 2.9, 10),
    ("live TxProfile expired: falls back to the default",
     [(0, prof(1, TXD, 0, 6)), (1, prof(2, TX, 8, 10, valid_to=3))], 1, 3.0, 6),
    ("schedule duration over: falls back", [(0, prof(1, TXD, 0, 6)), (1, prof(2, TX, 8, 10, duration=60))], 1, 60, 6),
    ("higher stack default without covering period: next lower applies",
     [(0, prof(1, TXD, 0, 6)), (0, prof(2, TXD, 3, 25, start=100))], 1, 50, 6),
    ("higher stack default once its schedule starts", [(0, prof(1, TXD, 0, 6)), (0, prof(2, TXD, 3, 25, start=100))],
     1, 100, 25),
    ("not yet valid", [(0, prof(1, TXD, 0, 6)), (0, prof(2, TXD, 3, 25, valid_from=30))], 1, 29, 6),
    ("periods step", [(0, prof(1, TXD, 0, 0, periods=[(0, 16), (60, 8), (120, 0)]))], 1, 90, 8),
    ("last period holds without duration", [(0, prof(1, TXD, 0, 0, periods=[(0, 16), (60, 8)]))], 1, 9999, 8),
    ("connector default beats connector 0 at equal stack",
     [(0, prof(1, TXD, 2, 16)), (1, prof(2, TXD, 2, 10))], 1, 5, 10),
    ("connector-0 default at a higher stack beats the connector's",
     [(0, prof(1, TXD, 4, 16)), (1, prof(2, TXD, 2, 10))], 1, 5, 16),
    ("relative TxProfile runs from the transaction start",
     [(1, prof(2, TX, 1, 0, kind=Kind.RELATIVE, start=None, periods=[(0, 20), (30, 7)]))], 1, 45, 7),
    ("daily recurring: second day, same offset",
     [(0, prof(1, TXD, 0, 0, kind=Kind.RECURRING, recurrency=Recurrency.DAILY, duration=86400,
                periods=[(0, 10), (3600, 20)]))], 1, 86400 + 3700, 20),
    ("weekly recurring before its first start: no limit",
     [(0, prof(1, TXD, 0, 9, kind=Kind.RECURRING, recurrency=Recurrency.WEEKLY, start=50))], 1, 10, None),
    ("W converts with 230 V x phases", [(0, prof(1, TXD, 0, 6900, unit="W", phases=3))], 1, 0, 10),
    ("W without numberPhases assumes three", [(0, prof(1, TXD, 0, 2300 * 3, unit="W"))], 1, 0, 10),
    ("same purpose+stack replaces", [(0, prof(1, TXD, 2, 16)), (0, prof(2, TXD, 2, 11))], 1, 0, 11),
    ("same id replaces across connectors", [(0, prof(1, TXD, 2, 16)), (1, prof(1, TXD, 0, 13))], 2, 0, None),
]


@pytest.mark.parametrize(("case", "installed", "connector", "t", "expected"), CASES, ids=[c[0] for c in CASES])
def test_effective_limit(case: str, installed: list[tuple[int, Profile]], connector: int, t: float,
                         expected: float | None) -> None:
    got = lim(store(*installed), connector, t)
    assert got == (None if expected is None else pytest.approx(expected))


REJECTIONS: list[tuple[str, int, Profile, tuple[int, ...]]] = [
    ("TxProfile without a transaction", 2, prof(1, TX, 0, 10), (1,)),
    ("TxProfile on connector 0", 0, prof(1, TX, 0, 10), (1,)),
    ("unknown connector", 7, prof(1, TXD, 0, 10), (1,)),
    ("ChargePointMax on a connector", 1, prof(1, CPMAX, 0, 10), (1,)),
    ("stack level above the maximum", 1, prof(1, TXD, 9, 10), (1,)),
    ("first period not at 0", 1, prof(1, TXD, 0, 0, periods=[(5, 10)]), (1,)),
    ("periods out of order", 1, prof(1, TXD, 0, 0, periods=[(0, 10), (60, 8), (30, 6)]), (1,)),
    ("recurring without recurrencyKind", 1, prof(1, TXD, 0, 10, kind=Kind.RECURRING), (1,)),
    ("negative limit", 1, prof(1, TXD, 0, -1), (1,)),
]


@pytest.mark.parametrize(("case", "connector", "profile", "tx"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejected(case: str, connector: int, profile: Profile, tx: tuple[int, ...]) -> None:
    with pytest.raises(ProfileError):
        store(tx=tx).set(connector, profile, T0)


def test_unit_not_supported_is_rejected() -> None:
    s = ProfileStore([1], allowed_units=("A",))
    with pytest.raises(ProfileError, match="chargingRateUnit"):
        s.set(1, prof(1, TXD, 0, 6900, unit="W"), T0)


def test_txprofile_for_another_transaction_is_rejected() -> None:
    p = prof(1, TX, 0, 10)
    p = Profile(**{**p.__dict__, "transaction_id": 999})
    with pytest.raises(ProfileError, match="not active"):
        store().set(1, p, T0)


def test_end_of_transaction_removes_its_txprofiles_only() -> None:
    s = store((0, prof(1, TXD, 0, 6)), (1, prof(2, TX, 5, 20)))
    s.end_transaction(1)
    assert [p.id for p in s.installed[1]] == []
    assert lim(s, 1, 5) == 6


def test_clear_by_id_connector_purpose_stack() -> None:
    s = store((0, prof(1, TXD, 0, 6)), (0, prof(2, CPMAX, 0, 40)), (1, prof(3, TX, 5, 20)), (1, prof(4, TXD, 3, 8)))
    assert not s.clear(profile_id=99)
    assert s.clear(profile_id=3, connector_id=2)  # an id ignores the other criteria
    assert s.clear(purpose="ChargePointMaxProfile")
    assert s.clear(connector_id=1, stack_level=3)
    assert [p.id for c in s.installed.values() for p in c] == [1]
    assert s.clear()
    assert lim(s, 1, 0) is None


def test_absolute_without_start_starts_at_receipt() -> None:
    s = ProfileStore([1])
    s.set(1, prof(1, TXD, 0, 0, start=None, periods=[(0, 16), (60, 8)]), at(100))
    assert lim(s, 1, 150) == 16 and lim(s, 1, 161) == 8


def test_composite_schedule_shows_expiry_fallback() -> None:
    s = store((0, prof(1, TXD, 0, 6)), (0, prof(9, CPMAX, 0, 20)), (1, prof(2, TX, 8, 10, valid_to=30)))
    comp = s.composite(1, at(0), 120, "A", hardware_limit_a=32)
    assert [(p.start_s, p.limit) for p in comp.periods] == [(0, 10), (30, 6)]
    comp_w = s.composite(1, at(0), 120, "W", hardware_limit_a=32)
    assert comp_w.periods[0].limit == pytest.approx(10 * 230 * 3)
    assert [(p.start_s, p.limit) for p in s.composite(2, at(0), 60, "A", 32).periods] == [(0, 6)]
    assert [(p.start_s, p.limit) for p in s.composite(0, at(0), 60, "A", 64).periods] == [(0, 20)]


def test_parse_accepts_wire_camel_case() -> None:
    raw: dict[str, Any] = {
        "chargingProfileId": 7, "stackLevel": 2, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "validTo": "2026-01-05T09:00:00Z",
        "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": "2026-01-05T08:00:00+00:00",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 1}]},
    }
    p = parse_profile(raw)
    assert (p.id, p.stack_level, p.valid_to, p.schedule.periods[0].number_phases) == (7, 2, at(3600), 1)
    with pytest.raises(ProfileError):
        parse_profile({"chargingProfileId": 1})


# -- property: the effective limit is min(top ChargePointMax, top Tx/TxDefault) ----

profile_st = st.builds(
    lambda pid, purpose, stack, limit, start, dur, vto: (purpose, prof(
        pid, purpose, stack, limit, start=start, duration=dur, valid_to=vto)),
    st.integers(1, 50), st.sampled_from([CPMAX, TXD, TX]), st.integers(0, 8), st.integers(0, 63),
    st.integers(0, 100), st.none() | st.integers(1, 200), st.none() | st.integers(1, 200),
)


def _applies(p: Profile, t: datetime) -> bool:
    start = p.schedule.start
    assert start is not None
    return (p.valid_to is None or t < p.valid_to) and start <= t and (
        p.schedule.duration_s is None or (t - start).total_seconds() < p.schedule.duration_s)


@settings(max_examples=300, deadline=None)
@given(st.lists(profile_st, max_size=8), st.integers(0, 250))
def test_limit_is_min_of_top_valid_profiles(profiles: list[tuple[Purpose, Profile]], t_s: int) -> None:
    s = ProfileStore([1])
    s.start_transaction(1, 1, T0)
    for purpose, p in profiles:
        s.set(0 if purpose is CPMAX or (purpose is TXD and p.id % 2) else 1, p, T0)
    t = at(t_s)
    live = [(c, p) for c, ps in s.installed.items() for p in ps if _applies(p, t)]

    def top(purpose: Purpose) -> Profile | None:
        cands = [(p.stack_level, c, p) for c, p in live if p.purpose is purpose]
        # Highest stack; at a tie the connector's own default beats connector 0's.
        return max(cands, key=lambda x: (x[0], x[1]))[2] if cands else None

    cp_max, tx = top(CPMAX), top(TX) or top(TXD)
    expected = [p.schedule.periods[0].limit for p in (cp_max, tx) if p is not None]
    got = s.limit_at(1, t)
    if not expected:
        assert got is None
    else:
        assert got is not None and got.limit_a == min(expected)
        if cp_max is not None:
            assert got.limit_a <= cp_max.schedule.periods[0].limit
