"""The dashboard as an admin uses it: the KPI cards show what the API says for the same range,
a filter changes them, and a chart's rows download as CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from types import SimpleNamespace

import httpx
from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Team, User
from crm_app.services import api_key
from tests.e2e.conftest import sign_in
from tests.factories import make_report_data

MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


def _seed(app_server) -> tuple[dict[str, str], int]:
    """The report tests' fixed data set, and an admin's API key; Bob's id."""
    with app_server.session() as session:
        users = {u.email.split("@")[0]: u for u in session.exec(select(User)).all()}
        teams = {t.name: t for t in session.exec(select(Team)).all()}
        people = SimpleNamespace(**users, east=teams["East"], west=teams["West"])
        make_report_data(session, people)
        key = api_key.create_key(session, actor=users["alice"], name="dashboard test")
        session.commit()
        return {"Authorization": f"Bearer {key.plaintext}"}, users["bob"].id


def _kpis(app_server, headers, **params) -> dict:
    response = httpx.get(
        f"{app_server.base_url}/api/v1/reports/kpis", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()["kpis"]


def _percent(ratio) -> str:
    return f"{Decimal(str(ratio)) * 100:.1f}%"


def _card(page, label: str):
    return page.get_by_role("region", name=label, exact=True)


def test_the_dashboard_matches_the_api_follows_a_filter_and_downloads_a_chart(new_page, app_server):
    headers, bob = _seed(app_server)
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()

    # March 2026, both days given
    page.get_by_label("Range", exact=True).click()
    page.get_by_role("option", name="Custom").click()
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 Mar 2026 to 31 Mar 2026")).to_be_visible()

    kpis = _kpis(app_server, headers, **MARCH)
    expect(_card(page, "New leads")).to_contain_text(f"{kpis['new_leads']['value']:,}")
    expect(_card(page, "Win rate")).to_contain_text(_percent(kpis["win_rate"]["value"]))
    won = Decimal(str(kpis["average_won_deal"]["value"]["amount"]))
    expect(_card(page, "Average won deal")).to_contain_text(f"{won:,.2f} USD")

    # Bob's figures alone
    page.get_by_label("Owner", exact=True).click()
    page.get_by_role("option", name="Bob Rep").click()
    bobs = _kpis(app_server, headers, owner_id=bob, **MARCH)
    assert bobs["win_rate"]["value"] != kpis["win_rate"]["value"]
    expect(_card(page, "Win rate")).to_contain_text(_percent(bobs["win_rate"]["value"]))

    # a chart's table, and its rows as CSV
    revenue = page.get_by_role("region", name="Won revenue by month")
    revenue.get_by_role("tab", name="Table").click()
    expect(revenue.get_by_role("table")).to_be_visible()
    with page.expect_download() as download:
        revenue.get_by_role("button", name="Download Won revenue by month as CSV").click()
    assert download.value.suggested_filename == "won-revenue-by-month-2026-03-01-2026-04-01.csv"
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "Month" and rows[1][0] == "2026-03-01"
