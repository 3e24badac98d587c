"""Resolving the import's own columns: "Owner" (a user's e-mail or name) and, for contacts,
"Company" (an existing company's name or domain; a missing one is created)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ARRAY, String, any_, bindparam, func, insert, or_, select
from sqlmodel import Session

from crm_app.models import Account, User
from crm_app.services import crud, normalize
from crm_app.services.errors import DomainError
from crm_app.services.permission import can

CACHED_CELLS = 100_000  # "Company" cells an import remembers between chunks


@dataclass
class Owners:
    """Users by lowercased e-mail and name, read once per import; who the actor may assign."""

    session: Session
    actor: User
    resource: str
    _by_name: dict[str, User] | None = None
    _checked: dict[int, str] = field(default_factory=dict)

    def _users(self) -> dict[str, User]:
        if self._by_name is None:
            users = self.session.execute(select(User).where(User.is_active)).scalars().all()
            found: dict[str, User] = {}
            for user in sorted(users, key=lambda u: u.id or 0):
                found.setdefault(user.name.strip().lower(), user)
            for user in users:
                found[user.email.lower()] = user  # an e-mail wins over a same-named user
            self._by_name = found
        return self._by_name

    def resolve(self, value: str) -> tuple[int | None, str]:
        """(the user's id, "") or (None, why not) for an "Owner" cell."""
        user = self._users().get(" ".join(value.split()).lower())
        if user is None:
            return None, f"No active user “{value}”: use a user's e-mail."
        if user.id not in self._checked:
            try:
                crud.check_owner(self.session, self.actor, self.resource, user.id)
                self._checked[user.id] = ""
            except DomainError as error:
                self._checked[user.id] = error.message
        message = self._checked[user.id]
        return (None, message) if message else (user.id, "")


def _domain_of(value: str) -> str | None:
    """The domain a "Company" cell names, when it is one (acme.com, https://www.acme.com)."""
    if " " in value or "." not in value:
        return None
    try:
        return normalize.domain(value)
    except ValueError:
        return None


def _name(cell: str) -> str:
    """The name a company created for a "Company" cell gets, and is found by again."""
    return " ".join(cell.split())[:200]


@dataclass
class Companies:
    """Company ids for "Company" cells: an existing live company by domain or name (the
    oldest when several match); a missing one is created, owned by the importing user, when
    they may create companies (otherwise the contact is imported without one).

    Cells are remembered between chunks, up to CACHED_CELLS: past that the memory is cleared
    (a file naming ever more companies keeps memory flat), and a cell seen again is looked up
    again, finding the company created for it since cells are compared as their names are.
    """

    session: Session
    actor: User
    _ids: dict[str, int | None] = field(default_factory=dict)  # by lowercased name
    created: list[tuple[int, str]] = field(default_factory=list)  # (id, name) this chunk

    def resolve(self, cells: set[str]) -> dict[str, int | None]:
        """Company id (or None) per cell (compared without case or repeated spaces)."""
        self.created = []
        if len(self._ids) > CACHED_CELLS:
            self._ids.clear()
        keys = {cell: _name(cell).lower() for cell in cells}
        wanted = set(keys.values()) - set(self._ids)
        if wanted:
            self._lookup(wanted)
            missing = sorted(k for k in wanted if self._ids.get(k) is None)
            if missing and can(self.session, self.actor, "account", "create"):
                self._create(missing, {key: _name(cell) for cell, key in sorted(keys.items())})
        return {cell: self._ids.get(key) for cell, key in keys.items()}

    def _lookup(self, wanted: set[str]) -> None:
        domains = {c: d for c in wanted if (d := _domain_of(c))}
        array = ARRAY(String)
        rows = self.session.execute(
            select(Account.id, func.lower(Account.name), func.lower(Account.domain))
            .where(
                Account.deleted_at.is_(None),
                or_(
                    func.lower(Account.name) == any_(bindparam("names", list(wanted), array)),
                    func.lower(Account.domain)
                    == any_(bindparam("domains", list(set(domains.values())), array)),
                ),
            )
            .order_by(Account.id)
        ).all()
        by_name: dict[str, int] = {}
        by_domain: dict[str, int] = {}
        for account_id, name, domain in rows:
            by_name.setdefault(name, account_id)
            if domain:
                by_domain.setdefault(domain, account_id)
        for key in wanted:
            domain = domains.get(key)
            self._ids[key] = (by_domain.get(domain) if domain else None) or by_name.get(key)

    def _create(self, missing: list[str], names: dict[str, str]) -> None:
        rows = [
            {
                "name": names[key],
                "domain": _domain_of(key),
                "owner_id": self.actor.id,
                "created_by": self.actor.id,
            }
            for key in missing
        ]
        ids = self.session.execute(
            insert(Account).returning(Account.id, sort_by_parameter_order=True), rows
        ).scalars()
        for key, account_id in zip(missing, ids, strict=True):
            self._ids[key] = account_id
            self.created.append((account_id, names[key]))
