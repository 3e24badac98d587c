"""The event handler latency histogram on /metrics counts the handlers that ran."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import METRICS_TOKEN
from tests.e2e.event_socket import EventSocket, app_state_name
from tests.loop import run_in_own_loop


def _guard_count(base_url: str) -> float:
    response = httpx.get(
        f"{base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert response.status_code == 200
    found = re.search(
        r'^crm_event_handler_seconds_count\{handler="AppState.guard"\} (\S+)$',
        response.text,
        re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


async def _fire_guard(base_url: str, times: int) -> None:
    async with EventSocket(base_url) as socket:
        for _ in range(times):
            updates = await socket.call(
                f"{app_state_name()}.guard", {}, {"pathname": "/", "asPath": "/"}
            )
            assert any(e["name"] == "_redirect" for u in updates for e in u.get("events", []))


def test_each_event_handler_run_is_timed_by_handler_on_metrics(app_server):
    before = _guard_count(app_server.base_url)

    run_in_own_loop(_fire_guard(app_server.base_url, times=3))

    assert _guard_count(app_server.base_url) == before + 3
    body = httpx.get(
        f"{app_server.base_url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    ).text
    assert 'crm_event_handler_seconds_bucket{handler="AppState.guard",le="0.005"}' in body
    # the event name a client sends is not a label: one series per handler in the code
    assert "reflex___state" not in body
