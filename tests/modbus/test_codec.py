"""The register codec: every format x word order x byte order, lengths, plausibility."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgectl.adapters.modbus.codec import (
    ByteOrder,
    CodecError,
    DataType,
    Garbage,
    WordOrder,
    check_plausible,
    decode,
    encode,
    register_count,
)

B, L = WordOrder.BIG, WordOrder.LITTLE

# (type, word order, registers on the wire, value): hand-written from the IEEE/two's-complement encodings.
TABLE = [
    (DataType.FLOAT32, B, [0x4148, 0x0000], 12.5),
    (DataType.FLOAT32, L, [0x0000, 0x4148], 12.5),
    (DataType.FLOAT32, B, [0xC2F6, 0xE979], -123.456),
    (DataType.FLOAT32, L, [0xE979, 0xC2F6], -123.456),
    (DataType.INT64, B, [0x0000, 0x0000, 0x0001, 0x0000], 65536),
    (DataType.INT64, L, [0x0000, 0x0001, 0x0000, 0x0000], 65536),
    (DataType.INT64, B, [0x0000, 0x0001, 0x0000, 0x0000], 1 << 32),
    (DataType.INT64, B, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], -2),
    (DataType.INT64, L, [0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF], -2),
    (DataType.INT32, B, [0x0001, 0x86A0], 100000),
    (DataType.INT32, L, [0x86A0, 0x0001], 100000),
    (DataType.INT32, B, [0xFFFF, 0xFFFF], -1),
    (DataType.INT32, L, [0xFFFF, 0xFFFF], -1),
    (DataType.UINT32, B, [0xFFFF, 0xFFFE], 4294967294),
    (DataType.UINT32, L, [0xFFFE, 0xFFFF], 4294967294),
    (DataType.UINT32, B, [0x0001, 0x0000], 65536),
    (DataType.INT16, B, [0xFF9C], -100),
    (DataType.INT16, L, [0x7FFF], 32767),
    (DataType.UINT16, B, [0xFF9C], 65436),
    (DataType.UINT16, L, [0x0010], 16),
]


@pytest.mark.parametrize(("data_type", "word_order", "registers", "value"), TABLE)
def test_decode_table(data_type: DataType, word_order: WordOrder, registers: list[int], value: float) -> None:
    got = decode(registers, data_type, word_order)
    if data_type is DataType.FLOAT32:
        assert got == pytest.approx(value, rel=1e-6)
    else:
        assert got == value


@pytest.mark.parametrize(("data_type", "word_order", "registers", "value"), TABLE)
def test_encode_table(data_type: DataType, word_order: WordOrder, registers: list[int], value: float) -> None:
    assert encode(value, data_type, word_order) == registers


def test_byte_order_swaps_bytes_inside_each_register() -> None:
    assert decode([0x4841, 0x0000], DataType.FLOAT32, B, ByteOrder.LITTLE) == 12.5
    assert encode(12.5, DataType.FLOAT32, L, ByteOrder.LITTLE) == [0x0000, 0x4841]
    assert decode([0x1000], DataType.UINT16, B, ByteOrder.LITTLE) == 16


@pytest.mark.parametrize("data_type", list(DataType))
def test_wrong_lengths_are_refused(data_type: DataType) -> None:
    n = register_count(data_type)
    for wrong in (n - 1, n + 1):
        with pytest.raises(CodecError):
            decode([0] * wrong, data_type)


@pytest.mark.parametrize("bad", [-1, 0x10000, 1.5])
def test_registers_must_be_16_bit(bad: object) -> None:
    with pytest.raises(CodecError):
        decode([bad], DataType.UINT16)  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("data_type", "value"), [(DataType.UINT16, 70000), (DataType.INT16, -40000), (DataType.UINT32, -1)]
)
def test_out_of_range_encode_is_refused(data_type: DataType, value: int) -> None:
    with pytest.raises(CodecError):
        encode(value, data_type)


_INT_RANGES = {
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
}


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[DataType, float | int]:
    data_type = draw(st.sampled_from(list(DataType)))
    if data_type is DataType.FLOAT32:
        return data_type, draw(st.floats(width=32, allow_nan=False))
    lo, hi = _INT_RANGES[data_type]
    return data_type, draw(st.integers(lo, hi))


@given(typed_values(), st.sampled_from(list(WordOrder)), st.sampled_from(list(ByteOrder)))
def test_round_trip(tv: tuple[DataType, float | int], word_order: WordOrder, byte_order: ByteOrder) -> None:
    data_type, value = tv
    registers = encode(value, data_type, word_order, byte_order)
    assert len(registers) == register_count(data_type)
    assert all(0 <= r <= 0xFFFF for r in registers)
    assert decode(registers, data_type, word_order, byte_order) == value


def test_nan_decodes_but_is_garbage() -> None:
    nan = decode([0x7FC0, 0x0000], DataType.FLOAT32)
    assert math.isnan(nan)
    with pytest.raises(Garbage) as err:
        check_plausible("i1", nan)
    assert err.value.quantity == "i1"
    assert "i1" in str(err.value) and "nan" in str(err.value)


@pytest.mark.parametrize(
    ("quantity", "value", "previous"),
    [
        ("i2", -0.5, None),
        ("i3", 10_001.0, None),
        ("i1", math.inf, None),
        ("p_total", 3e7, None),
        ("p1", -math.inf, None),
        ("energy", -1.0, None),
        ("energy", 999.0, 1000.0),
    ],
)
def test_implausible_values_are_garbage(quantity: str, value: float, previous: float | None) -> None:
    with pytest.raises(Garbage) as err:
        check_plausible(quantity, value, previous)
    assert err.value.quantity == quantity and err.value.value == value


@pytest.mark.parametrize(
    ("quantity", "value", "previous"),
    [("i1", 0.0, None), ("i1", 9_999.0, None), ("p_total", -5000.0, None), ("energy", 1000.0, 1000.0)],
)
def test_plausible_values_pass(quantity: str, value: float, previous: float | None) -> None:
    assert check_plausible(quantity, value, previous) == value
