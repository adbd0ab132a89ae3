"""The allocation engine as it was before the speed work of issue #2 (one
object per connector, per-class filling in pure Python), kept verbatim as a
reference (one bug fixed alike in both since: a NaN on a loaded phase of an
overdrawing report past the window used to raise, `_overdraw`):
tests/core/test_reference_equivalence.py checks that the fast engine decides
exactly the same on random sites. Never import it from edgectl.
"""
