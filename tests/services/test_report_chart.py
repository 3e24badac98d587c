"""Chart data (issue 6), worked out by hand from `make_report_data` ("now" is 15 April
2026): pipeline by stage, won revenue by month, MRR movements, leads by source, the funnel
and activities per rep per week; their pivots and CSV."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm_app.services import report_chart, report_mrr
from crm_app.services.report_rows import pivot
from crm_app.services.report_scope import Money, ReportQuery
from tests.factories import at, make_deal_at, make_report_data, make_second_pipeline

MARCH = ReportQuery(date(2026, 3, 1), date(2026, 4, 1))


pytestmark = pytest.mark.usefixtures("report_clock")  # reports run on 15 April 2026


@pytest.fixture
def data(db, people):
    return make_report_data(db, people)


def usd(amount, **others) -> Money:
    value = None if amount is None else Decimal(amount)
    return Money("USD", value, {code: Decimal(v) for code, v in others.items()})


# --- pipeline value by stage -----------------------------------------------------------------


def test_pipeline_by_stage_sums_todays_open_deals_per_open_stage(db, people, data):
    table = report_chart.pipeline_by_stage(db, actor=people.alice, query=MARCH)
    assert [(r.stage, r.deals, r.amount, r.weighted) for r in table.rows] == [
        ("Qualification", 1, usd("5000"), usd("2000")),  # d9 at its own 40%
        ("Discovery", 1, usd("0", EUR="800"), usd("0", EUR="200")),  # d10
        ("Proposal", 1, usd("10000"), usd("5000")),  # d8
        ("Negotiation", 1, usd("0"), usd("0")),  # d11 has no amount
    ]
    mine = report_chart.pipeline_by_stage(db, actor=people.bob, query=MARCH)
    assert [r.deals for r in mine.rows] == [0, 0, 1, 0]


def test_pipeline_by_stage_shows_the_filtered_pipeline(db, people, data):
    renewals = make_second_pipeline(db)
    query = ReportQuery(pipeline_id=renewals.pipeline.id)
    table = report_chart.pipeline_by_stage(db, actor=people.alice, query=query)
    assert [(r.stage, r.deals, r.amount) for r in table.rows] == [
        ("Intro", 0, usd("0")),
        ("Trial", 0, usd("0")),
    ]


# --- won revenue by month --------------------------------------------------------------------


def test_won_revenue_has_every_month_of_the_range(db, people, data):
    query = ReportQuery(date(2026, 1, 1), date(2026, 4, 1))
    table = report_chart.won_revenue_by_month(db, actor=people.alice, query=query)
    assert [(r.month, r.deals, r.amount) for r in table.rows] == [
        (date(2026, 1, 1), 0, usd("0")),
        (date(2026, 2, 1), 1, usd("1500")),  # d7
        (date(2026, 3, 1), 4, usd("4000", EUR="500")),  # d1-d4 (d3 without amount)
    ]


def test_a_month_is_the_actors_month(db, people, data):
    los_angeles = datetime(2026, 1, 31, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    make_deal_at(db, owner=people.bob, stage=data.stages["Won"], created=at("2026-01-02"),
                 closed=los_angeles, amount="700")  # fmt: skip
    people.bob.timezone = "America/Los_Angeles"
    query = ReportQuery(date(2026, 1, 1), date(2026, 3, 1))
    for_bob = report_chart.won_revenue_by_month(db, actor=people.bob, query=query)
    assert [(r.deals, r.amount) for r in for_bob.rows] == [(1, usd("700")), (1, usd("1500"))]
    in_utc = report_chart.won_revenue_by_month(db, actor=people.alice, query=query)
    assert [(r.deals, r.amount) for r in in_utc.rows] == [(0, usd("0")), (2, usd("2200"))]


# --- MRR movements ---------------------------------------------------------------------------


def test_mrr_movements_over_the_12_months_up_to_march(db, people, data):
    table = report_mrr.mrr_movements(db, actor=people.alice, query=MARCH)
    assert [r.month for r in table.rows] == [date(2025, m, 1) for m in range(4, 13)] + [
        date(2026, m, 1) for m in (1, 2, 3)
    ]
    assert all(r.mrr == usd("0") and r.net == usd("0") for r in table.rows[:10])
    february, march = table.rows[-2:]
    assert (february.new, february.churned, february.mrr) == (usd("150"), usd("0"), usd("150"))
    # d1 won at 100 and d2 at 180 (their values then), d4 at 50 EUR (set by the winning update)
    assert march.new == usd("280", EUR="50")
    assert march.expansion == usd("20")  # d2: 180 -> 200
    assert march.contraction == usd("10")  # d1: 100 -> 90
    assert march.churned == usd("150")  # d7
    assert march.net == usd("140", EUR="50")
    assert march.mrr == usd("290", EUR="50")  # the KPI's MRR on 1 April


def test_mrr_of_a_running_month_reaches_todays_values(db, people, data):
    query = ReportQuery(date(2026, 4, 1), date(2026, 5, 1))
    april = report_mrr.mrr_movements(db, actor=people.alice, query=query).rows[-1]
    assert april.month == date(2026, 4, 1)
    assert (april.new, april.expansion) == (usd("0"), usd("30"))  # d13 has no MRR; d1 90 -> 120
    assert april.mrr == usd("320", EUR="50")


def test_a_reps_mrr_is_their_own(db, people, data):
    march = report_mrr.mrr_movements(db, actor=people.bob, query=MARCH).rows[-1]
    assert (march.new, march.churned, march.mrr) == (usd("280"), usd("150"), usd("290"))


def test_the_mrr_csv_has_a_column_per_currency_found(db, people, data):
    lines = report_mrr.mrr_movements(db, actor=people.alice, query=MARCH).csv().splitlines()
    assert lines[0] == (
        "\ufeffMonth,New (USD),New (EUR),Expansion (USD),Contraction (USD),Churned (USD),"
        "Net change (USD),Net change (EUR),MRR at month end (USD),MRR at month end (EUR)"
    )
    assert lines[-1] == "2026-03-01,280.00,50.00,20.00,10.00,150.00,140.00,50.00,290.00,50.00"
    assert lines[1] == "2025-04-01,0.00,,0.00,0.00,0.00,0.00,,0.00,"


# --- leads -------------------------------------------------------------------------------------


def test_leads_by_source_most_first_with_a_total(db, people, data):
    table = report_chart.leads_by_source(db, actor=people.alice, query=MARCH)
    rows = [(r.source, r.leads, r.converted, r.conversion_rate, r.share) for r in table.rows]
    assert rows == [
        ("Website", 2, 1, Decimal("0.5"), Decimal("0.6667")),  # l1 (converted), l2
        (None, 1, 0, Decimal("0"), Decimal("0.3333")),  # l3
    ]
    total = table.total
    assert (total.leads, total.converted, total.conversion_rate) == (3, 1, Decimal("0.3333"))


def test_the_funnel_follows_the_periods_new_leads_to_won_deals(db, people, data):
    table = report_chart.conversion_funnel(db, actor=people.alice, query=MARCH)
    assert [(s.step, s.count, s.of_created, s.of_previous) for s in table.rows] == [
        ("created", 3, Decimal("1"), None),
        ("contacted", 2, Decimal("0.6667"), Decimal("0.6667")),  # l1 (converted) and l2
        ("qualified", 1, Decimal("0.3333"), Decimal("0.5")),
        ("converted", 1, Decimal("0.3333"), Decimal("1")),
        ("won", 1, Decimal("0.3333"), Decimal("1")),  # l1 became d1, won
    ]
    empty = report_chart.conversion_funnel(
        db, actor=people.alice, query=ReportQuery(date(2025, 1, 1), date(2025, 2, 1))
    )
    assert [(s.count, s.of_created) for s in empty.rows] == [(0, None)] * 5


# --- activities per rep per week -----------------------------------------------------------


def test_activities_per_rep_per_week(db, people, data):
    table = report_chart.activities_per_week(db, actor=people.alice, query=MARCH)
    assert [(r.week, r.owner, r.activities) for r in table.rows] == [
        (date(2026, 3, 2), "Bob Rep", 2),  # call, e-mail
        (date(2026, 3, 2), "Dave Rep", 1),
        (date(2026, 3, 9), "Bob Rep", 3),  # meeting, task, the note of Sunday 15th
        (date(2026, 3, 16), "Bob Rep", 1),  # the note loaded without a done time
        (date(2026, 3, 30), "Carol Rep", 1),
    ]
    assert pivot(table.rows, "week", "owner", "activities")[0] == {
        "week": date(2026, 3, 2),
        "Bob Rep": 2,
        "Carol Rep": 0,
        "Dave Rep": 1,
    }


def test_a_rep_sees_their_weeks_and_their_teams(db, people, data):
    table = report_chart.activities_per_week(db, actor=people.bob, query=MARCH)
    assert [(r.week.day, r.owner, r.activities, r.team_total) for r in table.rows] == [
        (2, "Bob Rep", 2, False),
        (2, "Team total", 2, True),
        (9, "Bob Rep", 3, False),
        (9, "Team total", 3, True),
        (16, "Bob Rep", 1, False),
        (16, "Team total", 1, True),
        (30, "Team total", 1, True),  # Carol's call
    ]


def test_weeks_are_in_the_actors_time_zone(db, people, data):
    people.alice.timezone = "Asia/Tokyo"  # Carol's call at 23:00 UTC on the 31st is April there
    table = report_chart.activities_per_week(db, actor=people.alice, query=MARCH)
    assert "Carol Rep" not in {r.owner for r in table.rows}
