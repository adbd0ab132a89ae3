"""Application services: what an operator (web, API, CLI) does with the site.

- `StationCommandService` (commands.py): remote commands to a station
  (implements `edgectl.ports.StationCommands`), each recorded with who asked.
- `AlarmMonitor` (alarms.py) over the pure `AlarmRules` (alarm_rules.py):
  raise/clear, active list, history, operator clear.
- `station_events` (events.py): the StatusNotification history, filtered and paged.
- `StationObserverTee` (observers.py): one station observer for several listeners.

Layering (import-linter): services may use the core, the ports, the clock,
the settings and the store; never another adapter or the control loop —
the supervisor wires them to those.
"""

from edgectl.services.alarm_rules import AlarmKey, AlarmKind, AlarmRules
from edgectl.services.alarms import AlarmMonitor, alarm_dict
from edgectl.services.commands import StationCommandService
from edgectl.services.events import station_events
from edgectl.services.observers import StationObserverTee

__all__ = [
    "AlarmKey",
    "AlarmKind",
    "AlarmMonitor",
    "AlarmRules",
    "StationCommandService",
    "StationObserverTee",
    "alarm_dict",
    "station_events",
]
