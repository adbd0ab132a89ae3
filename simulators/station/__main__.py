"""Run simulated OCPP 1.6J stations: `python -m simulators.station --help`.

Examples:
  python -m simulators.station --url ws://127.0.0.1:9000/ocpp --count 200 --model evlink_parking
  python -m simulators.station --site site.toml --plug 0.5 --control-port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal

from simulators.station.clock import SimClock
from simulators.station.control import serve_control
from simulators.station.ev import Car
from simulators.station.fleet import Fleet


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m simulators.station", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="ws://127.0.0.1:9000/ocpp", help="central system URL (identity is appended)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--count", type=int, default=1, help="number of stations to create")
    src.add_argument("--site", help="create the stations of this site file ([[stations]])")
    p.add_argument("--model", default="generic_ac", help="station model id (with --count)")
    p.add_argument("--prefix", default="SIM", help="identity prefix (with --count)")
    p.add_argument("--connectors", type=int, default=2, help="connectors per station (with --count)")
    p.add_argument("--max-current", type=float, default=32.0, help="connector maximum, A (with --count)")
    p.add_argument("--password", help="HTTP basic auth password (security profile 1)")
    p.add_argument("--scale", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--meter-interval", type=int, default=10, help="MeterValueSampleInterval, s")
    p.add_argument("--plug", type=float, default=0.0, help="fraction of connectors with a car at start")
    p.add_argument("--id-tag", default="SIMCARD", help="id tag the cars swipe")
    p.add_argument("--control-port", type=int, help="serve the HTTP control API on 127.0.0.1:PORT")
    p.add_argument("--seed", type=int, default=1, help="random seed for car placement")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    clock = SimClock(scale=args.scale)
    common = {"password": args.password, "meter_interval_s": args.meter_interval}
    if args.site:
        fleet = Fleet.from_site_file(args.site, args.url, clock=clock, **common)
    else:
        fleet = Fleet.from_count(args.count, args.url, model=args.model, prefix=args.prefix,
                                 connectors=args.connectors, max_current_a=args.max_current, clock=clock, **common)
    await fleet.start(stagger_s=0.005)
    if args.plug:
        # Cars arrive once the stations are up, so their cards are authorized online.
        try:
            await fleet.wait_ready(timeout_s=120)
        except TimeoutError:
            print("not every station booted within 120 s; plugging cars anyway", flush=True)
    rng = random.Random(args.seed)
    for st in fleet.stations.values():
        for cid in st.connectors:
            if rng.random() < args.plug:
                car = Car(phases=rng.choice((1, 3)), max_current_a=rng.choice((16.0, 32.0)), soc=rng.uniform(0.1, 0.7))
                st.plug_in(cid, car, id_tag=args.id_tag)
    runner = await serve_control(fleet, args.control_port) if args.control_port else None
    print(f"{len(fleet.stations)} station(s) -> {args.url}"
          + (f"; control on http://127.0.0.1:{args.control_port}/stations" if runner else ""), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if runner is not None:
        await runner.cleanup()
    await fleet.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
