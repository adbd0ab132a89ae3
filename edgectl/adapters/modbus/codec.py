"""Pure Modbus register codec: registers <-> numbers, plus plausibility.

Rules of this module:
- No I/O, no clock, no logging: bytes in, numbers out (or an exception).
- A register is an unsigned 16-bit int (0..65535). Multi-register values are
  `word_order` "big" (high word first, what every Schneider device in our
  catalogue uses) or "little" (low word first); `byte_order` "little" swaps
  the two bytes inside each register (rare, some gateways need it).
- A wrong number of registers is a `CodecError`, never a guess.
- A decoded value that cannot be physical (NaN/inf, a negative current, a
  current above 10 kA, an energy counter running backwards ...) is `Garbage`,
  naming the quantity and the value. Garbage is never published: the poller
  counts it as a failed poll, so a meter that talks nonsense ends up lost.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from enum import StrEnum


class DataType(StrEnum):
    FLOAT32 = "float32"
    INT64 = "int64"
    INT32 = "int32"
    UINT32 = "uint32"
    INT16 = "int16"
    UINT16 = "uint16"


class WordOrder(StrEnum):
    BIG = "big"  # high word in the lower address (Modbus convention, Schneider)
    LITTLE = "little"


class ByteOrder(StrEnum):
    BIG = "big"  # high byte first inside a register (the Modbus standard)
    LITTLE = "little"


# struct format (big-endian) and register count of each type.
_FORMAT: dict[DataType, tuple[str, int]] = {
    DataType.FLOAT32: (">f", 2),
    DataType.INT64: (">q", 4),
    DataType.INT32: (">i", 2),
    DataType.UINT32: (">I", 2),
    DataType.INT16: (">h", 1),
    DataType.UINT16: (">H", 1),
}


class CodecError(ValueError):
    """The registers cannot be this type (wrong count, register out of range)."""


class Garbage(ValueError):
    """A value came through the codec but cannot be a real measurement."""

    def __init__(self, quantity: str, value: float, reason: str) -> None:
        super().__init__(f"{quantity}: implausible value {value!r} ({reason})")
        self.quantity = quantity
        self.value = value
        self.reason = reason


def register_count(data_type: DataType) -> int:
    return _FORMAT[DataType(data_type)][1]


def _to_bytes(registers: Sequence[int], word_order: WordOrder, byte_order: ByteOrder) -> bytes:
    words = list(registers)
    if word_order is WordOrder.LITTLE:
        words.reverse()
    out = bytearray()
    for w in words:
        hi, lo = (w >> 8) & 0xFF, w & 0xFF
        out += bytes((lo, hi)) if byte_order is ByteOrder.LITTLE else bytes((hi, lo))
    return bytes(out)


def _from_bytes(raw: bytes, word_order: WordOrder, byte_order: ByteOrder) -> list[int]:
    words = []
    for i in range(0, len(raw), 2):
        hi, lo = raw[i], raw[i + 1]
        words.append((lo << 8) | hi if byte_order is ByteOrder.LITTLE else (hi << 8) | lo)
    if word_order is WordOrder.LITTLE:
        words.reverse()
    return words


def decode(
    registers: Sequence[int],
    data_type: DataType,
    word_order: WordOrder = WordOrder.BIG,
    byte_order: ByteOrder = ByteOrder.BIG,
) -> float | int:
    """The raw number held by `registers` (no scaling, no plausibility)."""
    data_type = DataType(data_type)
    fmt, count = _FORMAT[data_type]
    if len(registers) != count:
        raise CodecError(f"{data_type} needs {count} register(s), got {len(registers)}")
    for r in registers:
        if not isinstance(r, int) or not 0 <= r <= 0xFFFF:
            raise CodecError(f"register value {r!r} is not a 16-bit unsigned integer")
    raw = _to_bytes(registers, WordOrder(word_order), ByteOrder(byte_order))
    value: float | int = struct.unpack(fmt, raw)[0]
    return value


def encode(
    value: float | int,
    data_type: DataType,
    word_order: WordOrder = WordOrder.BIG,
    byte_order: ByteOrder = ByteOrder.BIG,
) -> list[int]:
    """The registers holding `value`; integers are rounded, out-of-range is a CodecError."""
    data_type = DataType(data_type)
    fmt, _count = _FORMAT[data_type]
    packed_value: float | int = float(value) if data_type is DataType.FLOAT32 else round(value)
    try:
        raw = struct.pack(fmt, packed_value)
    except (struct.error, OverflowError) as exc:
        raise CodecError(f"{value!r} does not fit {data_type}") from exc
    return _from_bytes(raw, WordOrder(word_order), ByteOrder(byte_order))


# Plausibility limits. Generous on purpose: they catch nonsense (sentinels,
# swapped words, NaN), not unusual sites. 10 kA is above any LV incomer.
MAX_CURRENT_A = 10_000.0
MAX_POWER_W = 20_000_000.0  # ~3 x 10 kA x 690 V
MAX_ENERGY_WH = 1e15


def check_plausible(quantity: str, value: float, previous_energy_wh: float | None = None) -> float:
    """Return `value` (in A, W or Wh by quantity) or raise Garbage."""
    if isinstance(value, float) and not math.isfinite(value):
        raise Garbage(quantity, value, "not a finite number")
    if quantity in ("i1", "i2", "i3"):
        if value < 0:
            raise Garbage(quantity, value, "negative current")
        if value > MAX_CURRENT_A:
            raise Garbage(quantity, value, f"current above {MAX_CURRENT_A:.0f} A")
    elif quantity in ("p1", "p2", "p3", "p_total"):
        if abs(value) > MAX_POWER_W:
            raise Garbage(quantity, value, f"power beyond {MAX_POWER_W:.0f} W")
    elif quantity == "energy":
        if value < 0:
            raise Garbage(quantity, value, "negative energy counter")
        if value > MAX_ENERGY_WH:
            raise Garbage(quantity, value, "energy counter out of range")
        if previous_energy_wh is not None and value < previous_energy_wh:
            raise Garbage(quantity, value, f"energy went backwards from {previous_energy_wh}")
    return value
