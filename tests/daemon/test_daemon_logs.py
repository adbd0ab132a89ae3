from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from edgectl.logs import configure_logging
from edgectl.settings import LogConfig


@pytest.fixture(autouse=True)
def _restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_json_lines_for_structlog_and_stdlib() -> None:
    out = io.StringIO()
    configure_logging(LogConfig(level="info", format="json"), stream=out)
    structlog.get_logger("edgectl.test").info("store.migrated", version=3)
    logging.getLogger("some.library").warning("plain %s", "record")
    structlog.get_logger("edgectl.test").debug("hidden.debug")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["store.migrated", "plain record"]
    assert lines[0]["version"] == 3 and lines[0]["level"] == "info" and lines[0]["logger"] == "edgectl.test"
    assert lines[1]["level"] == "warning" and "timestamp" in lines[1]


def test_console_format_and_level() -> None:
    out = io.StringIO()
    configure_logging(LogConfig(level="debug", format="console"), stream=out)
    structlog.get_logger("x").debug("meter.lost", meter_id="pm-main")
    text = out.getvalue()
    assert "meter.lost" in text and "meter_id=pm-main" in text


def test_bad_level_or_format() -> None:
    with pytest.raises(ValueError, match="level"):
        configure_logging(LogConfig(level="loud"))
    with pytest.raises(ValueError, match="format"):
        configure_logging(LogConfig(format="xml"))
