"""`/leads`: the lead list, with its status, source and score-range filters."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Session

from crm_app import routes
from crm_app.models import User
from crm_app.services import lead as lead_service
from crm_app.services import lead_source, normalize
from crm_app.services.lead import LeadRow
from crm_app.state.base import AppState
from crm_app.state.record_list import ListSpec, custom_cells, local_date
from crm_app.state.saved_view import SavedViewsMixin

STATUSES = lead_service.STATUSES
NO_SOURCE = "none"  # the source filter's "leads without a source"


def status_label(status: str) -> str:
    """A lead status as people read it."""
    return str(status).capitalize()


def lead_row(row: LeadRow, tz: str, definitions: list) -> dict[str, str]:
    """One lead as the list shows it: every column, formatted."""
    lead = row.lead
    return {
        "id": str(lead.id),
        "href": routes.lead_detail(lead.id),
        "name": lead_service.display_name(lead),
        "email": lead.email or "",
        "phone": normalize.phone_display(lead.phone),
        "company": lead.company_name or "",
        "title": lead.title or "",
        "source": lead.source or "",
        "status": status_label(lead.status),
        "score": str(lead.score),
        "owner": row.owner or "",
        "tags": ", ".join(lead.tags or []),
        "created_at": local_date(lead.created_at, tz),
        "updated_at": local_date(lead.updated_at, tz),
        **custom_cells(lead.custom, definitions),
    }


LEADS = ListSpec(
    entity="lead",
    noun="lead",
    plural="leads",
    filters=("status", "source", "score_min", "score_max"),
    default_sort=lead_service.DEFAULT_SORT,
    fetch=lead_service.list_leads,
    count=lead_service.count_leads,
    to_row=lead_row,
    can_merge=False,
)


class LeadListState(SavedViewsMixin, AppState):
    """The lead list and the sources its source filter offers."""

    LIST: ClassVar[ListSpec] = LEADS

    sources: list[str] = []  # every source, retired ones too: old leads still carry them

    def _load_choices(self, session: Session, actor: User) -> None:
        super()._load_choices(session, actor)
        found = lead_source.list_sources(session, actor=actor, include_inactive=True)
        self.sources = [s.name for s in found]
