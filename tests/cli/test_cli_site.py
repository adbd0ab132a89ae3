"""`edgectl site check | import | export` through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgectl.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "config" / "site.example.toml"
SPEC_SITE = ROOT / "tests" / "sitefile" / "spec_site.toml"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "edgectl.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


def test_check_example_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out == f"{EXAMPLE}: OK: 4 zones, 12 stations, 18 connectors, 3 meters (1 reporting), 5 cards\n"


def test_check_reports_every_problem_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "site.toml"
    text = SPEC_SITE.read_text(encoding="utf-8")
    text = text.replace('zone = "floor1"', 'zone = "floor9"').replace("max_current = 120", "max_current = 300")
    bad.write_text(text, encoding="utf-8")
    assert main(["site", "check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f'{bad}: zones[1] (id "floor1"): field "max_current": '
        '300 A is above its parent zone "main"\'s max_current 250 A',
        f'{bad}: stations[0] (id "S03"): field "zone": zone "floor9" does not exist',
        f"{bad}: 2 problems; nothing was imported",
    ]


def test_import_refuses_a_bad_file_and_changes_nothing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "site", "import", str(SPEC_SITE)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace('id = "P1-02"', 'id = "P1-01"'), encoding="utf-8")
    assert main(["--config", str(config), "site", "import", str(bad)]) == 2
    capsys.readouterr()
    assert main(["--config", str(config), "site", "export"]) == 0
    assert 'id = "S03"' in capsys.readouterr().out  # still the first site


def test_export_without_a_site(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "site", "export"]) == 1
    assert "no site" in capsys.readouterr().err


def test_import_export_import_export_is_identical(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "site", "import", str(EXAMPLE)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "site", "export"]) == 0
    first = capsys.readouterr().out
    exported = tmp_path / "exported.toml"
    exported.write_text(first, encoding="utf-8")
    assert main(["--config", str(config), "site", "import", str(exported)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "site", "export"]) == 0
    assert capsys.readouterr().out == first
    assert 'id = "P2-DC"' in first


def test_subprocess_export_stdout_is_only_toml(tmp_path: Path, config: Path) -> None:
    # A real process: the store's logs must not end up in the exported file.
    run = [sys.executable, "-m", "edgectl", "--config", str(config), "site"]
    imp = subprocess.run([*run, "import", str(EXAMPLE)], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert imp.returncode == 0, imp.stderr
    exp = subprocess.run([*run, "export"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert exp.returncode == 0, exp.stderr
    assert exp.stdout.startswith("# edgectl site file")
    again = tmp_path / "again.toml"
    again.write_text(exp.stdout, encoding="utf-8")
    check = subprocess.run([*run, "check", str(again)], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert check.returncode == 0 and "OK: 4 zones, 12 stations" in check.stdout


def test_bad_daemon_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "edgectl.toml"
    config.write_text("colour = 1\n", encoding="utf-8")
    assert main(["--config", str(config), "site", "export"]) == 2
    assert "unknown key" in capsys.readouterr().err
