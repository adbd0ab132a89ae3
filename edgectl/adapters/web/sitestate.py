"""The site as the web layer edits it, and the operator-domain scope.

Rules:
- the JSON shape of zones, stations, meters, TOU periods, inputs and
  settings IS the site file's shape (SPEC §8, same keys), so the API, the
  site file and the wizard never drift apart; station OCPP passwords are
  never sent out;
- every edit is read-modify-validate-write on a fresh copy from the store,
  under one lock: the edited site document goes through the site file's own
  parser and checks (`edgectl.sitefile.parse_site_data`), so an API edit is
  refused exactly like a bad site file, with file/entry/field named;
- after a write the new site is handed to `on_site_changed` (the running
  controller picks it up from its next cycle).
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import structlog

from edgectl.adapters.store import Store
from edgectl.adapters.web.problems import Problem
from edgectl.core.site import Site, StationModel
from edgectl.sitefile import SiteFileError, export_site, parse_site_data

log = structlog.get_logger(__name__)

SECRET_KEYS = ("password",)


def _plain(value: Any) -> Any:
    """TOML values (dates, times) as JSON-able values."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def site_doc(site: Site) -> dict[str, Any]:
    """The site as a site-file document (TOML types kept, for re-parsing)."""
    return tomllib.loads(export_site(site))


def public(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry for a response: JSON types, secrets removed."""
    return {k: _plain(v) for k, v in entry.items() if k not in SECRET_KEYS}


def site_error_problem(exc: SiteFileError, status: int = 422) -> Problem:
    return Problem(status, exc.messages[0] if len(exc.messages) == 1 else f"{len(exc.messages)} problems: "
                   + "; ".join(exc.messages[:3]), errors=exc.messages)


class SiteState:
    def __init__(
        self,
        store: Store,
        on_changed: Callable[[Site], None] | None,
        models: dict[str, StationModel] | None,
    ) -> None:
        self._store = store
        self._on_changed = on_changed
        self._models = models
        self._lock = asyncio.Lock()
        self.site = Site()

    async def load(self) -> Site:
        self.site = await self._store.site.load() or Site()
        return self.site

    def parse(self, doc: dict[str, Any], source: str) -> Site:
        try:
            return parse_site_data(doc, source, self._models)
        except SiteFileError as exc:
            raise site_error_problem(exc) from exc

    async def edit(self, change: Callable[[dict[str, Any]], None], source: str = "api") -> Site:
        """Apply `change` to a fresh site document, validate, store, publish."""
        async with self._lock:
            current = await self._store.site.load() or Site()
            doc = site_doc(current)
            change(doc)
            new = self.parse(doc, source)
            await self._store.site.replace(new)
            self._publish(new)
            return new

    async def replace(self, new: Site) -> None:
        async with self._lock:
            await self._store.site.replace(new)
            self._publish(new)

    async def reload(self) -> Site:
        """After a card write (the store's cards table is part of the site)."""
        async with self._lock:
            new = await self.load()
            self._publish(new)
            return new

    def _publish(self, new: Site) -> None:
        self.site = new
        if self._on_changed is not None:
            self._on_changed(new)
        log.info("web.site_changed", zones=len(new.zones), stations=len(new.stations), cards=len(new.cards))


@dataclass(frozen=True, slots=True)
class Scope:
    """The operator domain: which zones a user sees (None: the whole site)."""

    zones: frozenset[str] | None

    @classmethod
    def of(cls, site: Site, zone_scope: str | None) -> Scope:
        if zone_scope is None:
            return cls(None)
        ids = {zone_scope}
        grew = True
        while grew:  # the zone tree is at most 3 levels: this loop is short
            more = {z.id for z in site.zones if z.parent in ids} - ids
            ids |= more
            grew = bool(more)
        return cls(frozenset(ids))

    @property
    def whole_site(self) -> bool:
        return self.zones is None

    def zone(self, zone_id: str | None) -> bool:
        return self.zones is None or zone_id in self.zones

    def station(self, site: Site, station_id: str | None) -> bool:
        if self.zones is None:
            return True
        return any(s.id == station_id and s.zone in self.zones for s in site.stations)

    def card_visible(self, zones: tuple[str, ...] | None) -> bool:
        # A card for every zone is usable in the operator's domain too: shown.
        return self.zones is None or zones is None or any(z in self.zones for z in zones)

    def card_editable(self, zones: tuple[str, ...] | None) -> bool:
        # Editing a card that also opens other zones would reach outside the domain.
        return self.zones is None or (zones is not None and all(z in self.zones for z in zones))
