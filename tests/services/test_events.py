"""StatusNotification history for the web: every filter, and paging that
does not shift while new notifications arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from edgectl.adapters.store import StationEvent, open_store
from edgectl.clock import FakeClock
from edgectl.services import station_events

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def test_filters_and_paging(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    async with open_store(tmp_path / "edgectl.db", clock) as store:
        rows = [
            ("S1", 0, "Available", "NoError"),
            ("S1", 1, "Charging", "NoError"),
            ("S1", 1, "Faulted", "GroundFailure"),
            ("S2", 1, "Faulted", "HighTemperature"),
            ("S2", 0, "Unavailable", "NoError"),
        ]
        for sid, cid, status, code in rows:
            await store.station_events.record(
                StationEvent(sid, cid, status, code, info="i", vendor_id="V", vendor_error_code="E7")
            )
            clock.advance(60)

        async def ids(**kw: object) -> list[tuple[str, int, str]]:
            page = await station_events(store, **kw)  # type: ignore[arg-type]
            return [(e["station"], e["connector"], e["status"]) for e in page["items"]]

        assert await ids(station="S1") == [("S1", 1, "Faulted"), ("S1", 1, "Charging"), ("S1", 0, "Available")]
        assert await ids(connector=0) == [("S2", 0, "Unavailable"), ("S1", 0, "Available")]
        assert await ids(status="Faulted") == [("S2", 1, "Faulted"), ("S1", 1, "Faulted")]
        assert await ids(error_code="GroundFailure") == [("S1", 1, "Faulted")]
        assert len(await ids(errors_only=True)) == 2
        window = await ids(received_from=T0 + timedelta(seconds=60), received_to=T0 + timedelta(seconds=180))
        assert window == [("S1", 1, "Faulted"), ("S1", 1, "Charging")]

        first = await station_events(store, limit=2)
        assert len(first["items"]) == 2 and first["next_before_id"] == first["items"][-1]["id"]
        assert first["items"][0]["vendor_error_code"] == "E7" and first["items"][0]["received_at"]
        await store.station_events.record(StationEvent("S3", 1, "Available"))  # arrives meanwhile
        second = await station_events(store, limit=2, before_id=first["next_before_id"])
        third = await station_events(store, limit=2, before_id=second["next_before_id"])
        assert third["next_before_id"] is None and len(third["items"]) == 1
        seen = [e["id"] for page in (first, second, third) for e in page["items"]]
        assert len(seen) == len(set(seen)) == 5
