"""The pure allocation core.

Rules of this package (held by import-linter and ruff):
- no asyncio, no I/O, no logging, no clock reads: time comes in through the
  snapshot, state comes in and goes out explicitly;
- same inputs, same outputs (deterministic ordering everywhere).
"""
