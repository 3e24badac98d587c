"""Dashboard KPIs (issue 6), every figure worked out by hand from `make_report_data`
(March 2026 against February; "now" is 15 April 2026), and the rules of the report scope:
periods, time zones, currencies and who sees what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm_app.models import AppSetting
from crm_app.services import permission, report_kpi, report_scope
from crm_app.services.errors import Forbidden, ValidationFailed
from crm_app.services.report_scope import Money, Period, Reach, ReportQuery
from tests.factories import (
    at,
    make_deal_at,
    make_lead,
    make_report_data,
    make_second_pipeline,
    stages_of_default_pipeline,
)

MARCH_DAYS = (date(2026, 3, 1), date(2026, 4, 1))
MARCH = ReportQuery(*MARCH_DAYS)


pytestmark = pytest.mark.usefixtures("report_clock")  # reports run on 15 April 2026


@pytest.fixture
def data(db, people):
    return make_report_data(db, people)


def usd(amount, **others) -> Money:
    """Money in USD (the default), with other currencies' amounts."""
    value = None if amount is None else Decimal(amount)
    return Money("USD", value, {code: Decimal(v) for code, v in others.items()})


def kpis(db, actor, query=MARCH) -> report_kpi.KpiReport:
    return report_kpi.dashboard_kpis(db, actor=actor, query=query)


def cards(report) -> dict[str, report_kpi.Kpi]:
    return {k.key: k for k in report.kpis()}


# --- the figures ---------------------------------------------------------------------------


def test_an_admins_march_kpis_are_the_hand_computed_ones(db, people, data):
    march = kpis(db, people.alice).current
    # MRR on 1 April: d1 at 90 then (120 since 5 April), d2 200; d7 churned; d4 in EUR
    assert march.mrr == usd("290", EUR="50")
    assert (march.new_leads, march.converted_leads) == (3, 2)  # l1-l3; l1 and l4
    assert march.lead_conversion_rate == Decimal("0.6667")
    # open on 1 April: d8, d9, d11 (no amount) and d13 (won on 2 April); d10 in EUR
    assert march.open_pipeline == usd("15600", EUR="800")
    # d8 50% of 10,000, d9 its own 40% of 5,000, d13 50% (it was in Proposal then)
    assert march.weighted_pipeline == usd("7300", EUR="200")
    assert (march.won_deals, march.lost_deals) == (4, 3)  # d1-d4; d5, d15, d16
    assert march.win_rate == Decimal("0.5714")
    assert march.won_amount == usd("4000", EUR="500")  # d3 has no amount
    assert march.average_won_deal == usd("2000", EUR="500")
    assert march.sales_cycle_days == Decimal("33.0")  # (54 + 38 + 20 + 20) / 4


def test_the_previous_period_is_february_measured_the_same_way(db, people, data):
    february = kpis(db, people.alice).previous
    assert february.mrr == usd("150")  # d7, not yet churned on 1 March
    assert (february.new_leads, february.converted_leads) == (2, 0)
    assert february.lead_conversion_rate == Decimal("0")
    # open on 1 March: d1, d2, d5, d8 (USD); d4, d10, d15 (EUR)
    assert february.open_pipeline == usd("16000", EUR="1600")
    # d1 in Negotiation then (75%), d5 in Qualification (10%), d8 as today (50%); d2, d4
    # and d15 have no stage history: their stage today (won 100%, lost 0%)
    assert february.weighted_pipeline == usd("8950", EUR="700")
    assert (february.won_deals, february.lost_deals, february.win_rate) == (1, 1, Decimal("0.5"))
    assert february.won_amount == february.average_won_deal == usd("1500")
    assert february.sales_cycle_days == Decimal("40.0")


def test_each_card_has_the_change_and_the_relative_change(db, people, data):
    found = cards(kpis(db, people.alice))
    assert list(found) == list(report_kpi.KPI_KEYS)
    mrr = found["mrr"]
    assert (mrr.change, mrr.change_ratio) == (usd("140", EUR="50"), Decimal("0.9333"))
    assert (found["new_leads"].change, found["new_leads"].change_ratio) == (1, Decimal("0.5"))
    conversion = found["lead_conversion_rate"]
    assert (conversion.change, conversion.change_ratio) == (Decimal("0.6667"), None)
    pipeline = found["open_pipeline"]
    assert (pipeline.change, pipeline.change_ratio) == (usd("-400", EUR="-800"), Decimal("-0.025"))
    assert found["weighted_pipeline"].change_ratio == Decimal("-0.1844")
    assert found["win_rate"].change == Decimal("0.0714")
    assert found["average_won_deal"].change == usd("500", EUR="500")
    assert found["sales_cycle_days"].change == Decimal("-7.0")


def test_an_empty_range_has_zero_sums_and_no_rates(db, people, data):
    report = kpis(db, people.alice, ReportQuery(date(2025, 1, 1), date(2025, 2, 1)))
    empty = report.current
    assert empty.mrr == empty.open_pipeline == empty.won_amount == usd("0")
    assert empty.average_won_deal == usd(None)
    assert (empty.new_leads, empty.won_deals, empty.lost_deals) == (0, 0, 0)
    assert empty.lead_conversion_rate is empty.win_rate is empty.sales_cycle_days is None
    assert report.previous == empty
    mrr, rate = cards(report)["mrr"], cards(report)["win_rate"]
    assert (mrr.change, mrr.change_ratio) == (usd("0"), None)
    assert (rate.change, rate.change_ratio) == (None, None)


def test_a_running_period_measures_mrr_and_pipeline_now(db, people, data):
    april = kpis(db, people.alice, ReportQuery(date(2026, 4, 1), date(2026, 5, 1))).current
    assert april.mrr == usd("320", EUR="50")  # d1 at 120 since 5 April
    assert april.open_pipeline == usd("15000", EUR="800")  # d13 won on 2 April
    assert (april.won_deals, april.won_amount) == (1, usd("600"))


# --- money in several currencies -------------------------------------------------------------


def test_money_is_shown_in_the_workspace_currency_with_the_others_alongside(db, people, data):
    db.add(AppSetting(key="default_currency", value="EUR"))
    db.flush()
    march = kpis(db, people.alice).current
    assert march.mrr == Money("EUR", Decimal(50), {"USD": Decimal(290)})
    assert march.average_won_deal == Money("EUR", Decimal(500), {"USD": Decimal(2000)})


def test_an_average_without_deals_in_the_default_currency_is_none(db, people, data):
    west = kpis(db, people.alice, ReportQuery(*MARCH_DAYS, team_id=people.west.id)).current
    assert west.average_won_deal == usd(None, EUR="500")
    assert west.mrr == usd("0", EUR="50")


# --- who sees what -------------------------------------------------------------------------


def test_a_rep_sees_their_own_figures_and_their_teams_totals(db, people, data):
    report = kpis(db, people.bob)
    own, team = report.current, report.team_current
    assert report.reach is Reach.OWN
    assert (own.won_deals, own.lost_deals, own.win_rate) == (2, 1, Decimal("0.6667"))
    assert own.mrr == usd("290")
    assert own.open_pipeline == usd("10600")  # d8 and d13
    assert own.weighted_pipeline == usd("5300")
    assert (own.new_leads, own.lead_conversion_rate) == (2, Decimal("0.5"))
    assert own.sales_cycle_days == Decimal("46.0")
    # East: Bob, Carol and Mona
    assert (team.won_deals, team.lost_deals, team.win_rate) == (3, 2, Decimal("0.6"))
    assert team.open_pipeline == usd("15600") and team.weighted_pipeline == usd("7300")
    assert (team.new_leads, team.lead_conversion_rate) == (3, Decimal("0.3333"))
    assert team.sales_cycle_days == Decimal("37.3")
    assert [k.key for k in report.team_kpis()] == list(report_kpi.KPI_KEYS)
    assert report.team_previous.won_deals == 1  # d7


def test_a_manager_sees_their_team_and_no_separate_totals(db, people, data):
    report = kpis(db, people.mona)
    assert report.reach is Reach.TEAM and report.team_current is None
    assert report.current == kpis(db, people.bob).team_current


def test_admins_and_viewers_see_everyone(db, people, data):
    assert kpis(db, people.vic).current == kpis(db, people.alice).current
    assert kpis(db, people.alice).team_current is None


def test_filters_narrow_to_an_owner_a_team_or_a_pipeline(db, people, data):
    carol = kpis(db, people.alice, ReportQuery(*MARCH_DAYS, owner_id=people.carol.id)).current
    assert (carol.won_deals, carol.lost_deals, carol.won_amount) == (1, 1, usd("0"))
    assert carol.new_leads == 1
    bob = kpis(db, people.mona, ReportQuery(*MARCH_DAYS, owner_id=people.bob.id)).current
    assert bob == kpis(db, people.bob).current
    renewals = make_second_pipeline(db)
    signed = renewals.stages[0]
    make_deal_at(db, owner=people.carol, stage=signed, created=at("2026-03-01"),
                 closed=at("2026-03-09"), amount="250")  # fmt: skip
    only = kpis(db, people.alice, ReportQuery(*MARCH_DAYS, pipeline_id=renewals.pipeline.id))
    assert (only.current.won_deals, only.current.won_amount) == (1, usd("250"))
    assert only.current.new_leads == 3  # leads belong to no pipeline


@pytest.mark.parametrize(
    ("actor", "filters"),
    [
        ("bob", {"owner_id": "carol"}),
        ("bob", {"team_id": "west"}),
        ("mona", {"owner_id": "dave"}),
        ("mona", {"team_id": "west"}),
    ],
)
def test_a_filter_past_what_the_actor_sees_is_forbidden(db, people, actor, filters):
    ids = {k: getattr(people, v).id for k, v in filters.items()}
    with pytest.raises(Forbidden):
        kpis(db, getattr(people, actor), ReportQuery(*MARCH_DAYS, **ids))


def test_a_role_without_report_access_is_forbidden(db, people):
    permission.set_scope(
        db, actor=people.alice, role="rep", resource="report", action="read", scope="none"
    )
    with pytest.raises(Forbidden):
        kpis(db, people.bob)
    people.carol.is_active = False
    with pytest.raises(Forbidden):
        kpis(db, people.carol)


# --- periods and time zones -----------------------------------------------------------------


def test_a_deal_won_late_on_the_31st_in_los_angeles_belongs_to_january_there(db, people):
    stages = stages_of_default_pipeline(db)
    late = datetime(2026, 1, 31, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    make_deal_at(db, owner=people.bob, stage=stages["Won"], created=at("2026-01-02"),
                 closed=late, amount="700")  # fmt: skip
    make_lead(db, owner=people.bob, created_at=late)
    people.bob.timezone = "America/Los_Angeles"
    january = ReportQuery(date(2026, 1, 1), date(2026, 2, 1))
    february = ReportQuery(date(2026, 2, 1), date(2026, 3, 1))
    for_bob = kpis(db, people.bob, january).current
    assert (for_bob.won_deals, for_bob.won_amount, for_bob.new_leads) == (1, usd("700"), 1)
    assert kpis(db, people.alice, january).current.won_deals == 0  # 07:30 on 1 Feb in UTC
    assert kpis(db, people.alice, february).current.won_deals == 1
    assert kpis(db, people.bob, february).current.won_deals == 0


def test_a_period_is_bounded_by_local_midnights():
    zone = ZoneInfo("America/Los_Angeles")
    january = Period(date(2026, 1, 1), date(2026, 2, 1), zone)
    assert january.start_at == datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert january.end_at == datetime(2026, 2, 1, 8, tzinfo=UTC)
    summer = Period(date(2026, 7, 1), date(2026, 8, 1), zone)
    assert summer.start_at == datetime(2026, 7, 1, 7, tzinfo=UTC)  # daylight saving time


def test_the_previous_period_has_the_same_length():
    utc = ZoneInfo("UTC")

    def previous(start, end):
        found = Period(start, end, utc).previous()
        return found.start, found.end

    assert previous(date(2026, 3, 1), date(2026, 4, 1)) == (date(2026, 2, 1), date(2026, 3, 1))
    assert previous(date(2026, 4, 1), date(2026, 7, 1)) == (date(2026, 1, 1), date(2026, 4, 1))
    assert previous(date(2025, 5, 1), date(2026, 5, 1)) == (date(2024, 5, 1), date(2025, 5, 1))
    assert previous(date(2026, 3, 10), date(2026, 3, 20)) == (date(2026, 2, 28), date(2026, 3, 10))


def test_presets_are_ranges_around_today_in_the_actors_zone(db, people):
    report = kpis(db, people.alice, ReportQuery(preset="last_month"))
    assert (report.period.start, report.period.end) == (date(2026, 3, 1), date(2026, 4, 1))
    this_month = kpis(db, people.alice, ReportQuery()).period
    assert (this_month.start, this_month.end) == (date(2026, 4, 1), date(2026, 5, 1))
    quarter = report_scope.preset_range("last_quarter", date(2026, 4, 15))
    assert quarter == (date(2026, 1, 1), date(2026, 4, 1))
    assert report_scope.preset_range("last_12_months", date(2026, 4, 15)) == (
        date(2025, 5, 1),
        date(2026, 5, 1),
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (ReportQuery(date(2026, 3, 1), date(2026, 3, 1)), "to"),
        (ReportQuery(date(2020, 1, 1), date(2026, 1, 1)), "to"),
        (ReportQuery(date(2026, 3, 1)), "to"),
        (ReportQuery(date(2026, 3, 1), date(2026, 4, 1), preset="this_month"), "range"),
        (ReportQuery(preset="yesterday"), "range"),
        (ReportQuery(pipeline_id=10**6), "pipeline_id"),
        (ReportQuery(owner_id=10**6), "owner_id"),
        (ReportQuery(team_id=10**6), "team_id"),
    ],
)
def test_bad_queries_name_the_field(db, people, query, field):
    with pytest.raises(ValidationFailed) as error:
        kpis(db, people.alice, query)
    assert [e.field for e in error.value.errors] == [field]
