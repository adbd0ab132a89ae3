"""Pure read planning and decoding of one meter's register map.

Rules of this module:
- Quantities of the same register type whose registers are strictly adjacent
  are read in one request (fewer round trips on a slow RS-485 line). We never
  read across a gap: many devices answer "illegal address" for unmapped
  registers in between.
- One request reads at most MAX_REGISTERS_PER_READ (125, the Modbus limit).
- `decode_sample` turns the blocks' registers into A / W / Wh through the
  codec and the plausibility checks; any Garbage aborts the whole sample, so a
  half-good sample is never published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgectl.adapters.modbus.codec import CodecError, check_plausible, decode, encode
from edgectl.adapters.modbus.models import MeterModel, RegisterSpec

MAX_REGISTERS_PER_READ = 125


@dataclass(frozen=True, slots=True)
class Block:
    register_type: str  # "holding" | "input"
    address: int
    count: int
    specs: tuple[RegisterSpec, ...]


def plan_blocks(model: MeterModel, max_registers: int = MAX_REGISTERS_PER_READ) -> tuple[Block, ...]:
    blocks: list[Block] = []
    ordered = sorted(model.quantities.values(), key=lambda s: (s.register_type, s.address))
    current: list[RegisterSpec] = []
    for spec in ordered:
        if current:
            first, last = current[0], current[-1]
            adjacent = spec.register_type == last.register_type and spec.address == last.address + last.count
            fits = spec.address + spec.count - first.address <= max_registers
            if not (adjacent and fits):
                blocks.append(_block(current))
                current = []
        current.append(spec)
    if current:
        blocks.append(_block(current))
    return tuple(blocks)


def _block(specs: list[RegisterSpec]) -> Block:
    first, last = specs[0], specs[-1]
    return Block(first.register_type, first.address, last.address + last.count - first.address, tuple(specs))


def decode_block(block: Block, registers: Sequence[int]) -> dict[str, float]:
    """Raw registers of one block -> SI values per quantity (no plausibility yet)."""
    if len(registers) != block.count:
        raise CodecError(f"block at address {block.address}: expected {block.count} registers, got {len(registers)}")
    out: dict[str, float] = {}
    for spec in block.specs:
        offset = spec.address - block.address
        raw = decode(registers[offset : offset + spec.count], spec.data_type, spec.word_order, spec.byte_order)
        out[spec.quantity] = float(raw) * spec.si_factor
    return out


def decode_sample(
    blocks: Sequence[Block],
    registers: Sequence[Sequence[int]],
    previous_energy_wh: float | None = None,
) -> dict[str, float]:
    """Every block's registers -> plausible SI values, or raise CodecError / Garbage."""
    values: dict[str, float] = {}
    for block, regs in zip(blocks, registers, strict=True):
        values.update(decode_block(block, regs))
    for quantity, value in values.items():
        check_plausible(quantity, value, previous_energy_wh if quantity == "energy" else None)
    return values


def encode_values(model: MeterModel, values_si: Mapping[str, float]) -> dict[str, list[int]]:
    """SI values -> registers per quantity (the simulator serves these)."""
    out: dict[str, list[int]] = {}
    for quantity, spec in model.quantities.items():
        if quantity in values_si:
            raw = values_si[quantity] / spec.si_factor
            out[quantity] = encode(raw, spec.data_type, spec.word_order, spec.byte_order)
    return out
