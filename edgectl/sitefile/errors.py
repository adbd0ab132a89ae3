"""Problems found in an installer's file, collected rather than raised one by one.

Rules:
- every problem names the file, the entry and the field, in one line:
  `site.toml: stations[3] (id "S04"): field "zone": zone "floor9" does not exist`
  (entry indexes are 0-based, in file order);
- a check never stops at the first problem: the whole file is read and every
  problem is reported together in one `SiteFileError`, so the installer fixes
  the file in one pass and nothing is ever half-imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    entry: str  # 'stations[3] (id "S04")', '[site]', 'top level'
    field: str | None  # 'zone', 'connectors[1].wiring'; None: the entry as a whole
    message: str

    def format(self, source: str) -> str:
        where = f"{source}: {self.entry}"
        if self.field is not None:
            where += f': field "{self.field}"'
        return f"{where}: {self.message}"


class SiteFileError(ValueError):
    """A file that cannot be used; carries every problem found in it."""

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [issue.format(self.source) for issue in self.issues]


class Issues:
    """Collects problems while a file is read; `raise_if_any` ends the read."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Issue] = []

    def add(self, entry: str, field: str | None, message: str) -> None:
        self.items.append(Issue(entry, field, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise SiteFileError(self.source, self.items)
