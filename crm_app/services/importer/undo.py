"""Undoing a whole import in one transaction: records it created go to the trash, records it
updated get back the values they had, field by field, unless someone changed that field since
(their later edit wins)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam, exists, func, select, update
from sqlmodel import Session

from crm_app.models import Contact, ImportJob, ImportRecord, ImportStatus, User
from crm_app.models.base import utcnow
from crm_app.services import audit
from crm_app.services.errors import Conflict
from crm_app.services.importer.entities import SPECS, EntitySpec

BATCH = 2000


def undo(session: Session, *, actor: User, job: ImportJob) -> dict[str, int]:
    """Undo `job` (already checked and locked by the caller); audits it once."""
    if job.undone_at is not None:
        raise Conflict("This import was already undone.")
    if job.status in (ImportStatus.pending, ImportStatus.running):
        raise Conflict("This import is still running. Undo it when it has finished.")
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"import:{job.entity}"))))
    spec = SPECS[job.entity]
    reverted = _revert_updates(session, job, spec)
    trashed = _trash_created(session, job, spec)
    companies = _trash_created(session, job, SPECS["account"]) if spec.entity == "contact" else 0
    job.undone_at = utcnow()
    session.add(job)
    summary = {"import_job": job.id, "file": job.filename, "trashed": trashed, "reverted": reverted}
    if companies:
        summary["companies_trashed"] = companies
    audit.record(session, actor=actor, action="undo_import", entity=job.entity, changes=summary)
    return summary


def _created_ids(job: ImportJob, entity: str):
    return select(ImportRecord.record_id).where(
        ImportRecord.job_id == job.id,
        ImportRecord.entity == entity,
        ImportRecord.action == "created",
    )


def _trash_created(session: Session, job: ImportJob, spec: EntitySpec) -> int:
    """Move the job's new records of this kind to the trash; one statement.

    Companies the import created for contacts' "Company" column are trashed only when no
    live contact (one added by hand since, say) still works there.
    """
    model = spec.model
    statement = (
        update(model)
        .where(model.id.in_(_created_ids(job, spec.entity)), model.deleted_at.is_(None))
        .values(deleted_at=func.now(), version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    if spec.entity == "account" and job.entity == "contact":
        in_use = exists().where(Contact.account_id == model.id, Contact.deleted_at.is_(None))
        statement = statement.where(~in_use)
    return session.execute(statement).rowcount


def _revert_updates(session: Session, job: ImportJob, spec: EntitySpec) -> int:
    """Put back each updated field whose value is still what the import wrote, BATCH records
    at a time (a big import may have updated millions: they are never all in memory)."""
    reverted, after = 0, 0
    while batch := _updated(session, job, spec, after):
        reverted += _revert_batch(session, spec, batch)
        after = batch[-1][0]
    return reverted


def _updated(session: Session, job: ImportJob, spec: EntitySpec, after: int) -> list:
    """The next BATCH (record id, changes) the job recorded for updated records, by id."""
    return list(
        session.execute(
            select(ImportRecord.record_id, ImportRecord.changes)
            .where(
                ImportRecord.job_id == job.id,
                ImportRecord.entity == spec.entity,
                ImportRecord.action == "updated",
                ImportRecord.record_id > after,
            )
            .order_by(ImportRecord.record_id)
            .limit(BATCH)
        ).all()
    )


def _revert_batch(session: Session, spec: EntitySpec, batch: list) -> int:
    """Restore one batch of records; returns how many got a value back."""
    model = spec.model
    table = model.__table__
    ids = bindparam("ids", [r for r, _ in batch], ARRAY(model.id.type))
    columns = [getattr(model, c) for c in spec.columns]
    current = {
        row[0]: dict(zip(spec.columns, row[1:], strict=True))
        for row in session.execute(
            select(model.id, *columns)
            .where(model.id == any_(ids), model.deleted_at.is_(None))
            .with_for_update()
        )
    }
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for record_id, changes in batch:
        now = current.get(record_id)
        if now is None:
            continue  # trashed since: leave it there
        restore = {
            name: before
            for name, (before, after) in changes.items()
            if name in now and now[name] == after
        }
        if restore:
            names = tuple(sorted(restore))
            groups[names].append({"_id": record_id, **{f"v_{n}": restore[n] for n in names}})
    reverted = 0
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
        session.connection().execute(statement, params)
        reverted += len(params)
    return reverted
