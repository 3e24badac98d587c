"""Stage 2 of an import: the job. `start_import` records it and queues it; the worker's
`run_import` streams the file chunk by chunk, committing each chunk with the job's progress,
and writes the rejected rows to a CSV report."""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import closing
from itertools import islice
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from crm_app.auth.permissions import Scope
from crm_app.db import get_engine
from crm_app.models import ImportJob, ImportStatus, User
from crm_app.models.base import utcnow
from crm_app.services import audit
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.services.exporter import escape_cell
from crm_app.services.importer import reader, storage
from crm_app.services.importer.chunk import Outcome, Plan, Rejected, Row, import_rows, validate
from crm_app.services.importer.entities import spec_for
from crm_app.services.importer.fields import targets
from crm_app.services.importer.preview import build_plan, check_mapping, read_layout
from crm_app.services.permission import require, scope_for

log = logging.getLogger(__name__)

ON_DUPLICATE = ("skip", "update", "create")
CHUNK_ROWS = 5000
PARALLEL_BYTES = 4 * 1024 * 1024  # about 40,000 rows: worth starting a validator process
LOCAL_CHUNKS = 2  # validated here while the validator process starts
UNEXPECTED = "The import stopped on an unexpected error; the rows before it were imported."
Progress = Callable[[ImportJob], None]


def start_import(
    session: Session,
    *,
    actor: User,
    entity: str,
    path: str | Path,
    filename: str,
    mapping: dict[str, str],
    on_duplicate: str = "skip",
    enqueue: bool = True,
) -> ImportJob:
    """Record an import of the upload at `path` and queue it (in the caller's transaction).

    `enqueue=False` leaves the job for the caller to run (`crm import` runs it in place).
    """
    spec = spec_for(entity)
    require(session, actor, spec.entity, "import")
    if on_duplicate not in ON_DUPLICATE:
        raise ValidationFailed.for_field("on_duplicate", "Choose skip, update or create.")
    if on_duplicate == "update" and scope_for(session, actor, spec.entity, "update") is Scope.NONE:
        raise ValidationFailed.for_field(
            "on_duplicate", f"You may not edit {spec.plural}: choose to skip or create duplicates."
        )
    layout = read_layout(path)
    mapping = check_mapping(spec, layout.columns, mapping, targets(session, spec.entity))
    job = ImportJob(
        entity=spec.entity,
        filename=Path(filename or "import.csv").name[:255],
        status=ImportStatus.pending,
        total_rows=max(0, reader.count_lines(layout.path) - 1),
        mapping=mapping,
        options={
            "on_duplicate": on_duplicate,
            "encoding": layout.fmt.encoding,
            "delimiter": layout.fmt.delimiter,
            "columns": layout.columns,
        },
        source_path=str(layout.path),
        file_size=layout.path.stat().st_size,
        byte_offset=layout.data_offset,
        created_by=actor.id,
    )
    session.add(job)
    session.flush()
    if enqueue:
        from crm_app.jobs import app as jobs
        from crm_app.jobs.tasks import IMPORT_CSV, IMPORTS_QUEUE

        # One run at a time per import: a retried job waits for the previous run to end.
        jobs.defer(session, IMPORT_CSV, queue=IMPORTS_QUEUE, lock=f"import:{job.id}", job_id=job.id)
    return job


def run_import(
    job_id: int,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Progress | None = None,
) -> bool:
    """Run (or resume) an import in its own transactions; False when it paused on request.

    A big file is validated in a second process, a chunk ahead, while this one writes: the
    rows' validation (Python) and their storing (mostly PostgreSQL) overlap.
    """
    with Session(get_engine()) as session:
        return process_import(
            session, job_id, should_stop=should_stop, on_progress=on_progress, parallel=True
        )


class JobStopped(Exception):
    """The job cannot go on (its user or file is gone, say); the message says why."""


def process_import(
    session: Session,
    job_id: int,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Progress | None = None,
    chunk_rows: int | None = None,
    parallel: bool = False,
) -> bool:
    """Import the remaining chunks of a job, committing `session` after each one.

    With `parallel`, a file of more than PARALLEL_BYTES is validated in another process.

    Returns True when the job is over (or was already), False when `should_stop` paused it
    between chunks. A database connection lost midway propagates, so the queue retries the
    job; any other error marks the job failed.
    """
    job = session.get(ImportJob, job_id, with_for_update=True)
    if job is None or job.status in (ImportStatus.succeeded, ImportStatus.failed):
        session.rollback()
        return True
    try:
        plan = job_plan(session, job)
        job.status = ImportStatus.running
        job.started_at = job.started_at or utcnow()
        session.commit()
        report = _Report(job)
        elsewhere = parallel and job.file_size - job.byte_offset > PARALLEL_BYTES
        size = chunk_rows or CHUNK_ROWS
        for chunk, rows, outcome in _validated(plan, job, size, elsewhere=elsewhere):
            _begin_chunk(session, job.entity)
            import_rows(plan, rows, outcome)
            report.add(outcome.rejected, plan)
            _advance(job, outcome, chunk, report)
            session.commit()
            if on_progress:
                on_progress(job)
            if should_stop():
                return False
        _finish(session, job, plan.actor, ImportStatus.succeeded)
    except OperationalError:
        session.rollback()
        raise
    except (DomainError, JobStopped) as error:
        session.rollback()
        _fail(session, job_id, str(error))
    except Exception:
        session.rollback()
        log.exception("Import %s failed", job_id)
        _fail(session, job_id, UNEXPECTED)
        raise
    return True


def job_plan(session: Session, job: ImportJob) -> Plan:
    """How this job reads and imports rows; JobStopped when it cannot go on."""
    actor = session.get(User, job.created_by) if job.created_by else None
    if actor is None or not actor.is_active:
        raise JobStopped("The user who started this import can no longer sign in.")
    require(session, actor, job.entity, "import")
    if not job.source_path or not Path(job.source_path).is_file():
        raise JobStopped("The uploaded file is gone; upload it again.")
    return build_plan(
        session,
        actor=actor,
        spec=spec_for(job.entity),
        columns=job.options["columns"],
        mapping=job.mapping,
        on_duplicate=job.options["on_duplicate"],
        job_id=job.id or 0,
    )


Validated = tuple[reader.Chunk, list[Row], Outcome]


def validate_chunk(plan: Plan, chunk: reader.Chunk) -> Validated:
    """The chunk, its valid rows, and what was rejected."""
    outcome = Outcome()
    return chunk, validate(plan, chunk, outcome), outcome


def job_chunks(
    job: ImportJob, rows: int, start: tuple[int, int] | None = None
) -> Iterator[reader.Chunk]:
    """The job's file in chunks of `rows` records, from where the job stands (or from `start`:
    a byte offset and the number of the row there)."""
    offset, first_row = start or (job.byte_offset, job.next_row)
    return reader.iter_chunks(
        Path(job.source_path or ""),
        reader.CsvFormat(job.options["encoding"], job.options["delimiter"]),
        start=offset,
        first_row=first_row,
        rows=rows,
    )


def _validated(plan: Plan, job: ImportJob, rows: int, *, elsewhere: bool) -> Iterator[Validated]:
    """Each chunk with its valid rows, validated here or, `elsewhere`, by a validator process
    working a chunk ahead (see `validator`).

    The validator process needs a second or two to start (importing the app), so the first
    LOCAL_CHUNKS are validated here meanwhile, and it starts after them.
    """
    chunks = job_chunks(job, rows)
    if not elsewhere:
        for chunk in chunks:
            yield validate_chunk(plan, chunk)
        return
    from crm_app.services.importer.validator import ValidatorProcess

    with closing(chunks):
        first = list(islice(chunks, LOCAL_CHUNKS))
    if not first:
        return
    with ValidatorProcess(job.id or 0, rows, (first[-1].end_offset, first[-1].next_row)) as results:
        for chunk in first:
            yield validate_chunk(plan, chunk)
        yield from results


def _begin_chunk(session: Session, entity: str) -> None:
    """Chunks of concurrent imports of one entity take turns, so each sees the other's rows
    when it looks for duplicates. A chunk's commit need not wait for the disk: if the server
    crashed, the chunk's progress would be lost with it, and the chunk imported again."""
    session.execute(text("SET LOCAL synchronous_commit TO off"))
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"import:{entity}"}
    )


def _advance(job: ImportJob, outcome: Outcome, chunk: reader.Chunk, report: _Report) -> None:
    job.processed_rows += outcome.processed
    job.created_count += outcome.created
    job.updated_count += outcome.updated
    job.skipped_count += outcome.skipped
    job.error_count += len(outcome.rejected)
    job.companies_created += outcome.companies_created
    job.byte_offset = chunk.end_offset
    job.next_row = chunk.next_row
    job.report_path = str(report.path) if report.path else None
    job.report_bytes = report.size


def _summary(job: ImportJob) -> dict[str, object]:
    summary: dict[str, object] = {
        "import_job": job.id,
        "file": job.filename,
        "status": str(job.status),
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.error_count,
    }
    if job.companies_created:
        summary["companies_created"] = job.companies_created
    return summary


def _finish(session: Session, job: ImportJob, actor: User | None, status: ImportStatus) -> None:
    """Close the job, audit it once, and delete the upload (the report stays)."""
    job.status = status
    job.finished_at = utcnow()
    job.total_rows = job.processed_rows
    audit.record(session, actor=actor, action="import", entity=job.entity, changes=_summary(job))
    session.commit()
    storage.remove(job.source_path)


def _fail(session: Session, job_id: int, message: str) -> None:
    job = session.get(ImportJob, job_id, with_for_update=True, populate_existing=True)
    if job is None:
        return
    job.message = message[:1000]
    actor = session.get(User, job.created_by) if job.created_by else None
    _finish(session, job, actor, ImportStatus.failed)


class _Report:
    """The rejected rows as CSV (the file's columns, then why), resumable at `report_bytes`."""

    def __init__(self, job: ImportJob) -> None:
        self.columns: list[str] = job.options["columns"]
        self.path = Path(job.report_path) if job.report_path else None
        self.size = job.report_bytes
        if self.path is not None and self.path.exists():
            os.truncate(self.path, self.size)  # drop rows of a chunk that was not committed

    def add(self, rejected: list[Rejected], plan: Plan) -> None:
        """Append rows (escaped so a spreadsheet never runs them as formulas)."""
        if not rejected:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if self.size == 0:
            buffer.write("\ufeff")  # so spreadsheet apps read UTF-8
            writer.writerow(["Row", *self.columns, "Errors"])
        for row in rejected:
            cells = [escape_cell(c) for c in row.cells] + [""] * (
                len(self.columns) - len(row.cells)
            )
            writer.writerow([row.number, *cells[: len(self.columns)], row.reasons(plan.labels)])
        if self.path is None:
            self.path = storage.new_path("-rejected.csv")
            handle = storage.create_private(self.path)
        else:
            handle = self.path.open("ab")
        with handle:
            handle.write(buffer.getvalue().encode("utf-8"))
        self.size = self.path.stat().st_size
