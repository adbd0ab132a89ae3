"""Detecting the factory-reset bridge between GPIO 7 and GPIO 8: pure, times passed in.

The scheme (why not just "read GPIO 8 high"):
- GPIO 7 is driven as an output with a pseudo-random bit pattern (a 7-bit
  maximal-length LFSR, period 127 steps: both levels appear within every few
  steps, and runs are irregular). GPIO 8 is an input with a pull-down.
- At each step the output is set, allowed to settle, and the input read. A
  step *matches* when the input equals the driven level.
- The bridge is present while every step matches. A stuck-high input (a
  short to 3.3 V, a pull-up, a failed buffer) fails on the next low step, a
  stuck-low or open input on the next high step, and a neighbouring signal
  (GPIO 7/8 are also SPI chip selects) would have to reproduce the random
  pattern to pass — so only a real wire from 7 to 8 holds.
- Held: within an unbroken run of matches, the time from the first to the
  last step that read *high* while driven high. Only those prove the wire:
  with the pull-down an open input also "matches" every low step, so low
  steps neither start nor extend a hold (else a removed wire would count on
  for a run of low steps). This under-counts by up to a run of low steps
  at each end: at 10 steps/s a reset needs between 5.1 and 6.1 s of bridge
  (checked over every phase of the pattern in the tests), never less than
  5 s — the safe side for an action that erases the site.
- At `hold_s` (5 s, SPEC §7) the detector fires once; one mismatch (the
  bridge removed while driven high, or a stuck-high input on a low step)
  ends the run and re-arms it, so a later bridge held another 5 s fires again.
"""

from __future__ import annotations

from collections.abc import Iterator

HOLD_S = 5.0
# Float steps of a fake or real clock must not make 5.0 s read as 4.9999999 s.
_TOLERANCE_S = 1e-6


def lfsr_bits(seed: int = 0x5A) -> Iterator[bool]:
    """An endless pseudo-random bit stream (x^7 + x^6 + 1, period 127)."""
    state = (seed & 0x7F) or 1  # an all-zero register would stay zero forever
    while True:
        bit = ((state >> 6) ^ (state >> 5)) & 1
        state = ((state << 1) | bit) & 0x7F
        yield bool(bit)


class BridgeDetector:
    def __init__(self, hold_s: float = HOLD_S) -> None:
        if hold_s <= 0:
            raise ValueError("hold_s must be positive")
        self.hold_s = hold_s
        self._first_high_s: float | None = None  # first proof of the wire in this run
        self._last_high_s: float | None = None  # latest proof
        self._fired = False

    @property
    def present(self) -> bool:
        """The wire was proven and no step has contradicted it since."""
        return self._first_high_s is not None

    @property
    def held_s(self) -> float:
        if self._first_high_s is None or self._last_high_s is None:
            return 0.0
        return self._last_high_s - self._first_high_s

    def step(self, driven: bool, read: bool, now_s: float) -> bool:
        """One driven/read pair at `now_s`; True exactly once per bridge held `hold_s`."""
        if driven != read:
            self._first_high_s = self._last_high_s = None
            self._fired = False
            return False
        if not driven:
            return False  # a low read proves nothing: an open input reads low too
        if self._first_high_s is None:
            self._first_high_s = now_s
        self._last_high_s = now_s
        if not self._fired and self.held_s + _TOLERANCE_S >= self.hold_s:
            self._fired = True
            return True
        return False
