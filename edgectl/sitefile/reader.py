"""Typed, strict reading of one table of a parsed TOML/JSON document.

Rules:
- keys not in the table's schema are refused (with a "did you mean" hint), so
  a typo never silently falls back to a default;
- types are exact: an integer is not a float, a bool is not an integer, a
  string is not a date;
- a wrong value is reported and a placeholder returned, and the table's `ok`
  flag drops, so the caller keeps reading (all problems at once) but never
  builds a model object from a broken entry.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, TypeVar

from edgectl.sitefile.errors import Issues

E = TypeVar("E", bound=StrEnum)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


def type_name(value: object) -> str:
    """The file-format name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "null"
    return type(value).__name__


def unknown_key_message(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f"unknown key{hint}; allowed: {', '.join(sorted(allowed))}"


class Table:
    """One table (or inline table) of the file, read field by field."""

    def __init__(
        self,
        raw: object,
        issues: Issues,
        entry: str,
        allowed: Collection[str],
        prefix: str = "",
    ) -> None:
        self.issues = issues
        self.entry = entry
        self.prefix = prefix  # 'connectors[1].' for a table inside an entry
        self.ok = True
        if isinstance(raw, dict):
            self.raw: dict[str, Any] = raw
        else:
            self.raw = {}
            self.ok = False
            field = prefix.rstrip(".") or None
            issues.add(entry, field, f"must be a table, not {type_name(raw)}")
        for key in self.raw:
            if key not in allowed:
                self.fail(key, unknown_key_message(key, allowed))

    def fail(self, key: str, message: str) -> None:
        self.ok = False
        self.issues.add(self.entry, self.prefix + key, message)

    def has(self, key: str) -> bool:
        return key in self.raw

    def _get(self, key: str, default: Any) -> tuple[bool, Any]:
        """(present, value); reports a missing required key."""
        if key in self.raw:
            return True, self.raw[key]
        if default is REQUIRED:
            self.fail(key, "missing (required)")
        return False, default

    def string(
        self,
        key: str,
        default: Any = REQUIRED,
        *,
        max_len: int | None = None,
        non_empty: bool = False,
        identifier: bool = False,
    ) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value if value is not REQUIRED else ""
        if not isinstance(value, str):
            self.fail(key, f"must be a string, not {type_name(value)}")
            return ""
        if (non_empty or identifier) and not value.strip():
            self.fail(key, "must not be empty")
        elif identifier and any(ch.isspace() for ch in value):
            self.fail(key, f'"{value}" must not contain spaces')
        if max_len is not None and len(value) > max_len:
            self.fail(key, f"is {len(value)} characters long (at most {max_len})")
        return value

    def integer(self, key: str, default: Any = REQUIRED, *, low: int | None = None, high: int | None = None) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value if value is not REQUIRED else 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be an integer, not {type_name(value)}")
            return 0
        if low is not None and value < low:
            self.fail(key, f"{value} is below the minimum {low}")
        elif high is not None and value > high:
            self.fail(key, f"{value} is above the maximum {high}")
        return value

    def boolean(self, key: str, default: Any = REQUIRED) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value if value is not REQUIRED else False
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {type_name(value)}")
            return False
        return value

    def enum(self, key: str, cls: type[E], default: Any = REQUIRED) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value if value is not REQUIRED else None
        if not isinstance(value, str):
            self.fail(key, f"must be a string, not {type_name(value)}")
            return None
        try:
            return cls(value)
        except ValueError:
            self.fail(key, f'"{value}" is not one of {", ".join(e.value for e in cls)}')
            return None

    def choice(self, key: str, choices: Collection[str], default: Any = REQUIRED) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value if value is not REQUIRED else ""
        if not isinstance(value, str):
            self.fail(key, f"must be a string, not {type_name(value)}")
            return ""
        if value not in choices:
            self.fail(key, f'"{value}" is not one of {", ".join(choices)}')
        return value

    def string_list(self, key: str, default: Any = REQUIRED, *, non_empty: bool = False) -> Any:
        """An array of strings, duplicates refused."""
        present, value = self._get(key, default)
        if not present:
            return value if value is not REQUIRED else ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"must be an array of strings, not {type_name(value)}")
            return ()
        if non_empty and not value:
            self.fail(key, "must not be empty")
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            self.fail(key, f"lists {', '.join(repr(d) for d in duplicates)} more than once")
        return tuple(value)

    def table_list(self, key: str) -> list[Any]:
        """An array of tables (TOML `[[x]]` or an array of inline tables)."""
        return self.array(key, "an array of tables")

    def array(self, key: str, what: str = "an array") -> list[Any]:
        """An array whose items the caller reads; absent means empty."""
        present, value = self._get(key, [])
        if not present:
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be {what}, not {type_name(value)}")
            return []
        return value

    def date_value(self, key: str) -> date | None:
        present, value = self._get(key, None)
        if not present:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(key, f"must be a date (YYYY-MM-DD), not {type_name(value)}")
        return None

    def datetime_value(self, key: str, local_zone: Any) -> datetime | None:
        """A date-time; without an offset it is local time of the site's zone.

        Accepted as a TOML date-time or an ISO-8601 string. The result is
        always timezone-aware so it can be compared with the clock.
        """
        present, value = self._get(key, None)
        if not present:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.fail(key, f'"{value}" is not an ISO-8601 date-time')
                return None
        if not isinstance(value, datetime):
            self.fail(key, f"must be a date-time, not {type_name(value)}")
            return None
        if value.tzinfo is None:
            if local_zone is None:
                self.fail(key, "needs a UTC offset (the site time zone is invalid)")
                return None
            local = value.replace(tzinfo=local_zone)
            # Kept as a fixed offset so that export writes what was meant.
            value = local.astimezone(timezone(local.utcoffset() or timedelta(0)))
        offset = value.utcoffset()
        if offset is not None and offset.total_seconds() % 60:
            # TOML offsets have minute resolution (historic LMT offsets do not).
            self.fail(key, "has a UTC offset with seconds; give an explicit offset")
            return None
        return value
