"""`/deals/list`: the deals as a list, with the totals of the view and the pipeline, stage,
status, close-date and amount filters."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import User
from crm_app.services import deal_list, pipeline
from crm_app.services.deal_list import DealRow, Totals
from crm_app.services.errors import Forbidden
from crm_app.state.base import AppState
from crm_app.state.record_list import ANY, ListSpec, custom_cells, local_date
from crm_app.state.saved_view import SavedViewsMixin
from crm_app.state.views import money

STATUS_LABELS = {"open": "Open", "won": "Won", "lost": "Lost"}


def deal_row(row: DealRow, tz: str, definitions: list) -> dict[str, str]:
    """One deal as the list shows it: every column, formatted."""
    d = row.deal
    close = d.expected_close_date
    return {
        "id": str(d.id),
        "href": routes.deal_detail(d.id),
        "name": d.name,
        "company": row.company or "",
        "contact": row.contact or "",
        "pipeline": row.pipeline,
        "stage": row.stage,
        "status": STATUS_LABELS.get(row.stage_kind, row.stage_kind),
        "amount": money(d.amount, d.currency),
        "probability": f"{row.probability}%",
        "weighted": money(row.weighted, d.currency),
        "expected_close_date": close.isoformat() if close else "",
        "owner": row.owner or "",
        "lost_reason": d.lost_reason or "",
        "tags": ", ".join(d.tags or []),
        "closed_at": local_date(d.closed_at, tz),
        "created_at": local_date(d.created_at, tz),
        "updated_at": local_date(d.updated_at, tz),
        **custom_cells(d.custom, definitions),
    }


def total_lines(totals: Totals) -> list[dict[str, str]]:
    """The amount and weighted amount of each currency, as the totals bar shows them."""
    return [
        {
            "currency": currency,
            "amount": money(amount, currency),
            "weighted": money(totals.weighted.get(currency), currency),
        }
        for currency, amount in sorted(totals.amount.items())
    ]


DEALS = ListSpec(
    entity="deal",
    noun="deal",
    plural="deals",
    filters=(
        "pipeline_id",
        "stage_id",
        "status",
        "expected_close_from",
        "expected_close_to",
        "amount_min",
        "amount_max",
    ),
    default_sort=deal_list.DEFAULT_SORT,
    fetch=deal_list.list_deals,
    count=deal_list.count_deals,
    to_row=deal_row,
    # an amount means little in a spreadsheet without its currency
    export_as={"amount": ("amount", "currency"), "weighted": ("weighted", "currency")},
    can_merge=False,
)


class DealListState(SavedViewsMixin, AppState):
    """The deal list, its totals, and the pipelines and stages its filters offer."""

    LIST: ClassVar[ListSpec] = DEALS

    pipelines: list[dict[str, str]] = []  # id, name
    stages: list[dict[str, str]] = []  # id, pipeline_id, label ("Sales · Proposal")
    totals: list[dict[str, str]] = []  # currency, amount, weighted

    def _load_choices(self, session: Session, actor: User) -> None:
        super()._load_choices(session, actor)
        self.totals = []
        try:
            found = pipeline.list_pipelines(session, actor=actor)
        except Forbidden:
            found = []
        self.pipelines = [{"id": str(p.pipeline.id), "name": p.pipeline.name} for p in found]
        self.stages = [
            {
                "id": str(s.id),
                "pipeline_id": str(p.pipeline.id),
                "label": f"{p.pipeline.name} · {s.name}" if len(found) > 1 else s.name,
            }
            for p in found
            for s in p.stages
        ]

    def _count(self, session: Session, actor: User) -> None:
        """The count and the totals of the view, in one query."""
        found = deal_list.deal_totals(session, actor=actor, listq=self._listq(paged=False))
        self.totals = total_lines(found)
        self._show_total(found.count)

    @rx.event
    def choose_pipeline(self, pipeline_id: str):
        """Show one pipeline's deals (a stage of another pipeline no longer applies)."""
        value = str(pipeline_id)[:12]
        if value != ANY and not any(p["id"] == value for p in self.pipelines):
            return None
        self.filters = {**self.filters, "stage_id": ""}
        return DealListState.set_filter("pipeline_id", value)

    @rx.var
    def stage_choices(self) -> list[dict[str, str]]:
        """The stages the stage filter offers: the chosen pipeline's, else every one."""
        chosen = self.filters.get("pipeline_id", "")
        return [s for s in self.stages if not chosen or s["pipeline_id"] == chosen]

    @rx.var
    def count_label(self) -> str:
        """How many deals the view holds, once counted."""
        return f"{self.total:,}" if self.counted else "…"
