"""Command line: serve simulated meters over Modbus TCP (loopback) or RTU (a serial device/pty).

Examples:
  python -m simulators.meter --model pm5320 --port 5020
  python -m simulators.meter --meter pm5320:1 --meter mtz:2 --port 5020 --ev-a 16,16,16
  python -m simulators.meter --model nsx --rtu /tmp/x/ttyA --baud 19200 --parity E
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from edgectl.adapters.modbus.models import get_model, parse_model
from edgectl.core.phases import Phases
from simulators.meter.physics import BaseLoadProfile, MeterPhysics
from simulators.meter.server import Fault, MeterServer, SimMeter


def _phases(text: str) -> Phases:
    parts = [float(p) for p in text.split(",")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("expected three comma-separated amps, e.g. 10,12,8")
    return Phases(*parts)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m simulators.meter", description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model id (pm5320, iem3x5x, powertag, nsx, nsx_legacy, mtz)")
    ap.add_argument("--unit-id", type=int, default=1)
    ap.add_argument("--meter", action="append", default=[], help="MODEL:UNIT, repeatable (several on one port)")
    ap.add_argument("--custom-model", action="append", default=[], help="a custom model TOML file, repeatable")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5020)
    ap.add_argument("--rtu", help="serve RTU on this serial device (e.g. one end of a socat pty pair)")
    ap.add_argument("--baud", type=int, default=19200)
    ap.add_argument("--parity", default="E", choices=["N", "E", "O"])
    ap.add_argument("--stopbits", type=int, default=1, choices=[1, 2])
    ap.add_argument("--base-a", type=_phases, help="fixed base load per phase instead of the daily curve")
    ap.add_argument("--noise-a", type=float, default=1.0)
    ap.add_argument("--ev-a", type=_phases, default=Phases(), help="EV current per grid phase")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fault", choices=[f.value for f in Fault], default="none")
    args = ap.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("the simulator serves on loopback only")

    custom = {}
    for path in args.custom_model:
        with open(path, encoding="utf-8") as fh:
            model = parse_model(fh.read(), origin=path)
        custom[model.id] = model
    specs = list(args.meter) or ([f"{args.model}:{args.unit_id}"] if args.model else [])
    if not specs:
        ap.error("give --model or --meter")
    meters = []
    for i, spec in enumerate(specs):
        # "MODEL:UNIT"; a custom model id has its own colon ("custom:x:3").
        head, _, tail = spec.rpartition(":")
        model_id, unit = (head, tail) if head and tail.isdigit() else (spec, "1")
        profile = BaseLoadProfile(noise_a=args.noise_a, fixed_a=args.base_a)
        sim = SimMeter(get_model(model_id, custom), int(unit), MeterPhysics(profile, seed=args.seed + i))
        sim.set_ev_current(args.ev_a)
        sim.set_fault(args.fault)
        meters.append(sim)
    server = MeterServer(meters)

    async def serve() -> None:
        if args.rtu:
            await server.start_rtu(args.rtu, args.baud, args.parity, args.stopbits)
            where = args.rtu
        else:
            await server.start_tcp(args.host, args.port)
            where = f"{args.host}:{args.port}"
        names = ", ".join(f"{m.model.id}@{m.unit_id}" for m in meters)
        print(f"simulated meters {names} on {where}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
