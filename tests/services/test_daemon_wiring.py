"""The supervisor wires the services: commands through the running daemon,
file endpoints up, alarms fed by the stations."""

from __future__ import annotations

from pathlib import Path

from e2e.harness import eventually, running_site

from edgectl.adapters.store import EventQuery

from .conftest import eventually_async, one_station_site


async def test_daemon_exposes_commands_alarms_and_files(tmp_path: Path) -> None:
    async with running_site(one_station_site(), tmp_path) as site:
        c = site.components
        assert c.commands is not None and c.alarms is not None and c.files is not None
        result = await c.commands.execute("S1", "get_diagnostics", {}, "admin")
        assert result.status == "Accepted"
        assert result.payload["location"] == f"http://127.0.0.1:{c.files.port}/diagnostics/S1/"
        uploaded = c.runtime.config.data_dir / "diagnostics" / "S1" / "S1-diagnostics.log"
        await eventually(uploaded.exists, 20, "diagnostics uploaded")
        events = await c.runtime.store.events.query(EventQuery(source="S1", text="remote command"))
        assert events[0].details["actor"] == "admin"

        station = site.station("S1")
        station.connectors[1].faulted = True
        station.step(0.0)  # the station notices and reports Faulted

        async def faulted() -> bool:
            return any(a.kind == "connector_faulted" for a in await c.alarms.active())  # type: ignore[union-attr]

        await eventually_async(faulted, 10, "connector_faulted alarm")
