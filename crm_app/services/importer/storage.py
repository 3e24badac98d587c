"""Where uploads and reports live: data/imports/, random names, readable by the app only.

Reflex serves its own upload folder to anyone at /_upload, so nothing is ever put there.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import or_, select
from sqlmodel import Session

from crm_app.models import ImportJob, ImportStatus
from crm_app.services.errors import NotFound
from crm_app.settings import get_settings

MAX_UPLOAD_BYTES = 2 * 1024**3  # 2 GB: a few million rows


def imports_dir() -> Path:
    """data/imports, created readable by the app's user only."""
    directory = get_settings().imports_dir
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def new_path(suffix: str) -> Path:
    """A fresh, unguessable file name under data/imports."""
    return imports_dir() / f"{secrets.token_urlsafe(18)}{suffix}"


def create_private(path: Path) -> BinaryIO:
    """Open a new file for writing with mode 0600 (never an existing one)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "wb")


def checked(path: str | Path) -> Path:
    """`path` if it is a file directly under data/imports; NotFound otherwise (a path from
    anywhere else is never read, whatever a caller passes)."""
    resolved = Path(path).resolve()
    if resolved.parent != imports_dir().resolve() or not resolved.is_file():
        raise NotFound("This upload is no longer available. Upload the file again.")
    return resolved


def remove(path: str | Path | None) -> None:
    """Delete an upload or report if it is still there."""
    if path:
        Path(path).unlink(missing_ok=True)


def purge_stale(session: Session, *, older_than_hours: float = 24) -> int:
    """Delete uploads nobody imported (a wizard left halfway) once they are a day old; a
    queued or running import's file and every report stay. Returns how many went."""
    keep = {
        path
        for source, report, status in session.execute(
            select(ImportJob.source_path, ImportJob.report_path, ImportJob.status).where(
                or_(ImportJob.source_path.is_not(None), ImportJob.report_path.is_not(None))
            )
        )
        for path in (
            report,
            source if status in (ImportStatus.pending, ImportStatus.running) else None,
        )
        if path
    }
    cutoff = time.time() - older_than_hours * 3600
    removed = 0
    for path in imports_dir().iterdir():
        if path.is_file() and str(path) not in keep and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
