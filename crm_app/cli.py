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
