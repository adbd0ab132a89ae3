"""Translations: gettext `.po` catalogs read at start-up, no compile step.

English is the source language: every visible string is written in English in
the templates (`{{_ Text}}`), the page scripts (`t("Text")`) and the page
handlers (`_("Text")`), and that English text is the msgid. `locales/<lang>.po`
holds the other languages. The loader below reads the `.po` text directly
(msgid/msgstr pairs, escapes, multi-line strings), so no `.mo` file is built;
an empty or missing msgstr falls back to English (and `tests/ui` fails on it).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
LANGUAGES: dict[str, str] = {
    "en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "pt": "Português",
}
DEFAULT = "en"
LANG_COOKIE = "edgectl_lang"

_LINE = re.compile(r'^(msgid|msgstr|msgctxt)\s+(".*")\s*$')


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a `.po` text (the header entry and fuzzy entries skipped)."""
    out: dict[str, str] = {}
    key: str | None = None
    parts: dict[str, list[str]] = {}
    fuzzy = pending_fuzzy = False

    def flush() -> None:
        if "msgid" in parts and "msgstr" in parts:
            msgid, msgstr = "".join(parts["msgid"]), "".join(parts["msgstr"])
            if msgid and not fuzzy:
                out[msgid] = msgstr
        parts.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            pending_fuzzy = pending_fuzzy or (line.startswith("#,") and "fuzzy" in line)
            continue
        m = _LINE.match(line)
        if m:
            if m.group(1) == "msgid":
                flush()
                fuzzy, pending_fuzzy = pending_fuzzy, False
            key = m.group(1)
            parts[key] = [ast.literal_eval(m.group(2))]
        elif line.startswith('"') and key is not None:
            parts[key].append(ast.literal_eval(line))
    flush()
    return out


@cache
def catalog(lang: str) -> dict[str, str]:
    """The translations of one language (empty for English)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return {}
    path = LOCALES / f"{lang}.po"
    return parse_po(path.read_text(encoding="utf-8")) if path.exists() else {}


def translator(lang: str) -> Callable[[str], str]:
    table = catalog(lang)

    def gettext(msgid: str) -> str:
        return table.get(msgid) or msgid

    return gettext


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """`?lang=` first, then the language cookie, then the browser's Accept-Language."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
