"""The benchmark's scenarios. To add one, write a `prepare` function and list it in SCENARIOS.

`prepare(ctx)` sets the scenario up with what the BenchContext offers (closing what it opens
through `ctx.stack`) and returns the Measure that does it once; it raises Skip when it cannot
run here.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import activities, contacts, deals, reports, transfer, webhooks
from bench import browser as chromium
from bench.harness import Measure, Scenario, timed

BROWSER_RUNS, BROWSER_WARMUPS = 10, 2
HTTP_RUNS, HTTP_WARMUPS = 200, 10
REPORT_RUNS, REPORT_WARMUPS = 20, 3  # the reports group stays under two minutes


@dataclass
class BenchContext:
    """The running server and who to act as; the browser is launched on first use."""

    base_url: str
    email: str
    password: str
    api_key: str
    stack: ExitStack
    _browser: Any = field(default=None, repr=False)

    def browser(self) -> Any:
        """The shared headless Chromium (raises Skip when it is not installed)."""
        if self._browser is None:
            self._browser = chromium.launch(self.stack)
        return self._browser


def sign_in_round_trip(ctx: BenchContext) -> Measure:
    """From pressing "Sign in" on /login, in a fresh context, until the Welcome heading shows."""
    browser = ctx.browser()

    def measure() -> float:
        context = chromium.new_context(browser, ctx.base_url)
        try:
            page = context.new_page()
            chromium.fill_sign_in(page, ctx.email, ctx.password)
            started = time.perf_counter()
            chromium.submit_sign_in(page, ctx.base_url)
            return time.perf_counter() - started
        finally:
            context.close()

    return measure


def api_me(ctx: BenchContext) -> Measure:
    """GET /api/v1/me with an API key, over one kept-alive connection."""
    client = ctx.stack.enter_context(httpx.Client(base_url=ctx.base_url, timeout=30))
    headers = {"Authorization": f"Bearer {ctx.api_key}"}

    def once() -> None:
        response = client.get("/api/v1/me", headers=headers)
        if response.status_code != 200:
            raise AssertionError(f"/api/v1/me answered {response.status_code}: {response.text}")

    return timed(once)


def app_shell_first_load(ctx: BenchContext) -> Measure:
    """Opening / in a new page of a signed-in context until the navigation and greeting show."""
    context = chromium.new_context(ctx.browser(), ctx.base_url)
    ctx.stack.callback(context.close)
    page = context.new_page()
    chromium.fill_sign_in(page, ctx.email, ctx.password)
    chromium.submit_sign_in(page, ctx.base_url)
    page.close()

    def measure() -> float:
        page = context.new_page()
        try:
            started = time.perf_counter()
            page.goto(f"{ctx.base_url}/")
            chromium.main_navigation(page).wait_for(state="visible")
            chromium.welcome_heading(page).wait_for(state="visible")
            return time.perf_counter() - started
        finally:
            page.close()

    return measure


SCENARIOS = [
    Scenario("sign-in round trip", sign_in_round_trip, BROWSER_RUNS, BROWSER_WARMUPS),
    Scenario("GET /api/v1/me", api_me, HTTP_RUNS, HTTP_WARMUPS),
    Scenario("app shell first load", app_shell_first_load, BROWSER_RUNS, BROWSER_WARMUPS),
    Scenario("contacts: first page (API)", contacts.contacts_first_page, HTTP_RUNS, HTTP_WARMUPS),
    Scenario(
        "contacts: 1,000th page by cursor", contacts.contacts_page_1000, HTTP_RUNS, HTTP_WARMUPS
    ),
    Scenario("contacts: search q=smi", contacts.contacts_search, HTTP_RUNS, HTTP_WARMUPS),
    Scenario("contact detail + timeline (server)", contacts.contact_detail_server_side, 50, 5),
    Scenario("import 100k contacts CSV (dedup)", transfer.import_contacts_dedup, 2, 0),
    Scenario("export 100k contacts (HTTP)", transfer.export_contacts_http, 5, 1),
    Scenario("backend memory per signed-in /contacts tab", transfer.backend_memory_per_tab, 1, 0),
    Scenario("/contacts first rows (Chromium)", contacts.contacts_page_first_rows, 10, 2),
    Scenario("/contacts sort change (Chromium)", contacts.contacts_sort_change, 10, 2),
    Scenario("deals: board data, busiest pipeline (server)", deals.board_server_side, 50, 5),
    Scenario("deals: move persisted (server)", deals.move_persisted, 50, 5),
    Scenario("/deals dropped card settles (Chromium)", deals.drop_settles_chromium, 10, 2),
    Scenario("activities: record timeline page (server)", activities.timeline_first_page, 50, 5),
    Scenario("activities: timeline page 6, by cursor (server)", activities.timeline_page_6, 50, 5),
    Scenario("activities: My work, 5,000 open tasks (server)", activities.my_work_busy_rep, 50, 5),
    Scenario("activities: calendar feed (server)", activities.calendar_feed_server_side, 30, 3),
    Scenario(
        "activities: calendar feed, typical rep (server)",
        activities.calendar_feed_typical_rep,
        30,
        3,
    ),
    Scenario("activities: calendar feed (HTTP)", activities.calendar_feed_http, 30, 3),
    Scenario(
        "reports: dashboard KPIs (server)",
        reports.dashboard_kpis_admin,
        REPORT_RUNS,
        REPORT_WARMUPS,
    ),
    Scenario(
        "reports: dashboard KPIs, rep1 and team (server)",
        reports.dashboard_kpis_rep,
        REPORT_RUNS,
        REPORT_WARMUPS,
    ),
    Scenario("reports: all six charts (server)", reports.all_charts, REPORT_RUNS, REPORT_WARMUPS),
    *[
        Scenario(
            f"reports: chart {name} (server)", reports.chart(name), REPORT_RUNS, REPORT_WARMUPS
        )
        for name in reports.CHART_NAMES
    ],
    *[
        Scenario(f"reports: {name} (server)", reports.table(name), REPORT_RUNS, REPORT_WARMUPS)
        for name in reports.TABLE_NAMES
    ],
    Scenario(
        "reports: / dashboard complete (Chromium)",
        reports.dashboard_complete_chromium,
        BROWSER_RUNS,
        BROWSER_WARMUPS,
    ),
    Scenario(
        "webhooks: event to first attempt (in-process worker)",
        webhooks.event_to_first_attempt,
        50,
        5,
    ),
    Scenario("webhooks: 1,000 queued deliveries drained", webhooks.drain_1000_deliveries, 3, 0),
]
