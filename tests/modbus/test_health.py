"""The health state machine: transitions and the events they log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edgectl.adapters.modbus.health import LOST, RECOVERED, HealthState, HealthTracker

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_lost_once_recovered_once() -> None:
    t = HealthTracker("pm-main")
    assert t.health.state is HealthState.NOT_CONNECTED
    assert t.success(T0) is None
    assert t.health.state is HealthState.CONNECTED
    assert t.failure(T0 + timedelta(seconds=1), "timeout") == LOST
    assert t.failure(T0 + timedelta(seconds=2), "timeout") is None
    assert t.health.consecutive_failures == 2
    assert t.health.last_good_at == T0
    assert t.health.failing_since == T0 + timedelta(seconds=1)
    assert t.success(T0 + timedelta(seconds=3)) == RECOVERED
    assert t.success(T0 + timedelta(seconds=4)) is None
    assert t.health.last_error is None


def test_sample_age_and_staleness() -> None:
    t = HealthTracker("m")
    assert t.health.is_stale(T0, 1.0)
    t.success(T0)
    assert t.health.sample_age_s(T0 + timedelta(seconds=0.7)) == 0.7
    assert not t.health.is_stale(T0 + timedelta(seconds=0.7), 1.0)
    assert t.health.is_stale(T0 + timedelta(seconds=1.5), 1.0)


def test_failure_before_any_success_is_a_loss() -> None:
    t = HealthTracker("m")
    assert t.failure(T0, "refused") == LOST
    assert t.health.state is HealthState.CONNECTION_ERROR
