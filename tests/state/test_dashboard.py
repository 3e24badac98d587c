"""The dashboard's handlers: the cards, charts and tables of the report tests' data set for
March 2026 (figures worked out in tests/services/test_report_kpi.py), its filters and CSV."""

from __future__ import annotations

import pytest

from crm_app import routes
from crm_app.state.dashboard import DashboardState
from tests.factories import make_report_data
from tests.state.test_activities_pages import opened

pytestmark = pytest.mark.usefixtures("report_clock")  # reports run on 15 April 2026


@pytest.fixture
def march(db, people):
    make_report_data(db, people)
    page = opened(DashboardState, db, people.alice, routes.DASHBOARD)
    page.set_dates({"from": "2026-03-01", "to": "2026-03-31"})
    return page


def card(page, label: str):
    return next(k for k in page.kpis if k.label == label)


def test_the_cards_show_the_range_against_the_month_before(march):
    assert march.range_label == "1 Mar 2026 to 31 Mar 2026"
    assert march.previous_label == "Compared with 1 Feb 2026 to 28 Feb 2026"
    assert [k.label for k in march.kpis] == [
        "MRR",
        "New leads",
        "Lead conversion",
        "Open pipeline",
        "Weighted pipeline",
        "Win rate",
        "Average won deal",
        "Sales cycle",
    ]
    # March: won d1, d2, d3, d4 and lost d5, d15, d16 -> 4 of 7; February: d7 won, d6 lost
    rate = card(march, "Win rate")
    assert (rate.value, rate.previous, rate.change, rate.tone) == (
        "57.1%",
        "50.0%",
        "+7.1 pts",
        "green",
    )
    # money in USD, EUR beside it, never added together
    assert card(march, "Average won deal").value == "2,000.00 USD + 500.00 EUR"


def test_every_chart_has_points_and_a_table(march):
    assert (
        set(march.charts)
        == set(march.tables)
        == {
            "pipeline-by-stage",
            "won-revenue-by-month",
            "mrr",
            "leads-by-source",
            "conversion-funnel",
            "activities-per-week",
        }
    )
    revenue = march.charts["won-revenue-by-month"]
    assert revenue == [{"label": "Mar 2026", "Won": 4000.0}]
    table = march.tables["won-revenue-by-month"]
    assert [c.label for c in table.columns] == ["Month", "Deals won", "Won amount"]
    assert table.rows[0] == ["2026-03-01", "4", "4,000.00 USD + 500.00 EUR"]  # d1-d4
    assert march.charts["conversion-funnel"][0]["label"] == "Created"


def test_an_owner_filter_narrows_the_figures(march, people):
    march.set_owner(str(people.bob.id))
    assert card(march, "Win rate").value == "66.7%"  # d1, d2 won; d5 lost


def test_a_rep_asking_for_another_team_is_refused_and_keeps_their_own(db, people):
    make_report_data(db, people)
    page = opened(DashboardState, db, people.bob, routes.DASHBOARD)
    page.figures()
    mine = [k.value for k in page.kpis]
    page.set_team(str(people.west.id))
    assert [k.value for k in page.kpis] == mine
    assert card(page, "Win rate").team != ""  # a rep sees the team's totals beside their own


def test_a_chart_downloads_as_csv(march):
    download = march.download("won-revenue-by-month")
    assert download is not None
    assert march.download("not-a-chart") is None
