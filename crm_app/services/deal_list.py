"""The deals list: its filters and sorts, a page of rows, the count, and the totals of the
filtered view. The board, the forecast, bulk actions, saved views and exports read the same
`conditions`, so "the deals matching these filters" means one thing everywhere.

Weighted amounts use the deal's own probability when set, else its stage's. Amounts in
different currencies are never added up: totals are per currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_app.models import Account, Contact, Deal, DealContact, Pipeline, Stage, User
from crm_app.services import filters
from crm_app.services.deal_fields import (
    CENT,
    MAX_BIG_ID,
    RESOURCE,
    STATUSES,
    parse_currency,
    parse_date,
    parse_id,
    parse_money,
)
from crm_app.services.listing import ListQuery, Page, SortColumn, count, fetch_page, parse_sort
from crm_app.services.permission import owner_clause, require

Company = aliased(Account, name="company")
Owner = aliased(User, name="owner")
PROBABILITY = func.coalesce(Deal.probability, Stage.probability)
WEIGHTED = Deal.amount * PROBABILITY / 100
# Names the list shows but never sorts by: read for the rows of a page only.
PIPELINE_NAME = (
    select(Pipeline.name).where(Pipeline.id == Deal.pipeline_id).correlate(Deal).scalar_subquery()
)
CONTACT_NAME = (
    select(
        func.coalesce(
            func.nullif(func.trim(Contact.first_name + " " + Contact.last_name), ""),
            Contact.email,
        )
    )
    .where(Contact.id == Deal.primary_contact_id, Contact.deleted_at.is_(None))
    .correlate(Deal)
    .scalar_subquery()
)

SORTS = {
    "name": SortColumn("name", Deal.name, nullable=False),
    "company": SortColumn("company", Company.name),
    "stage": SortColumn("stage", Stage.position, nullable=False),
    "amount": SortColumn("amount", Deal.amount),
    "currency": SortColumn("currency", Deal.currency, nullable=False),
    "probability": SortColumn("probability", PROBABILITY, nullable=False),
    "weighted": SortColumn("weighted", WEIGHTED),
    "expected_close_date": SortColumn("expected_close_date", Deal.expected_close_date),
    "owner": SortColumn("owner", Owner.name),
    "closed_at": SortColumn("closed_at", Deal.closed_at),
    "created_at": SortColumn("created_at", Deal.created_at, nullable=False),
    "updated_at": SortColumn("updated_at", Deal.updated_at, nullable=False),
}
ID = SortColumn("id", Deal.id, nullable=False)
DEFAULT_SORT = "-updated_at"


def _in_status(value: str) -> Any:
    if value not in STATUSES:
        raise ValueError(f"Pick one of: {', '.join(STATUSES)}.")
    # correlate(None): the lists join `stages` too, and this must stay a subquery of its own
    return Deal.stage_id.in_(select(Stage.id).where(Stage.kind == value).correlate(None))


def _with_contact(value: str) -> Any:
    contact_id = parse_id(value, "a contact", MAX_BIG_ID)
    involved = union(
        select(Deal.id).where(Deal.primary_contact_id == contact_id),
        select(DealContact.deal_id).where(DealContact.contact_id == contact_id),
    )
    return Deal.id.in_(involved)


def _bound(value: str, parse, what: str) -> Any:
    parsed = parse(value)
    if parsed is None:
        raise ValueError(f"Enter {what}.")
    return parsed


FILTERS = {
    "pipeline_id": lambda v: Deal.pipeline_id == parse_id(v, "a pipeline"),
    "stage_id": lambda v: Deal.stage_id == parse_id(v, "a stage"),
    "status": _in_status,
    "account_id": lambda v: Deal.account_id == parse_id(v, "a company"),
    "contact_id": _with_contact,
    "currency": lambda v: Deal.currency == parse_currency(v),
    "expected_close_from": lambda v: Deal.expected_close_date >= _bound(v, parse_date, "a date"),
    "expected_close_to": lambda v: Deal.expected_close_date <= _bound(v, parse_date, "a date"),
    "amount_min": lambda v: Deal.amount >= _bound(v, parse_money, "an amount"),
    "amount_max": lambda v: Deal.amount <= _bound(v, parse_money, "an amount"),
}


def conditions(session: Session, actor: User, listq: ListQuery) -> list[Any]:
    """WHERE conditions for the live deals the actor may read that match the search and
    filters: the list, its totals, the board, the forecast and exports all start here."""
    require(session, actor, RESOURCE, "read")
    found = [
        Deal.deleted_at.is_(None),
        owner_clause(session, actor, RESOURCE, "read", Deal.owner_id),
        *filters.build(session, actor, Deal, entity="deal", filters=listq.filters, extra=FILTERS),
    ]
    search = filters.search_clause(Deal, listq.q) if listq.q.strip() else None
    return found + ([search] if search is not None else [])


def list_query(session: Session, actor: User, listq: ListQuery):
    """The SELECT of live deals the actor may read, narrowed by the search and filters (not
    sorted or paged)."""
    return select(Deal).where(*conditions(session, actor, listq))


def joined_query(session: Session, actor: User, listq: ListQuery):
    """`list_query` joined with each deal's stage, company and owner, whose columns the list
    shows and sorts by (the CSV export starts here too)."""
    return (
        list_query(session, actor, listq)
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(Company, Company.id == Deal.account_id)
        .outerjoin(Owner, Owner.id == Deal.owner_id)
    )


@dataclass
class DealRow:
    """A deal as the list shows it, with its company, owner and stage, and its weighted amount
    (amount times the deal's probability, else its stage's)."""

    deal: Deal
    company: str | None
    owner: str | None
    stage: str
    stage_kind: str
    probability: int
    weighted: Decimal | None
    pipeline: str = ""
    contact: str | None = None  # the primary contact's name


def list_deals(session: Session, *, actor: User, listq: ListQuery) -> Page:
    """A page of live deals matching the search and filters, in the requested order (any
    column the list shows). `Page.rows` holds DealRow objects."""
    query = joined_query(session, actor, listq).add_columns(
        Company.name,
        Owner.name,
        Stage.name,
        Stage.kind,
        PROBABILITY,
        WEIGHTED,
        PIPELINE_NAME,
        CONTACT_NAME,
    )
    keys = parse_sort(listq.sort, SORTS, DEFAULT_SORT)
    page = fetch_page(session, query, keys=keys, id_column=ID, listq=listq)
    page.rows = [
        DealRow(d, company, owner, stage, str(kind), p, cents(weighted), pipeline_name, contact)
        for d, company, owner, stage, kind, p, weighted, pipeline_name, contact in page.rows
    ]
    return page


def count_deals(session: Session, *, actor: User, listq: ListQuery) -> int:
    """How many live deals match the search and filters."""
    return count(session, list_query(session, actor, listq))


def cents(value: Decimal | None) -> Decimal | None:
    """An amount rounded to the cent (weighted amounts have more decimals)."""
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Totals:
    """How many deals, and their amounts and weighted amounts by currency (amounts in
    different currencies are not added up). Deals without an amount count but add nothing."""

    count: int = 0
    amount: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, n: int, amount: Decimal | None, weighted: Decimal | None):
        """Fold in one (currency, count, sum, weighted sum) row of a GROUP BY."""
        self.count += n
        if amount is not None:
            self.amount[currency] = self.amount.get(currency, Decimal(0)) + amount
            self.weighted[currency] = cents(self.weighted.get(currency, Decimal(0)) + weighted)


def sums(*group_by: Any) -> Any:
    """SELECT of count, amount and weighted amount per currency (and `group_by`) of deals
    joined with their stages."""
    return (
        select(*group_by, Deal.currency, func.count(), func.sum(Deal.amount), func.sum(WEIGHTED))
        .join(Stage, Stage.id == Deal.stage_id)
        .group_by(*group_by, Deal.currency)
    )


def deal_totals(session: Session, *, actor: User, listq: ListQuery) -> Totals:
    """Count, amount and weighted amount of every deal matching the search and filters."""
    totals = Totals()
    for currency, n, amount, weighted in session.execute(
        sums().where(*conditions(session, actor, listq))
    ):
        totals.add(currency, n, amount, weighted)
    return totals


def stage_counts(session: Session, *, actor: User, pipeline_id: int) -> dict[int, int]:
    """How many live deals the actor may read each stage of a pipeline holds (stages without
    any are absent, so callers default missing ids to 0)."""
    rows = session.execute(
        select(Deal.stage_id, func.count())
        .where(Deal.pipeline_id == pipeline_id, *conditions(session, actor, ListQuery()))
        .group_by(Deal.stage_id)
    )
    return {stage_id: n for stage_id, n in rows}
