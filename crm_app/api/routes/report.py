"""`/reports`: the dashboard's KPIs, the report tables and the charts' data.

Every figure comes from `services.report_kpi`, `report_table` and `report_chart`; these routes
read the range and filters and answer JSON, or CSV for a table or chart asked for with
`Accept: text/csv`. Unknown report names are 404; a filter reaching past what the key's user
sees is 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from crm_app.api.deps import Actor, DbSession
from crm_app.api.report_schemas import KpiResponse, report_body, report_model
from crm_app.api.schemas import MAX_INT_ID, PROBLEMS
from crm_app.services import report_kpi
from crm_app.services.errors import NotFound
from crm_app.services.report_chart import CHARTS
from crm_app.services.report_rows import ReportSpec, Table
from crm_app.services.report_scope import PRESETS, ReportQuery
from crm_app.services.report_table import TABLES

router = APIRouter(prefix="/reports", tags=["reports"], responses=PROBLEMS)

CSV = "text/csv"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV: {"schema": {"type": "string"}}},
        "description": "JSON, or CSV with `Accept: text/csv` (money: a column per currency).",
    }
}
Id = Annotated[int | None, Query(ge=1, le=MAX_INT_ID)]


def report_query(
    from_: Annotated[
        date | None,
        Query(alias="from", description="First day (`YYYY-MM-DD`) in the key user's time zone."),
    ] = None,
    to: Annotated[
        date | None, Query(description="The day after the last one (the range is [from, to)).")
    ] = None,
    range_: Annotated[
        str | None,
        Query(
            alias="range",
            description="Instead of from/to: " + ", ".join(PRESETS) + ". Default: this month.",
            json_schema_extra={"enum": list(PRESETS)},
        ),
    ] = None,
    pipeline_id: Annotated[Id, Query(description="Deals of this pipeline only.")] = None,
    owner_id: Annotated[Id, Query(description="This person's records only.")] = None,
    team_id: Annotated[Id, Query(description="The records of this team's people only.")] = None,
) -> ReportQuery:
    """The range and filters every report reads."""
    return ReportQuery(from_, to, range_, pipeline_id, owner_id, team_id)


Filters = Annotated[ReportQuery, Depends(report_query)]
Sort = Annotated[
    str, Query(description="Columns, `-` for descending: `-won_amount,owner`; see `columns`.")
]


@router.get("/kpis", response_model=KpiResponse, summary="Dashboard KPIs")
def kpis(session: DbSession, actor: Actor, query: Filters) -> KpiResponse:
    """MRR, new leads, lead conversion rate, open and weighted pipeline, win rate, average won
    deal and sales cycle for the range, with the previous range of the same length (as many
    whole months, else days) and the changes. Money is in the workspace's default currency,
    other currencies' amounts alongside (never converted or added). Admins and viewers see
    everyone's figures, managers their team's, reps their own and their team's totals."""
    return KpiResponse.of(report_kpi.dashboard_kpis(session, actor=actor, query=query))


def _wants_csv(request: Request) -> bool:
    accepted = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == CSV for part in accepted.split(","))


def _answer(request: Request, table: Table, model: type) -> Any:
    if _wants_csv(request):
        period = table.period
        filename = f"{table.name}-{period.start}-{period.end}.csv"
        return Response(
            table.csv(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )
    return model(**report_body(table))


def _summary(spec: ReportSpec) -> str:
    return (spec.run.__doc__ or "").strip().split("\n")[0].rstrip(".")


def _table_route(name: str, spec: ReportSpec) -> None:
    model = report_model(name, spec.row)

    def read(request: Request, session: DbSession, actor: Actor, query: Filters, sort: Sort = ""):
        table = spec.run(session, actor=actor, query=query, sort=sort)
        return _answer(request, table, model)

    read.__doc__ = spec.run.__doc__
    router.add_api_route(
        f"/{name}",
        read,
        methods=["GET"],
        response_model=model,
        summary=f"Report: {name}",
        operation_id=f"report_{name.replace('-', '_')}",
        responses=CSV_RESPONSE,
    )


def _chart_route(name: str, spec: ReportSpec) -> None:
    model = report_model(f"chart-{name}", spec.row)

    def read(request: Request, session: DbSession, actor: Actor, query: Filters):
        return _answer(request, spec.run(session, actor=actor, query=query), model)

    read.__doc__ = spec.run.__doc__
    router.add_api_route(
        f"/charts/{name}",
        read,
        methods=["GET"],
        response_model=model,
        summary=f"Chart data: {name}",
        operation_id=f"chart_{name.replace('-', '_')}",
        responses=CSV_RESPONSE,
    )


for _name, _spec in CHARTS.items():
    _chart_route(_name, _spec)
for _name, _spec in TABLES.items():
    _table_route(_name, _spec)


@router.get("/charts/{name}", include_in_schema=False)
def unknown_chart(name: str) -> None:
    raise NotFound(f"No chart '{name}'. Charts: {', '.join(CHARTS)}.")


@router.get("/{name}", include_in_schema=False)
def unknown_report(name: str) -> None:
    raise NotFound(f"No report '{name}'. Reports: kpis, {', '.join(TABLES)}.")
