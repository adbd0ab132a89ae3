"""The debouncer alone: a level is reported once it held debounce_s, glitches never."""

from __future__ import annotations

import pytest

from edgectl.adapters.gpio.debounce import Debouncer


def run(events: list[tuple[float, bool]], polls: list[float], debounce_s: float = 0.05) -> list[tuple[float, bool]]:
    """Feed raw levels at their times, poll at the given times; the reports with their poll time."""
    d = Debouncer(debounce_s)
    timeline = sorted([(t, 0, v) for t, v in events] + [(t, 1, None) for t in polls], key=lambda e: (e[0], e[1]))
    reports = []
    for t, kind, value in timeline:
        if kind == 0:
            assert value is not None
            d.observe(value, t)
        else:
            state = d.due(t)
            if state is not None:
                reports.append((t, state))
    return reports


@pytest.mark.parametrize(
    ("events", "polls", "expected"),
    [
        # the initial level is reported once it held
        ([(0.0, False)], [0.0, 0.049, 0.05], [(0.05, False)]),
        # an edge is reported after debounce_s, not before
        ([(0.0, False), (1.0, True)], [0.05, 1.04, 1.05], [(0.05, False), (1.05, True)]),
        # a glitch shorter than debounce_s is never reported
        ([(0.0, False), (1.0, True), (1.03, False)], [0.05, 1.02, 1.05, 2.0], [(0.05, False)]),
        # bouncing contact: only the level that finally holds counts, timed from its last change
        (
            [(0.0, False), (1.0, True), (1.01, False), (1.02, True)],
            [0.05, 1.05, 1.069, 1.07],
            [(0.05, False), (1.07, True)],
        ),
        # repeating the same raw level does not restart the timer
        ([(0.0, True), (0.03, True)], [0.05], [(0.05, True)]),
    ],
)
def test_debounce_table(events, polls, expected):
    assert run(events, polls) == expected


def test_deadline_tracks_the_pending_level():
    d = Debouncer(0.05)
    assert d.deadline_s() is None
    d.observe(True, 10.0)
    assert d.deadline_s() == pytest.approx(10.05)
    assert d.due(10.05) is True
    assert d.deadline_s() is None
    d.observe(False, 11.0)
    d.observe(True, 11.01)  # back to the reported level before it held: nothing pending
    assert d.deadline_s() is None
    assert d.due(20.0) is None


def test_negative_debounce_refused():
    with pytest.raises(ValueError):
        Debouncer(-0.1)
