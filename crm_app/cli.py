"""The `crm` command: run the app and administer it without a browser."""

from __future__ import annotations

import argparse
import logging
import sys

from crm_app.services.errors import DomainError


def _cmd_migrate(_: argparse.Namespace) -> int:
    from crm_app.db import migrate

    migrate()
    print("Database schema is up to date.")
    return 0


def _cmd_setup(args: argparse.Namespace) -> int:
    """Migrate, seed the defaults and, on first start, the demo workspace."""
    from crm_app.db import database_url, migrate, session_scope
    from crm_app.seeding.defaults import ensure_defaults
    from crm_app.seeding.demo import demo_admin_hint, seed_demo, workspace_is_empty
    from crm_app.settings import get_settings

    get_settings().resolved_secret_key()  # refuses a known default, or creates data/secret_key
    database_url()  # starts the embedded PostgreSQL when DATABASE_URL is unset
    migrate()
    with session_scope() as session:
        ensure_defaults(session)
        first_start = workspace_is_empty(session)
    if first_start and not args.no_demo:
        with session_scope() as session:
            email, password = seed_demo(session)
        print("\n  A demo workspace was created. Sign in as its admin:")
        print(f"    e-mail:   {email}")
        print(f"    password: {password}\n")
    else:
        hint = demo_admin_hint()
        if hint:
            print(f"\n  {hint}\n")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from crm_app.server import serve
    from crm_app.settings import get_settings

    code = _cmd_setup(args)
    if code:
        return code
    settings = get_settings()
    print(
        f"  Serving the CRM at {settings.base_url}  (API docs: {settings.base_url}/api/v1/docs)\n"
    )
    return serve(dev=args.dev)


def _cmd_serve(args: argparse.Namespace) -> int:
    from crm_app.db import database_url
    from crm_app.server import serve

    database_url()
    return serve(dev=args.dev)


def _cmd_user_create(args: argparse.Namespace) -> int:
    from crm_app.db import session_scope
    from crm_app.services.user import create_user

    if not args.password_stdin:
        print("Pass the password on standard input with --password-stdin.", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    with session_scope() as session:
        user = create_user(
            session, email=args.email, name=args.name, role=args.role, password=password
        )
        print(f"Created {user.role} {user.email} (id {user.id}).")
    return 0


def _cmd_user_reset_2fa(args: argparse.Namespace) -> int:
    from crm_app.db import session_scope
    from crm_app.services import two_factor
    from crm_app.services.auth import find_user_by_email
    from crm_app.services.errors import DomainError

    with session_scope() as session:
        user = find_user_by_email(session, args.email)
        if user is None:
            print(f"No user with e-mail {args.email}.", file=sys.stderr)
            return 1
        try:
            two_factor.reset_for_user(session, actor=None, user_id=user.id)
        except DomainError as error:
            print(error.message, file=sys.stderr)
            return 1
        print(f"Two-factor is off for {user.email}; their sessions have ended.")
    return 0


def _cmd_api_key_create(args: argparse.Namespace) -> int:
    from crm_app.db import session_scope
    from crm_app.services import api_key
    from crm_app.services.auth import find_user_by_email

    with session_scope() as session:
        user = find_user_by_email(session, args.email)
        if user is None or not user.is_active:
            print(f"No active user with e-mail {args.email}.", file=sys.stderr)
            return 1
        created = api_key.create_key(session, actor=user, name=args.name)
    print(created.plaintext)
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    from crm_app.db import database_url, migrate, session_scope
    from crm_app.seeding.defaults import ensure_defaults

    database_url()
    migrate()
    with session_scope() as session:
        ensure_defaults(session)
    if args.demo:
        from crm_app.seeding.demo import seed_demo

        with session_scope() as session:
            email, password = seed_demo(session)
        print(f"Demo workspace ready. Admin: {email} / {password}")
    if args.scale:
        from crm_app.seeding.scale import seed_scale

        report = seed_scale(args.scale)
        print(report)
    return 0


ENTITY_NAMES = {"contacts": "contact", "accounts": "account", "companies": "account"}


def _actor(session, email: str | None):
    """The user a command acts as: --email, else the first active admin."""
    from sqlmodel import select

    from crm_app.models import Role, User
    from crm_app.services.auth import find_user_by_email

    if email:
        user = find_user_by_email(session, email)
    else:
        query = select(User).where(User.role == Role.admin, User.is_active).order_by(User.id)
        user = session.exec(query).first()
    if user is None or not user.is_active:
        raise SystemExit(f"error: no active user {email or 'with the admin role'}.")
    return user


def _copy_upload(source: str):
    """Copy a CSV into data/imports (private), as the web upload does; returns its path."""
    import shutil

    from crm_app.services.importer import storage

    path = storage.new_path(".csv")
    with open(source, "rb") as src, storage.create_private(path) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return path


def _cmd_import(args: argparse.Namespace) -> int:
    """Import a CSV in this process, printing progress; Ctrl-C hands the rest to the worker."""
    import signal

    from crm_app.db import database_url, session_scope
    from crm_app.jobs import app as jobs
    from crm_app.jobs.tasks import IMPORT_CSV, IMPORTS_QUEUE
    from crm_app.models import ImportJob, ImportStatus
    from crm_app.services import importer

    database_url()
    path = _copy_upload(args.file)
    try:
        with session_scope() as session:
            actor = _actor(session, args.email)
            entity = ENTITY_NAMES[args.entity]
            mapping = importer.inspect_upload(
                session, actor=actor, entity=entity, path=path
            ).mapping
            for pair in args.map or []:
                column, _, key = pair.partition("=")
                mapping[column.strip()] = key.strip()
            job = importer.start_import(
                session,
                actor=actor,
                entity=entity,
                path=path,
                filename=args.file,
                mapping=mapping,
                on_duplicate=args.on_duplicate,
                enqueue=False,
            )
            job_id = job.id
        print("Columns: " + ", ".join(f"{c} -> {k}" for c, k in mapping.items() if k))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    stop = {"asked": False}

    def ask_stop(*_):
        stop["asked"] = True
        print("\nStopping after this chunk ...", file=sys.stderr)

    signal.signal(signal.SIGINT, ask_stop)

    def progress(job) -> None:
        share = job.byte_offset / job.file_size if job.file_size else 1
        print(f"\r  {share:6.1%}  {job.processed_rows:,} rows", end="", flush=True)

    finished = importer.run_import(job_id, should_stop=lambda: stop["asked"], on_progress=progress)
    print()
    with session_scope() as session:
        job = session.get(ImportJob, job_id)
        if not finished:
            jobs.defer(
                session, IMPORT_CSV, queue=IMPORTS_QUEUE, lock=f"import:{job_id}", job_id=job_id
            )
            print(f"Import {job_id} paused at row {job.next_row}; a worker finishes it.")
            return 0
        print(
            f"Import {job_id} {job.status}: {job.created_count:,} created, "
            f"{job.updated_count:,} updated, {job.skipped_count:,} skipped, "
            f"{job.error_count:,} rejected."
        )
        if job.report_path:
            print(f"Rejected rows and reasons: {job.report_path}")
        if job.message:
            print(f"error: {job.message}", file=sys.stderr)
        return 0 if job.status == ImportStatus.succeeded else 1


def _cmd_export(args: argparse.Namespace) -> int:
    """Write a list view (search, filters, sort, columns) to a CSV file."""
    from crm_app.db import database_url, session_scope
    from crm_app.services import exporter
    from crm_app.services.listing import ListQuery

    database_url()
    filters = dict(pair.partition("=")[::2] for pair in args.filter or [])
    with session_scope() as session:
        actor = _actor(session, args.email)
        export = exporter.prepare_export(
            session,
            actor=actor,
            entity=ENTITY_NAMES[args.entity],
            listq=ListQuery(q=args.q, filters=filters, sort=args.sort),
            columns=[c.strip() for c in args.columns.split(",") if c.strip()] or None,
        )
        with open(args.file, "wb") as out:
            for chunk in export.chunks(session):
                out.write(chunk)
    print(f"Exported {args.entity} to {args.file}.")
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    """Run background jobs until stopped (SIGINT or SIGTERM)."""
    from crm_app.db import database_url
    from crm_app.jobs import app as jobs

    database_url()
    logging.getLogger("procrastinate").setLevel(logging.INFO)
    jobs.run_worker(concurrency=args.concurrency, queues=args.queue)
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    """Dump the whole database (jobs included) to a file in pg_dump's custom format."""
    from crm_app import backup
    from crm_app.db import database_url

    try:
        tool = backup.backup(database_url(), args.file)
    except backup.BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Backed up the database to {args.file} (pg_dump {tool.major}).")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    """Restore a `crm backup` file into the configured (empty) database."""
    from crm_app import backup
    from crm_app.db import database_url

    try:
        backup.restore(database_url(), args.file, force=args.force)
    except backup.BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Restored {args.file}. Run `crm migrate` if the backup predates this version.")
    return 0


def _add_backup_restore(sub) -> None:
    dump = sub.add_parser("backup", help="write the whole database to a file (pg_dump -Fc)")
    dump.add_argument("file", help="the backup file to write")
    dump.set_defaults(func=_cmd_backup)

    load = sub.add_parser("restore", help="restore a backup file into the configured database")
    load.add_argument("file", help="a file written by `crm backup`")
    load.add_argument(
        "--force", action="store_true", help="restore even though the database has tables"
    )
    load.set_defaults(func=_cmd_restore)


def _add_import_export(sub) -> None:
    imp = sub.add_parser("import", help="import a CSV of contacts or companies")
    imp.add_argument("entity", choices=sorted(ENTITY_NAMES))
    imp.add_argument("file", help="the CSV file (UTF-8 or Windows-1252; , ; or tab separated)")
    imp.add_argument("--email", required=True, help="the user the import acts as")
    imp.add_argument("--on-duplicate", choices=["skip", "update", "create"], default="skip")
    imp.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="override a guessed column (e.g. 'Mobile=phone', 'Notes=' to skip it)",
    )
    imp.set_defaults(func=_cmd_import)

    exp = sub.add_parser("export", help="export contacts or companies to a CSV file")
    exp.add_argument("entity", choices=sorted(ENTITY_NAMES))
    exp.add_argument("file")
    exp.add_argument("--email", help="the user the export acts as (default: the first admin)")
    exp.add_argument("--q", default="", help="search text, as in the list's search box")
    exp.add_argument("--filter", action="append", metavar="NAME=VALUE", help="a list filter")
    exp.add_argument("--sort", default="", help="e.g. last_name,-updated_at")
    exp.add_argument("--columns", default="", help="comma-separated columns (default: usual)")
    exp.set_defaults(func=_cmd_export)

    worker = sub.add_parser("worker", help="run background jobs (imports) in this process")
    worker.add_argument("--concurrency", type=int, default=None, help="jobs at once")
    worker.add_argument("--queue", action="append", help="only these queues (default: all)")
    worker.set_defaults(func=_cmd_worker)


def build_parser() -> argparse.ArgumentParser:
    """The command line, one sub-command per task."""
    parser = argparse.ArgumentParser(prog="crm", description="Run and administer the CRM.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="set up the database and serve the production build")
    run.add_argument("--dev", action="store_true", help="Reflex's dev server with hot reload")
    run.add_argument("--no-demo", action="store_true", help="do not create the demo workspace")
    run.set_defaults(func=_cmd_run)

    serve = sub.add_parser("serve", help="serve without running migrations or seeds")
    serve.add_argument("--dev", action="store_true")
    serve.set_defaults(func=_cmd_serve)

    setup = sub.add_parser(
        "setup", help="migrate and seed the defaults (and the demo on first start)"
    )
    setup.add_argument("--no-demo", action="store_true")
    setup.set_defaults(func=_cmd_setup)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user with a password")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["admin", "manager", "rep", "viewer"])
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    create.set_defaults(func=_cmd_user_create)
    reset_2fa = user.add_parser(
        "reset-2fa", help="turn two-factor off for a user who lost their phone and codes"
    )
    reset_2fa.add_argument("--email", required=True)
    reset_2fa.set_defaults(func=_cmd_user_reset_2fa)

    key = sub.add_parser("api-key", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    key_create = key.add_parser("create", help="create a key for a user and print it once")
    key_create.add_argument("--email", required=True)
    key_create.add_argument("--name", required=True, help="a label, e.g. where the key is used")
    key_create.set_defaults(func=_cmd_api_key_create)

    seed = sub.add_parser("seed", help="add demo or synthetic data")
    group = seed.add_mutually_exclusive_group(required=True)
    group.add_argument("--demo", action="store_true", help="a small realistic demo workspace")
    group.add_argument(
        "--scale", type=int, metavar="N", help="a deterministic set of N contacts and more"
    )
    seed.set_defaults(func=_cmd_seed)
    _add_import_export(sub)
    _add_backup_restore(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `crm` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DomainError as error:
        details = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
        print(f"error: {error.message}{' (' + details + ')' if details else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
