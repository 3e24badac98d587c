"""Report tables (issue 6), worked out by hand from `make_report_data` ("now" is 15 April
2026): won and lost by owner, lost reasons, stage conversion, time in stage, the forecast and
rep activity; their sorts, totals, a rep's team total and CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_app.services import report_stage, report_table
from crm_app.services.errors import ValidationFailed
from crm_app.services.report_scope import Money, ReportQuery
from tests.factories import make_report_data

MARCH = ReportQuery(date(2026, 3, 1), date(2026, 4, 1))
FIRST_QUARTER = ReportQuery(date(2026, 1, 1), date(2026, 4, 1))


pytestmark = pytest.mark.usefixtures("report_clock")  # reports run on 15 April 2026


@pytest.fixture
def data(db, people):
    return make_report_data(db, people)


def usd(amount, **others) -> Money:
    value = None if amount is None else Decimal(amount)
    return Money("USD", value, {code: Decimal(v) for code, v in others.items()})


def rate(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# --- deals won and lost by owner -------------------------------------------------------------


def owner_lines(table) -> list[tuple]:
    return [(r.owner, r.won, r.lost, r.win_rate, r.won_amount, r.lost_amount) for r in table.rows]


def test_won_and_lost_by_owner_lists_everyone_most_won_first(db, people, data):
    table = report_table.won_lost_by_owner(db, actor=people.alice, query=MARCH)
    assert owner_lines(table) == [
        ("Bob Rep", 2, 1, rate("0.6667"), usd("4000"), usd("2000")),  # d1, d2; d5
        ("Alice Admin", 0, 0, None, usd("0"), usd("0")),
        ("Carol Rep", 1, 1, rate("0.5"), usd("0"), usd("0")),  # d3, d16: no amounts
        ("Dave Rep", 1, 1, rate("0.5"), usd("0", EUR="500"), usd("0", EUR="300")),
        ("Mona Manager", 0, 0, None, usd("0"), usd("0")),
    ]
    total = table.total
    assert (total.owner, total.won, total.lost, total.win_rate) == ("Total", 4, 3, rate("0.5714"))
    assert (total.won_amount, total.lost_amount) == (usd("4000", EUR="500"), usd("2000", EUR="300"))
    assert table.team_total is None and table.sort == "-won_amount,owner"


def test_a_report_sorts_by_its_columns_with_empty_values_last(db, people, data):
    by_rate = report_table.won_lost_by_owner(
        db, actor=people.alice, query=MARCH, sort="-win_rate,owner"
    )
    assert [r.owner for r in by_rate.rows] == [
        "Bob Rep",
        "Carol Rep",
        "Dave Rep",
        "Alice Admin",
        "Mona Manager",
    ]
    ascending = report_table.won_lost_by_owner(db, actor=people.alice, query=MARCH, sort="win_rate")
    assert [r.owner for r in ascending.rows][-2:] == ["Alice Admin", "Mona Manager"]
    with pytest.raises(ValidationFailed) as error:
        report_table.won_lost_by_owner(db, actor=people.alice, query=MARCH, sort="-amount")
    assert error.value.errors[0].field == "sort"


def test_a_rep_gets_their_own_line_and_their_teams_total(db, people, data):
    table = report_table.won_lost_by_owner(db, actor=people.bob, query=MARCH)
    assert [r.owner for r in table.rows] == ["Bob Rep"]
    assert table.total.won == 2
    team = table.team_total
    assert (team.owner, team.won, team.lost, team.win_rate) == ("Team total", 3, 2, rate("0.6"))
    assert (team.won_amount, team.lost_amount) == (usd("4000"), usd("2000"))


def test_a_manager_gets_the_lines_of_their_team(db, people, data):
    table = report_table.won_lost_by_owner(db, actor=people.mona, query=MARCH, sort="owner")
    assert [r.owner for r in table.rows] == ["Bob Rep", "Carol Rep", "Mona Manager"]
    assert (table.total.won, table.total.lost) == (3, 2)


def test_the_csv_has_a_column_per_currency_and_the_total_last(db, people, data):
    csv = report_table.won_lost_by_owner(db, actor=people.alice, query=MARCH).csv()
    lines = csv.removeprefix("\ufeff").splitlines()
    assert lines[0] == (
        "Owner,Won,Lost,Win rate,Won amount (USD),Won amount (EUR),"
        "Lost amount (USD),Lost amount (EUR)"
    )
    assert lines[1] == "Bob Rep,2,1,0.6667,4000.00,,2000.00,"
    assert lines[2] == "Alice Admin,0,0,,0.00,,0.00,"
    assert lines[-1] == "Total,4,3,0.5714,4000.00,500.00,2000.00,300.00"


def test_the_csv_escapes_text_a_spreadsheet_would_run(db, people, data):
    people.carol.name = "=HYPERLINK(1)"
    data.deals["d16"].lost_reason = "@SUM(A1)"
    db.flush()
    owners = report_table.won_lost_by_owner(db, actor=people.alice, query=MARCH).csv()
    assert "\r\n'=HYPERLINK(1),1,1," in owners
    reasons = report_table.lost_reasons(db, actor=people.alice, query=MARCH).csv()
    assert "\r\n'@SUM(A1),1," in reasons


# --- lost reasons ------------------------------------------------------------------------------


def test_lost_reasons_count_amounts_and_shares(db, people, data):
    table = report_table.lost_reasons(db, actor=people.alice, query=MARCH)
    assert [(r.reason, r.deals, r.amount, r.share) for r in table.rows] == [
        ("Price", 2, usd("2000"), rate("0.6667")),  # d5, d16 (no amount)
        ("Timing", 1, usd("0", EUR="300"), rate("0.3333")),  # d15
    ]
    total = table.total
    assert (total.deals, total.amount, total.share) == (3, usd("2000", EUR="300"), rate("1"))
    february = ReportQuery(date(2026, 2, 1), date(2026, 3, 1))
    only = report_table.lost_reasons(db, actor=people.alice, query=february).rows
    assert [(r.reason, r.deals, r.amount) for r in only] == [("Timing", 1, usd("400"))]


def test_no_lost_deals_is_an_empty_table(db, people, data):
    query = ReportQuery(date(2025, 1, 1), date(2025, 2, 1))
    table = report_table.lost_reasons(db, actor=people.alice, query=query)
    assert table.rows == []
    assert (table.total.deals, table.total.amount, table.total.share) == (0, usd("0"), None)


# --- stages ------------------------------------------------------------------------------------


def conversion(table) -> list[tuple]:
    return [(r.stage, r.entered, r.advanced, r.advance_rate, r.won, r.win_rate) for r in table.rows]


def test_stage_conversion_follows_the_deals_that_entered_each_stage(db, people, data):
    march = report_stage.stage_conversion(db, actor=people.alice, query=MARCH)
    assert {r.pipeline for r in march.rows} == {"Sales"}
    assert conversion(march) == [
        ("Qualification", 1, 0, rate("0"), 0, rate("0")),  # d9
        ("Discovery", 0, 0, None, 0, None),
        ("Proposal", 2, 1, rate("0.5"), 1, rate("0.5")),  # d8 still there; d13 won
        ("Negotiation", 0, 0, None, 0, None),
    ]
    february = ReportQuery(date(2026, 2, 1), date(2026, 3, 1))
    table = report_stage.stage_conversion(db, actor=people.alice, query=february)
    assert conversion(table)[1:] == [
        ("Discovery", 1, 1, rate("1"), 0, rate("0")),  # d8 went on to Proposal
        ("Proposal", 0, 0, None, 0, None),
        ("Negotiation", 1, 1, rate("1"), 1, rate("1")),  # d1 was won
    ]


def test_time_in_stage_measures_the_stays_that_ended_in_the_range(db, people, data):
    def stays(query, actor=people.alice):
        table = report_stage.time_in_stage(db, actor=actor, query=query)
        return [(r.stage, r.stays, r.average_days, r.median_days) for r in table.rows]

    assert stays(MARCH) == [
        ("Qualification", 1, Decimal("69.0"), Decimal("69.0")),  # d5, 5 Jan - 15 Mar
        ("Discovery", 1, Decimal("30.0"), Decimal("30.0")),  # d8, 1 Feb - 3 Mar
        ("Proposal", 0, None, None),
        ("Negotiation", 1, Decimal("13.0"), Decimal("13.0")),  # d1, 20 Feb - 5 Mar
    ]
    # d8 17 days in Qualification; d1 in Discovery since its creation on 10 Jan (no record)
    assert stays(FIRST_QUARTER)[:2] == [
        ("Qualification", 2, Decimal("43.0"), Decimal("43.0")),
        ("Discovery", 2, Decimal("35.5"), Decimal("35.5")),
    ]
    april = ReportQuery(date(2026, 4, 1), date(2026, 5, 1))
    assert stays(april)[2] == ("Proposal", 1, Decimal("13.0"), Decimal("13.0"))  # d13
    assert [s[1] for s in stays(MARCH, people.carol)] == [0, 0, 0, 0]


# --- the forecast ------------------------------------------------------------------------------


def test_the_forecast_by_expected_close_month(db, people, data):
    query = ReportQuery(date(2026, 4, 1), date(2026, 6, 1))
    table = report_table.forecast(db, actor=people.alice, query=query)
    assert [(r.month, r.deals, r.best_case, r.weighted) for r in table.rows] == [
        (date(2026, 4, 1), 3, usd("10000", EUR="800"), usd("5000", EUR="200")),  # d8 d10 d11
        (date(2026, 5, 1), 1, usd("5000"), usd("2000")),  # d9 at its own 40%
    ]
    total = table.total
    assert (total.month, total.deals) == (None, 4)
    assert (total.best_case, total.weighted) == (usd("15000", EUR="800"), usd("7000", EUR="200"))
    by_weight = report_table.forecast(db, actor=people.alice, query=query, sort="weighted")
    assert [r.month.month for r in by_weight.rows] == [5, 4]
    west = ReportQuery(date(2026, 4, 1), date(2026, 6, 1), team_id=people.west.id)
    rows = report_table.forecast(db, actor=people.alice, query=west).rows
    assert [(r.deals, r.weighted) for r in rows] == [(1, usd("0", EUR="200")), (0, usd("0"))]


# --- rep activity ----------------------------------------------------------------------------


def test_rep_activity_counts_what_each_person_did(db, people, data):
    table = report_table.rep_activity(db, actor=people.alice, query=MARCH)
    lines = [
        (r.owner, r.calls, r.emails, r.meetings, r.tasks_done, r.notes, r.total) for r in table.rows
    ]
    assert lines == [
        ("Bob Rep", 1, 1, 1, 1, 2, 6),  # not the open task, the trashed call or February's
        ("Carol Rep", 1, 0, 0, 0, 0, 1),
        ("Dave Rep", 0, 1, 0, 0, 0, 1),
        ("Alice Admin", 0, 0, 0, 0, 0, 0),
        ("Mona Manager", 0, 0, 0, 0, 0, 0),
    ]
    assert table.total == report_table.RepActivity(None, "Total", 2, 2, 1, 1, 2, 8)


def test_a_reps_activity_comes_with_their_teams_total(db, people, data):
    table = report_table.rep_activity(db, actor=people.bob, query=MARCH, sort="owner")
    assert [r.owner for r in table.rows] == ["Bob Rep"]
    assert table.team_total == report_table.RepActivity(None, "Team total", 2, 1, 1, 1, 2, 7)


def test_every_table_is_registered_with_its_row_type(db, people, data):
    for name, spec in report_table.TABLES.items():
        table = spec.run(db, actor=people.alice, query=MARCH)
        assert table.name == name
        assert all(isinstance(row, spec.row) for row in table.rows)
