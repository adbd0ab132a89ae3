"""A charge point's OCPP configuration keys (pure).

Rules (OCPP 1.6 §5.3 ChangeConfiguration, §5.8 GetConfiguration, §9):
- The standard keys of the Core, Local Auth List, Reservation and Smart
  Charging profiles exist with the usual defaults; read-only ones answer
  ChangeConfiguration `Rejected`, unknown keys `NotSupported`.
- Integers must parse as integers >= 0, booleans as "true"/"false" (any case),
  otherwise `Rejected`.
- Vendor keys of the station model (its `[ocpp] setup_keys`) exist too, set
  to their "factory" value until the central system changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass
class Key:
    value: str
    readonly: bool = False
    kind: str = "str"  # "int", "bool" or "str"


def _standard(connectors: int, units: str, max_stack: int, local_list: bool, heartbeat_s: int) -> dict[str, Key]:
    profiles = "Core,FirmwareManagement,Reservation,SmartCharging,RemoteTrigger"
    if local_list:
        profiles += ",LocalAuthListManagement"
    return {
        "AllowOfflineTxForUnknownId": Key("false", kind="bool"),
        "AuthorizationCacheEnabled": Key("true", kind="bool"),
        "AuthorizeRemoteTxRequests": Key("false", kind="bool"),
        "ClockAlignedDataInterval": Key("0", kind="int"),
        "ConnectionTimeOut": Key("60", kind="int"),
        "ConnectorPhaseRotation": Key(",".join(f"{c}.RST" for c in range(1, connectors + 1))),
        "GetConfigurationMaxKeys": Key("100", readonly=True, kind="int"),
        "HeartbeatInterval": Key(str(heartbeat_s), kind="int"),
        "LocalAuthorizeOffline": Key("true", kind="bool"),
        "LocalPreAuthorize": Key("false", kind="bool"),
        "MeterValuesAlignedData": Key("Energy.Active.Import.Register"),
        "MeterValuesSampledData": Key(
            "Energy.Active.Import.Register,Current.Import,Current.Offered,Power.Active.Import,SoC"
        ),
        "MeterValueSampleInterval": Key("10", kind="int"),
        "MinimumStatusDuration": Key("0", kind="int"),
        "NumberOfConnectors": Key(str(connectors), readonly=True, kind="int"),
        "ResetRetries": Key("3", kind="int"),
        "StopTransactionOnEVSideDisconnect": Key("true", kind="bool"),
        "StopTransactionOnInvalidId": Key("true", kind="bool"),
        "StopTxnAlignedData": Key(""),
        "StopTxnSampledData": Key("Energy.Active.Import.Register"),
        "SupportedFeatureProfiles": Key(profiles, readonly=True),
        "TransactionMessageAttempts": Key("3", kind="int"),
        "TransactionMessageRetryInterval": Key("10", kind="int"),
        "UnlockConnectorOnEVSideDisconnect": Key("true", kind="bool"),
        "WebSocketPingInterval": Key("0", kind="int"),
        "LocalAuthListEnabled": Key("true" if local_list else "false", readonly=not local_list, kind="bool"),
        "LocalAuthListMaxLength": Key("1000", readonly=True, kind="int"),
        "SendLocalListMaxLength": Key("250", readonly=True, kind="int"),
        "ReserveConnectorZeroSupported": Key("false", readonly=True, kind="bool"),
        "ChargeProfileMaxStackLevel": Key(str(max_stack), readonly=True, kind="int"),
        "ChargingScheduleAllowedChargingRateUnit": Key(units, readonly=True),
        "ChargingScheduleMaxPeriods": Key("24", readonly=True, kind="int"),
        "ConnectorSwitch3to1PhaseSupported": Key("false", readonly=True, kind="bool"),
        "MaxChargingProfilesInstalled": Key("32", readonly=True, kind="int"),
    }


class ConfigStore:
    def __init__(
        self,
        *,
        connectors: int,
        charging_rate_units: Iterable[str] = ("A",),
        max_stack_level: int = 8,
        local_list: bool = True,
        heartbeat_s: int = 300,
        vendor_keys: Mapping[str, str] | None = None,
    ) -> None:
        names = {"A": "Current", "W": "Power"}
        units = ",".join(names[u] for u in charging_rate_units)
        self._keys = _standard(connectors, units, max_stack_level, local_list, heartbeat_s)
        for name, factory in (vendor_keys or {}).items():
            self._keys[name] = Key(factory, kind="bool" if factory.lower() in ("true", "false") else "str")

    def get(self, name: str) -> str | None:
        key = self._keys.get(name)
        return None if key is None else key.value

    def int(self, name: str, default: int = 0) -> int:
        try:
            return int(self.get(name) or default)
        except ValueError:
            return default

    def bool(self, name: str) -> bool:
        return (self.get(name) or "").lower() == "true"

    def set_internal(self, name: str, value: str) -> None:
        """Set a key the station itself owns (e.g. the boot interval), read-only or not."""
        self._keys[name].value = value

    def change(self, name: str, value: str) -> str:
        """ChangeConfiguration: Accepted, Rejected or NotSupported."""
        key = self._keys.get(name)
        if key is None:
            return "NotSupported"
        if key.readonly:
            return "Rejected"
        if key.kind == "int":
            try:
                if int(value) < 0:
                    return "Rejected"
            except ValueError:
                return "Rejected"
            value = str(int(value))
        elif key.kind == "bool":
            if value.lower() not in ("true", "false"):
                return "Rejected"
            value = value.lower()
        key.value = value
        return "Accepted"

    def listing(self, names: Iterable[str] | None = None) -> tuple[list[dict[str, object]], list[str]]:
        """GetConfiguration: (known keys as {key, readonly, value}, unknown names)."""
        wanted = list(names) if names else list(self._keys)
        known = [
            {"key": n, "readonly": self._keys[n].readonly, "value": self._keys[n].value}
            for n in wanted
            if n in self._keys
        ]
        return known, [n for n in wanted if n not in self._keys]
