"""The permission vocabulary and the seeded defaults of the role x resource x action matrix.

A permission row grants a role a *scope* for one action on one resource:
`all` (any record), `team` (records owned by someone on the actor's team), `own` (records the
actor owns) or `none`. The check itself lives in `crm_app.services.permission.require`.
"""

from __future__ import annotations

from enum import StrEnum

from crm_app.models.user import Role


class Scope(StrEnum):
    """How far a granted action reaches."""

    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


SCOPE_RANK = {Scope.NONE: 0, Scope.OWN: 1, Scope.TEAM: 2, Scope.ALL: 3}

# Records that have an owner; their update/delete scopes can be narrowed to own/team.
RECORD_RESOURCES = ("contact", "account", "lead", "deal", "activity")
RECORD_ACTIONS = ("read", "create", "update", "delete", "export", "import")

# Administrative resources: each has its own actions.
ADMIN_ACTIONS: dict[str, tuple[str, ...]] = {
    "user": ("read", "manage"),
    "setting": ("manage",),
    "pipeline": ("read", "manage"),
    "audit": ("read",),
    "report": ("read",),
    "api_key": ("create",),
    "email_template": ("manage",),
    "mass_mail": ("send",),
}

RESOURCE_LABELS = {
    "contact": "Contacts",
    "account": "Companies",
    "lead": "Leads",
    "deal": "Deals",
    "activity": "Activities",
    "user": "Users",
    "setting": "Settings",
    "pipeline": "Pipelines",
    "audit": "Audit log",
    "report": "Reports",
    "api_key": "API keys",
    "email_template": "E-mail templates",
    "mass_mail": "Mass mail",
}

# Which scopes make sense for an action: ownership only narrows actions on one record.
OWNABLE_ACTIONS = frozenset({"update", "delete"})


def all_pairs() -> list[tuple[str, str]]:
    """Every (resource, action) pair of the matrix, in display order."""
    pairs = [(r, a) for r in RECORD_RESOURCES for a in RECORD_ACTIONS]
    pairs += [(r, a) for r, actions in ADMIN_ACTIONS.items() for a in actions]
    return pairs


def allowed_scopes(resource: str, action: str) -> tuple[Scope, ...]:
    """The scopes an admin may pick for one cell of the matrix."""
    if resource in RECORD_RESOURCES and action in OWNABLE_ACTIONS:
        return (Scope.NONE, Scope.OWN, Scope.TEAM, Scope.ALL)
    return (Scope.NONE, Scope.ALL)


def default_scope(role: Role, resource: str, action: str) -> Scope:
    """The seeded default: admin everything; manager reads all and edits its team's records;
    rep reads all, creates, and edits its own; viewer reads only."""
    if role is Role.admin:
        return Scope.ALL
    if action == "read" and resource != "audit":
        return Scope.ALL
    if resource == "api_key":
        return Scope.ALL  # everyone may hold keys; a key acts with its owner's role
    if role is Role.viewer:
        return Scope.NONE
    if resource in ("email_template", "mass_mail"):
        return Scope.ALL if role is Role.manager else Scope.NONE
    if resource in RECORD_RESOURCES:
        if action == "create":
            return Scope.ALL
        if action in OWNABLE_ACTIONS:
            return Scope.TEAM if role is Role.manager else Scope.OWN
        if action in ("export", "import") and role is Role.manager:
            return Scope.ALL
        return Scope.NONE
    return Scope.NONE


def default_matrix() -> dict[tuple[str, str, str], Scope]:
    """The full seeded matrix keyed by (role, resource, action)."""
    return {
        (role.value, resource, action): default_scope(role, resource, action)
        for role in Role
        for resource, action in all_pairs()
    }
