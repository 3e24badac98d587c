"""Heavy scenarios: importing and exporting 100k contacts, and the backend's memory per tab.

The memory figures (MB) do not fit the table of timings: they are printed on stdout as
"export: backend RSS ..." and "contacts tabs: backend RSS ..." lines.
"""

from __future__ import annotations

import contextlib
import csv
import random
import shutil
import threading
import time
from pathlib import Path

import httpx

from bench.harness import Measure, Skip

IMPORT_ROWS = 100_000
EXPORT_COLUMNS = "first_name,last_name,email,phone,company,owner,updated_at"
TABS = 10
MB = 2**20


# -- the backend's memory -----------------------------------------------------------------


def _backend_processes() -> list:
    """The production server: our child running `reflex` and all its descendants."""
    try:
        import psutil
    except ImportError as error:
        raise Skip("psutil is not installed") from error
    for child in psutil.Process().children():
        try:
            if "reflex" in " ".join(child.cmdline()):
                return [child, *child.children(recursive=True)]
        except psutil.Error:
            continue
    raise Skip("no reflex server process among this process's children")


def _backend_rss() -> int:
    """The summed resident memory (bytes) of the server's processes, as they are now."""
    import psutil

    total = 0
    for process in _backend_processes():
        with contextlib.suppress(psutil.Error):  # a process that just ended
            total += process.memory_info().rss
    return total


class _PeakRss:
    """Samples the backend's RSS every 50 ms in a thread while the `with` block runs."""

    def __enter__(self) -> _PeakRss:
        self.before = self.peak = _backend_rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _backend_rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.after = _backend_rss()
        self.peak = max(self.peak, self.after)


# -- import -------------------------------------------------------------------------------


def _import_csv_path() -> Path:
    from crm_app.settings import PROJECT_ROOT

    return PROJECT_ROOT / "data" / "bench" / "contacts-100k.csv"


def _generate_import_csv(path: Path) -> None:
    """100,000 contact rows; every 10th repeats an existing contact's e-mail (a duplicate).

    Deterministic (fixed seed, existing records in id order). Half the rows name an existing
    company, half one of 2,000 new ones ("Newco N"), which the import creates.
    """
    from sqlalchemy import text

    from crm_app.db import get_engine

    with get_engine().connect() as connection:
        existing = connection.execute(
            text(
                "SELECT first_name, last_name, email, phone FROM contacts"
                " WHERE email IS NOT NULL AND deleted_at IS NULL ORDER BY id"
            )
        ).all()
        companies = connection.scalars(
            text("SELECT name FROM accounts WHERE deleted_at IS NULL ORDER BY id")
        ).all()
    if not existing or not companies:
        raise AssertionError("no contacts or companies to duplicate: is the data set there?")
    rng = random.Random(7)
    first = ["Ada", "Alan", "Alice", "Amara", "Ana", "Andre", "Ben", "Bianca", "Carlos", "Chen"]
    last = ["Adams", "Alvarez", "Baker", "Bauer", "Becker", "Bennett", "Brown", "Campbell"]
    new_companies = [f"Newco {i}" for i in range(2000)]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Email Address", "Phone Number",
                         "Job Title", "Company", "Tags", "Lifecycle stage"])  # fmt: skip
        for i in range(IMPORT_ROWS):
            if i % 10 == 0:
                fn, ln, email, phone = existing[(i // 10) % len(existing)]
            else:
                fn, ln = rng.choice(first), rng.choice(last)
                email = f"{fn}.{ln}.{i}@import{i % 97}.example".lower()
                phone = f"+1 415 {500 + i // 10000:03d} {i % 10000:04d}"
            title = rng.choice(["CEO", "CTO", "Buyer", "Engineer", ""])
            company = rng.choice(companies) if rng.random() < 0.5 else rng.choice(new_companies)
            tags, stage = rng.choice(["", "vip", "a;b"]), rng.choice(["lead", "customer", ""])
            writer.writerow([fn, ln, email, phone or "", title, company, tags, stage])
    partial.replace(path)


def _contact_counts() -> tuple[int, int]:
    """(live contacts, all contact rows including the trash)."""
    from sqlalchemy import text

    from crm_app.db import get_engine

    with get_engine().connect() as connection:
        live, total = connection.execute(
            text("SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FROM contacts")
        ).one()
    return live, total


def _purge_undone(job_id: int) -> None:
    """Delete for good what the undone import trashed, and the job with its records.

    Undo only moves created contacts and companies to the trash (as a user's undo does);
    the benchmark deletes them so that the database does not grow from run to run.
    """
    from sqlalchemy import text

    from crm_app.db import session_scope
    from crm_app.models import ImportJob
    from crm_app.services.importer import storage

    created = text(
        "SELECT record_id FROM import_records"
        " WHERE job_id = :job AND entity = :entity AND action = 'created'"
    )
    with session_scope() as session:
        for table, entity in (("contacts", "contact"), ("accounts", "account")):
            # The ids first: with the fresh rows not analyzed yet, a join plans as a nested
            # loop over both 90k-row sets (minutes); `= ANY` probes the primary key instead.
            ids = list(session.scalars(created, {"job": job_id, "entity": entity}))
            session.execute(
                text(f"DELETE FROM {table} WHERE deleted_at IS NOT NULL AND id = ANY(:ids)"),
                {"ids": ids},
            )
        job = session.get(ImportJob, job_id)
        storage.remove(job.report_path)
        storage.remove(job.source_path)
        session.delete(job)  # its import_records go with it (ON DELETE CASCADE)


def import_contacts_dedup(ctx) -> Measure:
    """Importing a 100,000-row contacts CSV (~10% duplicate e-mails, skipped) in-process, as
    the CLI does (inspect -> start -> run, synchronously); only the run is timed.

    After each run the import is undone and checked: the live contacts are back to their
    count. Undo trashes what the import created (contacts, and the companies it created for
    the "Company" column) rather than deleting it, so the benchmark then deletes those
    trashed rows, the job and its records for good: nothing accumulates across runs except
    two audit events per run (import and undo) and the few tags the file names (created on
    the first run, reused after).
    """
    from crm_app.db import session_scope
    from crm_app.models import ImportJob, ImportStatus
    from crm_app.services import importer
    from crm_app.services.auth import find_user_by_email
    from crm_app.services.importer import storage

    source = _import_csv_path()
    if not source.is_file():
        _generate_import_csv(source)
    baseline = _contact_counts()

    def measure() -> float:
        upload = storage.new_path(".csv")  # the run removes its upload, as after a web upload
        with source.open("rb") as src, storage.create_private(upload) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        with session_scope() as session:
            actor = find_user_by_email(session, ctx.email)
            mapping = importer.inspect_upload(
                session, actor=actor, entity="contact", path=upload
            ).mapping
            job_id = importer.start_import(
                session, actor=actor, entity="contact", path=upload, filename=source.name,
                mapping=mapping, on_duplicate="skip", enqueue=False,
            ).id  # fmt: skip
        try:
            started = time.perf_counter()
            finished = importer.run_import(job_id)
            took = time.perf_counter() - started
            with session_scope() as session:
                job = session.get(ImportJob, job_id)
                status = job.status
                counts = (job.created_count, job.skipped_count, job.error_count)
                companies = job.companies_created
                if finished and status == ImportStatus.succeeded:
                    importer.undo_import(
                        session, actor=find_user_by_email(session, ctx.email), job_id=job_id
                    )
        finally:
            _purge_undone(job_id)
        if not finished or status != ImportStatus.succeeded:
            raise AssertionError(f"import {job_id} ended {status}")
        created, skipped, rejected = counts
        print(
            f"import: {created:,} contacts created, {skipped:,} duplicates skipped, "
            f"{rejected:,} rejected, {companies:,} companies created in {took:.1f} s; undone",
            flush=True,
        )
        if (after := _contact_counts()) != baseline:
            raise AssertionError(f"contacts (live, all) {after} after undo, not {baseline}")
        return took

    return measure


# -- export -------------------------------------------------------------------------------


def export_contacts_http(ctx) -> Measure:
    """GET /exports/contacts.csv (the list view's columns) streamed to the end over HTTP; the
    backend's RSS is sampled during each download and its growth printed."""
    client = ctx.stack.enter_context(httpx.Client(base_url=ctx.base_url, timeout=300))
    headers = {"Authorization": f"Bearer {ctx.api_key}"}
    start_rss = _backend_rss()

    def measure() -> float:
        lines = size = 0
        with _PeakRss() as rss:
            started = time.perf_counter()
            with client.stream(
                "GET", "/exports/contacts.csv", params={"columns": EXPORT_COLUMNS}, headers=headers
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise AssertionError(
                        f"export answered {response.status_code}: {response.text[:200]}"
                    )
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            took = time.perf_counter() - started
        if lines < 100_000:
            raise AssertionError(f"the export has {lines:,} lines, not 100,000 rows")
        grew, kept = (rss.peak - rss.before) / MB, (rss.after - start_rss) / MB
        print(
            f"export: {lines - 1:,} rows, {size / 1e6:.1f} MB in {took:.2f} s; backend RSS "
            f"{rss.before / MB:.0f} -> peak {rss.peak / MB:.0f} MB (+{grew:.0f} MB), "
            f"{rss.after / MB:.0f} MB after (+{kept:.0f} MB since before the first run)",
            flush=True,
        )
        return took

    return measure


# -- memory per tab -----------------------------------------------------------------------


def backend_memory_per_tab(ctx) -> Measure:
    """Chromium: opening /contacts in 10 tabs of one signed-in context until each shows its
    first row; times the 10 openings and prints the backend's RSS growth per tab."""
    from bench.contacts import _first_row_name, _signed_in_context

    context = _signed_in_context(ctx)

    def measure() -> float:
        pages = []
        time.sleep(1)  # let the sign-in's work settle before the baseline
        before = _backend_rss()
        try:
            started = time.perf_counter()
            for _ in range(TABS):
                page = context.new_page()
                pages.append(page)
                page.goto(f"{ctx.base_url}/contacts")
                _first_row_name(page)
            took = time.perf_counter() - started
            time.sleep(1)  # the tabs' states are stored; let the backend settle
            after = _backend_rss()
        finally:
            for page in pages:
                page.close()
        print(f"contacts tabs: backend RSS {before / MB:.0f} -> {after / MB:.0f} MB with "
              f"{TABS} signed-in /contacts tabs: {(after - before) / MB / TABS:.1f} MB per tab",
              flush=True)  # fmt: skip
        return took

    return measure
