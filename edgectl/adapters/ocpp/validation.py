"""Schema validation of OCPP 1.6 payloads, on the event loop, with cached validators.

Rules:
- The JSON schemas are the ones shipped inside the `ocpp` package
  (ocpp/v16/schemas); each is compiled once per process (`functools.cache`)
  twice: by fastjsonschema into plain Python (the fast path: a MeterValues
  payload in ~15 us instead of ~350 us with jsonschema -- validation was a
  third of the daemon's CPU under load) and into a jsonschema Draft-4
  validator, the reference. A payload the fast path refuses goes to the
  reference, which names the error (and decides, should the two ever
  disagree). Formats are not checked by either (timestamps are parsed by
  `parse_timestamp`, leniently). Validation runs inline: a thread pool (the
  library's default, ocpp #705) would only add latency and races.
- Schema errors map onto OCPP-J 1.6 §4.2.3 codes: a missing required field
  or a wrong array length -> OccurenceConstraintViolation; a wrong JSON type
  or an over-long CiString -> TypeConstraintViolation (CiStringN *is* the
  type); a value outside an enum or a range -> PropertyConstraintViolation;
  an unexpected property -> FormationViolation.
- Leniencies, applied before validation, only where ignoring the deviation
  cannot change a decision (each reported once per station through `note`):
  * over-long informational strings (BootNotification's vendor, model,
    serial numbers, firmware, ICCID, IMSI, meter type/serial;
    StatusNotification's info / vendorId / vendorErrorCode) are truncated;
  * a sampled meter value sent as a JSON number instead of a string is
    taken as its string;
  * sampledValue context / format / measurand / phase / location / unit
    outside the 1.6 enums are accepted (the reading is ignored later if
    it means nothing to us) -- refusing the message would lose the energy
    register that came with it.
- Timestamps are parsed here (`parse_timestamp`); one without a UTC offset is
  taken as UTC (lenient), an unreadable one is a TypeConstraintViolation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError, best_match

from edgectl.adapters.ocpp.frames import ErrorCode, OcppCallError

Note = Callable[[str, dict[str, Any]], None]

_CODE_BY_KEYWORD = {
    "required": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
}

# Fields whose length only matters for display: truncating them is safe.
_TRUNCATABLE: dict[str, frozenset[str] | None] = {
    "BootNotification": None,  # every (string) field of the boot notification
    "StatusNotification": frozenset({"info", "vendorId", "vendorErrorCode"}),
}
_SAMPLED_VALUE_ENUMS = ("context", "format", "measurand", "phase", "location", "unit")
_METER_ACTIONS = {"MeterValues": "meterValue", "StopTransaction": "transactionData"}


def _schema_file(name: str) -> dict[str, Any] | None:
    path = resources.files("ocpp") / "v16" / "schemas" / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
    return data


def _relax_sampled_values(schema: dict[str, Any]) -> dict[str, Any]:
    relaxed = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            sampled = node.get("sampledValue")
            if isinstance(sampled, dict):
                for key in _SAMPLED_VALUE_ENUMS:
                    sampled["items"]["properties"].get(key, {}).pop("enum", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(relaxed)
    return relaxed


@cache
def schema(name: str) -> dict[str, Any] | None:
    """The 1.6 schema `name` ("BootNotification", "BootNotificationResponse"), or None."""
    data = _schema_file(name)
    if data is not None and name in _METER_ACTIONS:
        data = _relax_sampled_values(data)
    return data


@cache
def validator(name: str) -> Draft4Validator | None:
    data = schema(name)
    return None if data is None else Draft4Validator(data)


@cache
def fast_validator(name: str) -> Callable[[Any], Any] | None:
    data = schema(name)
    return None if data is None else fastjsonschema.compile(data, use_formats=False)


def is_ocpp16_action(action: str) -> bool:
    """A request known to OCPP 1.6 (either direction, incl. the security extension)."""
    return not action.endswith("Response") and schema(action) is not None


def error_for(err: ValidationError) -> OcppCallError:
    code = _CODE_BY_KEYWORD.get(str(err.validator), ErrorCode.FORMATION_VIOLATION)
    where = "/" + "/".join(str(p) for p in err.absolute_path)
    return OcppCallError(code, f"{where}: {err.message}"[:255], {"path": where, "keyword": str(err.validator)})


def check(name: str, payload: dict[str, Any]) -> None:
    """Raise OcppCallError when `payload` breaks the schema `name`."""
    fast = fast_validator(name)
    if fast is None:
        raise OcppCallError(ErrorCode.NOT_IMPLEMENTED, f"no schema for {name}")
    try:
        fast(payload)
        return
    except fastjsonschema.JsonSchemaValueException:
        pass  # the reference validator names the error
    v = validator(name)
    assert v is not None
    if v.is_valid(payload):
        return
    err = best_match(v.iter_errors(payload))
    assert err is not None
    raise error_for(err)


def lenient(action: str, payload: dict[str, Any], note: Note) -> dict[str, Any]:
    """Apply the documented leniencies; returns the payload to validate and use."""
    if action in _TRUNCATABLE:
        payload = _truncate(action, payload, _TRUNCATABLE[action], note)
    if action in _METER_ACTIONS:
        payload = _stringify_values(payload, _METER_ACTIONS[action], note)
    return payload


def _truncate(action: str, payload: dict[str, Any], fields: frozenset[str] | None, note: Note) -> dict[str, Any]:
    props = (schema(action) or {}).get("properties", {})
    out = payload
    for key, value in payload.items():
        limit = props.get(key, {}).get("maxLength")
        if (fields is None or key in fields) and isinstance(value, str) and limit and len(value) > limit:
            if out is payload:
                out = dict(payload)
            out[key] = value[:limit]
            note("truncated", {"action": action, "field": key, "length": len(value), "max_length": limit})
    return out


def _stringify_values(payload: dict[str, Any], list_key: str, note: Note) -> dict[str, Any]:
    meter_values = payload.get(list_key)
    if not isinstance(meter_values, list):
        return payload
    changed = False
    fixed_list = []
    for mv in meter_values:
        sampled = mv.get("sampledValue") if isinstance(mv, dict) else None
        if isinstance(sampled, list) and any(
            isinstance(sv, dict) and isinstance(sv.get("value"), int | float) and not isinstance(sv.get("value"), bool)
            for sv in sampled
        ):
            changed = True
            mv = {
                **mv,
                "sampledValue": [
                    {**sv, "value": str(sv["value"])}
                    if isinstance(sv, dict) and isinstance(sv.get("value"), int | float)
                    else sv
                    for sv in sampled
                ],
            }
        fixed_list.append(mv)
    if not changed:
        return payload
    note("numeric_meter_value", {"action": "MeterValues" if list_key == "meterValue" else "StopTransaction"})
    return {**payload, list_key: fixed_list}


def parse_timestamp(value: Any, field: str = "timestamp") -> datetime:
    if not isinstance(value, str):
        raise OcppCallError(ErrorCode.TYPE_CONSTRAINT_VIOLATION, f"{field}: not a date-time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise OcppCallError(ErrorCode.TYPE_CONSTRAINT_VIOLATION, f"{field}: not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # lenient: a station without offset means UTC
    return parsed.astimezone(UTC)


def format_timestamp(at: datetime) -> str:
    """UTC, millisecond precision, 'Z' suffix (what every station parses)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
