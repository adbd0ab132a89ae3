"""JSON schemas of the API's bodies (OpenAPI 3.1 = JSON Schema 2020-12).

Request schemas are checked at runtime (`routing.guard`); response schemas
are what schemathesis checks our answers against. Site-shaped objects
(zones, stations, meters, TOU, inputs, settings) use the site file's keys and
are validated in depth by the site file's own checks, so their schemas here
only fix the types.
"""

from __future__ import annotations

from typing import Any

S = dict[str, Any]

STR: S = {"type": "string"}
INT: S = {"type": "integer"}
NUM: S = {"type": "number"}
BOOL: S = {"type": "boolean"}
TIME: S = {"type": "string", "format": "date-time"}
NSTR: S = {"type": ["string", "null"]}
NTIME: S = {"type": ["string", "null"], "format": "date-time"}
NNUM: S = {"type": ["number", "null"]}
PHASES: S = {"type": "array", "items": NUM, "minItems": 3, "maxItems": 3}


def obj(required: tuple[str, ...] = (), extra: bool = True, **props: S) -> S:
    schema: S = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    if not extra:
        schema["additionalProperties"] = False
    return schema


def arr(items: S) -> S:
    return {"type": "array", "items": items}


def ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


ROLE: S = {"type": "string", "enum": ["admin", "user", "webservices"]}
LOGIN_NAME: S = {"type": "string", "minLength": 1, "maxLength": 64}
PASSWORD: S = {"type": "string", "minLength": 1, "maxLength": 256}

COMPONENTS: dict[str, S] = {
    "Problem": obj(
        ("title", "status", "detail"), type=STR, title=STR, status=INT, detail=STR, instance=STR,
        errors=arr(STR), retry_after_s=NUM,
    ),
    "Login": obj(("username", "password"), False, username=LOGIN_NAME, password=PASSWORD),
    "LoginResult": obj(("username", "role", "csrf_token"), username=STR, role=STR, zone_scope=NSTR, csrf_token=STR),
    "Me": obj(("username", "role", "via"), username=STR, role=STR, zone_scope=NSTR, via=STR, csrf_token=NSTR),
    "Token": obj(("token", "token_type", "expires_in"), token=STR, token_type=STR, expires_in=NUM),
    "PasswordChange": obj(("old_password", "new_password"), False, old_password=PASSWORD, new_password=PASSWORD),
    "UserIn": obj(("username", "password", "role"), False, username=LOGIN_NAME, password=PASSWORD, role=ROLE,
                  zone_scope=NSTR),
    "UserPatch": obj((), False, password=PASSWORD, role=ROLE, zone_scope=NSTR),
    "User": obj(("username", "role"), username=STR, role=STR, zone_scope=NSTR, failed_logins=INT, locked_until=NTIME,
                created_at=NTIME),
    "Credential": obj(("username", "password"), False, username=LOGIN_NAME, password=PASSWORD),
    "WizardCredentials": obj(("admin", "user"), False, admin=ref("Credential"), user=ref("Credential")),
    "WizardState": obj(("credentials_done",), credentials_done=BOOL, admins=INT, users=INT,
                       steps=arr(STR)),
    "RemoteEnergy": obj((), enabled=BOOL, login=STR, min_update_period_s=INT, heartbeat_s=INT, time_sync=BOOL),
    "Settings": obj((), name=STR, timezone=STR, min_current=STR, shedding_priority=STR, rotation_minutes=INT,
                    consumption_optimisation=BOOL, auto_register=BOOL, remote_energy=ref("RemoteEnergy")),
    "SettingsView": obj(("site", "security"), site=ref("Settings"), security=ref("SecuritySettings")),
    "Zone": obj(("id", "name", "max_current"), id=STR, name=STR, parent=STR, max_current=INT, mode=STR, meter=STR,
                degraded_current=INT, auth_mode=STR, tou=BOOL),
    "ConnectorConfig": obj(("id",), id=INT, wiring=STR, max_current=INT, socket=STR),
    "Station": obj(("id", "name", "model", "zone", "connectors"), id=STR, name=STR, model=STR, zone=STR, vip=BOOL,
                   auth_mode=STR, auth_disconnected=STR, serial=STR, password=STR,
                   connectors=arr(ref("ConnectorConfig"))),
    "Meter": obj(("id", "model"), id=STR, name=STR, model=STR, transport=STR, host=STR, port=INT, unit_id=INT,
                 serial_port=STR, baudrate=INT, parity=STR, stopbits=INT, reporting=BOOL),
    "TouPeriod": obj(("name",), name=STR, enabled=BOOL, percent=INT, days=arr(STR), slots=arr(arr(STR)),
                     zones=arr(STR)),
    "Tou": obj(("enabled", "periods"), enabled=BOOL, periods=arr(ref("TouPeriod"))),
    "DigitalInput": obj(("channel",), channel=INT, name=STR, enabled=BOOL, percent=INT,
                        active={"type": ["boolean", "null"]}),
    "DigitalInputs": obj(("inputs",), inputs=arr(ref("DigitalInput"))),
    "Site": obj(("settings", "zones", "stations", "meters", "tou", "digital_inputs"), settings=ref("Settings"),
                zones=arr(ref("Zone")), stations=arr(ref("Station")), meters=arr(ref("Meter")), tou=ref("Tou"),
                digital_inputs=arr(ref("DigitalInput"))),
    "SiteImportResult": obj(("zones", "stations", "meters", "cards"), zones=INT, stations=INT, meters=INT, cards=INT),
    "ConnectorLive": obj(("id", "status"), id=INT, status=STR, error_code=NSTR, state=NSTR, setpoint=NNUM,
                         limited_by=arr(STR), current={"type": ["array", "null"], "items": NUM},
                         transaction_id={"type": ["integer", "null"]}, id_tag=NSTR, energy_wh=NNUM),
    "StationView": obj(("station", "online", "connectors"), station=ref("Station"), online=BOOL,
                       connectors=arr(ref("ConnectorLive"))),
    "DetectedStation": obj(("identity", "first_seen", "last_seen"), identity=STR, first_seen=TIME, last_seen=TIME,
                           remote_address=NSTR, vendor=NSTR, model=NSTR, serial=NSTR, firmware=NSTR,
                           registered=BOOL),
    "CommandIn": obj(("command",), False, command={"type": "string", "minLength": 1, "maxLength": 64},
                     params={"type": "object"}),
    "CommandResult": obj(("station_id", "command", "status"), station_id=STR, command=STR, status=STR,
                         payload={"type": "object"}, error=NSTR),
    "Session": obj(("transaction_id", "station_id", "connector_id", "id_tag", "start"), transaction_id=INT,
                   station_id=STR, connector_id=INT, id_tag=STR, charge_type=STR, start=TIME, end=NTIME,
                   energy_wh=NUM, effective_charge_duration_s=NUM, stop_reason=NSTR, comment=STR, open=BOOL),
    "Card": obj(("id_tag",), id_tag={"type": "string", "minLength": 1, "maxLength": 20}, vip=BOOL, authorized=BOOL,
                comment={"type": "string", "maxLength": 50}, zones={"type": ["array", "null"], "items": STR},
                registered={"type": ["string", "null"]}, last_seen=NTIME, valid_from=NTIME, valid_to=NTIME,
                last_seen_station=NSTR),
    "CardBulk": obj(("id_tags",), False, id_tags=arr(STR), delete=BOOL,
                    patch=obj((), False, vip=BOOL, authorized=BOOL, comment={"type": "string", "maxLength": 50},
                              zones={"type": ["array", "null"], "items": STR}, valid_from=NTIME, valid_to=NTIME)),
    "Count": obj(("count",), count=INT),
    "CardImport": obj(("count", "format"), count=INT, format={"type": "string", "enum": ["csv", "json", "station"]}),
    "MeterView": obj(("meter", "health"), meter=ref("Meter"), zone=NSTR, health={"type": ["object", "null"]},
                     current={"type": ["array", "null"], "items": NUM}),
    "Event": obj(("id", "at", "type", "message"), id=INT, at=TIME, type=STR, source=NSTR, zone=NSTR, message=STR,
                 details={"type": "object"}),
    "StationEvent": obj(("id", "station_id", "connector_id", "status"), id=INT, station_id=STR, connector_id=INT,
                        status=STR, error_code=STR, info=NSTR, vendor_id=NSTR, vendor_error_code=NSTR,
                        station_at=NTIME, received_at=NTIME),
    "ZoneLive": obj(("id", "limit", "used", "reserved", "limited_by"), id=STR, name=NSTR, limit=PHASES, used=PHASES,
                    reserved=PHASES, measured={"type": ["array", "null"], "items": NUM}, degraded=BOOL,
                    limited_by=arr(STR), remote_setpoint=NNUM),
    "ConnectorStatus": obj(("station", "connector", "state", "setpoint"), station=STR, connector=INT, state=STR,
                           status=NSTR, setpoint=NUM, limited_by=arr(STR), current={"type": ["array", "null"],
                                                                                    "items": NUM},
                           vip=BOOL, min_current=NUM, max_current=NUM, fallback=NUM, load=PHASES),
    "Status": obj(("time", "zones", "connectors"), time=NTIME, zones=arr(ref("ZoneLive")),
                  connectors=arr(ref("ConnectorStatus")), stations_online=arr(STR)),
    "Setpoint": obj(("amps",), False, amps={"type": ["number", "null"], "minimum": 0, "maximum": 10000}),
    "SetpointResult": obj(("zone", "amps", "accepted"), zone=STR, amps=NNUM, accepted=BOOL, next_update_s=NUM),
    "RemStatus": obj(("enabled",), enabled=BOOL, login=NSTR, min_update_period_s=NUM, heartbeat_s=NUM,
                     last_heartbeat_age_s=NNUM, zones={"type": "object"}, time_offset_s=NNUM, time_sync=BOOL),
    "TimeSync": obj(("time",), False, time={"type": "string", "format": "date-time", "minLength": 1}),
    "TimeSyncResult": obj(("offset_s",), offset_s=NUM, applied=BOOL),
    # --- alarms, box settings, system (views_alarms.py, views_system.py) ---
    "Alarm": obj(("id", "kind", "source", "message", "active"), id=INT, kind=STR, source=STR, connector=INT,
                 code=NSTR, message=STR, details={"type": "object"}, active=BOOL, raised_at=NTIME,
                 cleared_at=NTIME, cleared_by=NSTR),
    "SecuritySettingsIn": obj(
        (), False, max_failures={"type": "integer", "minimum": 1, "maximum": 100},
        lockout_s={"type": "integer", "minimum": 1, "maximum": 86400},
        inactivity_s={"type": "integer", "minimum": 60, "maximum": 86400}, tls10=BOOL),
    "SecuritySettings": obj(("max_failures", "lockout_s", "inactivity_s", "tls10"), max_failures=INT,
                            lockout_s=NUM, inactivity_s=NUM, token_ttl_s=NUM, tls10=BOOL, http_port=INT,
                            https_port={"type": ["integer", "null"]},
                            tls10_applies={"type": "string", "enum": ["live", "restart"]}, notes=arr(STR)),
    "NetworkIn": obj((), False, hostname={"type": "string", "maxLength": 63}, dhcp=BOOL,
                     address={"type": "string", "maxLength": 64}, netmask={"type": "string", "maxLength": 64},
                     gateway={"type": ["string", "null"], "maxLength": 64},
                     dns={"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 3},
                     proxy={"type": ["string", "null"], "maxLength": 256}, dhcp_server=BOOL,
                     dhcp_range_start={"type": ["string", "null"], "maxLength": 64},
                     dhcp_range_end={"type": ["string", "null"], "maxLength": 64}),
    "Network": obj(("dhcp", "applies"), hostname=STR, dhcp=BOOL, address=NSTR, netmask=NSTR, gateway=NSTR,
                   dns=arr(STR), proxy=NSTR, dhcp_server=BOOL, dhcp_range_start=NSTR, dhcp_range_end=NSTR,
                   interface=STR, file=NSTR, rendered=NSTR, applies={"type": "string", "enum": ["reboot"]}),
    "SupervisionIn": obj((), False, enabled=BOOL, url={"type": "string", "maxLength": 512},
                         identity={"type": "string", "maxLength": 48},
                         security_profile={"type": "integer", "minimum": 0, "maximum": 3},
                         password={"type": ["string", "null"], "maxLength": 64}),
    "Supervision": obj(("enabled", "relay"), enabled=BOOL, url=STR, identity=STR, security_profile=INT,
                       has_password=BOOL, relay=STR),
    "MeterChange": obj(("meter", "restart_required"), meter=ref("Meter"), restart_required=BOOL, detail=STR),
    "MeterModelSummary": obj(("id", "name", "custom", "quantities", "used_by"), id=STR, name=STR, vendor=STR,
                             description=STR, custom=BOOL, quantities=arr(STR), used_by=arr(STR)),
    "MeterModelView": {"allOf": [ref("MeterModelSummary"), obj(("model",), model={"type": "object"})]},
    "MeterModelChange": obj(("model", "restart_required"), model=ref("MeterModelSummary"), created=BOOL,
                            restart_required=BOOL, detail=STR),
    "SystemAction": obj(("action",), action=STR, command=arr(STR), exit_code={"type": ["integer", "null"]},
                        output=STR, detail=STR),
    "FactoryResetIn": obj(("confirm",), False, confirm={"type": "string", "maxLength": 64}),
    "FactoryReset": obj(("wiped_tables", "factory_accounts"), wiped_tables=arr(STR), rows=INT,
                        factory_accounts=INT, command={"anyOf": [ref("SystemAction"), {"type": "null"}]},
                        detail=STR),
}
