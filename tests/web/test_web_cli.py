"""`edgectl user add/passwd` and `edgectl cdr export` against a store on disk."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from edgectl.adapters.store import open_store
from edgectl.adapters.web.passwords import verify_password
from edgectl.cli import main


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "edgectl.toml"
    cfg.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return cfg


def _run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_user_add_refuses_weak_and_admin_then_passwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(_config(tmp_path))
    assert _run(monkeypatch, ["--config", cfg, "user", "add", "eve", "--role", "admin"], "weakpass\n") == 2
    assert "password needs" in capsys.readouterr().err
    assert _run(monkeypatch, ["--config", cfg, "user", "add", "admin"], "G00d!enough\n") == 2
    assert _run(monkeypatch, ["--config", cfg, "user", "add", "eve", "--role", "admin"], "G00d!enough\n") == 0
    assert _run(monkeypatch, ["--config", cfg, "user", "passwd", "eve"], "An0ther!one\n") == 0

    async def check() -> None:
        async with open_store(tmp_path / "data" / "edgectl.db") as store:
            user = await store.users.get("eve")
            assert user is not None and user.role.value == "admin"
            assert verify_password("An0ther!one", user.password_hash)

    asyncio.run(check())


def test_cdr_export_prints_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    cfg = str(_config(tmp_path))

    async def seed() -> None:
        async with open_store(tmp_path / "data" / "edgectl.db") as store:
            s = (await store.sessions.start("S1", 1, "TAG", datetime(2026, 1, 5, 6, tzinfo=UTC), 0)).session
            await store.sessions.stop(s.transaction_id, datetime(2026, 1, 5, 7, tzinfo=UTC), 1500)

    asyncio.run(seed())
    capsys.readouterr()  # the seeding's log lines
    assert _run(monkeypatch, ["--config", cfg, "cdr", "export", "--from", "2026-01-05", "--to", "2026-01-06"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Transaction number,Station id,Connector") and len(lines) == 2
    assert ",1.500," in lines[1]
    assert _run(monkeypatch, ["--config", cfg, "cdr", "export", "--from", "nonsense"]) == 2
