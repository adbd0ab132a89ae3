"""OCPP-J 1.6 RPC frames: decode a text frame, encode CALL / CALLRESULT / CALLERROR.

Pure: no I/O, no clock. Rules (OCPP-J 1.6 §4):
- A frame is a JSON array: CALL `[2, id, action, {payload}]`, CALLRESULT
  `[3, id, {payload}]`, CALLERROR `[4, id, code, description, {details}]`.
- A bad frame becomes a `FrameError` carrying the CALLERROR to send back:
  not JSON or not an array of the right shape -> FormationViolation; an
  integer MessageTypeId other than 2/3/4 -> PropertyConstraintViolation (a
  syntactically correct field with an invalid value).
- When the unique id cannot be read, the CALLERROR carries "-1" (an integer
  id is echoed as its string, so a sloppy station can still match it).
- A CALLRESULT/CALLERROR is never answered, even when malformed (the RPC
  framework has no answer to an answer): `decode` reports it with
  `answerable=False`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from edgectl.ports import EncodedPayload

CALL = 2
CALLRESULT = 3
CALLERROR = 4
UNKNOWN_ID = "-1"


class ErrorCode:
    """CALLERROR codes of OCPP-J 1.6 §4.2.3 (with the spec's own spellings)."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"  # sic, as in OCPP-J 1.6
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


class OcppCallError(Exception):
    """Raised while handling a CALL: answered with this CALLERROR code."""

    def __init__(self, code: str, description: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details or {}


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: Any


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: Any = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame that could not be decoded; `answerable`: send `error` back."""

    unique_id: str
    error: OcppCallError
    answerable: bool = True


Frame = Call | CallResult | CallError | FrameError


def _unique_id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _bad(unique_id: str | None, code: str, description: str, answerable: bool = True) -> FrameError:
    return FrameError(unique_id or UNKNOWN_ID, OcppCallError(code, description), answerable)


def decode(text: str | bytes) -> Frame:
    """Decode one WebSocket message into a frame or a FrameError."""
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return _bad(None, ErrorCode.FORMATION_VIOLATION, "message is not valid JSON")
    if not isinstance(msg, list) or len(msg) < 2:
        answer = isinstance(msg, list) and len(msg) == 1 and msg[0] in (CALLRESULT, CALLERROR)
        return _bad(None, ErrorCode.FORMATION_VIOLATION, "message is not an OCPP-J array [type, id, ...]", not answer)
    type_id, raw_id = msg[0], msg[1]
    unique_id = _unique_id(raw_id)
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        return _bad(unique_id, ErrorCode.FORMATION_VIOLATION, "MessageTypeId is not an integer")
    if type_id in (CALLRESULT, CALLERROR):
        return _decode_answer(msg, type_id, unique_id)
    if type_id != CALL:
        return _bad(unique_id, ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, f"unknown MessageTypeId {type_id}")
    if not isinstance(raw_id, str):
        return _bad(unique_id, ErrorCode.FORMATION_VIOLATION, "UniqueId is not a string")
    if len(msg) != 4:
        return _bad(unique_id, ErrorCode.FORMATION_VIOLATION, "a CALL has 4 elements [2, id, action, payload]")
    action, payload = msg[2], msg[3]
    if not isinstance(action, str) or not action:
        return _bad(unique_id, ErrorCode.FORMATION_VIOLATION, "Action is not a string")
    if not isinstance(payload, dict):
        return _bad(unique_id, ErrorCode.FORMATION_VIOLATION, "payload is not a JSON object")
    return Call(raw_id, action, payload)


def _decode_answer(msg: list[Any], type_id: int, unique_id: str | None) -> Frame:
    if unique_id is None:
        return _bad(None, ErrorCode.FORMATION_VIOLATION, "answer without a readable UniqueId", answerable=False)
    if type_id == CALLRESULT:
        if len(msg) != 3:
            return _bad(unique_id, ErrorCode.FORMATION_VIOLATION, "a CALLRESULT has 3 elements", answerable=False)
        return CallResult(unique_id, msg[2])
    code = msg[2] if len(msg) > 2 and isinstance(msg[2], str) else ErrorCode.GENERIC_ERROR
    description = msg[3] if len(msg) > 3 and isinstance(msg[3], str) else ""
    details = msg[4] if len(msg) > 4 else {}
    return CallError(unique_id, code, description, details)


def _dumps(msg: list[Any]) -> str:
    # Compact separators: some station firmwares have small receive buffers.
    return json.dumps(msg, separators=(",", ":"), ensure_ascii=False)


def encode_call(unique_id: str, action: str, payload: dict[str, Any] | EncodedPayload) -> str:
    if isinstance(payload, EncodedPayload):
        # Our own id and action name: plain JSON strings, nothing to escape.
        return f'[{CALL},"{unique_id}","{action}",{payload}]'
    return _dumps([CALL, unique_id, action, payload])


def encode_result(unique_id: str, payload: dict[str, Any]) -> str:
    return _dumps([CALLRESULT, unique_id, payload])


def encode_error(unique_id: str, error: OcppCallError) -> str:
    return _dumps([CALLERROR, unique_id, error.code, error.description, error.details])
