"""Every translatable string of the UI, found in its sources (the msgids)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "edgectl" / "adapters" / "web" / "ui"
_TEMPLATE = re.compile(r"{{_ (.*?)}}", re.S)
_JS = re.compile(r'\bt\("((?:[^"\\]|\\.)*)"')
_PY = re.compile(r'\b_\("((?:[^"\\]|\\.)*)"\)')


def msgids() -> set[str]:
    found: set[str] = set()
    for path in (UI / "templates").rglob("*.html"):
        found |= {" ".join(m.split()) for m in _TEMPLATE.findall(path.read_text(encoding="utf-8"))}
    for path in (UI / "static" / "js").glob("*.js"):
        found |= {ast.literal_eval(f'"{m}"') for m in _JS.findall(path.read_text(encoding="utf-8"))}
    for path in (UI / "pages.py",):
        found |= {ast.literal_eval(f'"{m}"') for m in _PY.findall(path.read_text(encoding="utf-8"))}
    return found
