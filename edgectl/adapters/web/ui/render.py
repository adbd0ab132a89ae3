"""A very small template language for the UI's HTML (no dependency).

- `{{_ English text}}`: the text translated into the page's language, escaped;
- `{{name}}`: a value, HTML-escaped;  `{{!name}}`: a value inserted as is
  (only for HTML we built and escaped ourselves).
Templates live in `templates/`; they are read once and cached.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")
_TAG = re.compile(r"{{(_ |!)?\s*(.*?)\s*}}", re.S)


@cache
def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def render(text: str, values: Mapping[str, object], gettext: Callable[[str], str]) -> str:
    def sub(m: re.Match[str]) -> str:
        kind, body = m.group(1), m.group(2)
        if kind == "_ ":
            return html.escape(gettext(" ".join(body.split())))
        value = values.get(body, "")
        return str(value) if kind == "!" else html.escape(str(value))

    return _TAG.sub(sub, text)


def render_file(name: str, values: Mapping[str, object], gettext: Callable[[str], str]) -> str:
    return render(template(name), values, gettext)
