"""The simulated car (pure ev.py)."""

from __future__ import annotations

import pytest

from simulators.station.ev import Car, Ev, EvState


def run(ev: Ev, seconds: float, offered: float, phases: int | None = None, dt: float = 0.5) -> None:
    for _ in range(round(seconds / dt)):
        ev.step(dt, offered, phases)


def test_follows_the_offer_after_its_delay() -> None:
    ev = Ev(Car(response_delay_s=2.0))
    run(ev, 1.5, 16)
    assert ev.current_a == 0 and ev.state is EvState.SUSPENDED_EVSE
    run(ev, 1.0, 16)
    assert ev.current_a == 16 and ev.state is EvState.CHARGING
    run(ev, 1.0, 10)
    assert ev.current_a == 16  # still the old offer
    run(ev, 1.5, 10)
    assert ev.current_a == 10


@pytest.mark.parametrize("offer", [0.0, 5.9])
def test_below_six_amps_suspends(offer: float) -> None:
    ev = Ev(Car(response_delay_s=0))
    run(ev, 2, offer)
    assert ev.current_a == 0 and ev.state is EvState.SUSPENDED_EVSE and ev.phase_currents_a == (0, 0, 0)


def test_car_maximum_caps_the_draw() -> None:
    ev = Ev(Car(max_current_a=16, response_delay_s=0))
    run(ev, 1, 32)
    assert ev.current_a == 16


@pytest.mark.parametrize(
    ("car_phases", "connector_phases", "profile_phases", "expected"),
    [
        (3, 3, None, (10, 10, 10)),
        (1, 3, None, (10, 0, 0)),  # single-phase car: station L1 only
        (3, 1, None, (10, 0, 0)),  # single-phase connector
        (3, 3, 1, (10, 0, 0)),  # profile numberPhases=1
        (2, 3, None, (10, 10, 0)),
    ],
)
def test_phases_in_use(car_phases: int, connector_phases: int, profile_phases: int | None,
                       expected: tuple[float, float, float]) -> None:
    ev = Ev(Car(phases=car_phases, response_delay_s=0), connector_phases=connector_phases)
    run(ev, 1, 10, profile_phases)
    assert ev.phase_currents_a == expected


def test_energy_integrates_power() -> None:
    ev = Ev(Car(capacity_wh=100_000, soc=0.1, response_delay_s=0))
    ev.step(0.0, 16)  # act on the offer at once
    run(ev, 3600, 16, dt=1.0)
    assert ev.energy_wh == pytest.approx(230 * 16 * 3, rel=1e-3)
    assert ev.soc == pytest.approx(0.1 + 230 * 16 * 3 / 100_000, rel=1e-3)


def test_tapers_near_full_and_stops_when_full() -> None:
    ev = Ev(Car(capacity_wh=2_000, soc=0.85, taper_from_soc=0.8, max_current_a=32, response_delay_s=0))
    run(ev, 1, 32)
    assert 0 < ev.current_a < 32
    run(ev, 4 * 3600, 32, dt=5.0)
    assert ev.soc == pytest.approx(1.0) and ev.current_a == 0 and ev.state is EvState.SUSPENDED_EV
