"""SendLocalList: bring a station's local authorization list to what it should hold.

Rules (OCPP 1.6 §5.15-5.16, §3.5.3):
- Once per connection the box asks GetLocalListVersion. When the station's
  version is the one the box last stored for it (store `station_auth`), the
  stored entries are the base and only the difference is sent
  (Differential: added/changed entries with their idTagInfo, removed ones
  without); otherwise (first time, station reset, someone else wrote the
  list) the whole list is sent (Full).
- Versions only grow: the next one is the station's (or the stored one, if
  higher) + 1, one per message. A list longer than SendLocalListMaxLength
  goes out as a Full with the first chunk and Differentials with the rest.
- Entries: status Accepted, `expiryDate` when the card has a `valid_to`
  (known_cards mode), so the station stops accepting it on time by itself.
- Accepted -> the new version and entries are stored. VersionMismatch on a
  Differential -> one Full instead. Failed / NotSupported (answer or
  CALLERROR), GetLocalListVersion -1 -> the list is not usable: reported by
  the caller, which falls back to the cache. A timeout leaves the state
  unknown (the next sync starts over with GetLocalListVersion).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from edgectl.adapters.ocpp.deps import Deps
from edgectl.adapters.ocpp.frames import ErrorCode
from edgectl.adapters.ocpp.validation import format_timestamp
from edgectl.adapters.store import LocalList
from edgectl.ports import CallRejectedError, CallTimeoutError

if TYPE_CHECKING:
    from edgectl.adapters.ocpp.auth_sync import StationSync

log = structlog.get_logger(__name__)

_NOT_SUPPORTED = {ErrorCode.NOT_SUPPORTED, ErrorCode.NOT_IMPLEMENTED}


@dataclass(frozen=True, slots=True)
class Outcome:
    unsupported: str | None = None  # why the list cannot be used
    removed: bool = False  # a tag left the list (or the old content was unknown): clear the cache too
    pushed: bool = False  # the station holds the desired list now


class _Unusable(Exception):
    pass


class _Unknown(Exception):
    """The station's list state is unknown now (timeout, CALLERROR)."""


def _entry(tag: str, expiry: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": "Accepted"}
    if expiry is not None:
        info["expiryDate"] = expiry
    return {"idTag": tag, "idTagInfo": info}


def _chunks(items: list[dict[str, Any]], size: int | None) -> list[list[dict[str, Any]]]:
    if not items:
        return [[]]
    step = size if size is not None and size > 0 else len(items)
    return [items[i : i + step] for i in range(0, len(items), step)]


async def _call(deps: Deps, sync: StationSync, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    sid = sync.conn.station_id
    try:
        return await sync.conn.call(action, payload, deps.config.call_timeout_s)
    except CallRejectedError as exc:
        if exc.code in _NOT_SUPPORTED:
            raise _Unusable(f"{action} answered CALLERROR {exc.code}") from None
        log.warning("auth.local_list_call_failed", station_id=sid, action=action, error=str(exc))
        raise _Unknown from None
    except CallTimeoutError:
        log.warning("auth.local_list_timeout", station_id=sid, action=action)
        raise _Unknown from None


async def _learn_version(deps: Deps, sync: StationSync) -> int:
    result = await _call(deps, sync, "GetLocalListVersion", {})
    version = int(result.get("listVersion", -1))
    if version < 0:
        raise _Unusable("GetLocalListVersion answered -1 (no local list)")
    stored = await deps.store.station_auth.local_list(sync.conn.station_id)
    sync.list_version = version
    if stored is not None and stored.version == version:
        sync.list_entries = dict(stored.entries)
    else:
        sync.list_entries = None
        log.info(
            "auth.local_list_version_differs",
            station_id=sync.conn.station_id,
            station_version=version,
            stored_version=None if stored is None else stored.version,
        )
    return max(version, 0 if stored is None else stored.version)


async def _send(deps: Deps, sync: StationSync, update_type: str, version: int, chunk: list[dict[str, Any]]) -> str:
    payload = {"listVersion": version, "updateType": update_type, "localAuthorizationList": chunk}
    result = await _call(deps, sync, "SendLocalList", payload)
    status = str(result.get("status", "Failed"))
    if status in ("Failed", "NotSupported"):
        raise _Unusable(f"SendLocalList answered {status}")
    if status == "Accepted":
        sync.list_version = version
    return status


async def _push(deps: Deps, sync: StationSync, wanted: dict[str, str | None], floor: int) -> bool:
    """Send Full or Differential updates; True when the station now holds `wanted`."""
    base = sync.list_entries
    size = sync.caps.send_max_length if sync.caps is not None else None
    version = max(floor, sync.list_version or 0)
    if base is not None:
        changes = [_entry(t, e) for t, e in sorted(wanted.items()) if t not in base or base[t] != e]
        changes += [{"idTag": t} for t in sorted(base) if t not in wanted]
        if not changes:
            return True
        sync.list_entries = None  # unknown until every chunk is accepted
        for chunk in _chunks(changes, size):
            version += 1
            if await _send(deps, sync, "Differential", version, chunk) == "VersionMismatch":
                log.info("auth.local_list_version_mismatch", station_id=sync.conn.station_id, version=version)
                return await _push(deps, sync, wanted, version)  # base is None now: Full
            if sync.list_version != version:
                return False
    else:
        chunks = _chunks([_entry(t, e) for t, e in sorted(wanted.items())], size)
        for i, chunk in enumerate(chunks):
            version += 1
            status = await _send(deps, sync, "Full" if i == 0 else "Differential", version, chunk)
            if status != "Accepted":
                log.warning("auth.local_list_refused", station_id=sync.conn.station_id, status=status)
                return False
    sync.list_entries = dict(wanted)
    return True


async def push_local_list(deps: Deps, sync: StationSync, desired: dict[str, datetime | None]) -> Outcome:
    sid = sync.conn.station_id
    wanted = {tag: None if exp is None else format_timestamp(exp) for tag, exp in desired.items()}
    try:
        floor = 0
        if sync.list_version is None:
            floor = await _learn_version(deps, sync)
        base = sync.list_entries
        removed = base is None or any(t not in wanted for t in base)
        full = base is None
        if not await _push(deps, sync, wanted, floor):
            return Outcome(removed=removed)
    except _Unusable as exc:
        return Outcome(unsupported=str(exc))
    except _Unknown:
        sync.list_version, sync.list_entries = None, None
        return Outcome()
    assert sync.list_version is not None
    stored = await deps.store.station_auth.local_list(sid)
    if stored is None or stored.version != sync.list_version or stored.entries != wanted:
        await deps.store.station_auth.save_local_list(sid, LocalList(sync.list_version, wanted))
        log.info("auth.local_list_pushed", station_id=sid, version=sync.list_version, entries=len(wanted), full=full)
    return Outcome(removed=removed, pushed=True)
