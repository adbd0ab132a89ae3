"""Parameter checking for remote commands: every refusal names the parameter.

Parameters arrive from the web/API as JSON-ish values (snake_case names).
`Params` takes each one out with its type and bounds; whatever is left over
at the end is an unknown parameter, refused like a bad one — a typo must not
silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edgectl.ports import CommandError

# OCPP 1.6 field limits (CiString20Type, CiString50Type, CiString500Type, ...).
ID_TAG_MAX = 20
KEY_MAX = 50
VALUE_MAX = 500
URL_MAX = 512

TRIGGERABLE = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)


class Params:
    def __init__(self, command: str, raw: Mapping[str, Any] | None) -> None:
        if raw is not None and not isinstance(raw, Mapping):
            raise CommandError(f"{command}: parameters must be an object")
        self.command = command
        self._left = dict(raw or {})

    def _bad(self, name: str, why: str) -> CommandError:
        return CommandError(f"{self.command}: parameter {name!r} {why}")

    def _take(self, name: str, required: bool) -> Any:
        value = self._left.pop(name, None)
        if value is None and required:
            raise self._bad(name, "is required")
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 0, default: int | None = None) -> int | None:
        value = self._take(name, required and default is None)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(name, "must be an integer")
        if value < minimum:
            raise self._bad(name, f"must be at least {minimum}")
        return value

    def text(self, name: str, *, max_len: int, required: bool = True) -> str | None:
        value = self._take(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self._bad(name, "must be a non-empty string")
        if len(value) > max_len:
            raise self._bad(name, f"must be at most {max_len} characters")
        if any(not ch.isprintable() for ch in value):
            raise self._bad(name, "must not contain control characters")
        return value

    def text_list(self, name: str, *, max_len: int) -> list[str] | None:
        value = self._take(name, False)
        if value is None:
            return None
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and v and len(v) <= max_len for v in value):
            raise self._bad(name, f"must be a list of strings of at most {max_len} characters")
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self._take(name, required)
        if value is None:
            return None
        if value not in choices:
            raise self._bad(name, f"must be one of {', '.join(choices)}")
        return str(value)

    def instant(self, name: str, *, required: bool = True) -> datetime | None:
        value = self._take(name, required)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self._bad(name, "must be an ISO 8601 date-time") from None
        if not isinstance(value, datetime):
            raise self._bad(name, "must be an ISO 8601 date-time")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # as the OCPP adapter reads station timestamps
        return value

    def url(self, name: str, *, required: bool = True) -> str | None:
        value = self.text(name, max_len=URL_MAX, required=required)
        if value is not None and not value.lower().startswith(("http://", "https://", "ftp://", "ftps://")):
            raise self._bad(name, "must be an http(s) or ftp(s) URL")
        return value

    def done(self) -> None:
        """Refuse whatever was not taken."""
        if self._left:
            raise self._bad(sorted(self._left)[0], "is not a parameter of this command")


def ocpp_time(at: datetime) -> str:
    """OCPP date-time: UTC, with a Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
