"""Scenarios for the dashboard and reports (issue 6): the KPIs, the charts and the report
tables in-process, and the dashboard in Chromium.

The bars, on the 100k data set: all dashboard KPIs together under 100 ms and each report under
200 ms, server-side; the dashboard complete (cards and charts drawn) within 1.5 s of navigation.
The server-side scenarios cover the twelve months before the data set's day (REFERENCE), fixed
dates rather than a preset, so the figures do not drift with the real date: that period and
the one before it have both ended, so each is measured as of its end (the heavier way).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.harness import Measure, timed
from crm_app.services.report_chart import CHARTS
from crm_app.services.report_table import TABLES

CHART_NAMES = tuple(CHARTS)
TABLE_NAMES = tuple(TABLES)
REP = "rep1@scale.example"  # a rep's dashboard adds their team's totals


def last_twelve_months() -> Any:
    """The ReportQuery of the twelve whole months before the data set's day."""
    from crm_app.seeding.scale import REFERENCE
    from crm_app.services.report_scope import ReportQuery, add_months

    end = REFERENCE.date().replace(day=1)
    return ReportQuery(date_from=add_months(end, -12), date_to=end)


def _user(session, email: str):
    from sqlmodel import select

    from crm_app.models import User

    return session.exec(select(User).where(User.email == email)).one()


def _in_session(email: str, action: Callable[[Any, Any, Any], object]) -> Measure:
    """Time `action(session, actor, query)` in a fresh Session (rolled back), as `email`,
    over the last twelve months."""
    from sqlmodel import Session

    from crm_app.db import get_engine

    engine = get_engine()
    query = last_twelve_months()
    with Session(engine, expire_on_commit=False) as session:
        actor = _user(session, email)

    def once() -> None:
        with Session(engine, expire_on_commit=False) as session:
            action(session, actor, query)
            session.rollback()

    return timed(once)


def _kpis(session, actor, query) -> None:
    from crm_app.services.report_kpi import dashboard_kpis

    dashboard_kpis(session, actor=actor, query=query)


def dashboard_kpis_admin(ctx) -> Measure:
    """Every dashboard KPI and the previous period's, as the admin (everyone's records)."""
    return _in_session(ctx.email, _kpis)


def dashboard_kpis_rep(ctx) -> Measure:
    """The same as rep1: their own figures and their team's totals (four queries more)."""
    return _in_session(REP, _kpis)


def all_charts(ctx) -> Measure:
    """The six dashboard charts one after the other, as the admin, as the dashboard loads
    them (each resolves its own scope)."""

    def action(session, actor, query) -> None:
        for spec in CHARTS.values():
            spec.run(session, actor=actor, query=query)

    return _in_session(ctx.email, action)


def chart(name: str) -> Callable[[Any], Measure]:
    """The `prepare` of one chart's scenario, as the admin."""

    def prepare(ctx) -> Measure:
        run = CHARTS[name].run
        return _in_session(ctx.email, lambda s, actor, query: run(s, actor=actor, query=query))

    prepare.__doc__ = f"The {name} chart, as the admin."
    return prepare


def table(name: str) -> Callable[[Any], Measure]:
    """The `prepare` of one report table's scenario, as the admin, in its default order."""

    def prepare(ctx) -> Measure:
        run = TABLES[name].run
        return _in_session(ctx.email, lambda s, actor, query: run(s, actor=actor, query=query))

    prepare.__doc__ = f"The {name} report, as the admin."
    return prepare


# Timed inside the page, as bench.contacts does: from the start of the navigation to the
# frame that shows the figures in every KPI card and in every chart. The figures are in when
# every KPI card shows a value: a section, article or region named (aria-label or
# aria-labelledby) by its KPI's name exactly (a chart's card may start with one: "MRR over
# 12 months") with text besides its name, and the six charts' main recharts surfaces (not
# legend icons) are there. The charts' data comes in the same update as the cards, but a
# chart draws it a frame or so later, so each chart's first change of elements within
# GRACE_MS of the cards counts too (one whose data is empty draws nothing new). Only that
# first change: the entry animations that follow (bars re-mount every frame for 400 ms) are
# not counted. After TIMEOUT_MS the promise rejects, saying what is still missing.
KPI_NAMES = (
    "MRR",
    "New leads",
    "Lead conversion",
    "Open pipeline",
    "Weighted pipeline",
    "Win rate",
    "Average won deal",
    "Sales cycle",
)
CHART_COUNT = 6
GRACE_MS = 250
TIMEOUT_MS = 30_000

_WATCH_DASHBOARD = """(kpiNames, charts, graceMs, timeoutMs) => {
    window.__dashboardComplete = new Promise((resolve, reject) => {
        const kpis = kpiNames.map((name) => name.toLowerCase());
        const nameOf = (el) => {
            const label = el.getAttribute('aria-label');
            if (label) return label;
            const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
            return ids.map((id) => document.getElementById(id)?.textContent || '').join(' ');
        };
        const missing = () => {
            const cards = [...document.querySelectorAll(
                'section, article, [role="region"], [role="article"]')];
            const lacking = kpis.filter((kpi) => !cards.some((card) => {
                const name = nameOf(card);
                return name.trim().toLowerCase() === kpi
                    && card.textContent.replace(name, '').trim() !== '';
            }));
            const drawn = document.querySelectorAll('.recharts-wrapper > svg.recharts-surface');
            if (drawn.length < charts) lacking.push(`${charts - drawn.length} of ${charts} charts`);
            return lacking;
        };
        const chartOf = (record) => {
            const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
            return node?.closest('.recharts-responsive-container');
        };
        const painted = [];  // the frames that show the cards and each chart's first change
        const paint = () => requestAnimationFrame(() => painted.push(performance.now()));
        const changed = new Set();
        let figuresIn = false;
        const observer = new MutationObserver((records) => {
            if (!figuresIn) {
                if (missing().length) return;
                figuresIn = true;
                paint();
                setTimeout(() => {
                    observer.disconnect();
                    clearTimeout(giveUp);
                    resolve(Math.max(...painted));
                }, graceMs);
            }
            for (const chart of records.map(chartOf)) {
                if (chart && !changed.has(chart)) {
                    changed.add(chart);
                    paint();
                }
            }
        });
        observer.observe(document, { subtree: true, childList: true, characterData: true });
        const giveUp = setTimeout(() => {
            observer.disconnect();
            reject(new Error(`after ${timeoutMs} ms still missing: ${missing().join(', ')}`));
        }, timeoutMs);
    });
}"""
_DASHBOARD_COMPLETE = (
    f"({_WATCH_DASHBOARD})({json.dumps(KPI_NAMES)}, {CHART_COUNT}, {GRACE_MS}, {TIMEOUT_MS});"
)


def dashboard_complete_chromium(ctx) -> Measure:
    """Chromium: opening / (signed in, as the admin; its default range, this month) until
    the frame that shows every KPI card's value and the six charts drawn, timed from the
    start of the navigation."""
    from bench.contacts import _signed_in_context

    context = _signed_in_context(ctx)

    def measure() -> float:
        page = context.new_page()
        try:
            page.add_init_script(_DASHBOARD_COMPLETE)
            page.goto(f"{ctx.base_url}/", wait_until="commit")
            return page.evaluate("() => window.__dashboardComplete") / 1000
        finally:
            page.close()

    return measure
