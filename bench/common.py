"""Shared helpers of the daemon benchmarks (bench/ocpp_load.py, bench/meter_step.py).

Rules:
- Loopback only: every server and client binds or connects to 127.0.0.1,
  on ephemeral ports.
- The daemon under test is the real `edgectl run`, a subprocess with its own
  temporary data directory and configuration; its site is imported into the
  store before it starts. Its CPU and memory are read from /proc/<pid>.
- Times that cross processes use `time.monotonic()` (CLOCK_MONOTONIC is
  system-wide on Linux), so a station's receive time and a meter simulator's
  request time are on the same axis.
- Everything is bounded: waits have deadlines, the daemon is stopped with
  SIGTERM (then SIGKILL after a grace period) on every exit path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- machine, numbers, the results document ---------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line() -> str:
    return (
        f"Machine: {os.cpu_count()} CPU(s) (`nproc`), {cpu_model()}, Python {platform.python_version()}, "
        f"Linux {platform.release()}, measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}."
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))  # ceil(q/100 * n)
    return ordered[rank - 1]


def write_section(start: str, end: str, text: str, path: Path = DOC) -> None:
    """Replace what lies between the markers (inclusive) by `text`; append if absent."""
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if start in doc and end in doc:
        before, rest = doc.split(start, 1)
        doc = before + text + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(doc, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- /proc sampling -----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


@dataclass
class CpuWindow:
    """CPU % of a process over a window: `start()`, later `stop()`."""

    pid: int
    t0: float = 0.0
    c0: float = 0.0
    percent: float = float("nan")
    rss_samples: list[float] = field(default_factory=list)

    def start(self) -> CpuWindow:
        self.t0, self.c0 = time.monotonic(), cpu_seconds(self.pid)
        return self

    def sample_rss(self) -> None:
        self.rss_samples.append(rss_mb(self.pid))

    def stop(self) -> float:
        dt = time.monotonic() - self.t0
        self.percent = 100.0 * (cpu_seconds(self.pid) - self.c0) / dt if dt > 0 else float("nan")
        return self.percent


# --- the daemon under test ------------------------------------------------------------


def daemon_config_text(data_dir: Path, port: int, *, cycle_s: float = 2.0, lease_s: int = 120,
                       meter_poll_s: float = 0.5, log_level: str = "warning", web_port: int = 0) -> str:
    return (
        f'data_dir = "{data_dir}"\n'
        f'[ocpp]\nhost = "127.0.0.1"\nport = {port}\nheartbeat_interval_s = 300\ncall_timeout_s = 10.0\n'
        f'[web]\nhost = "127.0.0.1"\nhttp_port = {web_port}\nhttps_port = {free_port()}\n'
        '[gpio]\npin_factory = "mock"\n'
        f'[log]\nlevel = "{log_level}"\nformat = "json"\n'
        f"[control]\ncycle_s = {cycle_s}\nlease_s = {lease_s}\nmeter_poll_s = {meter_poll_s}\n"
    )


class Daemon:
    """`python -m edgectl --config <tmp> run` with its own data dir; stderr kept in a file."""

    def __init__(self, site: object, *, keep: bool = False, profile: Path | None = None, **config: object) -> None:
        self.site = site
        self.dir = Path(tempfile.mkdtemp(prefix="edgectl-bench-"))
        self.port = free_port()
        self.web_port = free_port()
        self.config_path = self.dir / "edgectl.toml"
        self.config_path.write_text(daemon_config_text(self.dir / "data", self.port, web_port=self.web_port,  # type: ignore[arg-type]
                                                       **config), encoding="utf-8")
        self.stderr_path = self.dir / "daemon.stderr"
        self.keep = keep
        self.profile = profile  # py-spy output (svg/speedscope), when set
        self.proc: subprocess.Popen[bytes] | None = None
        self.spy: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, timeout_s: float = 30.0) -> None:
        from edgectl.adapters.store import open_store

        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        async with open_store(self.dir / "data" / "edgectl.db") as store:
            await store.site.replace(self.site)  # type: ignore[arg-type]
            rem = self.site.settings.remote_energy  # type: ignore[attr-defined]
            if rem.enabled and rem.login == REM_LOGIN:
                from edgectl.adapters.store import Role, User
                from edgectl.adapters.web.passwords import hash_password

                await store.users.create(User(REM_LOGIN, hash_password(REM_PASSWORD), Role.WEBSERVICES))
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        with open(self.stderr_path, "wb") as err:  # noqa: ASYNC230 - once, before the run
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - the daemon outlives this call
                [sys.executable, "-m", "edgectl", "--config", str(self.config_path), "run"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.stderr_tail()}")
            with contextlib.suppress(OSError):
                _r, w = await asyncio.open_connection("127.0.0.1", self.port)
                w.close()
                break
            if time.monotonic() > deadline:
                raise TimeoutError("daemon did not open its OCPP port")
            await asyncio.sleep(0.1)

    def start_profiler(self, duration_s: int, out: Path) -> bool:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            return False
        self.spy = subprocess.Popen(
            [spy, "record", "--pid", str(self.pid), "--duration", str(duration_s), "--rate", "200",
             "--format", "raw", "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        return True

    def wait_profiler(self, timeout_s: float = 60.0) -> str:
        if self.spy is None:
            return ""
        try:
            _out, err = self.spy.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.spy.kill()
            _out, err = self.spy.communicate()
        self.spy = None
        return err.decode(errors="replace")

    def events(self, name: str) -> list[dict[str, object]]:
        """The daemon's JSON log events called `name` so far (log level permitting)."""
        import json

        out = []
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return []
        for line in text.splitlines():
            if f'"{name}"' not in line:
                continue
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == name:
                    out.append(event)
        return out

    def stderr_tail(self, n: int = 2000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, grace_s: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def count_rows(self, table: str) -> int:
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.dir / "data" / "edgectl.db")) as db:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- sites -----------------------------------------------------------------------------


REM_LOGIN, REM_PASSWORD = "bench-ems", "Bench-ems-pass-1234"


def bench_site(n_stations: int, *, zones: int = 4, root_meter_port: int, extra_dynamic: Sequence[tuple[str, int]] = (),
               reporting: Sequence[tuple[str, int]] = (), per_connector_a: int = 12,
               dynamic_root: bool = True) -> object:
    """N one-connector stations in `zones` static zones under a dynamic, metered root.

    The root allows `per_connector_a` per connector (so it binds: the cars
    want 32 A); each static zone allows 16 A per connector of its own (it
    does not bind). `extra_dynamic` (meter id, port) turns the first zones
    into dynamic metered zones; `reporting` adds reporting-only meters. One
    card per station (BENCH<nnnnn>), all authorized. `dynamic_root=False`:
    the root is static (no meter) and remote energy management is on for
    the `REM_LOGIN` webservices account (1 s minimum update period), so a
    zone-limit step is a REST call.
    """
    from edgectl.core.site import (
        Card,
        Connector,
        Meter,
        RemoteEnergyManagement,
        Site,
        SiteSettings,
        Station,
        Wiring,
        Zone,
        ZoneMode,
    )

    root_max = per_connector_a * n_stations
    if dynamic_root:
        meters = [Meter("m-root", "pm5320", host="127.0.0.1", port=root_meter_port, unit_id=1, name="root meter")]
        zone_list = [Zone("root", "Bench root", root_max, ZoneMode.DYNAMIC, None, "m-root", root_max // 2)]
    else:
        meters, zone_list = [], [Zone("root", "Bench root", root_max)]
    counts = [n_stations // zones + (1 if z < n_stations % zones else 0) for z in range(zones)]
    for z in range(zones):
        zmax = max(32, 16 * counts[z])
        if z < len(extra_dynamic):
            mid, port = extra_dynamic[z]
            meters.append(Meter(mid, "iem3x5x", host="127.0.0.1", port=port, unit_id=1, name=f"zone {z} meter"))
            zone_list.append(Zone(f"z{z}", f"Zone {z}", zmax, ZoneMode.DYNAMIC, "root", mid, zmax // 2))
        else:
            zone_list.append(Zone(f"z{z}", f"Zone {z}", zmax, parent="root"))
    for mid, port in reporting:
        meters.append(Meter(mid, "powertag", host="127.0.0.1", port=port, unit_id=150, name=mid, reporting=True))
    width = max(4, len(str(n_stations)))
    stations = []
    zone_of = [z for z in range(zones) for _ in range(counts[z])]
    for i in range(n_stations):
        stations.append(
            Station(f"B{i:0{width}d}", f"bench {i}", "generic_ac", f"z{zone_of[i]}",
                    (Connector(1, Wiring.TRI123, 32),), serial=f"BENCH-{i:06d}")
        )
    cards = tuple(Card(f"BENCH{i:05d}") for i in range(n_stations))
    settings = SiteSettings()
    if not dynamic_root:
        settings = SiteSettings(remote_energy=RemoteEnergyManagement(
            enabled=True, login=REM_LOGIN, min_update_period_s=1, heartbeat_s=3600))
    return Site(settings=settings, zones=tuple(zone_list), stations=tuple(stations), meters=tuple(meters), cards=cards)


async def eventually(check: object, timeout_s: float, what: str, period_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(period_s)
