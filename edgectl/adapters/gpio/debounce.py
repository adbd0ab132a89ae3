"""Debouncing one digital input: pure, times passed in (monotonic seconds).

Rules:
- A raw level is reported only once it has held for `debounce_s` without a
  change; a glitch shorter than that is never reported.
- The first report is the first level that holds (the initial state at
  start-up is debounced like any edge, so a contact bouncing at power-up is
  not reported twice).
- A level that comes back to the reported one before it held cancels the
  pending edge: nothing is reported.
"""

from __future__ import annotations


class Debouncer:
    def __init__(self, debounce_s: float) -> None:
        if debounce_s < 0:
            raise ValueError("debounce_s must not be negative")
        self.debounce_s = debounce_s
        self._raw: bool | None = None
        self._raw_since_s = 0.0
        self.reported: bool | None = None

    def observe(self, raw: bool, now_s: float) -> None:
        """The raw level seen at `now_s` (repeating the same level is harmless)."""
        if raw != self._raw:
            self._raw = raw
            self._raw_since_s = now_s

    def deadline_s(self) -> float | None:
        """When the pending level will have held long enough; None if nothing is pending."""
        if self._raw is None or self._raw == self.reported:
            return None
        return self._raw_since_s + self.debounce_s

    def due(self, now_s: float) -> bool | None:
        """The newly debounced level if one became due by `now_s`, else None."""
        deadline = self.deadline_s()
        if deadline is None or now_s < deadline:
            return None
        self.reported = self._raw
        return self.reported
