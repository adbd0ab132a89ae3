"""Every visible string of the UI is translated in every language (no browser needed)."""

from __future__ import annotations

import re

import pytest

from edgectl.adapters.web.ui.i18n import LANGUAGES, catalog, parse_po, pick_language

from .msgids import msgids

PLACEHOLDER = re.compile(r"{\w+}")


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_every_string_is_translated(lang):
    table = catalog(lang)
    wanted = msgids()
    missing = sorted(m for m in wanted if not table.get(m))
    assert not missing, f"{lang}.po lacks {len(missing)} translations, e.g. {missing[:5]}"
    unused = sorted(set(table) - wanted)
    assert not unused, f"{lang}.po has entries no page uses: {unused[:5]}"
    for msgid in wanted:
        assert sorted(PLACEHOLDER.findall(table[msgid])) == sorted(PLACEHOLDER.findall(msgid)), (lang, msgid)


def test_po_parser_handles_escapes_multiline_and_fuzzy():
    text = '''msgid ""
msgstr "Language: fr\\n"

msgid "Say \\"hi\\""
msgstr ""
"Dis "
"\\"salut\\""

#, fuzzy
msgid "Unsure"
msgstr "Pas sûr"
'''
    assert parse_po(text) == {'Say "hi"': 'Dis "salut"'}


def test_language_choice_order():
    assert pick_language("de", "fr", "es") == "de"
    assert pick_language(None, "fr", "es-ES,es;q=0.9") == "fr"
    assert pick_language(None, None, "pt-BR,pt;q=0.9") == "pt"
    assert pick_language("xx", None, "ja") == "en"
