"""`/accounts` ("Companies"): the company list, with its industry, size and country filters."""

from __future__ import annotations

from typing import ClassVar

from crm_app import routes
from crm_app.services import account as account_service
from crm_app.services.account import AccountRow
from crm_app.state.base import AppState
from crm_app.state.record_list import ListSpec, custom_cells, local_date
from crm_app.state.saved_view import SavedViewsMixin

SIZES = account_service.SIZES


def account_row(row: AccountRow, tz: str, definitions: list) -> dict[str, str]:
    """One company as the list shows it: every column, formatted."""
    a = row.account
    return {
        "id": str(a.id),
        "href": routes.account_detail(a.id),
        "name": a.name,
        "domain": a.domain or "",
        "industry": a.industry or "",
        "size": a.size or "",
        "city": a.city or "",
        "country": a.country or "",
        "owner": row.owner or "",
        "contacts": f"{row.contacts:,}",
        "tags": ", ".join(a.tags or []),
        "created_at": local_date(a.created_at, tz),
        "updated_at": local_date(a.updated_at, tz),
        **custom_cells(a.custom, definitions),
    }


COMPANIES = ListSpec(
    entity="account",
    noun="company",
    plural="companies",
    filters=("industry", "size", "country"),
    default_sort=account_service.DEFAULT_SORT,
    fetch=account_service.list_accounts,
    count=account_service.count_accounts,
    to_row=account_row,
)


class AccountListState(SavedViewsMixin, AppState):
    """The company list."""

    LIST: ClassVar[ListSpec] = COMPANIES
