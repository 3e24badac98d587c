"""What an import needs to know about each kind of record: its table, the columns it writes,
its duplicate keys, and how an imported row is merged into an existing record."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy import func

from crm_app.models import Account, Contact
from crm_app.services import account as account_service
from crm_app.services import contact as contact_service
from crm_app.services.errors import ValidationFailed

# Lists that an update adds to rather than replaces.
MERGED_LISTS = frozenset({"tags", "additional_emails", "additional_phones"})


@dataclass(frozen=True)
class EntitySpec:
    """An importable kind of record."""

    entity: str
    noun: str  # "contact", "company"
    plural: str
    model: Any
    table: str
    service: ModuleType  # offers clean(session, actor, data, partial=...)
    columns: tuple[str, ...]  # what an import writes, in COPY order
    defaults: dict[str, Any]
    keys: tuple[str, ...]  # duplicate keys, strongest first
    indexed_keys: frozenset[str]  # keys whose expression has an index, so each value is a probe
    required_any: tuple[str, ...]  # a mapping must give at least one of these targets

    def key_expressions(self) -> dict[str, Any]:
        """The SQL expression each duplicate key compares with (indexed)."""
        if self.entity == "contact":
            return {"email": func.lower(Contact.email), "phone": Contact.phone}
        return {"domain": func.lower(Account.domain), "name": func.lower(Account.name)}

    def dedup_keys(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """The keys a cleaned row is matched by: a contact's e-mail, then its phone; a
        company's domain or, without one, its name (as the forms' duplicate checks do)."""
        if self.entity == "contact":
            return [(k, values[k]) for k in ("email", "phone") if values.get(k)]
        if values.get("domain"):
            return [("domain", values["domain"])]
        return [("name", values["name"].lower())] if values.get("name") else []


CONTACT = EntitySpec(
    entity="contact",
    noun="contact",
    plural="contacts",
    model=Contact,
    table="contacts",
    service=contact_service,
    columns=(
        "first_name",
        "last_name",
        "email",
        "phone",
        "additional_emails",
        "additional_phones",
        "title",
        "account_id",
        "owner_id",
        "lifecycle_stage",
        "tags",
        "custom",
    ),
    defaults={
        "first_name": "",
        "last_name": "",
        "lifecycle_stage": "lead",
        "additional_emails": [],
        "additional_phones": [],
        "tags": [],
        "custom": {},
    },
    keys=("email", "phone"),
    indexed_keys=frozenset({"email", "phone"}),
    required_any=("first_name", "last_name", "name", "email"),
)
ACCOUNT = EntitySpec(
    entity="account",
    noun="company",
    plural="companies",
    model=Account,
    table="accounts",
    service=account_service,
    columns=(
        "name",
        "domain",
        "industry",
        "size",
        "phone",
        "website",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
        "description",
        "owner_id",
        "tags",
        "custom",
    ),
    defaults={"tags": [], "custom": {}},
    keys=("domain", "name"),
    indexed_keys=frozenset({"domain"}),  # no index on lower(name)
    required_any=("name",),
)
SPECS = {"contact": CONTACT, "account": ACCOUNT}


def spec_for(entity: str) -> EntitySpec:
    """The spec of "contact" or "account"; a 422 for anything else."""
    if entity not in SPECS:
        raise ValidationFailed.for_field("entity", "Import contacts or companies.")
    return SPECS[entity]


def merge(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """`current` with an imported row's values applied: given fields replace, tags and other
    lists are combined, custom fields are merged key by key."""
    merged = dict(current)
    for key, value in incoming.items():
        if key in MERGED_LISTS:
            before = list(merged.get(key) or [])
            lowered = {str(v).lower() for v in before}
            merged[key] = before + [v for v in value if str(v).lower() not in lowered]
        elif key == "custom":
            merged[key] = {**(merged.get(key) or {}), **(value or {})}
        elif value is not None and value != "":
            merged[key] = value
    return merged
