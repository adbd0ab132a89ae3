"""The systemd unit: `systemd-analyze verify` clean, hardened, the settings the daemon relies on."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "edgectl.service"
INSTALLED_BINARY = "/opt/edgectl/current/bin/edgectl"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (no systemd on this host)")


def _unit_with_real_binary(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's edgectl: verify
    checks that the binary exists, and /opt/edgectl is only there on a box."""
    binary = Path(sys.executable).parent / "edgectl"
    assert binary.exists(), binary
    text = UNIT.read_text()
    assert INSTALLED_BINARY in text
    copy = tmp_path / "edgectl.service"
    copy.write_text(text.replace(INSTALLED_BINARY, str(binary)))
    return copy


def _parse() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        values.setdefault(f"{section}.{key}", []).append(value)
    return values


@needs_analyze
def test_verify_is_clean(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "verify", str(_unit_with_real_binary(tmp_path))], capture_output=True, text=True, check=False
    )
    # verify exits 0 even for ignored settings: any output at all is a defect
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


@needs_analyze
def test_installed_unit_only_lacks_the_binary() -> None:
    assert ANALYZE is not None
    result = subprocess.run([ANALYZE, "verify", str(UNIT)], capture_output=True, text=True, check=False)
    complaints = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(INSTALLED_BINARY in line for line in complaints), complaints


@needs_analyze
def test_exposure_score_is_low(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--threshold=25", str(_unit_with_real_binary(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr  # exposure 2.5 or better ("OK")


def test_the_settings_the_daemon_relies_on() -> None:
    v = _parse()
    assert v["Service.Type"] == ["notify"]
    assert v["Service.Restart"] == ["on-failure"]
    assert v["Service.WatchdogSec"] and v["Service.WatchdogSec"][0].endswith("s")
    assert v["Service.User"] == ["edgectl"]
    assert v["Service.StateDirectory"] == ["edgectl"]
    assert v["Service.ExecStart"] == [f"{INSTALLED_BINARY} run --config /etc/edgectl/edgectl.toml"]
    assert v["Service.CapabilityBoundingSet"] == [""]
    assert v["Service.NoNewPrivileges"] == ["yes"]
    assert v["Service.ProtectSystem"] == ["strict"]
    assert v["Service.RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6 AF_NETLINK"]
    assert "@system-service" in v["Service.SystemCallFilter"]
    assert set(v["Service.SupplementaryGroups"][0].split()) == {"dialout", "gpio"}
    assert "Service.MemoryMax" in v


def test_unit_is_plain_ini() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    assert set(parser.sections()) == {"Unit", "Service", "Install"}
