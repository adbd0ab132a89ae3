"""Reading a cards file for import: our CSV, our JSON or a charging station's badge export, told apart by content.

Rules (docs/api.md, cards):
- JSON (a list of card objects, as `GET /cards/export?format=json` writes) when
  the Content-Type says JSON or the text starts with `[`;
- our CSV when its header has an `id_tag` column (`GET /cards/export?format=csv`);
- otherwise a station's badge list (EVlink / OCPP local list style): `;`, `,`
  or tab separated (whichever the first line uses most), UTF-8 or Windows-1252,
  with a header naming the badge column (`Badge`, `UID`, `IdTag`, `Card`,
  `Numéro de badge`, ...; case, accents and punctuation do not matter) and
  optionally a name (-> comment), a state (Accepted / Activated / Blocked /
  Deactivated / Expired ... -> authorised) and an expiry date (-> valid_to);
  without a header: the id tag, then optionally the name, one badge a line.
  Unknown columns are ignored. Station badges are not VIP and usable in every
  zone; a date-only expiry includes that day (valid until the next midnight,
  site time); dates are ISO 8601 or DD/MM/YYYY; times without an offset are
  site time.
- Every problem is reported with its line (JSON: entry number) and field, all
  at once; the caller imports nothing unless the whole file is clean.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

CSV_COLUMNS = ["id_tag", "vip", "authorized", "comment", "zones", "valid_from", "valid_to"]
JSON_KEYS = ("id_tag", "vip", "authorized", "comment", "zones", "registered", "last_seen", "valid_from", "valid_to")
FORMAT_NAMES = {"csv": "our CSV", "json": "our JSON", "station": "station badge export"}

# Normalised header names (lower case, no accents, letters and digits only) of a station's export.
_STATION_COLUMNS = {
    "id_tag": {"badge", "badgeid", "badgeuid", "badgenumber", "badgeno", "uid", "idtag", "tag", "rfid", "rfidtag",
               "rfidcard", "card", "cardid", "cardidtag", "cardnumber", "token", "tokenid", "numerobadge",
               "numerodebadge", "numerodubadge", "identifiant", "idbadge"},
    "comment": {"name", "username", "user", "owner", "comment", "comments", "description", "label", "nom",
                "utilisateur", "commentaire", "commentaires", "libelle", "proprietaire"},
    "authorized": {"status", "state", "authorized", "authorised", "enabled", "active", "cardstatus", "badgestatus",
                   "statut", "etat", "autorise", "actif"},
    "valid_to": {"expiry", "expirydate", "expiration", "expirationdate", "validto", "validuntil", "enddate",
                 "dateexpiration", "datedexpiration", "datefin", "datedefin", "finvalidite"},
}
_YES = {"accepted", "activated", "active", "enabled", "authorized", "authorised", "allowed", "valid", "yes", "true",
        "1", "actif", "autorise", "accepte", "oui"}
_NO = {"blocked", "deactivated", "inactive", "disabled", "expired", "invalid", "refused", "rejected", "no", "false",
       "0", "inactif", "desactive", "bloque", "refuse", "expire", "non"}
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")


@dataclass
class Parsed:
    """Site-file card entries, where each came from, and the problems found so far."""

    format: str  # "csv", "json" or "station"
    entries: list[dict[str, Any]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # "line 4" / "entry 2", per entry
    columns: dict[str, str] = field(default_factory=dict)  # entry key -> the file's column name
    errors: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"cards file ({FORMAT_NAMES[self.format]})"

    def error(self, place: str, column: str | None, message: str) -> None:
        where = f"{self.source}: {place}" + (f': field "{column}"' if column else "")
        self.errors.append(f"{where}: {message}")


class CardsFileError(ValueError):
    """The file cannot be read at all (not text, not a list, no id column)."""


def _norm(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", plain)


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # what a spreadsheet on Windows saves
    except UnicodeDecodeError:
        raise CardsFileError("cards file: neither UTF-8 nor Windows-1252 text") from None


def parse(raw: bytes, content_type: str) -> Parsed:
    text = decode(raw)
    if not text.strip() and "json" not in content_type:
        raise CardsFileError("cards file: empty (an import replaces the list: to remove every card, delete them)")
    if "json" in content_type or text.lstrip().startswith("["):
        return _json(text)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first.count) if first else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [_norm(c) for c in rows[0]] if rows else []
    if delimiter == "," and [c.strip() for c in rows[0]].count("id_tag") == 1:
        return _ours(rows)
    return _station(rows, header)


def _json(text: str) -> Parsed:
    out = Parsed("json")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CardsFileError(f"{out.source}: not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise CardsFileError(f"{out.source}: a JSON list of card objects")
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            out.error(f"entry {i}", None, "not an object")
            continue
        if not isinstance(item.get("id_tag"), str):
            out.error(f"entry {i}", "id_tag", "missing (a string)")
        out.entries.append({k: item[k] for k in JSON_KEYS if item.get(k) is not None})
        out.places.append(f"entry {i}")
    out.columns = {k: k for k in JSON_KEYS}
    return out


def _flag(out: Parsed, place: str, column: str, value: str, default: bool) -> bool:
    v = value.strip().lower()
    if v == "":
        return default
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    out.error(place, column, f'true or false, not "{value}"')
    return default


def _ours(rows: list[list[str]]) -> Parsed:
    out = Parsed("csv")
    header = [c.strip() for c in rows[0]]
    out.columns = {c: c for c in CSV_COLUMNS}
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        place = f"line {n}"
        entry: dict[str, Any] = {"id_tag": (row.get("id_tag") or "").strip(),
                                 "vip": _flag(out, place, "vip", row.get("vip") or "", False),
                                 "authorized": _flag(out, place, "authorized", row.get("authorized") or "", True)}
        if row.get("comment"):
            entry["comment"] = row["comment"]
        zones = (row.get("zones") or "").strip()
        if zones:
            entry["zones"] = [z for z in zones.split("|") if z]
        for key in ("valid_from", "valid_to"):
            if (row.get(key) or "").strip():
                entry[key] = row[key].strip()
        out.entries.append(entry)
        out.places.append(place)
    return out


def _station_date(value: str) -> tuple[str | None, bool]:
    """An ISO 8601 text for the site-file reader, and whether it was a plain date; None: not a date."""
    v = value.strip()
    m = _DMY.match(v)
    if m:
        day, month, year, clock = m.groups()
        v = f"{int(year):04d}-{int(month):02d}-{int(day):02d}" + (f"T{clock.zfill(5)}" if clock else "")
    try:
        return (date.fromisoformat(v) + timedelta(days=1)).isoformat() + "T00:00:00", True
    except ValueError:
        pass
    return (v, False) if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", v) else (None, False)


def _station(rows: list[list[str]], header: list[str]) -> Parsed:
    out = Parsed("station")
    index: dict[str, int] = {}
    for key, names in _STATION_COLUMNS.items():
        found = next((i for i, h in enumerate(header) if h in names), None)
        if found is not None:
            index[key] = found
    if "id_tag" in index:
        body, first_line = rows[1:], 2
        out.columns = {key: rows[0][i].strip() for key, i in index.items()}
    elif any(h in names for h in header for names in _STATION_COLUMNS.values()) or set(header) & {
            "vip", "zones", "validfrom"}:
        raise CardsFileError(f"{out.source}: the header names no badge / id_tag column "
                           f"(found: {', '.join(c.strip() for c in rows[0])})")
    else:  # no header: the id tag, then the name
        index = {"id_tag": 0, "comment": 1}
        body, first_line = rows, 1
        out.columns = {"id_tag": "column 1", "comment": "column 2"}
    for n, cells in enumerate(body, start=first_line):
        if not any(c.strip() for c in cells):
            continue
        place = f"line {n}"

        def cell(key: str, cells: list[str] = cells) -> str:
            i = index.get(key)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        entry: dict[str, Any] = {"id_tag": cell("id_tag")}
        if cell("comment"):
            entry["comment"] = cell("comment")
        state = cell("authorized")
        if state:
            if _norm(state) in _YES:
                entry["authorized"] = True
            elif _norm(state) in _NO:
                entry["authorized"] = False
            else:
                out.error(place, out.columns["authorized"], f'"{state}" is not a badge state '
                          "(Accepted, Activated, Blocked, Deactivated, Expired, ...)")
        expiry = cell("valid_to")
        if expiry:
            text, _ = _station_date(expiry)
            if text is None:
                out.error(place, out.columns["valid_to"], f'"{expiry}" is not a date (YYYY-MM-DD or DD/MM/YYYY)')
            else:
                entry["valid_to"] = text
        out.entries.append(entry)
        out.places.append(place)
    return out


_ENTRY = re.compile(r'cards\[(\d+)\](?: \(id_tag "(?:[^"\\]|\\.)*"\))?')


def place_issues(out: Parsed, issues: list[Any]) -> list[str]:
    """The site-file checks' problems about `cards[i]`, told by line (or entry) and the file's column names."""
    def where(match: re.Match[str]) -> str:
        i = int(match.group(1))
        return out.places[i] if i < len(out.places) else match.group(0)

    messages = []
    for issue in issues:
        m = _ENTRY.fullmatch(issue.entry)
        place = where(m) if m else issue.entry
        column = out.columns.get(issue.field, issue.field) if issue.field else None
        messages.append((place, column, _ENTRY.sub(where, issue.message)))
    before = len(out.errors)
    for place, column, message in messages:
        out.error(place, column, message)
    return out.errors[before:]


def line_of(error: str) -> int:
    """Sort key: the line (or entry) an error names; 0 for the file as a whole."""
    m = re.search(r"\): (?:line|entry) (\d+)", error)
    return int(m.group(1)) if m else 0
