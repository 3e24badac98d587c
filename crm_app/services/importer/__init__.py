"""CSV import of contacts and companies.

1. Upload: the browser streams the file to data/imports/ (random name, mode 0600).
2. `inspect_upload`: the header, a guessed column -> field mapping (built-in fields by name
   and common synonyms, custom fields by key or label) and the first rows validated by the
   same `clean()` as the forms, with their errors.
3. `start_import`: the ImportJob row and its procrastinate job, in one transaction.
4. The job (`run_import`) reads the file in chunks (a big file is validated by a second
   process a chunk ahead: `validator`); per chunk, in one transaction: validate,
   match duplicates against the database and the file (contacts by e-mail, then phone;
   companies by domain or, without one, by name) with set-based SQL, COPY new records in,
   update matched ones when asked (skip | update | create), remember each record touched,
   and save the progress. Importing the same file twice with skip (or update) adds nothing.
   A contacts file's "Company" column links each contact to a live company with that name
   or domain, creating the company when there is none (if the user may create companies).
5. `undo_import`: one transaction trashes what the import created and restores what it
   updated. The import and its undo are each one audit event.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from crm_app.models import ImportJob, Role, User
from crm_app.models.base import MAX_ID
from crm_app.services.errors import Forbidden, NotFound
from crm_app.services.importer import storage, undo
from crm_app.services.importer.entities import spec_for
from crm_app.services.importer.preview import PreviewRow, UploadPreview, inspect_upload
from crm_app.services.importer.run import ON_DUPLICATE, process_import, run_import, start_import
from crm_app.services.permission import can, require

__all__ = [
    "ON_DUPLICATE",
    "PreviewRow",
    "UploadPreview",
    "can_import",
    "get_job",
    "inspect_upload",
    "list_imports",
    "process_import",
    "rejected_report",
    "run_import",
    "start_import",
    "storage",
    "undo_import",
]


def can_import(session: Session, actor: User) -> list[str]:
    """The entities ("contact", "account") the actor may import."""
    return [e for e in ("contact", "account") if can(session, actor, e, "import")]


def get_job(session: Session, *, actor: User, job_id: int, lock: bool = False) -> ImportJob:
    """An import the actor started (any import, for an admin); NotFound otherwise."""
    if not 0 < job_id <= MAX_ID:
        raise NotFound("No such import.")
    job = session.get(ImportJob, job_id, with_for_update=lock)
    if job is None or (actor.role != Role.admin and job.created_by != actor.id):
        raise NotFound("No such import.")
    return job


def list_imports(session: Session, *, actor: User, limit: int = 20) -> list[ImportJob]:
    """The actor's recent imports, newest first (everyone's, for an admin)."""
    if not can_import(session, actor):
        raise Forbidden()
    query = select(ImportJob).order_by(ImportJob.id.desc()).limit(max(1, min(limit, 100)))
    if actor.role != Role.admin:
        query = query.where(ImportJob.created_by == actor.id)
    return list(session.exec(query).all())


def rejected_report(session: Session, *, actor: User, job_id: int) -> tuple[ImportJob, Path]:
    """The job and its report of rejected rows; NotFound when it has none."""
    job = get_job(session, actor=actor, job_id=job_id)
    if not job.report_path or not Path(job.report_path).is_file():
        raise NotFound("This import rejected no rows.")
    return job, Path(job.report_path)


def undo_import(session: Session, *, actor: User, job_id: int) -> ImportJob:
    """Undo a finished import in the caller's transaction (see `undo.undo`)."""
    job = get_job(session, actor=actor, job_id=job_id, lock=True)
    require(session, actor, spec_for(job.entity).entity, "import")
    undo.undo(session, actor=actor, job=job)
    return job
