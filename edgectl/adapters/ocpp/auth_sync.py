"""Push each station's offline authorization: configuration keys, local list, cache.

Rules:
- A station is synced when it is set up (after `post_boot_setup`) and again
  whenever `cards_changed()` / `settings_changed()` is called. Both return at
  once: the work runs in one task per station, owned by its connection
  (cancelled on disconnect); requests that arrive during a sync coalesce into
  one more sync. A slow or dead station never blocks the caller or the others.
- Keys: `core.authorization.OFFLINE_KEYS[station.auth_disconnected]`, each
  sent with ChangeConfiguration only when it differs from what this
  connection already got (every new connection gets them all once).
  `LocalAuthListEnabled` is left out for a station whose
  SupportedFeatureProfiles lacks LocalAuthListManagement.
- Local list (use_cache only, see `local_list.py`): the cards already used on
  that station and still accepted there.
- Cache: when a tag that was accepted at the station no longer is (card
  blocked, expired, moved out of the zone, mode change), ClearCache, so the
  station's authorization cache cannot let it charge offline.
- A station without local-list support is reported once per connection
  (structlog `auth.local_list_unsupported` + event log) and falls back to the
  cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from edgectl.adapters.ocpp.connection import StationConnection
from edgectl.adapters.ocpp.deps import Deps
from edgectl.adapters.ocpp.local_list import push_local_list
from edgectl.adapters.ocpp.setup import change_configuration
from edgectl.adapters.store import Event, EventType
from edgectl.core.authorization import OFFLINE_KEYS, decide, offline_list, uses_cache, uses_local_list
from edgectl.core.site import Card, Station
from edgectl.ports import CallRejectedError, CallTimeoutError, StationNotConnectedError

log = structlog.get_logger(__name__)

LOCAL_LIST_PROFILE = "LocalAuthListManagement"
TOO_LONG = " exceed LocalAuthListMaxLength"
CAPABILITY_KEYS = ["SupportedFeatureProfiles", "LocalAuthListMaxLength", "SendLocalListMaxLength"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    profiles: frozenset[str] | None = None  # None: the station did not say
    list_max_length: int | None = None
    send_max_length: int | None = None

    @property
    def local_list(self) -> bool | None:
        return None if self.profiles is None else LOCAL_LIST_PROFILE in self.profiles


@dataclass(eq=False)
class StationSync:
    """What one connection of a station has been given (fresh per connection)."""

    conn: StationConnection
    dirty: bool = False
    task: asyncio.Task[None] | None = None
    caps: Capabilities | None = None
    keys: dict[str, str] = field(default_factory=dict)
    list_version: int | None = None  # on the station, as far as this connection knows
    list_entries: dict[str, str | None] | None = None  # None: content unknown
    unsupported: str | None = None  # why the local list cannot be used (reported once)
    syncs: int = 0  # completed syncs (tests, status)

    @property
    def idle(self) -> bool:
        return not self.dirty and (self.task is None or self.task.done())


def _text(value: bool) -> str:
    return "true" if value else "false"


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class AuthSync:
    def __init__(self, deps: Deps, connections: Callable[[], Iterable[StationConnection]]) -> None:
        self.deps = deps
        self._connections = connections
        self._syncs: dict[str, StationSync] = {}
        # Tags accepted at each station at its last sync: a tag that drops out
        # of this set may still sit in the station's cache (kept across reconnects).
        self._accepted: dict[str, frozenset[str]] = {}
        self._cards_loading: asyncio.Future[list[Card]] | None = None  # shared until the next change
        self._shared_sets: dict[frozenset[str], frozenset[str]] = {}

    # --- triggers (never block) ---------------------------------------------------

    def station_ready(self, conn: StationConnection) -> None:
        self._request(conn)

    async def cards_changed(self) -> None:
        """Call after any card change (add, edit, delete, import)."""
        self._request_all("cards")

    async def settings_changed(self) -> None:
        """Call after a change of authorization or disconnected modes (site edit)."""
        self._request_all("settings")

    def request(self, why: str) -> None:
        """Synchronous form for callbacks: re-sync every connected station (cards
        and modes); returns at once, each station syncs in its own task."""
        self._request_all(why)

    def state(self, station_id: str) -> StationSync | None:
        return self._syncs.get(station_id)

    def _request_all(self, why: str) -> None:
        self._cards_loading = None  # cards, modes or the site changed: read the cards anew
        self._shared_sets = {}  # the sets in use stay referenced by the stations
        conns = [c for c in self._connections() if c.ready]
        log.info("auth.sync_requested", why=why, stations=len(conns))
        for conn in conns:
            self._request(conn)

    def _request(self, conn: StationConnection) -> None:
        if not self.deps.config.manage_station_auth or conn.retired or self.deps.station(conn.station_id) is None:
            return
        sync = self._syncs.get(conn.station_id)
        if sync is None or sync.conn is not conn:
            sync = StationSync(conn)
            self._syncs[conn.station_id] = sync
        sync.dirty = True
        if sync.task is None or sync.task.done():
            sync.task = conn.spawn(f"ocpp.auth_sync:{conn.station_id}", self._run(sync))

    async def _run(self, sync: StationSync) -> None:
        while sync.dirty and not sync.conn.retired:
            sync.dirty = False
            try:
                await self._sync(sync)
            except StationNotConnectedError:
                return
            except Exception:
                log.exception("auth.sync_failed", station_id=sync.conn.station_id)
            sync.syncs += 1

    # --- one sync ----------------------------------------------------------------

    async def _sync(self, sync: StationSync) -> None:
        deps, conn = self.deps, sync.conn
        station = deps.station(conn.station_id)
        if station is None:
            return
        mode = station.auth_disconnected
        if sync.caps is None:
            sync.caps = await self._capabilities(conn)
        list_refused = await self._push_keys(sync, station)
        site, now = deps.site(), deps.clock.now()
        cards = await self._cards()
        used = await deps.store.station_auth.used_id_tags(station.id)
        removed = False
        if uses_local_list(mode):
            reason = list_refused or self._static_reason(sync.caps)
            retry = sync.unsupported is None or TOO_LONG in sync.unsupported  # the list may shrink
            if reason is None and retry:
                desired = offline_list(cards, used, station, site, now)
                max_length = sync.caps.list_max_length
                if max_length is not None and len(desired) > max_length:
                    reason = f"{len(desired)} cards{TOO_LONG} {max_length}"
                else:
                    outcome = await push_local_list(deps, sync, desired)
                    reason, removed = outcome.unsupported, outcome.removed
                    if reason is None and outcome.pushed:
                        sync.unsupported = None  # usable (again): a later problem is reported anew
            if reason is not None:
                await self._report_unsupported(sync, reason)
        accepted = frozenset(
            c.id_tag.upper() for c in cards if decide(c, station, site, now) == "Accepted"
        ) | frozenset(t.upper() for t in used if decide(None, station, site, now) == "Accepted")
        # Stations of one zone accept the same tags: keep one set for all of
        # them (a thousand stations x a thousand cards was ~90 MB of copies).
        accepted = self._shared_sets.setdefault(accepted, accepted)
        before = self._accepted.get(station.id)
        self._accepted[station.id] = accepted
        if uses_cache(mode) and (removed or (before is not None and before - accepted)):
            await self._clear_cache(conn)

    async def _cards(self) -> list[Card]:
        # One read shared by every station syncing after the same change: a
        # thousand stations booting must not read the card table a thousand
        # times (it held the store and starved the stations' own messages).
        loading = self._cards_loading
        if loading is None:
            loading = self._cards_loading = asyncio.ensure_future(self._load_cards())
        try:
            return await asyncio.shield(loading)
        except Exception:
            if self._cards_loading is loading:
                self._cards_loading = None  # a failed read is not kept
            raise

    async def _load_cards(self) -> list[Card]:
        # The store's card table (what the web layer edits) overlaid with the
        # site's list, the same precedence the online decision uses.
        merged = {s.card.id_tag.upper(): s.card for s in await self.deps.store.cards.list()}
        merged.update({c.id_tag.upper(): c for c in self.deps.site().cards})
        return list(merged.values())

    def _static_reason(self, caps: Capabilities) -> str | None:
        if caps.local_list is False:
            return f"SupportedFeatureProfiles lacks {LOCAL_LIST_PROFILE}"
        return None

    async def _capabilities(self, conn: StationConnection) -> Capabilities:
        try:
            result = await conn.call("GetConfiguration", {"key": CAPABILITY_KEYS}, self.deps.config.call_timeout_s)
        except (CallTimeoutError, CallRejectedError) as exc:
            log.warning("auth.capabilities_unknown", station_id=conn.station_id, error=str(exc))
            return Capabilities()
        values: dict[str, str] = {}
        for entry in result.get("configurationKey") or []:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                values[entry["key"]] = str(entry.get("value") or "")
        profiles = values.get("SupportedFeatureProfiles")
        return Capabilities(
            profiles=None if profiles is None else frozenset(p.strip() for p in profiles.split(",") if p.strip()),
            list_max_length=_int(values["LocalAuthListMaxLength"]) if "LocalAuthListMaxLength" in values else None,
            send_max_length=_int(values["SendLocalListMaxLength"]) if "SendLocalListMaxLength" in values else None,
        )

    async def _push_keys(self, sync: StationSync, station: Station) -> str | None:
        """Send the keys that changed; a reason when LocalAuthListEnabled was refused."""
        keys = {k: _text(v) for k, v in OFFLINE_KEYS[station.auth_disconnected].items()}
        if sync.caps is not None and sync.caps.local_list is False:
            keys.pop("LocalAuthListEnabled")  # read-only "false" on such stations
        refused: str | None = None
        for key, value in keys.items():
            if sync.keys.get(key) == value:
                continue
            status = await change_configuration(self.deps, sync.conn, key, value)
            sync.keys[key] = value  # not retried on every card change; the refusal is logged and recorded
            if key == "LocalAuthListEnabled" and value == "true" and status not in ("Accepted", "RebootRequired"):
                refused = f"LocalAuthListEnabled=true answered {status}"
        if refused is None and sync.unsupported is not None and sync.unsupported.startswith("LocalAuthListEnabled"):
            refused = sync.unsupported
        return refused

    async def _report_unsupported(self, sync: StationSync, reason: str) -> None:
        if sync.unsupported == reason:
            return
        sync.unsupported = reason
        sid = sync.conn.station_id
        log.warning("auth.local_list_unsupported", station_id=sid, reason=reason, fallback="authorization cache")
        try:
            await self.deps.store.events.append(
                Event(
                    EventType.SYSTEM,
                    "local authorization list not usable: offline authorization falls back to the cache",
                    source=sid,
                    details={"reason": reason},
                )
            )
        except Exception:
            log.exception("auth.event_not_stored", station_id=sid)

    async def _clear_cache(self, conn: StationConnection) -> None:
        try:
            result = await conn.call("ClearCache", {}, self.deps.config.call_timeout_s)
        except (CallTimeoutError, CallRejectedError) as exc:
            log.warning("auth.clear_cache_failed", station_id=conn.station_id, error=str(exc))
            return
        log.info("auth.cache_cleared", station_id=conn.station_id, status=result.get("status"))
