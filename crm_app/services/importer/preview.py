"""Stage 1 of an import: read the uploaded file's header, guess which field each column is,
and validate the first rows exactly as the import will, so errors show before it starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from crm_app.models import User
from crm_app.services.errors import FieldError, ValidationFailed
from crm_app.services.importer import reader, storage
from crm_app.services.importer.chunk import Outcome, Plan, Rejected, validate
from crm_app.services.importer.entities import EntitySpec, spec_for
from crm_app.services.importer.fields import Target, guess_mapping, targets, unique_columns
from crm_app.services.importer.lookups import Companies, Owners
from crm_app.services.permission import require

PREVIEW_ROWS = 20
SKIP = ""  # the mapping value of a column that is not imported


@dataclass
class PreviewRow:
    """One of the first rows: its cells, and what is wrong with them."""

    number: int
    cells: list[str]
    errors: dict[str, str] = field(default_factory=dict)  # column -> message
    problems: list[str] = field(default_factory=list)  # messages about no mapped column

    @property
    def valid(self) -> bool:
        """Whether the row would be imported."""
        return not (self.errors or self.problems)


@dataclass
class UploadPreview:
    """What the mapping step shows."""

    entity: str
    columns: list[str]
    mapping: dict[str, str]  # column -> target key; unmapped columns are absent
    choices: list[Target]
    rows: list[PreviewRow]
    estimated_rows: int


@dataclass(frozen=True)
class FileLayout:
    """An upload's format and header, and where its data starts."""

    path: Path
    fmt: reader.CsvFormat
    columns: list[str]
    data_offset: int


def read_layout(path: str | Path) -> FileLayout:
    """The format and header of an upload under data/imports; a 422 for an empty file."""
    checked = storage.checked(path)
    fmt = reader.sniff(checked)
    header, offset = reader.read_header(checked, fmt)
    if not header:
        raise ValidationFailed.for_field("file", "This file is empty: it has no header row.")
    return FileLayout(checked, fmt, unique_columns(header), offset)


def labels(choices: list[Target], entity: str) -> dict[str, str]:
    """Field name -> label, for messages about rows."""
    found = {t.key: t.label for t in choices}
    found.update({"owner_id": "Owner", "account_id": "Company", "custom": "Custom fields"})
    if entity == "contact":
        found.update({"first_name": "First name", "last_name": "Last name"})
    return found


def check_mapping(
    spec: EntitySpec, columns: list[str], mapping: dict[str, str], choices: list[Target]
) -> dict[str, str]:
    """The mapping without skipped columns; a 422 naming what is wrong with it."""
    known = {t.key: t.label for t in choices}
    cleaned: dict[str, str] = {}
    errors: list[FieldError] = []
    used: dict[str, str] = {}
    for column, key in mapping.items():
        if column not in columns or key == SKIP:
            continue
        if key not in known:
            errors.append(FieldError(column, f"“{key}” is not a field of {spec.plural}."))
        elif key in used:
            errors.append(
                FieldError(column, f"{known[key]} is already imported from “{used[key]}”.")
            )
        else:
            used[key] = column
            cleaned[column] = key
    if not errors and not set(cleaned.values()) & set(spec.required_any):
        names = " or ".join(known[k] for k in spec.required_any)
        errors.append(FieldError("mapping", f"Choose a column for {names}."))
    if errors:
        raise ValidationFailed(errors[0].message, errors)
    return cleaned


def build_plan(
    session: Session,
    *,
    actor: User,
    spec: EntitySpec,
    columns: list[str],
    mapping: dict[str, str],
    on_duplicate: str,
    job_id: int = 0,
) -> Plan:
    """How rows of a file with these columns are read and imported."""
    choices = targets(session, spec.entity)
    return Plan(
        session=session,
        actor=actor,
        job_id=job_id,
        spec=spec,
        columns=[(columns.index(c), key) for c, key in mapping.items() if c in columns],
        on_duplicate=on_duplicate,
        owners=Owners(session, actor, spec.entity),
        companies=Companies(session, actor) if "company" in mapping.values() else None,
        labels=labels(choices, spec.entity),
    )


def _column_of(mapping: dict[str, str], field_name: str) -> str | None:
    by_key = {key: column for column, key in mapping.items()}
    if field_name == "owner_id":
        field_name = "owner"
    if field_name in ("first_name", "last_name") and field_name not in by_key:
        field_name = "name"
    return by_key.get(field_name)


def inspect_upload(
    session: Session,
    *,
    actor: User,
    entity: str,
    path: str | Path,
    mapping: dict[str, str] | None = None,
) -> UploadPreview:
    """The header, a mapping (guessed unless given) and the first rows with their errors."""
    spec = spec_for(entity)
    require(session, actor, spec.entity, "import")
    layout = read_layout(path)
    choices = targets(session, spec.entity)
    if mapping is None:
        mapping = guess_mapping(layout.columns, choices)
    else:
        mapping = {c: k for c, k in mapping.items() if c in layout.columns and k != SKIP}
    plan = build_plan(
        session,
        actor=actor,
        spec=spec,
        columns=layout.columns,
        mapping=mapping,
        on_duplicate="create",
    )
    plan.companies = None  # a preview never creates companies
    records = reader.head(layout.path, layout.fmt, start=layout.data_offset, rows=PREVIEW_ROWS)
    chunk = reader.Chunk(records=records, first_row=2, end_offset=0)
    outcome = Outcome()
    validate(plan, chunk, outcome)
    rows = {
        n: PreviewRow(n, r) for n, r in enumerate(records, start=2) if any(c.strip() for c in r)
    }
    for rejected in outcome.rejected:
        row = rows[rejected.number]
        for name, message in rejected.problems:
            column = _column_of(mapping, name)
            if column is not None and column not in row.errors:
                row.errors[column] = message
            else:
                row.problems.append(Rejected(0, [], [(name, message)]).reasons(plan.labels))
    return UploadPreview(
        entity=spec.entity,
        columns=layout.columns,
        mapping=mapping,
        choices=choices,
        rows=list(rows.values()),
        estimated_rows=max(0, reader.count_lines(layout.path) - 1),
    )
