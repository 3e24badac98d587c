"""One chunk of an import, in the caller's transaction: validate each row with the entity's
`clean()`, match duplicates against the database and the rows before them in a few set-based
queries, insert new records with COPY, update matched ones when asked, and remember every
record touched so the import can be undone."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import (
    ARRAY,
    Select,
    String,
    any_,
    bindparam,
    func,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session

from crm_app.models import ImportRecord, User
from crm_app.services.errors import DomainError
from crm_app.services.importer.entities import EntitySpec, merge
from crm_app.services.importer.fields import row_data
from crm_app.services.importer.lookups import Companies, Owners
from crm_app.services.importer.reader import Chunk
from crm_app.services.permission import owner_clause


@dataclass
class Plan:
    """How a running import reads rows and what it does with duplicates."""

    session: Session
    actor: User
    job_id: int
    spec: EntitySpec
    columns: list[tuple[int, str]]  # (CSV column index, target key)
    on_duplicate: str  # skip | update | create
    owners: Owners
    companies: Companies | None  # contacts whose "Company" column is mapped
    labels: dict[str, str] = field(default_factory=dict)  # field -> label, for messages


@dataclass
class Row:
    """A valid row: its spreadsheet row number and the values to store."""

    number: int
    cells: list[str]
    values: dict[str, Any]
    company: str = ""


@dataclass
class Rejected:
    """A row that was not imported, and why: (field, message) pairs."""

    number: int
    cells: list[str]
    problems: list[tuple[str, str]]

    def reasons(self, labels: dict[str, str]) -> str:
        """The problems as one line, each naming its field."""
        return "; ".join(
            f"{labels.get(name, name.removeprefix('custom.'))}: {message}" if name else message
            for name, message in self.problems
        )


@dataclass
class Outcome:
    """What one chunk did."""

    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    companies_created: int = 0
    rejected: list[Rejected] = field(default_factory=list)


@dataclass
class _Existing:
    id: int
    may_update: bool


def process_chunk(plan: Plan, chunk: Chunk) -> Outcome:
    """Import one chunk; the caller commits it together with the job's progress."""
    outcome = Outcome()
    import_rows(plan, validate(plan, chunk, outcome), outcome)
    return outcome


def import_rows(plan: Plan, rows: list[Row], outcome: Outcome) -> None:
    """Store validated rows: match duplicates, link companies, insert, update."""
    if plan.on_duplicate == "create":
        new, updates = rows, {}
    else:
        new, updates = _match(plan, rows, outcome)
    if plan.companies is not None:
        _link_companies(plan, [*new, *(r for group in updates.values() for r in group)], outcome)
    outcome.created += _insert(plan, new)
    _update(plan, updates, outcome)


def validate(plan: Plan, chunk: Chunk, outcome: Outcome) -> list[Row]:
    """The valid rows of the chunk; the others go to `outcome.rejected`."""
    rows: list[Row] = []
    for offset, record in enumerate(chunk.records):
        if not any(cell.strip() for cell in record):
            continue  # a blank line is not a row
        outcome.processed += 1
        number = chunk.first_row + offset
        given = row_data(plan.spec.entity, plan.columns, record)
        problems: list[tuple[str, str]] = []
        try:
            values = plan.spec.service.clean(plan.session, plan.actor, given.data, partial=False)
        except DomainError as error:
            values = {}
            problems += [(e.field, e.message) for e in error.errors] or [("", error.message)]
        if given.owner:
            owner_id, problem = plan.owners.resolve(given.owner)
            if problem:
                problems.append(("owner", problem))
            values["owner_id"] = owner_id
        if problems:
            outcome.rejected.append(Rejected(number, record, problems))
        else:
            rows.append(Row(number, record, values, given.company))
    return rows


def _existing(plan: Plan, rows: list[Row]) -> dict[tuple[str, str], _Existing]:
    """Live records sharing a key with the rows (the oldest per key), in one query."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for kind, value in plan.spec.dedup_keys(row.values):
            wanted[kind].add(value)
    if not wanted:
        return {}
    model, expressions = plan.spec.model, plan.spec.key_expressions()
    may_update = owner_clause(
        plan.session,
        plan.actor,
        plan.spec.entity,
        "update",
        func.coalesce(model.owner_id, model.created_by),
    )
    columns = (model.id, may_update.label("may_update"), *expressions.values())
    lookups = [_lookup(plan, kind, values, columns) for kind, values in wanted.items()]
    query = union_all(*lookups).order_by(model.id.name)
    found: dict[tuple[str, str], _Existing] = {}
    for record_id, allowed, *keys in plan.session.execute(query):
        for kind, value in zip(expressions, keys, strict=True):
            if value is not None:
                found.setdefault((kind, value), _Existing(record_id, bool(allowed)))
    return found


def _lookup(plan: Plan, kind: str, values: set[str], columns: tuple) -> Select:
    """Live records whose `kind` key is one of `values`.

    An indexed key is probed value by value, a few buffers each. Given a few thousand values
    at once (`= ANY(...)`), the planner, expecting a match for each, reads the whole table
    instead: several times slower at 100k contacts, and slower with every chunk as the table
    grows. OFFSET 0 keeps the probe a subquery per value, not a join it could plan that way.
    A key without an index is compared in one pass over the table.
    """
    model, expression = plan.spec.model, plan.spec.key_expressions()[kind]
    array = bindparam(f"k_{kind}", sorted(values), ARRAY(String))
    live = model.deleted_at.is_(None)
    if kind not in plan.spec.indexed_keys:
        return select(*columns).where(live, expression == any_(array))
    value = func.unnest(array).table_valued("value").render_derived()
    probe = select(*columns).where(live, expression == value.c.value).offset(0).lateral()
    return select(probe).select_from(value).join(probe, true())


def _match(plan: Plan, rows: list[Row], outcome: Outcome) -> tuple[list[Row], dict[int, list[Row]]]:
    """Split rows into new ones and updates of existing records (by id); count the skipped.

    A row matching an earlier row of the file is a duplicate too: skipped, or (update)
    merged into that row. Earlier chunks are already in the database.
    """
    existing = _existing(plan, rows)
    seen: dict[tuple[str, str], Row | _Existing] = {}
    new: list[Row] = []
    updates: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        keys = plan.spec.dedup_keys(row.values)
        target = next((t for k in keys if (t := seen.get(k) or existing.get(k))), None)
        if target is None:
            new.append(row)
        elif plan.on_duplicate == "skip":
            outcome.skipped += 1
        elif isinstance(target, Row):
            target.values = merge(target.values, row.values)
            target.company = row.company or target.company
            outcome.updated += 1
        elif not target.may_update:
            reason = f"Matches {plan.spec.noun} #{target.id}, which you may not edit."
            outcome.rejected.append(Rejected(row.number, row.cells, [("", reason)]))
        else:
            updates[target.id].append(row)
        for key in keys:
            seen.setdefault(key, target or row)
    return new, updates


def _link_companies(plan: Plan, rows: list[Row], outcome: Outcome) -> None:
    assert plan.companies is not None
    ids = plan.companies.resolve({r.company for r in rows if r.company})
    for row in rows:
        if row.company:
            row.values["account_id"] = ids[row.company]
    created = plan.companies.created
    outcome.companies_created += len(created)
    _remember(plan, "account", [account_id for account_id, _ in created], [None] * len(created))


COPY_SLICE = 500  # rows per write to COPY
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """A value in COPY's text format (formatting rows by hand is several times faster than
    adapting each value)."""
    if value is None:
        return "\\N"
    if not value and isinstance(value, list | dict):
        return "{}"  # most rows' tags and custom fields: as an array and as JSON alike
    if isinstance(value, str):
        text_value = value
    elif isinstance(value, bool):
        return "t" if value else "f"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, list):
        quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in value)
        text_value = "{" + ",".join(f'"{v}"' for v in quoted) + "}"
    else:
        text_value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if _COPY_SPECIAL.search(text_value):
        return text_value.translate(_COPY_ESCAPES)
    return text_value


def _insert(plan: Plan, rows: list[Row]) -> int:
    """COPY the new rows in, with ids taken from the table's sequence beforehand.

    The rows go out in slices of COPY_SLICE as they are formatted: PostgreSQL stores the
    first ones while Python formats the next, instead of waiting for the whole chunk. Nothing
    may query the database meanwhile (the connection is busy with the COPY), so the actor's
    id is read before: after a commit, reading it reloads the user.
    """
    if not rows:
        return 0
    spec, actor_id = plan.spec, plan.actor.id
    ids = _new_ids(plan, len(rows))
    columns = ", ".join(("id", *spec.columns, "created_by"))
    raw = plan.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {spec.table} ({columns}) FROM STDIN") as copy:
        lines = (_copy_line(spec, actor_id, i, row) for i, row in zip(ids, rows, strict=True))
        while text_slice := "".join(islice(lines, COPY_SLICE)):
            copy.write(text_slice)
    _remember(plan, spec.entity, ids, [row.number for row in rows])
    return len(rows)


def _new_ids(plan: Plan, count: int) -> list[int]:
    """`count` ids from the table's sequence, in one round trip."""
    return list(
        plan.session.execute(
            text(
                "WITH s AS (SELECT pg_get_serial_sequence(:table, 'id')::regclass AS seq) "
                "SELECT nextval(s.seq) FROM s, generate_series(1, :n)"
            ),
            {"table": plan.spec.table, "n": count},
        ).scalars()
    )


def _copy_line(spec: EntitySpec, actor_id: int, record_id: int, row: Row) -> str:
    """A new record as a line of COPY text: its id, the spec's columns, then created_by (the
    actor, who also owns it unless the row names an owner)."""
    values = {**spec.defaults, **row.values}
    values["owner_id"] = values.get("owner_id") or actor_id
    cells = (_copy_text(values.get(c)) for c in spec.columns)
    return f"{record_id}\t" + "\t".join(cells) + f"\t{actor_id}\n"


def _remember(plan: Plan, entity: str, ids: list[int], numbers: list[int | None]) -> None:
    """Record created ids against the job, in one statement however many."""
    if not ids:
        return
    plan.session.execute(
        text(
            "INSERT INTO import_records (job_id, entity, record_id, action, row_number) "
            "SELECT :job_id, :entity, unnest(CAST(:ids AS bigint[])), 'created', "
            "unnest(CAST(:numbers AS integer[]))"
        ),
        {"job_id": plan.job_id, "entity": entity, "ids": ids, "numbers": numbers},
    )


def _current(plan: Plan, ids: list[int], *, lock: bool) -> dict[int, dict[str, Any]]:
    """The written columns of live records, by id."""
    model, columns = plan.spec.model, plan.spec.columns
    query = select(model.id, *(getattr(model, c) for c in columns)).where(
        model.id == any_(bindparam("ids", ids, ARRAY(model.id.type))),
        model.deleted_at.is_(None),
    )
    if lock:
        query = query.with_for_update()
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in plan.session.execute(query)}


def _diff(plan: Plan, before: dict[str, Any], rows: list[Row]) -> dict[str, list[Any]]:
    after = before
    for row in rows:
        after = merge(after, row.values)
    return {c: [before[c], after[c]] for c in plan.spec.columns if before[c] != after[c]}


def _update(plan: Plan, updates: dict[int, list[Row]], outcome: Outcome) -> None:
    """Apply matched rows to their records; remember each field's value before the first
    change this import made, for undo.

    Re-importing a file matches many records that it leaves as they are, so records are read
    first without a lock, and only those that change are locked and read again.
    """
    if not updates:
        return
    unlocked = _current(plan, list(updates), lock=False)
    candidates = [
        i for i, rows in updates.items() if i in unlocked and _diff(plan, unlocked[i], rows)
    ]
    locked = _current(plan, candidates, lock=True) if candidates else {}
    changed: dict[int, dict[str, list[Any]]] = {}
    for record_id, rows in updates.items():
        before = locked.get(record_id)
        diff = _diff(plan, before, rows) if before is not None else {}
        if diff:
            changed[record_id] = diff
            outcome.updated += len(rows)
        else:
            outcome.skipped += len(rows)  # nothing new (the same file again), or trashed
    _write_updates(plan, changed)
    _remember_updates(plan, changed, {r: rows[0].number for r, rows in updates.items()})


def _write_updates(plan: Plan, changed: dict[int, dict[str, list[Any]]]) -> None:
    """One executemany per set of changed columns."""
    model = plan.spec.model
    table = model.__table__
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for record_id, diff in changed.items():
        names = tuple(sorted(diff))
        groups[names].append({"_id": record_id, **{f"v_{n}": diff[n][1] for n in names}})
    for names, params in groups.items():
        statement = (
            update(model)
            .where(model.id == bindparam("_id"))
            .values(
                {
                    **{n: bindparam(f"v_{n}", type_=table.c[n].type) for n in names},
                    "version": model.version + 1,
                    "updated_at": func.now(),
                }
            )
            .execution_options(synchronize_session=False)
        )
        plan.session.connection().execute(statement, params)


def _remember_updates(
    plan: Plan, changed: dict[int, dict[str, list[Any]]], numbers: dict[int, int]
) -> None:
    """Upsert the update records, keeping the value from before the import's first change
    (a record this import created stays "created": undo trashes it)."""
    if not changed:
        return
    entity = plan.spec.entity
    earlier = {
        record_id: (action, changes)
        for record_id, action, changes in plan.session.execute(
            select(ImportRecord.record_id, ImportRecord.action, ImportRecord.changes).where(
                ImportRecord.job_id == plan.job_id,
                ImportRecord.entity == entity,
                ImportRecord.record_id.in_(list(changed)),
            )
        )
    }
    values = []
    for record_id, diff in changed.items():
        action, previous = earlier.get(record_id, ("updated", {}))
        if action == "created":
            continue
        merged = {name: list(pair) for name, pair in previous.items()}
        for name, (before, after) in diff.items():
            merged[name] = [merged[name][0] if name in merged else before, after]
        values.append(
            {
                "job_id": plan.job_id,
                "entity": entity,
                "record_id": record_id,
                "action": "updated",
                "row_number": numbers[record_id],
                "changes": merged,
            }
        )
    if values:
        statement = pg_insert(ImportRecord)
        statement = statement.on_conflict_do_update(
            index_elements=["job_id", "entity", "record_id"],
            set_={"changes": statement.excluded.changes},
        )
        plan.session.connection().execute(statement, values)
