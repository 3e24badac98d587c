"""The home page's workspace overview: how many live records of each kind exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from crm_app.models import Account, Contact, Deal, Lead, Stage, User
from crm_app.services.permission import can


@dataclass
class Tally:
    """A labelled count for one record kind."""

    label: str
    count: int


def workspace_tallies(session: Session, *, actor: User) -> list[Tally]:
    """Live contacts, companies, open leads and open deals the actor may read."""
    tallies: list[Tally] = []
    if can(session, actor, "contact", "read"):
        n = session.exec(select(func.count()).where(Contact.deleted_at.is_(None))).one()
        tallies.append(Tally("Contacts", n))
    if can(session, actor, "account", "read"):
        n = session.exec(select(func.count()).where(Account.deleted_at.is_(None))).one()
        tallies.append(Tally("Companies", n))
    if can(session, actor, "lead", "read"):
        n = session.exec(
            select(func.count()).where(
                Lead.deleted_at.is_(None), Lead.status.not_in(["converted", "unqualified"])
            )
        ).one()
        tallies.append(Tally("Open leads", n))
    if can(session, actor, "deal", "read"):
        n = session.exec(
            select(func.count())
            .select_from(Deal)
            .join(Stage, Stage.id == Deal.stage_id)
            .where(Deal.deleted_at.is_(None), Stage.kind == "open")
        ).one()
        tallies.append(Tally("Open deals", n))
    return tallies
