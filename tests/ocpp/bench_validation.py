"""Per-message validation cost: ours (inline, cached validators) vs the ocpp
library's (inline, and via its thread pool as ChargePoint does by default).

Run: .venv/bin/python tests/ocpp/bench_validation.py
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ocpp import messages

from edgectl.adapters.ocpp.frames import decode
from edgectl.adapters.ocpp.validation import check, lenient

METER = {
    "connectorId": 1,
    "transactionId": 42,
    "meterValue": [
        {
            "timestamp": "2026-01-05T08:00:00Z",
            "sampledValue": [
                {"value": "10500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                *(
                    {"value": "16.0", "measurand": "Current.Import", "phase": p, "unit": "A"}
                    for p in ("L1", "L2", "L3")
                ),
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }
    ],
}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": "2026-01-05T08:00:00Z"}
N = 5000


def _per_msg_us(fn: Any) -> float:
    fn()  # warm the caches
    t0 = time.perf_counter()
    for _ in range(N):
        fn()
    return (time.perf_counter() - t0) / N * 1e6


async def _library_async_us(action: str, payload: dict[str, Any]) -> float:
    msg = messages.Call("1", action, payload)
    await messages.validate_payload(msg, "1.6")
    t0 = time.perf_counter()
    for _ in range(N // 5):
        await messages.validate_payload(messages.Call("1", action, payload), "1.6")
    return (time.perf_counter() - t0) / (N // 5) * 1e6


def main() -> None:
    for action, payload in (("MeterValues", METER), ("StatusNotification", STATUS), ("Heartbeat", {})):
        text = json.dumps([2, "1", action, payload])

        def ours(text: str = text, action: str = action) -> None:
            call = decode(text)
            check(action, lenient(action, call.payload, lambda *_: None))  # type: ignore[union-attr]

        def lib(action: str = action, payload: dict[str, Any] = payload) -> None:
            messages._validate_payload(messages.Call("1", action, payload), "1.6")

        print(
            f"{action:20s} ours decode+lenient+validate {_per_msg_us(ours):7.1f} us | "
            f"library inline {_per_msg_us(lib):7.1f} us | "
            f"library thread pool {asyncio.run(_library_async_us(action, payload)):7.1f} us"
        )


if __name__ == "__main__":
    main()
