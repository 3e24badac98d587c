"""Global search: prefix full-text search over contacts, companies, leads and deals."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, literal
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlmodel import Session, select

from crm_app import routes
from crm_app.models import Account, Contact, Deal, Lead, User
from crm_app.services.permission import can

_WORD = re.compile(r"[\w]+", re.UNICODE)


def prefix_query(text: str) -> str | None:
    """A tsquery matching every word of `text` as a prefix ('jo acme' -> 'jo:* & acme:*')."""
    words = _WORD.findall(text.lower())[:8]
    if not words:
        return None
    return " & ".join(f"{w}:*" for w in words)


@dataclass
class SearchHit:
    """One search result: what it is, its label, a hint and where it opens."""

    kind: str
    id: int
    label: str
    detail: str
    href: str


def global_search(
    session: Session, *, actor: User, text: str, per_kind: int = 5
) -> list[SearchHit]:
    """Live records whose names, e-mails, phones or companies start with the typed words."""
    tsquery = prefix_query(text)
    if tsquery is None:
        return []
    query = func.to_tsquery(literal("simple", type_=REGCONFIG), tsquery)
    hits: list[SearchHit] = []
    if can(session, actor, "contact", "read"):
        rows = session.exec(
            select(Contact.id, Contact.first_name, Contact.last_name, Contact.email)
            .where(Contact.search_vector.op("@@")(query), Contact.deleted_at.is_(None))
            .order_by(Contact.updated_at.desc())
            .limit(per_kind)
        ).all()
        hits += [
            SearchHit(
                "Contact",
                i,
                f"{first} {last}".strip() or (e or ""),
                e or "",
                routes.contact_detail(i),
            )
            for i, first, last, e in rows
        ]
    if can(session, actor, "account", "read"):
        rows = session.exec(
            select(Account.id, Account.name, Account.domain)
            .where(Account.search_vector.op("@@")(query), Account.deleted_at.is_(None))
            .order_by(Account.updated_at.desc())
            .limit(per_kind)
        ).all()
        hits += [SearchHit("Company", i, n, d or "", routes.account_detail(i)) for i, n, d in rows]
    if can(session, actor, "lead", "read"):
        rows = session.exec(
            select(Lead.id, Lead.first_name, Lead.last_name, Lead.company_name)
            .where(Lead.search_vector.op("@@")(query), Lead.deleted_at.is_(None))
            .order_by(Lead.updated_at.desc())
            .limit(per_kind)
        ).all()
        hits += [
            SearchHit("Lead", i, f"{first} {last}".strip(), c or "", routes.lead_detail(i))
            for i, first, last, c in rows
        ]
    if can(session, actor, "deal", "read"):
        rows = session.exec(
            select(Deal.id, Deal.name, Deal.amount, Deal.currency)
            .where(Deal.search_vector.op("@@")(query), Deal.deleted_at.is_(None))
            .order_by(Deal.updated_at.desc())
            .limit(per_kind)
        ).all()
        hits += [
            SearchHit("Deal", i, n, f"{a} {c}" if a is not None else "", routes.deal_detail(i))
            for i, n, a, c in rows
        ]
    return hits
