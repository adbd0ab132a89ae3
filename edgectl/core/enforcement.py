"""Which charging profiles to write to the stations, and in which order.

SPEC §2 "Enforcement on the station itself" — the limits must hold even when
the controller is dead:
- every connector carries a *fallback*: a TxDefaultProfile at stack level
  FALLBACK_STACK with no expiry, limit = its degraded setpoint. It is
  (re)written whenever the station (re)connects or the fallback changes.
- the *live* setpoint of a connector with a session is a profile at the higher
  LIVE_STACK level that expires `lease_s` after it was written (validTo and
  schedule duration both), renewed while the controller runs. A TxProfile
  when the transaction id is known (it dies with the transaction), else a
  TxDefaultProfile on that connector. If the controller stops, the lease
  lapses and the fallback applies by itself.
- DC stations keep their last setpoint without the controller (SPEC §1): their
  setpoint is written as the no-expiry fallback itself.
- decreases before increases: the planner marks each command, the applier
  sends all decreases first and holds the increases of any zone where a
  decrease did not get through.
- a setpoint that has not changed is only re-sent to renew its lease (setpoints
  are whole amps, so any change is at least 1 A).

Pure: the applier keeps `Applied` records of what each station acknowledged
and passes them back in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from edgectl.core.result import Allocation, ConnectorState
from edgectl.core.topology import ConnectorKey, Topology

FALLBACK_STACK = 0
LIVE_STACK = 1
FALLBACK_PROFILE_BASE = 1000  # chargingProfileId = base + connector id
LIVE_PROFILE_BASE = 2000
CLOCK_SKEW_S = 60  # live profiles start this far back (station clock a little behind)


class ProfileKind(StrEnum):
    FALLBACK = "fallback"
    LIVE = "live"
    CLEAR_LIVE = "clear_live"


class Applied(NamedTuple):
    """What a station acknowledged for one connector."""

    fallback_a: int | None = None
    live_a: int | None = None
    live_valid_to: datetime | None = None
    live_transaction_id: int | None = None


class ProfileCommand(NamedTuple):
    # NamedTuples, not frozen dataclasses: a zone step plans and books a
    # thousand of each at once, and a tuple is built in a fraction of the time.
    station: str
    connector: int
    kind: ProfileKind
    limit_a: int
    number_phases: int
    stack_level: int
    profile_id: int
    purpose: str  # OCPP chargingProfilePurpose
    transaction_id: int | None
    valid_from: datetime
    valid_to: datetime | None
    duration_s: int | None
    decrease: bool  # lowers what the connector may draw: goes out first

    def as_ocpp(self) -> dict[str, object]:
        """The `csChargingProfiles` payload of SetChargingProfile.

        The fallback is a Relative profile with no dates at all, so no clock
        skew between box and station can make it lapse or start late. A live
        profile is Absolute and starts CLOCK_SKEW_S in the past, so a station
        whose clock is a little behind still takes it at once.
        """
        schedule: dict[str, object] = {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": float(self.limit_a), "numberPhases": self.number_phases}
            ],
        }
        profile: dict[str, object] = {
            "chargingProfileId": self.profile_id,
            "stackLevel": self.stack_level,
            "chargingProfilePurpose": self.purpose,
            "chargingProfileKind": "Relative" if self.kind is ProfileKind.FALLBACK else "Absolute",
            "chargingSchedule": schedule,
        }
        if self.kind is not ProfileKind.FALLBACK:
            start = self.valid_from - timedelta(seconds=CLOCK_SKEW_S)
            schedule["startSchedule"] = _iso(start)
            profile["validFrom"] = _iso(start)
            if self.duration_s is not None:
                schedule["duration"] = self.duration_s + CLOCK_SKEW_S
        if self.transaction_id is not None:
            profile["transactionId"] = self.transaction_id
        if self.valid_to is not None:
            profile["validTo"] = _iso(self.valid_to)
        return profile

    def payload_json(self) -> str:
        """The whole SetChargingProfile payload as compact JSON text:
        `{"connectorId": …, "csChargingProfiles": as_ocpp()}` encoded.

        A zone step sends a thousand of these at once, and the commands of
        one cycle differ in little but their transaction id: the text is
        encoded once per kind of command, with a mark where the transaction
        id goes, and each command puts its own id in."""
        if self.transaction_id is None:
            return _encoded(self._replace(station=""))[0]
        head, tail = _encoded(self._replace(station="", transaction_id=_TX_MARK))
        return f"{head}{self.transaction_id}{tail}"


_TX_MARK = -1  # no station's transaction id: marks where a command's own goes


@lru_cache(maxsize=256)
def _encoded(template: ProfileCommand) -> tuple[str, str]:
    """The template's payload text, split around its transaction id (if any)."""
    text = json.dumps({"connectorId": template.connector, "csChargingProfiles": template.as_ocpp()},
                      separators=(",", ":"))  # fmt: skip
    head, mark, tail = text.partition(f'"transactionId":{_TX_MARK}')
    return (head + '"transactionId":', tail) if mark else (text, "")


@lru_cache(maxsize=16)  # a cycle's commands share their few instants
def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def plan_profiles(
    topology: Topology,
    allocation: Allocation,
    applied: Mapping[ConnectorKey, Applied],
    transactions: Mapping[ConnectorKey, int],
    connected: frozenset[str],
    now: datetime,
    lease_s: int,
) -> list[ProfileCommand]:
    """Commands for the connected stations, decreases first.

    `applied` is what each connected station has acknowledged since it last
    connected (empty for a fresh connection: its fallback is rewritten).
    """
    renew_before = now + timedelta(seconds=lease_s / 2)
    valid_to = now + timedelta(seconds=lease_s)
    results = allocation.connectors
    if len(results) != len(topology.connectors) or any(
        (r.station, r.connector) != spec.key for r, spec in zip(results, topology.connectors, strict=True)
    ):
        # Not in the site's order (the engine's results are): look each one up.
        by_key = {(c.station, c.connector): c for c in results}
        results = tuple(by_key.get(spec.key) for spec in topology.connectors)  # type: ignore[misc]
    out: list[ProfileCommand] = []
    no_ack = Applied()
    offline, charging, suspended = ConnectorState.OFFLINE, ConnectorState.CHARGING, ConnectorState.SUSPENDED
    for spec, result in zip(topology.connectors, results, strict=True):
        station, connector = spec.key
        if result is None or station not in connected or result.state is offline:
            continue
        have = applied.get(spec.key, no_ack)
        phases = 3 if sum(spec.used) == 3 else 1
        setpoint = result.setpoint_a

        if spec.dc:
            # DC keeps its last setpoint without us: the setpoint is the fallback.
            target = setpoint if result.state is not ConnectorState.IDLE else (have.fallback_a or 0)
            if have.fallback_a != target:
                out.append(_fallback(spec.key, target, phases, now, have.fallback_a))
            continue

        if have.fallback_a != spec.fallback_a:
            out.append(_fallback(spec.key, spec.fallback_a, phases, now, have.fallback_a))

        if result.state is charging or result.state is suspended:
            tx = transactions.get(spec.key)
            stale = (
                have.live_a != setpoint
                or have.live_transaction_id != tx
                or have.live_valid_to is None
                or have.live_valid_to <= renew_before
            )
            if stale:
                # Compared with what the connector may draw now: its live limit
                # while that lease holds, else its fallback.
                current = have.live_a if have.live_valid_to and have.live_valid_to > now else spec.fallback_a
                out.append(
                    ProfileCommand(
                        station, connector, ProfileKind.LIVE, setpoint, phases, LIVE_STACK,
                        LIVE_PROFILE_BASE + connector, "TxProfile" if tx is not None else "TxDefaultProfile",
                        tx, now, valid_to, lease_s, current is None or setpoint < current,
                    )
                )
        elif have.live_a is not None and have.live_valid_to is not None and have.live_valid_to > now:
            # Idle with a live lease still running: clear it so the next car
            # starts on its fallback, not on the last car's share.
            out.append(
                ProfileCommand(
                    station, connector, ProfileKind.CLEAR_LIVE, 0, phases, LIVE_STACK, LIVE_PROFILE_BASE + connector,
                    "TxDefaultProfile", None, now, None, None, True,
                )
            )
    out.sort(key=lambda c: not c.decrease)  # stable: decreases first, site order kept
    return out


def _fallback(key: ConnectorKey, limit_a: int, phases: int, now: datetime, previous: int | None) -> ProfileCommand:
    return ProfileCommand(
        key[0], key[1], ProfileKind.FALLBACK, limit_a, phases, FALLBACK_STACK, FALLBACK_PROFILE_BASE + key[1],
        "TxDefaultProfile", None, now, None, None, previous is None or limit_a < previous,
    )  # fmt: skip
