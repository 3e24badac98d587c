"""`/reports`, driven through its handlers on `make_report_data` ("now" is 15 April 2026, so
"last month" is March): the cells shown, a sort, a filter, a rep's forbidden filter, the empty
state and the CSV."""

from __future__ import annotations

import base64

import pytest

from crm_app import routes
from crm_app.state.report import ReportState
from tests.factories import make_report_data
from tests.state.test_record_pages import state_of

REFUSED = "You can see reports on your own figures and your team's only."


pytestmark = pytest.mark.usefixtures("report_clock")  # reports run on 15 April 2026


@pytest.fixture
def data(db, people):
    return make_report_data(db, people)


def opened(db, actor, url: str = routes.REPORTS) -> ReportState:
    page = state_of(ReportState, db, actor, url)
    assert page.load() is None
    return page


def in_march(page: ReportState) -> ReportState:
    assert page.set_range("last_month") is None
    assert page.range_label == "1 Mar 2026 to 31 Mar 2026"
    return page


def sorts(page: ReportState) -> dict[str, str]:
    return {c.key: c.sort for c in page.columns if c.sort != "none"}


def download_of(event) -> tuple[str, str]:
    """The file name and the text of an `rx.download` event."""
    args = {name._js_expr: value._var_value for name, value in event.args}
    url = args["url"]
    assert url.startswith("data:text/csv;base64,")
    return args["filename"], base64.b64decode(url.split(",", 1)[1]).decode("utf-8")


def test_an_admin_sees_deals_won_and_lost_by_owner_with_the_total(db, people, data):
    page = in_march(opened(db, people.alice))
    assert (page.report, page.title) == ("won-lost-by-owner", "Deals won and lost by owner")
    assert [c.label for c in page.columns] == [
        "Owner",
        "Won",
        "Lost",
        "Win rate",
        "Won amount",
        "Lost amount",
    ]
    assert page.view.rows == [
        ["Bob Rep", "2", "1", "66.7%", "4,000.00 USD", "2,000.00 USD"],
        ["Alice Admin", "0", "0", "—", "0.00 USD", "0.00 USD"],
        ["Carol Rep", "1", "1", "50.0%", "0.00 USD", "0.00 USD"],
        ["Dave Rep", "1", "1", "50.0%", "0.00 USD + 500.00 EUR", "0.00 USD + 300.00 EUR"],
        ["Mona Manager", "0", "0", "—", "0.00 USD", "0.00 USD"],
    ]
    assert page.view.footer == [
        ["Total", "4", "3", "57.1%", "4,000.00 USD + 500.00 EUR", "2,000.00 USD + 300.00 EUR"]
    ]
    assert sorts(page) == {"won_amount": "descending"}
    assert (page.empty, page.problem) == ("", "")


def test_a_heading_sorts_ascending_then_descending(db, people, data):
    page = in_march(opened(db, people.alice))
    page.sort_by("win_rate")
    assert [row[0] for row in page.view.rows] == [
        "Carol Rep",
        "Dave Rep",
        "Bob Rep",
        "Alice Admin",  # no win rate: last either way
        "Mona Manager",
    ]
    assert sorts(page) == {"win_rate": "ascending"}
    page.sort_by("win_rate")
    assert [row[0] for row in page.view.rows][:3] == ["Bob Rep", "Carol Rep", "Dave Rep"]
    assert sorts(page) == {"win_rate": "descending"}
    assert page.sort_by("password") is None  # not a column: ignored
    assert page.sort == "-win_rate"


def test_the_report_in_the_address_opens_and_another_keeps_the_range(db, people, data):
    page = opened(db, people.alice, f"{routes.REPORTS}?report=forecast")
    assert page.report == "forecast"
    assert opened(db, people.alice, f"{routes.REPORTS}?report=nope").report == "won-lost-by-owner"
    in_march(page)
    page.sort_by("deals")
    moved = page.choose_report("lost-reasons")
    assert "/reports?report=lost-reasons" in str(moved.args)
    assert (page.report, page.sort, page.title) == ("lost-reasons", "", "Lost reasons")
    assert page.view.rows == [
        ["Price", "2", "2,000.00 USD", "66.7%"],
        ["Timing", "1", "0.00 USD + 300.00 EUR", "33.3%"],
    ]
    assert page.choose_report("everything") is None
    assert page.report == "lost-reasons"


def test_a_filter_narrows_the_report(db, people, data):
    page = in_march(opened(db, people.alice, f"{routes.REPORTS}?report=lost-reasons"))
    page.set_owner(str(people.bob.id))
    assert page.view.rows == [["Price", "1", "2,000.00 USD", "100.0%"]]
    page.set_team(str(people.west.id))  # Bob is not in West
    assert (page.view.rows, page.empty) == ([], "No deals were lost in this range.")


def test_a_rep_sees_their_line_and_their_teams_total_but_not_a_colleagues(db, people, data):
    page = in_march(opened(db, people.bob))
    assert page.view.rows == [["Bob Rep", "2", "1", "66.7%", "4,000.00 USD", "2,000.00 USD"]]
    assert [line[0] for line in page.view.footer] == ["Total", "Team total"]
    refused = page.set_owner(str(people.carol.id))
    assert REFUSED in str(refused)
    assert page.problem == REFUSED
    assert (page.view.rows, page.view.footer, page.columns) == ([], [], [])
    assert REFUSED in str(page.export_csv())
    page.set_owner("all")
    assert page.problem == "" and len(page.view.rows) == 1


def test_a_range_with_nothing_closed_says_so(db, people, data):
    page = opened(db, people.alice)
    page.set_dates({"from": "2025-01-01", "to": "2025-01-31"})
    assert page.range_label == "1 Jan 2025 to 31 Jan 2025"
    assert page.empty == "No deals closed in this range."
    page.choose_report("rep-activity")
    assert page.empty == "No activities were done in this range."


def test_the_csv_has_the_rows_shown_in_their_order(db, people, data):
    page = in_march(opened(db, people.alice))
    page.sort_by("owner")
    filename, text = download_of(page.export_csv())
    assert filename == "won-lost-by-owner-2026-03-01-2026-04-01.csv"
    lines = text.removeprefix("\ufeff").splitlines()
    assert lines[0] == (
        "Owner,Won,Lost,Win rate,Won amount (USD),Won amount (EUR),"
        "Lost amount (USD),Lost amount (EUR)"
    )
    assert lines[1:3] == ["Alice Admin,0,0,,0.00,,0.00,", "Bob Rep,2,1,0.6667,4000.00,,2000.00,"]
    assert lines[-1] == "Total,4,3,0.5714,4000.00,500.00,2000.00,300.00"
