"""Meter benchmark (issue 5): 20 Modbus TCP meters polled at 500 ms with the OCPP load of
bench/ocpp_load.py; poll jitter, meter step -> profiles out, daemon CPU.

Run from the repository root:  .venv/bin/python -m bench.meter_step [--stations 200] [--quick]

Set-up: `edgectl run` (subprocess, own temp data dir and config, loopback,
meter_poll_s = 0.5) and, in this process, N simulated stations (every one
charging, MeterValues every 10 s) plus 20 simulated meters, each a pymodbus
TCP server on its own loopback port: the dynamic root zone's PM5320, the four
zones' iEM3x5x (dynamic zones), and 15 reporting PowerTags. Zone meters read
their building base load plus what the simulated cars of their zone draw.

- Poll jitter: from the meter simulators' request logs (request start times,
  CLOCK_MONOTONIC). A poll starts with the request of the meter's first block;
  interval = time between successive poll starts of one meter; jitter =
  |interval - 500 ms|. No product hook.
- Meter step -> profiles out: the root meter's base load steps (so every
  connector's setpoint moves by 3 A) just after a poll; t0 = when the meter
  simulator starts serving the first request after the step (the Modbus
  request is on the wire; its answer, the decode, the cycle and every
  SetChargingProfile round trip are counted); end = the last station's
  first SetChargingProfile after t0. The wait for the poll (0-500 ms) is
  reported apart.
- Daemon CPU % and RSS from /proc/<pid> over the steady window.

Results are printed and written to docs/performance.md between the
bench:meter markers.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Daemon, bench_site, free_port, machine_line, percentile, write_section
from bench.ocpp_load import SETTLE_S, bring_up, steady_window, tear_down, zone_steps

START, END = "<!-- bench:meter:start -->", "<!-- bench:meter:end -->"
PERIOD_S = 0.5
GOAL_P99_MS = 100.0


def poll_starts(requests: list[Any], since: float, until: float) -> list[float]:
    """Start times of polls: a poll begins with the same (function, address) block every time."""
    if not requests:
        return []
    first = (requests[0].function_code, requests[0].address)
    return [r.started_s for r in requests
            if (r.function_code, r.address) == first and since <= r.started_s <= until]


def jitter(run: Any, since: float, until: float) -> dict[str, float]:
    intervals: list[float] = []
    per_poll: list[int] = []
    for sim in run.sim.meters.values():
        starts = poll_starts(sim.server.requests, since, until)
        intervals += [(b - a) * 1000 for a, b in itertools.pairwise(starts)]
    for server in {id(s.server): s.server for s in run.sim.meters.values()}.values():
        per_poll.append(len([r for r in server.requests if since <= r.started_s <= until]))
    dev = [abs(i - PERIOD_S * 1000) for i in intervals]
    return {
        "polls": len(intervals),
        "interval_p50": percentile(intervals, 50),
        "interval_p99": percentile(intervals, 99),
        "interval_max": max(intervals) if intervals else float("nan"),
        "jitter_p50": percentile(dev, 50),
        "jitter_p99": percentile(dev, 99),
        "jitter_max": max(dev) if dev else float("nan"),
        "requests_per_s": sum(per_poll) / (until - since),
    }


async def measure(n: int, *, steady_s: float, steps: int, profile_dir: Path | None) -> dict[str, Any]:
    root_port = free_port()
    zone_meters = [(f"m-z{z}", free_port()) for z in range(4)]
    reporting = [(f"m-r{i:02d}", free_port()) for i in range(15)]
    site = bench_site(n, root_meter_port=root_port, extra_dynamic=zone_meters, reporting=reporting)
    low, high = 0.5 * n, 3.5 * n
    row: dict[str, Any] = {"n": n, "meters": 1 + len(zone_meters) + len(reporting)}
    daemon = Daemon(site, cycle_s=2.0, lease_s=120, meter_poll_s=PERIOD_S)
    run = None
    try:
        print(f"[meters] bringing up {n} stations and {row['meters']} meters", file=sys.stderr, flush=True)
        run = await bring_up(site, daemon, base_a=low)
        await asyncio.sleep(12)
        t_a = time.monotonic()
        row.update(await steady_window(run, daemon, steady_s))
        row["jitter"] = jitter(run, t_a, time.monotonic())
        print(f"[meters] CPU {row['cpu_pct']:.1f} %, jitter p99 {row['jitter']['jitter_p99']:.1f} ms",
              file=sys.stderr, flush=True)
        profiling = False
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - bench set-up
            profiling = daemon.start_profiler(int(steps * (4 + SETTLE_S) + 10), profile_dir / f"meter_steps_{n}.txt")
        t_b = time.monotonic()
        row["steps"] = await zone_steps(run, "m-root", (low, high), steps, settle_s=SETTLE_S)
        row["jitter_steps"] = jitter(run, t_b, time.monotonic())
        if profiling:
            daemon.wait_profiler()
    finally:
        await tear_down(run)
        daemon.stop()
        daemon.cleanup()
    return row


def tables(r: dict[str, Any]) -> str:
    j, js, s = r["jitter"], r["jitter_steps"], r["steps"]
    last = [x["last_ms"] for x in s]
    p99 = percentile(last, 99)
    return "\n".join([
        "**Polling and daemon load** (steady window, then during the steps):\n",
        "| stations | meters | Modbus requests/s | polls | interval p50 / p99 / max | jitter p50 / p99 / max "
        "| daemon CPU | daemon RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['n']:,} | {r['meters']} | {j['requests_per_s']:.0f} | {j['polls']:,} "
        f"| {j['interval_p50']:.1f} / {j['interval_p99']:.1f} / {j['interval_max']:.1f} ms "
        f"| {j['jitter_p50']:.1f} / {j['jitter_p99']:.1f} / {j['jitter_max']:.1f} ms "
        f"| {r['cpu_pct']:.1f} % | {r['rss_mb']:.1f} MB |",
        f"| (during steps) | | {js['requests_per_s']:.0f} | {js['polls']:,} "
        f"| {js['interval_p50']:.1f} / {js['interval_p99']:.1f} / {js['interval_max']:.1f} ms "
        f"| {js['jitter_p50']:.1f} / {js['jitter_p99']:.1f} / {js['jitter_max']:.1f} ms | | |",
        "",
        "**Meter step → profiles out** (root meter base-load step moving all setpoints by 3 A; t0 = the "
        "meter simulator starts serving the first request after the step):\n",
        "| stations (profiles per step) | steps | reached (min) | first p50 | median station p50 | last p50 "
        "| last p99 (max) | poll wait (not counted) p50 | goal p99 ≤ 100 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:--|",
        f"| {r['n']:,} | {len(s)} | {min(x['stations_reached'] for x in s):,}/{r['n']:,} "
        f"| {statistics.median(x['first_ms'] for x in s):.1f} ms "
        f"| {statistics.median(x['median_ms'] for x in s):.1f} ms | {statistics.median(last):.1f} ms "
        f"| {p99:.1f} ms | {statistics.median(x['poll_wait_ms'] for x in s):.0f} ms "
        f"| {'✅' if p99 <= GOAL_P99_MS else '❌'} |",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200, help="simulated stations (default 200)")
    parser.add_argument("--steady", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw profile of the steps goes here")
    parser.add_argument("--quick", action="store_true", help="short run, do not touch docs/")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    for noisy in ("ocpp", "simulators", "pymodbus", "websockets"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    if args.quick:
        args.steady, args.steps = 15.0, 3
    row = asyncio.run(measure(args.stations, steady_s=args.steady, steps=args.steps, profile_dir=args.profile))
    if args.json is not None:
        args.json.write_text(json.dumps(row, indent=1), encoding="utf-8")
    text = tables(row)
    print(machine_line())
    print(text)
    if not args.quick:
        cmd = ".venv/bin/python -m bench.meter_step" + ("" if args.stations == 200 else f" --stations {args.stations}")
        write_section(START, END, (
            f"{START}\n## Meters polled with the OCPP load (`bench/meter_step.py`)\n\n{machine_line()}\n\n"
            f"`edgectl run` as a subprocess (meter_poll_s = 0.5); in the bench process {row['n']} simulated "
            "stations (all charging, MeterValues every 10 s) and 20 simulated Modbus TCP meters, each its own "
            "pymodbus server on a loopback port (root PM5320 and four zone iEM3x5x on dynamic zones, 15 "
            "reporting PowerTags); the simulator holds each request 2 ms in service. Jitter from the meters' "
            "request logs (no product hook). Goal: meter step → profiles out p99 ≤ 100 ms including the "
            "Modbus round trip.\n\n"
            f"{text}\nReproduce: `{cmd}`.\n{END}"
        ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
