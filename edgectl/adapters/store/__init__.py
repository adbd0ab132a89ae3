"""The store: one SQLite database (WAL), numbered migrations, typed repositories.

Every write is committed (and on disk, `synchronous=FULL`) before the call
returns, so a caller may acknowledge to a station right after it.
"""

from edgectl.adapters.store.alarms import Alarm, AlarmQuery, AlarmRepository
from edgectl.adapters.store.cards import KEEP, CardFilter, CardPatch, CardRepository, Keep, StoredCard
from edgectl.adapters.store.errors import AlreadyExistsError, NotFoundError, SchemaTooNewError, StoreError
from edgectl.adapters.store.events import Event, EventQuery, EventRepository, EventType
from edgectl.adapters.store.factory import FactoryReset, WipeResult
from edgectl.adapters.store.maintenance import FileStatus, MaintenanceRepository
from edgectl.adapters.store.sessions import ChargeType, MeterSample, Session, SessionRepository, Started, Stopped
from edgectl.adapters.store.site import SiteRepository
from edgectl.adapters.store.station_auth import LocalList, StationAuthRepository
from edgectl.adapters.store.station_events import StationEvent, StationEventQuery, StationEventRepository
from edgectl.adapters.store.stations_registry import DetectedStation, StationRegistry
from edgectl.adapters.store.store import DEFAULT_MAX_EVENTS, Store, open_store
from edgectl.adapters.store.users import Role, User, UserRepository
from edgectl.adapters.store.web_auth import (
    BoxSettingsRepository,
    StoredSession,
    StoredToken,
    WebAuthRepository,
    secret_hash,
)

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "KEEP",
    "Alarm",
    "AlarmQuery",
    "AlarmRepository",
    "AlreadyExistsError",
    "BoxSettingsRepository",
    "CardFilter",
    "CardPatch",
    "CardRepository",
    "ChargeType",
    "DetectedStation",
    "Event",
    "EventQuery",
    "EventRepository",
    "EventType",
    "FactoryReset",
    "FileStatus",
    "Keep",
    "LocalList",
    "MaintenanceRepository",
    "MeterSample",
    "NotFoundError",
    "Role",
    "SchemaTooNewError",
    "Session",
    "SessionRepository",
    "SiteRepository",
    "Started",
    "StationAuthRepository",
    "StationEvent",
    "StationEventQuery",
    "StationEventRepository",
    "StationRegistry",
    "Stopped",
    "Store",
    "StoreError",
    "StoredCard",
    "StoredSession",
    "StoredToken",
    "User",
    "UserRepository",
    "WebAuthRepository",
    "WipeResult",
    "open_store",
    "secret_hash",
]
