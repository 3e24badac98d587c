"""What a CSV column can be imported into, guessing that from the header, and turning one
CSV row into the dict the entity's `clean()` validates (the same one the forms use)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from crm_app.services import custom_field

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SPLIT = re.compile(r"[;,]")


@dataclass(frozen=True)
class Target:
    """A field a column can be imported into, and the header names that suggest it."""

    key: str  # a clean() field, "custom.<key>", or one of the import's own: name, company, owner
    label: str
    synonyms: tuple[str, ...] = ()


def _t(key: str, label: str, *synonyms: str) -> Target:
    return Target(key, label, (label, key, *synonyms))


CONTACT_TARGETS = (
    _t("first_name", "First name", "firstname", "given name", "first", "forename"),
    _t("last_name", "Last name", "lastname", "surname", "family name", "last"),
    _t("name", "Full name", "name", "contact name", "contact", "person"),
    _t("email", "E-mail", "email", "email address", "e-mail address", "mail", "work email"),
    _t("phone", "Phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell"),
    _t("title", "Job title", "title", "position", "job", "role"),
    _t(
        "company",
        "Company",
        "company name",
        "organization",
        "organisation",
        "account",
        "account name",
        "employer",
        "company domain",
    ),
    _t("owner", "Owner", "contact owner", "owner email", "assigned to", "sales rep"),
    _t("lifecycle_stage", "Lifecycle stage", "lifecycle", "stage"),
    _t("tags", "Tags", "tag", "labels"),
    _t("additional_emails", "Other e-mails", "additional emails", "other emails"),
    _t("additional_phones", "Other phones", "additional phones", "other phones"),
)
ACCOUNT_TARGETS = (
    _t(
        "name",
        "Name",
        "company",
        "company name",
        "account name",
        "organization",
        "organisation",
        "account",
    ),
    _t("domain", "Domain", "company domain", "domain name"),
    _t("website", "Website", "web site", "url", "web", "homepage", "site"),
    _t("industry", "Industry", "sector"),
    _t("size", "Size", "company size", "employees", "number of employees", "headcount"),
    _t("phone", "Phone", "phone number", "telephone", "tel"),
    _t("street", "Street", "address", "street address", "address 1", "address line 1"),
    _t("city", "City", "town"),
    _t("region", "Region", "state", "province", "state region", "county"),
    _t("postal_code", "Postal code", "zip", "zip code", "postcode", "post code"),
    _t("country", "Country"),
    _t("description", "Description", "notes", "about"),
    _t("owner", "Owner", "account owner", "company owner", "owner email", "assigned to"),
    _t("tags", "Tags", "tag", "labels"),
)
BUILT_INS = {"contact": CONTACT_TARGETS, "account": ACCOUNT_TARGETS}
LIST_FIELDS = frozenset({"tags", "additional_emails", "additional_phones"})


def _norm(text: str) -> str:
    """Header text as compared: case, spaces and punctuation ignored ("E-mail" = "email")."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def targets(session: Session, entity: str) -> list[Target]:
    """Built-in fields, then the entity's custom fields (matched by key or label)."""
    customs = [
        Target(f"custom.{d.key}", d.label, (d.label, d.key))
        for d in custom_field.list_fields(session, entity=entity)
    ]
    return [*BUILT_INS[entity], *customs]


def unique_columns(header: list[str]) -> list[str]:
    """Column names made unique and non-empty ("Email", "Email (2)", "Column 3")."""
    seen: dict[str, int] = {}
    columns = []
    for index, name in enumerate(header, start=1):
        base = name or f"Column {index}"
        seen[base] = seen.get(base, 0) + 1
        columns.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return columns


def guess_mapping(columns: list[str], available: list[Target]) -> dict[str, str]:
    """Column -> target key for each column whose header names a field; each field once.

    Custom fields win over built-in synonyms, since an admin named them for this workspace.
    """
    by_name: dict[str, str] = {}
    for target in sorted(available, key=lambda t: not t.key.startswith("custom.")):
        for synonym in target.synonyms:
            by_name.setdefault(_norm(synonym), target.key)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        key = by_name.get(_norm(column))
        if key and key not in taken:
            mapping[column] = key
            taken.add(key)
    return mapping


def unescape(value: str) -> str:
    """A cell as typed: trimmed, without the apostrophe an export puts before formula text."""
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:].strip()
    return value


@dataclass
class RowData:
    """One CSV row as the entity's clean() takes it, plus what the import resolves itself."""

    data: dict[str, Any]
    company: str = ""
    owner: str = ""
    cells: dict[str, str] = field(default_factory=dict)  # target key -> cell, for messages


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in LIST_SPLIT.split(value) if part.strip()]


def _split_name(full: str) -> tuple[str, str]:
    first, _, last = full.rpartition(" ")
    return (first, last) if first else (last, "")


def row_data(entity: str, plan: list[tuple[int, str]], record: list[str]) -> RowData:
    """The values of one record for the mapped columns (`plan` pairs column index and key).

    Empty cells are left out: a new record gets the default, an updated one keeps its value.
    A company without a domain takes its website's.
    """
    out = RowData(data={"custom": {}})
    for index, key in plan:
        value = unescape(record[index]) if index < len(record) else ""
        if not value:
            continue
        out.cells[key] = value
        if key.startswith("custom."):
            out.data["custom"][key.removeprefix("custom.")] = value
        elif key == "company":
            out.company = value
        elif key == "owner":
            out.owner = value
        elif key == "name" and entity == "contact":
            first, last = _split_name(" ".join(value.split()))
            out.data.setdefault("first_name", first)
            out.data.setdefault("last_name", last)
        elif key in LIST_FIELDS:
            out.data[key] = _split_list(value)
        elif key == "lifecycle_stage":
            out.data[key] = value.lower()
        else:
            out.data[key] = value
    if entity == "account" and "website" in out.data and "domain" not in out.data:
        # companies are matched by domain: a website names it
        out.data["domain"] = out.data["website"]
    return out
