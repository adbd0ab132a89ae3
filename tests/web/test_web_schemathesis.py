"""schemathesis against our own OpenAPI document: no 5xx, answers match the schemas.

The app runs in-process (ASGI-less: aiohttp on 127.0.0.1 in a thread with its
own loop); requests authenticate as the admin with HTTP Basic, so every
endpoint is reachable. The SSE feed never ends and is left out. Bounded to a
few examples per operation so that it stays well under a minute.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from aiohttp import web  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402

from edgectl.adapters.modbus.catalog import MeterModelCatalog  # noqa: E402
from edgectl.adapters.store import Role, User, open_store  # noqa: E402
from edgectl.adapters.web import WebDeps, create_app  # noqa: E402
from edgectl.adapters.web.passwords import FAST_TEST_PARAMS, hash_password  # noqa: E402
from edgectl.clock import FakeClock  # noqa: E402

from .support import PASSWORD, POLICY, FakeCommands, FakeLive, make_site, sample_allocation  # noqa: E402


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, object] = {}

    async def start() -> None:
        clock = FakeClock()
        cm = open_store(tmp / "edgectl.db", clock)
        store = await cm.__aenter__()
        await store.site.replace(make_site())
        await store.users.create(User("alice", hash_password(PASSWORD, FAST_TEST_PARAMS), Role.ADMIN))
        live = FakeLive(clock=clock)
        live.alloc = sample_allocation(clock)
        deps = WebDeps(store=store, clock=clock, live=live, commands=FakeCommands(), policy=POLICY, rem_watch_s=None,
                        meter_models=MeterModelCatalog())
        runner = web.AppRunner(create_app(deps), shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.update(runner=runner, cm=cm, port=site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20)
    yield f"http://127.0.0.1:{state['port']}"

    async def stop() -> None:
        await state["runner"].cleanup()  # type: ignore[attr-defined]
        await state["cm"].__aexit__(None, None, None)  # type: ignore[attr-defined]

    asyncio.run_coroutine_threadsafe(stop(), loop).result(20)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_api_against_its_openapi_document(base_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    schema = schema.exclude(path="/api/v1/live")
    failures: list[str] = []
    calls = [0]
    checks = [st_checks.not_a_server_error, st_checks.response_schema_conformance,
              st_checks.content_type_conformance]

    def make_run(operation: Any, label: str) -> Any:
        @settings(max_examples=12, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            calls[0] += 1
            response = case.call(base_url=base_url, auth=("alice", PASSWORD), timeout=10)
            try:
                case.validate_response(response, checks=checks)
            except AssertionError as exc:
                failures.append(f"{label}: {str(exc)[:600]}")
                raise

        return run

    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        try:
            make_run(operation, label)()
        except Exception as exc:  # collected and reported together below
            if not failures or not failures[-1].startswith(f"{label}:"):
                failures.append(f"{label}: {type(exc).__name__}: {exc}"[:800])
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures[:12])
    assert calls[0] > 100  # every operation was really exercised
