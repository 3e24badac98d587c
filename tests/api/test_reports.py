"""`/api/v1/reports`: the KPIs, every report table and chart over HTTP (JSON and CSV), and the
status codes, on the fixed data set of the service tests ("now" is 15 April 2026)."""

from __future__ import annotations

import pytest

from crm_app.services import permission, report_chart, report_kpi, report_table
from tests.api.helpers import PROBLEM, fields_of
from tests.factories import make_report_data

URL = "/api/v1/reports"
MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


pytestmark = pytest.mark.usefixtures("report_clock")  # reports run on 15 April 2026


@pytest.fixture
def data(db, people):
    return make_report_data(db, people)


@pytest.fixture
def alice(people, key_for):
    return key_for(people.alice)


def money(amount: str, **others: str) -> dict:
    return {"currency": "USD", "amount": amount, "others": others}


def test_kpis_give_every_figure_with_the_previous_period_and_the_change(client, alice, data):
    response = client.get(f"{URL}/kpis", params=MARCH, headers=alice)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == {"from": "2026-03-01", "to": "2026-04-01", "time_zone": "UTC"}
    assert body["previous_period"]["from"] == "2026-02-01"
    assert (body["currency"], body["scope"], body["team"]) == ("USD", "all", None)
    kpis = body["kpis"]
    assert list(kpis) == list(report_kpi.KPI_KEYS)
    assert kpis["mrr"] == {
        "value": money("290.00", EUR="50.00"),
        "previous": money("150.00"),
        "change": money("140.00", EUR="50.00"),
        "change_ratio": "0.9333",
    }
    assert kpis["new_leads"] == {"value": 3, "previous": 2, "change": 1, "change_ratio": "0.5000"}
    assert kpis["win_rate"]["value"] == "0.5714"
    assert kpis["lead_conversion_rate"]["change_ratio"] is None
    assert kpis["average_won_deal"]["value"] == money("2000.00", EUR="500.00")
    assert kpis["sales_cycle_days"]["value"] == "33.0"


def test_a_reps_kpis_come_with_their_teams_totals(client, bob, data):
    body = client.get(f"{URL}/kpis", params=MARCH, headers=bob).json()
    assert body["scope"] == "own"
    assert body["kpis"]["open_pipeline"]["value"] == money("10600.00")
    assert body["team"]["open_pipeline"]["value"] == money("15600.00")
    assert body["team"]["win_rate"]["value"] == "0.6000"


def test_filters_and_presets_are_query_parameters(client, alice, people, data):
    params = {**MARCH, "team_id": people.west.id}
    west = client.get(f"{URL}/kpis", params=params, headers=alice).json()["kpis"]
    assert west["mrr"]["value"] == money("0.00", EUR="50.00")
    last_month = client.get(f"{URL}/kpis", params={"range": "last_month"}, headers=alice).json()
    assert last_month["period"]["from"] == "2026-03-01"
    assert (
        last_month["kpis"] == client.get(f"{URL}/kpis", params=MARCH, headers=alice).json()["kpis"]
    )


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"from": "2026-13-01", "to": "2026-04-01"}, {"from"}),
        ({"from": "2026-04-01", "to": "2026-03-01"}, {"to"}),
        ({"range": "yesterday"}, {"range"}),
        ({"owner_id": "0"}, {"owner_id"}),
        ({"pipeline_id": "999999"}, {"pipeline_id"}),
    ],
)
def test_bad_parameters_are_a_422_naming_them(client, alice, params, fields):
    response = client.get(f"{URL}/kpis", params=params, headers=alice)
    assert response.status_code == 422
    assert fields_of(response) == fields


def test_a_filter_past_what_the_user_sees_is_a_403(client, bob, people, data):
    response = client.get(f"{URL}/kpis", params={"owner_id": people.carol.id}, headers=bob)
    assert (response.status_code, response.headers["content-type"]) == (403, PROBLEM)
    table = client.get(f"{URL}/rep-activity", params={"team_id": people.west.id}, headers=bob)
    assert table.status_code == 403


def test_a_role_without_reports_gets_403_and_no_key_401(client, db, people, bob):
    permission.set_scope(
        db, actor=people.alice, role="rep", resource="report", action="read", scope="none"
    )
    assert client.get(f"{URL}/kpis", headers=bob).status_code == 403
    assert client.get(f"{URL}/lost-reasons", headers=bob).status_code == 403
    assert client.get(f"{URL}/kpis").status_code == 401


def test_unknown_reports_and_charts_are_404(client, alice):
    for path in ("nope", "charts/nope"):
        response = client.get(f"{URL}/{path}", headers=alice)
        assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM)


# --- tables and charts -----------------------------------------------------------------------


def test_a_report_is_its_rows_columns_total_and_team_total(client, bob, data):
    response = client.get(f"{URL}/won-lost-by-owner", params=MARCH, headers=bob)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["sort"], body["currency"]) == (
        "won-lost-by-owner",
        "-won_amount,owner",
        "USD",
    )
    assert body["columns"][0] == {
        "key": "owner",
        "label": "Owner",
        "kind": "text",
        "sortable": True,
    }
    bob_line = body["rows"][0]
    assert (bob_line["owner"], bob_line["won"], bob_line["win_rate"]) == ("Bob Rep", 2, "0.6667")
    assert bob_line["won_amount"] == money("4000.00")
    assert body["total"]["won"] == 2
    assert (body["team_total"]["owner"], body["team_total"]["won"]) == ("Team total", 3)


def test_a_report_sorts_and_refuses_other_columns(client, alice, data):
    params = {**MARCH, "sort": "owner"}
    rows = client.get(f"{URL}/rep-activity", params=params, headers=alice).json()["rows"]
    assert [r["owner"] for r in rows][:2] == ["Alice Admin", "Bob Rep"]
    response = client.get(f"{URL}/rep-activity", params={"sort": "-salary"}, headers=alice)
    assert response.status_code == 422 and fields_of(response) == {"sort"}


def test_every_report_and_chart_answers_json_and_csv(client, alice, data):
    paths = [*report_table.TABLES, *(f"charts/{name}" for name in report_chart.CHARTS)]
    for path in paths:
        response = client.get(f"{URL}/{path}", params=MARCH, headers=alice)
        assert response.status_code == 200, (path, response.text)
        csv = client.get(f"{URL}/{path}", params=MARCH, headers={**alice, "Accept": "text/csv"})
        assert csv.status_code == 200, (path, csv.text)
        assert csv.headers["content-type"] == "text/csv; charset=utf-8"
        name = path.removeprefix("charts/")
        assert csv.headers["content-disposition"].startswith(f'attachment; filename="{name}-')
        assert csv.text.startswith("\ufeff")


def test_a_report_csv_has_the_rows_then_the_total(client, alice, data):
    response = client.get(
        f"{URL}/lost-reasons", params=MARCH, headers={**alice, "Accept": "text/csv, */*"}
    )
    assert response.headers["content-disposition"] == (
        'attachment; filename="lost-reasons-2026-03-01-2026-04-01.csv"'
    )
    assert response.text.removeprefix("\ufeff").splitlines() == [
        "Reason,Deals,Amount (USD),Amount (EUR),Share",
        "Price,2,2000.00,,0.6667",
        "Timing,1,0.00,300.00,0.3333",
        "Total,3,2000.00,300.00,1.0000",
    ]


def test_chart_data_comes_as_rows(client, alice, data):
    body = client.get(f"{URL}/charts/conversion-funnel", params=MARCH, headers=alice).json()
    assert [(s["step"], s["count"]) for s in body["rows"]] == [
        ("created", 3),
        ("contacted", 2),
        ("qualified", 1),
        ("converted", 1),
        ("won", 1),
    ]
    mrr = client.get(f"{URL}/charts/mrr", params=MARCH, headers=alice).json()
    assert mrr["period"] == {"from": "2025-04-01", "to": "2026-04-01", "time_zone": "UTC"}
    assert mrr["rows"][-1]["mrr"] == money("290.00", EUR="50.00")


def test_the_reports_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert "/api/v1/reports/kpis" in paths
    for name in report_table.TABLES:
        operation = paths[f"/api/v1/reports/{name}"]["get"]
        assert "text/csv" in operation["responses"]["200"]["content"]
        assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "sort", "team_id"}
    for name in report_chart.CHARTS:
        assert f"/api/v1/reports/charts/{name}" in paths
