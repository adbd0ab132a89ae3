"""Daemon configuration (config/edgectl.toml): where data lives, ports, GPIO, MQTT, logs.

This is the box's own configuration, not the site: the site (zones, stations,
meters, cards ...) lives in the store and is exchanged as a site file
(edgectl.sitefile). Unknown keys are refused so that a typo never silently
falls back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A bad configuration file; the message names file, section and key."""


@dataclass(frozen=True, slots=True)
class OcppConfig:
    host: str = "0.0.0.0"
    port: int = 9000
    heartbeat_interval_s: int = 300
    call_timeout_s: float = 10.0
    tls_port: int | None = None  # security profile 2 listener, when set
    # The id tag of sessions the box starts itself on stations with the RFID reader disabled.
    free_charging_id_tag: str = "FREE-CHARGING"
    # false: the box leaves the stations' offline authorization alone (keys, local
    # list, cache), e.g. when another system manages them.
    manage_station_auth: bool = True


@dataclass(frozen=True, slots=True)
class WebConfig:
    host: str = "0.0.0.0"
    http_port: int = 8080
    https_port: int | None = 8443
    tls10: bool = False


@dataclass(frozen=True, slots=True)
class FilesConfig:
    """The HTTP endpoints stations fetch firmware from and upload diagnostics to."""

    host: str = ""  # empty: the [ocpp] host (stations reach both the same way)
    port: int = 0  # 0: an ephemeral port (tests, demo); a box sets a fixed one (config/edgectl.toml: 8081)
    # How stations reach it, e.g. "http://192.168.0.10:8081". Empty: the address
    # the station itself used to reach the OCPP server, with the bound port.
    public_url: str = ""
    max_upload_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class GpioConfig:
    pin_factory: str = "native"  # "mock" in tests and the demo
    di_pins: tuple[int, ...] = (17, 27, 22)  # BCM numbers of DI 1-3
    reset_pins: tuple[int, int] = (7, 8)  # the factory-reset bridge
    debounce_s: float = 0.05


@dataclass(frozen=True, slots=True)
class MqttConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "edgectl"
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = "info"
    format: str = "console"  # console | json
    max_events: int = 200_000  # bounded event log in the store


@dataclass(frozen=True, slots=True)
class ControlConfig:
    cycle_s: float = 2.0  # a cycle at least this often
    min_cycle_s: float = 0.1  # and at most this often: a burst of events makes one cycle
    lease_s: int = 120  # live profiles expire on the station after this
    meter_poll_s: float = 0.5


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """What the web's Admin › System page may run on the box (docs/operations.md)."""

    # Run by "Reboot", e.g. ["systemctl", "reboot"]. Empty: the web answers that reboot is not configured.
    reboot_command: tuple[str, ...] = ()
    # Run after "Back to factory" wiped the store, e.g. ["systemctl", "restart", "edgectl"]. Empty: nothing.
    factory_reset_command: tuple[str, ...] = ()
    command_timeout_s: float = 30.0
    # Where the box's network configuration (a systemd-networkd .network file) is written.
    # Empty: <data_dir>/network. A box points it at /etc/systemd/network (applied on reboot).
    network_dir: str = ""
    network_interface: str = "eth0"


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    data_dir: Path = Path("/var/lib/edgectl")
    ocpp: OcppConfig = field(default_factory=OcppConfig)
    web: WebConfig = field(default_factory=WebConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    log: LogConfig = field(default_factory=LogConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    files: FilesConfig = field(default_factory=FilesConfig)
    system: SystemConfig = field(default_factory=SystemConfig)
    source: Path | None = None  # the file this came from

    @property
    def db_path(self) -> Path:
        return self.data_dir / "edgectl.db"

    @property
    def network_dir(self) -> Path:
        if not self.system.network_dir:
            return self.data_dir / "network"
        path = Path(self.system.network_dir).expanduser()
        return path if path.is_absolute() else self.data_dir / path


_SECTIONS: dict[str, type] = {
    "ocpp": OcppConfig,
    "web": WebConfig,
    "gpio": GpioConfig,
    "mqtt": MqttConfig,
    "log": LogConfig,
    "control": ControlConfig,
    "files": FilesConfig,
    "system": SystemConfig,
}


def load_config(path: Path | None) -> DaemonConfig:
    """Read the daemon configuration; a missing file means all defaults.

    A relative `data_dir` is taken relative to the configuration file, so the
    repository's config/edgectl.toml works from a checkout.
    """
    if path is None or not path.exists():
        return DaemonConfig(source=None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> DaemonConfig:
    unknown = set(raw) - {"data_dir", *_SECTIONS}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)} at top level")
    kwargs: dict[str, Any] = {"source": path}
    if "data_dir" in raw:
        if not isinstance(raw["data_dir"], str):
            raise ConfigError(f"{path}: data_dir must be a string")
        data_dir = Path(raw["data_dir"]).expanduser()
        kwargs["data_dir"] = data_dir if data_dir.is_absolute() else (path.parent / data_dir).resolve()
    for name, cls in _SECTIONS.items():
        if name in raw:
            kwargs[name] = _section(cls, raw[name], path, name)
    return DaemonConfig(**kwargs)


def _section(cls: type, table: Any, path: Path, name: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{path}: [{name}] unknown key(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    defaults = cls()
    for key, value in table.items():
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"{path}: [{name}] {key} must be a list")
            kinds = {type(x) for x in default} or ({str} if name == "system" else {int, str})
            if any(type(x) not in kinds for x in value):
                raise ConfigError(f"{path}: [{name}] {key} must be a list of "
                                  f"{' or '.join(sorted(k.__name__ for k in kinds))}")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: [{name}] {key} must be true or false")
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ConfigError(f"{path}: [{name}] {key} must be a number")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{path}: [{name}] {key} must be a string")
        values[key] = value
    return cls(**values)
