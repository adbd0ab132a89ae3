"""The fast validator (fastjsonschema) and the reference (jsonschema Draft 4) agree.

`check` trusts the fast path when it accepts a payload, so an acceptance the
reference would refuse would let a bad payload through. Hypothesis builds
payloads from each schema's own field names, with values of every JSON type
(and nested objects built the same way), valid-looking and not.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgectl.adapters.ocpp.validation import fast_validator, schema, validator

NAMES = sorted(
    entry.name.removesuffix(".json")
    for entry in (resources.files("ocpp") / "v16" / "schemas").iterdir()
    if entry.name.endswith(".json")
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(), st.floats(allow_nan=False),
    st.sampled_from([0.0, 1.0, -1.0, 2.5]), st.text(max_size=3), st.text(min_size=18, max_size=60),
    st.sampled_from(["Accepted", "Rejected", "Charging", "2025-01-01T00:00:00Z", "Wh", "L1", "TxProfile"]),
)


def typed(node: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    """A value of the node's own type (valid or near the edges of validity)."""
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "string":
        limit = node.get("maxLength", 30)
        return st.one_of(st.text(max_size=limit), st.text(min_size=limit, max_size=limit + 2))
    if kind == "integer":
        return st.integers(-2, 10**6)
    if kind == "number":
        return st.one_of(st.integers(-2, 100), st.floats(-1.0, 1e6, allow_nan=False))
    if kind == "boolean":
        return st.booleans()
    return None


def from_schema(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like `node` most of the time, anything some of the time."""
    options: list[st.SearchStrategy[Any]] = []
    leaf = typed(node)
    if leaf is not None:
        options += [leaf, leaf, leaf]
    if (node.get("type") == "object" or "properties" in node) and depth < 6:
        props = node.get("properties", {})
        required = node.get("required", [])
        values = {k: from_schema(props[k], depth + 1) for k in sorted(props)}
        rest = {k: v for k, v in values.items() if k not in required}
        shaped = st.fixed_dictionaries({k: values[k] for k in required}, optional=rest)
        options += [shaped, shaped, shaped]
        options.append(  # an unexpected field
            st.fixed_dictionaries({k: values[k] for k in required}, optional={**rest, "extra": scalars})
        )
        options.append(st.fixed_dictionaries({}, optional=values))  # any subset
    if node.get("type") == "array" and depth < 6:
        items = st.lists(from_schema(node.get("items", {}), depth + 1), min_size=node.get("minItems", 0), max_size=3)
        options += [items, items, items, st.lists(from_schema(node.get("items", {}), depth + 1), max_size=2)]
    options.append(scalars)
    return st.one_of(options)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_and_reference_validators_agree(name: str, data: st.DataObject) -> None:
    s = schema(name)
    assert s is not None
    payload = data.draw(from_schema(s))
    fast = fast_validator(name)
    ref = validator(name)
    assert fast is not None and ref is not None
    try:
        fast(payload)
        fast_ok = True
    except fastjsonschema.JsonSchemaValueException:
        fast_ok = False
    assert fast_ok == ref.is_valid(payload), payload
