"""Site file parsing: SPEC §8's example verbatim, and every refusal named (file, entry, field)."""

# ruff: noqa: E501  (the tables of cases read best one case per line)

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from edgectl.core.site import (
    AuthMode,
    Card,
    Connector,
    DigitalInput,
    DisconnectedAuth,
    Meter,
    MinCurrentPolicy,
    SheddingPriority,
    Station,
    TouSlot,
    Transport,
    Wiring,
    Zone,
    ZoneMode,
)
from edgectl.sitefile import SiteFileError, load_site, load_site_file, parse_site_data

HERE = Path(__file__).parent
SPEC_SITE = HERE / "spec_site.toml"
EXAMPLE = HERE.parents[1] / "config" / "site.example.toml"


def spec_doc() -> dict[str, Any]:
    return tomllib.loads(SPEC_SITE.read_text(encoding="utf-8"))


def errors_of(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(SiteFileError) as info:
        parse_site_data(doc, "site.toml")
    return info.value.messages


def test_spec_example_parses_verbatim() -> None:
    site = load_site_file(SPEC_SITE)
    s = site.settings
    assert (s.name, s.timezone, s.rotation_minutes, s.consumption_optimisation) == (
        "Demo site",
        "Europe/Paris",
        15,
        False,
    )
    assert s.min_current is MinCurrentPolicy.IEC61851 and s.shedding_priority is SheddingPriority.ENERGY
    assert site.zones == (
        Zone("main", "Main switchboard", 250, ZoneMode.DYNAMIC, None, "pm-main", 60),
        Zone("floor1", "1st floor", 120, ZoneMode.STATIC, "main", None, 0, AuthMode.KNOWN_CARDS),
    )
    assert site.meters == (Meter("pm-main", "pm5320", Transport.TCP, host="192.168.0.81", port=502, unit_id=255),)
    assert site.stations == (
        Station(
            "S03",
            "Station 03",
            "evlink_city",
            "floor1",
            (Connector(1, Wiring.TRI123, 32, "T2"), Connector(2, Wiring.MONO2, 32, "T2")),
            auth_disconnected=DisconnectedAuth.USE_CACHE,
        ),
    )
    assert site.cards == (Card("EFR41DEZ", vip=True, authorized=True, comment="Fleet manager", zones=("floor1",)),)
    assert site.tou.enabled
    (period,) = site.tou.periods
    assert period.percent == 90 and period.days == ("mon", "tue", "wed", "thu", "fri")
    assert period.slots == (TouSlot(time(8), time(12)), TouSlot(time(14), time(19, 30)))
    assert period.zones == ("floor1",)
    assert site.digital_inputs == (DigitalInput(1, "Grid operator signal", True, 70),)


def test_example_site_is_valid_and_realistic() -> None:
    site = load_site_file(EXAMPLE)
    assert len(site.zones) == 4 and len(site.stations) >= 12
    assert {m.host for m in site.meters} == {"127.0.0.1"}  # loopback only
    assert any(m.reporting for m in site.meters)
    assert {s.model for s in site.stations} >= {
        "evlink_smart_wallbox",
        "evlink_parking",
        "evlink_city",
        "evlink_pro_ac",
        "evlink_dc",
    }
    assert any(c.socket == "T2/TE" for s in site.stations for c in s.connectors)
    assert any(s.vip for s in site.stations) and any(c.vip for c in site.cards)
    assert any(c.valid_from for c in site.cards) and any(c.zones for c in site.cards)
    wirings = {c.wiring for s in site.stations for c in s.connectors}
    assert {Wiring.TRI123, Wiring.TRI231, Wiring.TRI312, Wiring.MONO2} <= wirings


def test_defaults_of_a_minimal_file() -> None:
    site = load_site('[[zones]]\nid = "z"\nname = "Z"\nmax_current = 32\n')
    assert site.zones == (Zone("z", "Z", 32),)
    assert site.settings.timezone == "UTC" and not site.tou.enabled


def test_tou_table_is_enabled_unless_it_says_otherwise_and_zone_tou_false() -> None:
    doc = spec_doc()
    del doc["tou"]["enabled"]
    doc["zones"][1]["tou"] = False
    site = parse_site_data(doc, "site.toml")
    assert site.tou.enabled and not site.zone("floor1").tou_enabled and site.zone("main").tou_enabled


def test_site_settings_and_remote_energy() -> None:
    doc = spec_doc()
    doc["site"]["auto_register"] = True
    doc["site"]["remote_energy"] = {"enabled": True, "login": "ems", "heartbeat_s": 300}
    s = parse_site_data(doc, "site.toml").settings
    assert s.auto_register and s.remote_energy.enabled and s.remote_energy.login == "ems"
    assert s.remote_energy.heartbeat_s == 300 and s.remote_energy.min_update_period_s == 60


def test_card_dates_local_times_take_the_site_zone() -> None:
    doc = spec_doc()
    doc["cards"][0]["valid_from"] = datetime(2026, 1, 10, 8, 0)  # noqa: DTZ001 (a TOML local date-time)
    doc["cards"][0]["valid_to"] = "2026-07-10T08:00:00+02:00"
    doc["cards"][0]["registered"] = date(2026, 1, 2)
    card = parse_site_data(doc, "site.toml").cards[0]
    assert card.valid_from == datetime(2026, 1, 10, 7, 0, tzinfo=UTC)  # Paris is UTC+1 in January
    assert card.valid_from is not None and card.valid_from.utcoffset() == timedelta(hours=1)
    assert card.valid_to == datetime(2026, 7, 10, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    assert card.registered == date(2026, 1, 2)


def test_rtu_meter() -> None:
    doc = spec_doc()
    doc["meters"].append(
        {
            "id": "rtu1",
            "model": "iem3x5x",
            "transport": "rtu",
            "serial_port": "/dev/ttyUSB0",
            "baudrate": 9600,
            "parity": "N",
            "stopbits": 2,
            "unit_id": 7,
            "reporting": True,
        }
    )
    meter = parse_site_data(doc, "site.toml").meters[1]
    assert meter == Meter(
        "rtu1",
        "iem3x5x",
        Transport.RTU,
        serial_port="/dev/ttyUSB0",
        baudrate=9600,
        parity="N",
        stopbits=2,
        unit_id=7,
        reporting=True,
    )


# Each case: (mutation of SPEC's example, the exact message expected among the errors).
def _set(path: str, value: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = doc
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _append(path: str, value: Any) -> Any:
    def apply(doc: dict[str, Any]) -> None:
        node: Any = doc
        for p in path.split("/"):
            node = node[int(p)] if p.isdigit() else node.setdefault(p, [])
        node.append(copy.deepcopy(value))

    return apply


_DELETE = object()
S = 'site.toml: stations[0] (id "S03")'
Z1 = 'site.toml: zones[1] (id "floor1")'
Z0 = 'site.toml: zones[0] (id "main")'
M0 = 'site.toml: meters[0] (id "pm-main")'
C0 = 'site.toml: cards[0] (id_tag "EFR41DEZ")'
P0 = 'site.toml: tou.periods[0] (name "on-peak")'
D0 = "site.toml: digital_inputs[0] (channel 1)"
STATION2 = {
    "id": "S04",
    "name": "S4",
    "model": "evlink_parking",
    "zone": "floor1",
    "connectors": [{"id": 1, "wiring": "TRI123", "max_current": 32}],
}
ZONE2 = {"id": "floor2", "parent": "floor1", "name": "2nd", "max_current": 60}
METER2 = {"id": "pm-2", "model": "iem3x5x", "host": "127.0.0.1", "port": 5021, "unit_id": 1}

# fmt: off
CASES: list[tuple[str, Any, str]] = [
    ("unknown top-level key", _set("zonez", []), 'site.toml: top level: field "zonez": unknown key (did you mean "zones"?)'),
    ("unknown [site] key", _set("site/rotation", 5), 'site.toml: [site]: field "rotation": unknown key (did you mean "rotation_minutes"?)'),
    ("unknown zone key", _set("zones/1/max_curent", 5), f'{Z1}: field "max_curent": unknown key (did you mean "max_current"?)'),
    ("unknown meter key", _set("meters/0/ip", "x"), f'{M0}: field "ip": unknown key'),
    ("unknown station key", _set("stations/0/colour", "x"), f'{S}: field "colour": unknown key'),
    ("unknown connector key", _set("stations/0/connectors/1/phase", 1), f'{S}: field "connectors[1].phase": unknown key'),
    ("unknown card key", _set("cards/0/owner", "x"), f'{C0}: field "owner": unknown key'),
    ("unknown [tou] key", _set("tou/mode", "x"), 'site.toml: [tou]: field "mode": unknown key'),
    ("unknown period key", _set("tou/periods/0/level", 1), f'{P0}: field "level": unknown key'),
    ("unknown DI key", _set("digital_inputs/0/pin", 4), f'{D0}: field "pin": unknown key'),
    ("unknown remote key", _set("site/remote_energy", {"url": "x"}), 'site.toml: [site.remote_energy]: field "url": unknown key'),
    ("wrong type int", _set("zones/1/max_current", "120"), f'{Z1}: field "max_current": must be an integer, not a string'),
    ("float is not int", _set("zones/1/max_current", 120.0), f'{Z1}: field "max_current": must be an integer, not a float'),
    ("bool is not int", _set("stations/0/connectors/0/max_current", True), f'{S}: field "connectors[0].max_current": must be an integer, not a boolean'),
    ("wrong type bool", _set("stations/0/vip", "no"), f'{S}: field "vip": must be true or false, not a string'),
    ("zones not an array", _set("zones", {"id": "x"}), 'site.toml: top level: field "zones": must be an array of tables, not a table'),
    ("missing required", _set("stations/0/model", _DELETE), f'{S}: field "model": missing (required)'),
    ("station on a non-leaf zone", _set("stations/0/zone", "main"), f'{S}: field "zone": zone "main" has sub-zones; stations attach to leaf zones only'),
    ("station zone missing", _set("stations/0/zone", "floor9"), f'{S}: field "zone": zone "floor9" does not exist'),
    ("meter in two zones", _append("zones", {"id": "b", "parent": "main", "name": "B", "max_current": 10, "mode": "dynamic", "meter": "pm-main", "degraded_current": 0}),
     'site.toml: zones[2] (id "b"): field "meter": meter "pm-main" already measures zone "main"; a meter belongs to one zone only'),
    ("dynamic without meter", _set("zones/0/meter", _DELETE), f'{Z0}: field "meter": missing: a dynamic zone needs the meter that measures it'),
    ("static with meter", _set("zones/1/meter", "pm-main"), f'{Z1}: field "meter": a static zone has no meter (set mode = "dynamic", or remove the meter)'),
    ("static with degraded", _set("zones/1/degraded_current", 10), f'{Z1}: field "degraded_current": only a dynamic zone has a degraded current'),
    ("meter does not exist", _set("zones/0/meter", "pm-x"), f'{Z0}: field "meter": meter "pm-x" does not exist'),
    ("reporting meter bound", _set("meters/0/reporting", True), f'{Z0}: field "meter": meter "pm-main" is a reporting meter'),
    ("sub-zone above parent", _set("zones/1/max_current", 300), f'{Z1}: field "max_current": 300 A is above its parent zone "main"\'s max_current 250 A'),
    ("fourth level", lambda d: (_append("zones", ZONE2)(d), _append("zones", {**ZONE2, "id": "floor3", "parent": "floor2"})(d)),
     'site.toml: zones[3] (id "floor3"): field "parent": zone would be on level 4 (main -> floor1 -> floor2 -> floor3); zones nest at most 3 levels'),
    ("unknown parent", _set("zones/1/parent", "mian"), f'{Z1}: field "parent": zone "mian" does not exist'),
    ("cycle", _set("zones/0/parent", "floor1"), f'{Z0}: field "parent": zones form a cycle: main -> floor1 -> main'),
    ("self parent", _set("zones/1/parent", "floor1"), f'{Z1}: field "parent": zones form a cycle: floor1 -> floor1'),
    ("duplicate zone", _append("zones", {"id": "floor1", "name": "again", "max_current": 10}), 'site.toml: zones[2] (id "floor1"): field "id": zone id "floor1" is already used by zones[1] (id "floor1")'),
    ("duplicate station", _append("stations", {**STATION2, "id": "S03"}), 'site.toml: stations[1] (id "S03"): field "id": station identity "S03" is already used by stations[0] (id "S03")'),
    ("duplicate meter", _append("meters", {**METER2, "id": "pm-main"}), 'site.toml: meters[1] (id "pm-main"): field "id": meter id "pm-main" is already used by meters[0] (id "pm-main")'),
    ("same meter device", _append("meters", {**METER2, "host": "192.168.0.81", "port": 502, "unit_id": 255}), 'site.toml: meters[1] (id "pm-2"): field "unit_id": polls the same device'),
    ("duplicate card ignoring case", _append("cards", {"id_tag": "efr41dez"}), 'site.toml: cards[1] (id_tag "efr41dez"): field "id_tag": card id tag "efr41dez" is already used by cards[0] (id_tag "EFR41DEZ")'),
    ("duplicate connector id", _set("stations/0/connectors/1/id", 1), f'{S}: field "connectors[1].id": connector id 1 is used twice in this station'),
    ("identity with a space", _set("stations/0/id", "S 03"), 'site.toml: stations[0] (id "S 03"): field "id": "S 03" must not contain spaces'),
    ("empty identity", _set("stations/0/id", ""), 'site.toml: stations[0] (id ""): field "id": must not be empty'),
    ("identity with a slash", _set("stations/0/id", "a/b"), 'field "id": "a/b" must not contain /'),
    ("name too long", _set("stations/0/name", "x" * 51), f'{S}: field "name": is 51 characters long (at most 50)'),
    ("comment too long", _set("cards/0/comment", "c" * 51), f'{C0}: field "comment": is 51 characters long (at most 50)'),
    ("id tag too long", _set("cards/0/id_tag", "A" * 21), 'field "id_tag": is 21 characters long (at most 20)'),
    ("bad wiring", _set("stations/0/connectors/0/wiring", "TRI321"), f'{S}: field "connectors[0].wiring": "TRI321" is not one of TRI123, TRI231, TRI312, MONO1, MONO2, MONO3'),
    ("bad socket", _set("stations/0/connectors/0/socket", "Schuko"), f'{S}: field "connectors[0].socket": "Schuko" is not one of'),
    ("bad model", _set("stations/0/model", "evlink_xyz"), f'{S}: field "model": "evlink_xyz" is not a known station model'),
    ("bad mode", _set("zones/1/mode", "fixed"), f'{Z1}: field "mode": "fixed" is not one of static, dynamic'),
    ("bad auth", _set("zones/1/auth_mode", "known"), f'{Z1}: field "auth_mode": "known" is not one of all_cards, known_cards, disabled'),
    ("bad auth_disconnected", _set("stations/0/auth_disconnected", "cache"), f'{S}: field "auth_disconnected": "cache" is not one of accept_all, reject_all, use_cache'),
    ("bad meter model", _set("meters/0/model", "pm9999"), f'{M0}: field "model": "pm9999" is not one of pm5320, iem3x5x, powertag, nsx, nsx_legacy, mtz or custom:<name>'),
    ("bad min_current", _set("site/min_current", "iec"), 'site.toml: [site]: field "min_current": "iec" is not one of iec61851, evze'),
    ("too many connectors", _append("stations/0/connectors", {"id": 3, "wiring": "MONO3", "max_current": 16}),
     f'{S}: field "connectors": 3 connectors, but model evlink_city has at most 2'),
    ("no connectors", _set("stations/0/connectors", []), f'{S}: field "connectors": must list at least one connector'),
    ("max_current zero", _set("zones/1/max_current", 0), f'{Z1}: field "max_current": 0 is below the minimum 1'),
    ("connector max negative", _set("stations/0/connectors/0/max_current", -6), f'{S}: field "connectors[0].max_current": -6 is below the minimum 1'),
    ("degraded above max", _set("zones/0/degraded_current", 300), f'{Z0}: field "degraded_current": 300 A is above the zone\'s max_current 250 A'),
    ("six TOU periods", lambda d: [d["tou"]["periods"].append({**d["tou"]["periods"][0], "name": f"p{i}", "slots": [["01:00", "02:00"]]}) for i in range(5)],
     'site.toml: [tou]: field "periods": 6 periods; at most 5'),
    ("21 TOU slots", _set("tou/periods/0/slots", [[f"{h:02d}:00", f"{h:02d}:30"] for h in range(21)]), 'site.toml: [tou]: field "periods": 21 timeslots in total; at most 20'),
    ("no days", _set("tou/periods/0/days", []), f'{P0}: field "days": must not be empty'),
    ("bad day", _set("tou/periods/0/days", ["mon", "monday"]), f'{P0}: field "days": "monday" is not one of mon, tue, wed, thu, fri, sat, sun'),
    ("duplicate day", _set("tou/periods/0/days", ["mon", "mon"]), f"{P0}: field \"days\": lists 'mon' more than once"),
    ("bad slot", _set("tou/periods/0/slots/1", ["14:00", "19:60"]), f'{P0}: field "slots[1]": "19:60" is not a time of day HH:MM'),
    ("24:00", _set("tou/periods/0/slots/1", ["14:00", "24:00"]), '(write "00:00" for midnight)'),
    ("slot not a pair", _set("tou/periods/0/slots/0", "08:00-12:00"), f'{P0}: field "slots[0]": must be a pair of "HH:MM" strings'),
    ("percent above 100", _set("tou/periods/0/percent", 101), f'{P0}: field "percent": 101 is above the maximum 100'),
    ("TOU zone missing", _set("tou/periods/0/zones", ["floor2"]), f'{P0}: field "zones": zone "floor2" does not exist'),
    ("duplicate period name", _append("tou/periods", {"name": "on-peak", "percent": 50, "days": ["sat"], "slots": [["00:00", "06:00"]]}),
     'site.toml: tou.periods[1] (name "on-peak"): field "name": time-of-use period name "on-peak" is already used'),
    ("DI channel 4", _set("digital_inputs/0/channel", 4), 'site.toml: digital_inputs[0] (channel 4): field "channel": 4 is above the maximum 3'),
    ("DI channel twice", _append("digital_inputs", {"channel": 1, "name": "again", "percent": 10}),
     'site.toml: digital_inputs[1] (channel 1): field "channel": digital input channel 1 is already used by digital_inputs[0] (channel 1)'),
    ("DI percent", _set("digital_inputs/0/percent", -1), f'{D0}: field "percent": -1 is below the minimum 0'),
    ("bad timezone", _set("site/timezone", "Europe/Pariss"), 'site.toml: [site]: field "timezone": "Europe/Pariss" is not an IANA time zone'),
    ("card window reversed", lambda d: d["cards"][0].update(valid_from="2026-05-01T00:00:00+02:00", valid_to="2026-04-01T00:00:00+02:00"),
     f'{C0}: field "valid_to": 2026-04-01T00:00:00+02:00 is not after valid_from 2026-05-01T00:00:00+02:00'),
    ("card zone missing", _set("cards/0/zones", ["floor1", "roof"]), f'{C0}: field "zones": zone "roof" does not exist'),
    ("card zones empty", _set("cards/0/zones", []), f'{C0}: field "zones": must not be empty'),
    ("rtu without serial port", _set("meters/0/transport", "rtu"), f'{M0}: field "serial_port": missing: an rtu meter needs the serial device'),
    ("rtu with host", _set("meters/0/transport", "rtu"), f'{M0}: field "host": not used by a rtu meter'),
    ("tcp without host", _set("meters/0/host", _DELETE), f'{M0}: field "host": missing: a tcp meter needs the host'),
    ("tcp with baudrate", _set("meters/0/baudrate", 9600), f'{M0}: field "baudrate": not used by a tcp meter'),
    ("unit id 0", _set("meters/0/unit_id", 0), f'{M0}: field "unit_id": 0 is below the minimum 1'),
    ("unit id 256", _set("meters/0/unit_id", 256), f'{M0}: field "unit_id": 256 is above the maximum 255'),
    ("remote without login", _set("site/remote_energy", {"enabled": True}), 'site.toml: [site.remote_energy]: field "login": remote energy management needs'),
    ("entry not a table", _set("stations/0/connectors/0", "TRI123"), f'{S}: field "connectors[0]": must be a table, not a string'),
]
# fmt: on


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _n, m, e in CASES], ids=[n for n, _m, _e in CASES])
def test_refusals_name_file_entry_and_field(mutate: Any, expected: str) -> None:
    doc = spec_doc()
    mutate(doc)
    messages = errors_of(doc)
    assert any(m.startswith(expected) or expected in m for m in messages), messages


def test_every_error_is_reported_at_once() -> None:
    doc = spec_doc()
    doc["zones"][1]["max_current"] = 300
    doc["stations"][0]["name"] = "x" * 60
    doc["stations"][0]["connectors"][1]["wiring"] = "MONO4"
    doc["cards"][0]["zones"] = ["nowhere"]
    doc["digital_inputs"][0]["percent"] = 170
    doc["meters"][0]["unit_id"] = 0
    with pytest.raises(SiteFileError) as info:
        parse_site_data(doc, "site.toml")
    assert len(info.value.issues) == 6, info.value.messages
    assert str(info.value).count("\n") == 5


def test_a_broken_entry_does_not_cascade() -> None:
    doc = spec_doc()
    doc["zones"][1]["max_current"] = "lots"  # floor1 is broken...
    messages = errors_of(doc)
    # ... but the station and card that name it do not also say "does not exist".
    assert messages == [f'{Z1}: field "max_current": must be an integer, not a string']


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[zones]\nid = 1\n", encoding="utf-8")
    with pytest.raises(SiteFileError) as info:
        load_site_file(path)
    (message,) = info.value.messages
    assert message.startswith(f"{path}: file: not valid TOML:") and "line 1" in message


def test_missing_file_is_a_site_file_error(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match="cannot be read"):
        load_site_file(tmp_path / "nope.toml")
