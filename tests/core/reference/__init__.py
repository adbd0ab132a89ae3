"""The allocation engine as it was before the speed work of issue #2 (one
object per connector, per-class filling in pure Python), kept verbatim as a
reference: tests/core/test_reference_equivalence.py checks that the fast
engine decides exactly the same on random sites. Never import it from edgectl.
"""
