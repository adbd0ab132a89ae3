"""Card import: our CSV and JSON, a station's badge export (detected by content), and bad files.

A bad file changes nothing and says every problem with its line (or entry) and field.
"""

from __future__ import annotations

from typing import Any

from .support import Env, basic

ADMIN = basic("alice")


async def _import(env: Env, body: str | bytes, content_type: str = "text/csv") -> Any:
    resp = await env.client.put("/api/v1/cards/import", data=body, headers={**ADMIN, "Content-Type": content_type})
    return resp.status, await resp.json()


async def _cards(env: Env) -> dict[str, dict[str, Any]]:
    resp = await env.client.get("/api/v1/cards", headers=ADMIN)
    return {c["id_tag"]: c for c in await resp.json()}


async def test_our_csv_and_json_round_trip(env: Env) -> None:
    csv_text = await (await env.client.get("/api/v1/cards/export?format=csv", headers=ADMIN)).text()
    json_text = await (await env.client.get("/api/v1/cards/export?format=json", headers=ADMIN)).text()
    before = await _cards(env)
    assert await _import(env, csv_text) == (200, {"count": 3, "format": "csv"})
    assert await _import(env, json_text, "application/json") == (200, {"count": 3, "format": "json"})
    after = await _cards(env)
    assert {k: (v["zones"], v["vip"], v["authorized"]) for k, v in after.items()} == \
        {k: (v["zones"], v["vip"], v["authorized"]) for k, v in before.items()}


async def test_station_export_with_header_semicolons_and_windows_1252(env: Env) -> None:
    body = ("Numéro de badge;Nom;Statut;Date d'expiration;Groupe\r\n"
            "04A1B2C3D4;Hélène;Activé;31/12/2026;A\r\n"
            "04FFEE0011;Van;Deactivated;;B\r\n"
            "\r\n"
            "0455667788;;;2026-06-30;\r\n").encode("cp1252")
    status, body_json = await _import(env, body)
    assert (status, body_json) == (200, {"count": 3, "format": "station"})
    cards = await _cards(env)
    assert set(cards) == {"04A1B2C3D4", "04FFEE0011", "0455667788"}  # replaced: the old cards are gone
    helene = cards["04A1B2C3D4"]
    assert helene["comment"] == "Hélène" and helene["authorized"] and not helene["vip"] and helene["zones"] is None
    assert helene["valid_to"].startswith("2027-01-01T00:00:00")  # the whole 31st, site time (Paris, +01:00)
    assert cards["04FFEE0011"]["authorized"] is False
    assert cards["0455667788"]["valid_to"].startswith("2026-07-01T00:00:00+02:00")


async def test_station_export_ocpp_local_list_style_and_headerless(env: Env) -> None:
    ocpp = ("CARD_IDTAG,EXPIRY_DATE,PARENT_CARD_IDTAG,CARD_STATUS\n"
            "0123456789ABCD,2026-12-31T16:00:00.000,PARENTID,Accepted\n"
            "BLOCKED01,,,Blocked\n")
    assert await _import(env, ocpp) == (200, {"count": 2, "format": "station"})
    cards = await _cards(env)
    assert cards["0123456789ABCD"]["valid_to"].startswith("2026-12-31T16:00:00")
    assert cards["BLOCKED01"]["authorized"] is False
    assert await _import(env, "AA11\nBB22;Car park B\n") == (200, {"count": 2, "format": "station"})
    cards = await _cards(env)
    assert cards["BB22"]["comment"] == "Car park B" and cards["AA11"]["comment"] == ""


async def test_bad_station_export_names_lines_and_fields_and_changes_nothing(env: Env) -> None:
    before = await _cards(env)
    body = ("Badge;Name;Status;Expiry\n"
            "AA11;ok;Accepted;\n"
            "BB22;x;Maybe;\n"
            ";no tag;;\n"
            "CC33;y;;31/02/2026\n"
            "AA11;twice;;\n"
            "DD 44;" + "n" * 60 + ";;\n")
    status, problem = await _import(env, body)
    assert status == 422
    errors = problem["errors"]
    src = "cards file (station badge export)"
    assert f'{src}: line 3: field "Status": "Maybe" is not a badge state' in errors[0]
    assert any(e.startswith(f'{src}: line 4: field "Badge": must not be empty') for e in errors)
    assert any(e.startswith(f'{src}: line 5: field "Expiry": "31/02/2026" is not a date') for e in errors)
    assert any(e.startswith(f'{src}: line 6') and "line 2" in e for e in errors)  # the duplicate names both lines
    assert any(e.startswith(f'{src}: line 7: field "Badge"') and "spaces" in e for e in errors)
    assert any(e.startswith(f'{src}: line 7: field "Name"') and "at most 50" in e for e in errors)
    assert [int(e.split(": line ")[1].split(":")[0]) for e in errors] == sorted(
        int(e.split(": line ")[1].split(":")[0]) for e in errors)
    assert await _cards(env) == before


async def test_bad_rows_in_our_formats(env: Env) -> None:
    before = await _cards(env)
    body = ("id_tag,vip,authorized,comment,zones,valid_from,valid_to\n"
            "AA11,maybe,true,,,,\n"
            "BB22,false,true,,floor9,,\n"
            "CC33,false,true,,,2026-02-01T00:00:00+01:00,2026-01-01T00:00:00+01:00\n")
    status, problem = await _import(env, body)
    assert status == 422
    src = "cards file (our CSV)"
    assert problem["errors"][0] == f'{src}: line 2: field "vip": true or false, not "maybe"'
    assert any(e.startswith(f'{src}: line 3: field "zones"') and "floor9" in e for e in problem["errors"])
    assert any(e.startswith(f'{src}: line 4: field "valid_to"') for e in problem["errors"])
    status, problem = await _import(env, '[{"id_tag": "AA11"}, {"vip": true}, {"id_tag": "CC33", "vip": "yes"}]',
                                    "application/json")
    assert status == 422
    assert any(e.startswith('cards file (our JSON): entry 2: field "id_tag"') for e in problem["errors"])
    assert any(e.startswith('cards file (our JSON): entry 3: field "vip"') for e in problem["errors"])
    assert await _cards(env) == before


async def test_unreadable_files(env: Env) -> None:
    status, problem = await _import(env, "Name;Status\nBob;Accepted\n")
    assert status == 422 and "names no badge / id_tag column" in problem["detail"]
    status, problem = await _import(env, "[1, 2", "application/json")
    assert status == 422 and "not valid JSON" in problem["detail"]
    status, problem = await _import(env, "\r\n")
    assert status == 422 and "empty" in problem["detail"]
    status, problem = await _import(env, b"\x81\x8d\x8f\x90\x9d")
    assert status == 422 and "neither UTF-8 nor Windows-1252" in problem["detail"]
