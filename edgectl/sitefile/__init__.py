"""The installer's site file (SPEC §8): TOML <-> `edgectl.core.site.Site`.

Rules:
- loading is all-or-nothing: every problem in the file is collected and
  raised together as one `SiteFileError` (file, entry and field named in each
  message); a file with any problem yields no `Site` at all;
- `export_site` writes a file that loads back to an equal site, byte-stable
  across export -> load -> export;
- the station-model catalogue is injected (default: the built-in one) so
  that tests can check against other models.

Layout: `reader` (typed access to one table), `parse` (one entry at a time),
`checks` (across entries), `export` (the inverse), `statefile` (the JSON
state file of `edgectl plan`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from edgectl.core.site import Site, StationModel, Tou
from edgectl.sitefile.checks import check_draft
from edgectl.sitefile.errors import Issue, Issues, SiteFileError
from edgectl.sitefile.export import export_site
from edgectl.sitefile.parse import Entry, read_draft

__all__ = ["Issue", "SiteFileError", "export_site", "load_site", "load_site_file", "parse_site_data"]

T = TypeVar("T")


def load_site_file(path: Path, models: Mapping[str, StationModel] | None = None) -> Site:
    """Read and validate a site file; problems are named after `path` as given."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteFileError(source, [Issue("file", None, f"cannot be read: {exc}")]) from exc
    return load_site(text, source, models)


def load_site(text: str, source: str = "site.toml", models: Mapping[str, StationModel] | None = None) -> Site:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteFileError(source, [Issue("file", None, f"not valid TOML: {exc}")]) from exc
    return parse_site_data(doc, source, models)


def parse_site_data(doc: dict[str, Any], source: str, models: Mapping[str, StationModel] | None = None) -> Site:
    if models is None:
        from edgectl.stationmodels import catalogue

        models = catalogue()
    issues = Issues(source)
    draft = read_draft(doc, issues, models)
    check_draft(draft, issues)
    issues.raise_if_any()
    assert draft.settings is not None  # no issues: every part was read
    return Site(
        settings=draft.settings,
        zones=_values(draft.zones),
        stations=_values(draft.stations),
        meters=_values(draft.meters),
        cards=_values(draft.cards),
        tou=Tou(enabled=draft.tou_enabled, periods=_values(draft.periods)),
        digital_inputs=_values(draft.inputs),
    )


def _values(entries: list[Entry[T]]) -> tuple[T, ...]:
    out = tuple(e.value for e in entries if e.value is not None)
    assert len(out) == len(entries)  # a broken entry always leaves an issue
    return out
