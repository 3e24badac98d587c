"""Settings -> Import / export: upload a CSV, map its columns, preview, run, watch, undo."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.db import session_scope
from crm_app.models import ImportJob, User
from crm_app.services import auth, importer
from crm_app.services.errors import DomainError, Forbidden, Unauthenticated, ValidationFailed
from crm_app.services.importer import storage
from crm_app.services.permission import can
from crm_app.state.base import AppState, backend_url, error_event, session_token_of

SKIP = "skip"  # a select item's value cannot be empty: "Don't import"
ENTITY_LABELS = {"contact": "Contacts", "account": "Companies"}
DUPLICATE_CHOICES = {
    "skip": "Skip them (keep the existing records as they are)",
    "update": "Update the existing records with the file's values",
    "create": "Create them anyway (allow duplicates)",
}
POLL_SECONDS = 1.0
WATCH_LIMIT_SECONDS = 6 * 3600
FINISHED = ("succeeded", "failed")


@dataclasses.dataclass
class ColumnChoice:
    """A CSV column, an example value, and the field it goes to (or SKIP)."""

    column: str
    sample: str
    field: str


@dataclasses.dataclass
class PreviewCell:
    """A cell of the preview and what is wrong with it ("" when nothing)."""

    text: str
    error: str


@dataclasses.dataclass
class PreviewLine:
    """A row of the preview."""

    number: int
    cells: list[PreviewCell]
    problems: str


@dataclasses.dataclass
class JobView:
    """An import as the page shows it."""

    id: int = 0
    entity: str = ""
    filename: str = ""
    status: str = ""
    percent: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    started: str = ""
    message: str = ""
    report_url: str = ""
    undone: bool = False
    can_undo: bool = False


def _job_view(job: ImportJob) -> JobView:
    done = job.status in FINISHED
    share = 1.0 if done else (job.byte_offset / job.file_size if job.file_size else 0.0)
    return JobView(
        id=job.id or 0,
        entity=ENTITY_LABELS.get(job.entity, job.entity),
        filename=job.filename,
        status="undone" if job.undone_at else str(job.status),
        percent=int(min(share, 1.0) * 100),
        processed=job.processed_rows,
        created=job.created_count,
        updated=job.updated_count,
        skipped=job.skipped_count,
        rejected=job.error_count,
        started=job.created_at.strftime("%Y-%m-%d %H:%M UTC") if job.created_at else "",
        message=job.message or "",
        report_url=backend_url(routes.import_rejected(job.id or 0)) if job.report_path else "",
        undone=job.undone_at is not None,
        can_undo=done and job.undone_at is None and (job.created_count + job.updated_count) > 0,
    )


def _as_actor(token: str | None, work: Callable[[Session, User], Any]) -> Any:
    """Run `work` in a transaction as the signed-in user (for background events, in a thread)."""
    with session_scope() as session:
        user = auth.authenticate(session, token)
        if user is None:
            raise Unauthenticated()
        return work(session, user)


class ImportState(AppState):
    """The import wizard, the job being watched and the recent imports."""

    entity: str = "contact"
    entities: list[str] = []  # what the user may import: contact, account
    exports: list[str] = []  # what the user may export
    uploading: bool = False
    upload_error: str = ""
    filename: str = ""
    columns: list[ColumnChoice] = []
    field_options: list[list[str]] = []  # [key, label]
    preview: list[PreviewLine] = []
    estimated_rows: int = 0
    on_duplicate: str = "skip"
    mapping_error: str = ""
    job: JobView = JobView()
    jobs: list[JobView] = []
    _upload_path: str = ""
    _watching: int = 0

    # ---- loading ---------------------------------------------------------------------------

    def _reload(self, session: Session, actor: User) -> None:
        self._show_lists(*_lists(session, actor))

    def _show_lists(self, entities: list[str], exports: list[str], jobs: list[JobView]) -> None:
        self.entities, self.exports, self.jobs = entities, exports, jobs
        if entities and self.entity not in entities:
            self.entity = entities[0]

    @rx.event
    def load(self):
        """on_load: permissions, recent imports, and the watch of a running one."""
        failure = self._load_page(self._reload)
        if failure is not None:
            return failure
        if not self.job.id:
            # a new tab shows the user's import that is still running
            self.job = next((j for j in self.jobs if j.status not in FINISHED), JobView())
        if self.job.id and self.job.status not in FINISHED:
            return ImportState.watch
        return None

    @rx.event
    def choose_entity(self, entity: str):
        """Import contacts or companies (an uploaded file's columns are guessed again)."""
        if entity not in ENTITY_LABELS or entity == self.entity:
            return None
        self.entity = entity
        if self._upload_path:
            return self._inspect(None)
        return None

    def _inspect(self, mapping: dict[str, str] | None):
        """Show the upload's columns and first rows for this mapping (guessed when None)."""
        try:
            with self._actor_session() as (session, actor):
                result = importer.inspect_upload(
                    session,
                    actor=actor,
                    entity=self.entity,
                    path=self._upload_path,
                    mapping=mapping,
                )
        except DomainError as error:
            return error_event(error)
        self._show_preview(result)
        return None

    # ---- upload and mapping ----------------------------------------------------------------

    def _forget_upload(self) -> None:
        storage.remove(self._upload_path)
        self._upload_path = ""
        self.filename = ""
        self.columns = []
        self.preview = []
        self.mapping_error = ""
        self.upload_error = ""

    def _show_preview(self, result: importer.UploadPreview) -> None:
        first = result.rows[0].cells if result.rows else []
        self.columns = [
            ColumnChoice(c, first[i] if i < len(first) else "", result.mapping.get(c, SKIP))
            for i, c in enumerate(result.columns)
        ]
        self.field_options = [[t.key, t.label] for t in result.choices]
        self.preview = [
            PreviewLine(
                number=row.number,
                cells=[
                    PreviewCell(row.cells[i] if i < len(row.cells) else "", row.errors.get(c, ""))
                    for i, c in enumerate(result.columns)
                ],
                problems="; ".join(row.problems),
            )
            for row in result.rows
        ]
        self.estimated_rows = result.estimated_rows
        self.mapping_error = ""

    @rx.event(background=True)
    async def receive_upload(self, chunks: rx.UploadChunkIterator):
        """Stream the uploaded CSV to a private file, then show its columns and first rows."""
        async with self:
            token, entity = session_token_of(self), self.entity
            self._forget_upload()
            self.uploading = True
        path = storage.new_path(".csv")
        try:
            await asyncio.to_thread(_as_actor, token, lambda s, u: _may_import(s, u, entity))
            name = await _save_chunks(chunks, path)
            result = await asyncio.to_thread(
                _as_actor,
                token,
                lambda s, u: importer.inspect_upload(s, actor=u, entity=entity, path=path),
            )
        except (DomainError, OSError) as error:
            storage.remove(path)
            async with self:
                self.uploading = False
                self.upload_error = getattr(error, "message", "") or "The upload failed."
            return None
        async with self:
            self.uploading = False
            self._upload_path = str(path)
            self.filename = name
            self._show_preview(result)
        return None

    @rx.event
    def choose_field(self, column: str, key: str):
        """Import `column` into field `key` (or not at all); the preview is checked again."""
        if not self._upload_path:
            return None
        mapping = {c.column: c.field for c in self.columns}
        if column not in mapping:
            return None
        mapping[column] = key
        mapping = {c: k for c, k in mapping.items() if k != SKIP}
        try:
            with self._actor_session() as (session, actor):
                result = importer.inspect_upload(
                    session,
                    actor=actor,
                    entity=self.entity,
                    path=self._upload_path,
                    mapping=mapping,
                )
        except DomainError as error:
            return error_event(error)
        self._show_preview(result)
        return None

    @rx.event
    def choose_on_duplicate(self, value: str):
        """What to do with rows matching existing records."""
        if value in DUPLICATE_CHOICES:
            self.on_duplicate = value

    @rx.event
    def cancel_upload(self):
        """Start over with another file."""
        self._forget_upload()

    # ---- the job ---------------------------------------------------------------------------

    @rx.event
    def start(self):
        """Queue the import and watch its progress."""
        if not self._upload_path:
            return rx.toast.error("Upload a CSV file first.")
        mapping = {c.column: c.field for c in self.columns if c.field != SKIP}
        try:
            with self._actor_session() as (session, actor):
                job = importer.start_import(
                    session,
                    actor=actor,
                    entity=self.entity,
                    path=self._upload_path,
                    filename=self.filename,
                    mapping=mapping,
                    on_duplicate=self.on_duplicate,
                )
                self.job = _job_view(job)
                self._reload(session, actor)
        except ValidationFailed as error:
            self.mapping_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        self._upload_path = ""  # the job owns the file now
        self.columns, self.preview, self.filename = [], [], ""
        return ImportState.watch

    @rx.event(background=True)
    async def watch(self):
        """Refresh the watched job every second until it ends or the user leaves the page."""
        async with self:
            self._watching += 1
            ticket, job_id, token = self._watching, self.job.id, session_token_of(self)
        waited = 0.0
        while job_id and waited < WATCH_LIMIT_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            waited += POLL_SECONDS
            try:
                view = await asyncio.to_thread(
                    _as_actor,
                    token,
                    lambda s, u: _job_view(importer.get_job(s, actor=u, job_id=job_id)),
                )
            except DomainError:
                return
            async with self:
                if (
                    ticket != self._watching
                    or self.router.url.path.rstrip("/") != routes.SETTINGS_IMPORT
                ):
                    return  # another watch took over, or the user left the page
                self.job = view
            if view.status in FINISHED:
                lists = await asyncio.to_thread(_as_actor, token, _lists)
                async with self:
                    self._show_lists(*lists)
                return

    @rx.event
    def undo(self, job_id: int):
        """Undo a whole import (the page asked for confirmation)."""
        try:
            with self._actor_session() as (session, actor):
                importer.undo_import(session, actor=actor, job_id=int(job_id))
                self._reload(session, actor)
                if self.job.id == int(job_id):
                    self.job = _job_view(importer.get_job(session, actor=actor, job_id=self.job.id))
        except DomainError as error:
            return error_event(error)
        return rx.toast.success("Import undone.")

    @rx.event
    def dismiss_job(self):
        """Hide the finished job's panel."""
        self.job = JobView()

    # ---- views -----------------------------------------------------------------------------

    @rx.var
    def may_import(self) -> bool:
        """Whether the user may import anything."""
        return len(self.entities) > 0

    @rx.var
    def errors_in_preview(self) -> int:
        """How many previewed rows would be rejected."""
        return sum(1 for line in self.preview if line.problems or any(c.error for c in line.cells))

    @rx.var
    def export_links(self) -> list[list[str]]:
        """[label, url] of each export the user may download."""
        urls = {"contact": "contacts", "account": "accounts"}
        return [
            [f"Export all {ENTITY_LABELS[e].lower()}", backend_url(routes.export_csv(urls[e]))]
            for e in self.exports
        ]


def _lists(session: Session, actor: User) -> tuple[list[str], list[str], list[JobView]]:
    """What the user may import and export, and their recent imports."""
    entities = importer.can_import(session, actor)
    exports = [e for e in ("contact", "account") if can(session, actor, e, "export")]
    jobs = [_job_view(j) for j in importer.list_imports(session, actor=actor)] if entities else []
    return entities, exports, jobs


def _may_import(session: Session, actor: User, entity: str) -> None:
    if entity not in importer.can_import(session, actor):
        raise Forbidden()


async def _save_chunks(chunks: rx.UploadChunkIterator, path) -> str:
    """Write the streamed upload to `path` (mode 0600); returns the file's name."""
    name = ""
    size = 0
    with storage.create_private(path) as handle:
        async for chunk in chunks:
            name = name or chunk.filename
            size += len(chunk.data)
            if size > storage.MAX_UPLOAD_BYTES:
                raise ValidationFailed.for_field("file", "This file is too large (2 GB at most).")
            await asyncio.to_thread(handle.write, chunk.data)
    if size == 0:
        raise ValidationFailed.for_field("file", "This file is empty.")
    return name.rsplit("/", 1)[-1] or "import.csv"
