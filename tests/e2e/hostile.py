"""What the hostile-handler test needs: every handler of ours, hostile arguments for each from
its signature, the seeded records it must not change or leak, and a fingerprint of the
database."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import typing
from dataclasses import dataclass, field
from typing import Any

import reflex as rx
from sqlalchemy import text
from sqlmodel import Session, select

from crm_app import routes
from crm_app.auth.tokens import hash_token, new_token
from crm_app.models import (
    ApiKey,
    AuditEvent,
    LeadForm,
    Notification,
    Pipeline,
    SavedView,
    Stage,
    User,
)
from tests.factories import make_account, make_activity, make_contact, make_deal, make_lead

# Seeded names and e-mails carry these, so a leak is a substring search of what was received.
RECORD_MARK = "ZqxRecordMark"  # records anyone signed in may read, and no visitor
PRIVATE_MARK = "ZqxPrivateMark"  # what only its owner (or an admin) may see

BIG = "Z" * 100_000
HUGE_INT = 2**63
SQL = "1; DROP TABLE contacts; -- ' OR '1'='1"
TEMPLATE = "{{7*7}} ${7*7} <script>alert(1)</script> %s %(x)s"
# Keys a browser form never sends but a hostile one might, to take over or widen a record.
SMUGGLED_KEYS = ("id", "owner_id", "created_by", "role", "is_active", "team_id", "deleted_at")


# ---- the handlers ------------------------------------------------------------------------


def state_classes() -> list[type[rx.State]]:
    """Every state class of the app (all subclasses of rx.State in crm_app.state); mixins are
    not states of their own: their handlers are called on the states that use them."""
    import crm_app.state as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")

    def below(cls: type) -> list[type]:
        return [s for sub in cls.__subclasses__() for s in (sub, *below(sub))]

    found = {c for c in below(rx.State) if c.__module__.startswith("crm_app.") and not c._mixin}
    return sorted(found, key=lambda c: c.get_full_name())


def is_ours(handler: Any) -> bool:
    """Handlers written in crm_app; Reflex's own (`setvar`, hydration) are Reflex's to guard."""
    return getattr(handler.fn, "__module__", "").startswith("crm_app.")


@dataclass
class Target:
    """One handler of one state, as the websocket names it."""

    state: type[rx.State]
    handler: str
    params: dict[str, str]  # parameter -> kind: id, int, bool, form, text, upload

    @property
    def event_name(self) -> str:
        return f"{self.state.get_full_name()}.{self.handler}"

    @property
    def label(self) -> str:
        return f"{self.state.__name__}.{self.handler}"


def _kind(annotation: Any) -> str:
    shown = annotation if isinstance(annotation, str) else repr(annotation)
    if "UploadChunkIterator" in shown or "UploadFile" in shown:
        return "upload"
    if "dict" in shown:
        return "form"
    if "bool" in shown:
        return "bool"
    if "int" in shown:
        return "int"
    return "text"  # str, str | list[str], Any


def targets() -> list[Target]:
    """Every (state, handler) pair of ours, computed now: a new handler is a new target."""
    found = []
    for state in state_classes():
        for name, handler in state.event_handlers.items():
            if not is_ours(handler):
                continue
            try:
                hints = typing.get_type_hints(handler.fn)
            except Exception:
                hints = {}
            params = {
                p.name: _kind(hints.get(p.name, p.annotation))
                for p in list(inspect.signature(handler.fn).parameters.values())[1:]
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            }
            found.append(Target(state=state, handler=name, params=params))
    return found


_FORM_KEY = re.compile(r"""\b(?:form|data|values)(?:\.get\(|\[)\s*["'](\w+)["']""")


def form_keys(state: type[rx.State]) -> list[str]:
    """The form fields the state's module reads (where hostile values go)."""
    source = inspect.getsource(inspect.getmodule(state))
    return sorted(set(_FORM_KEY.findall(source)))


# ---- the seeded world ----------------------------------------------------------------------


@dataclass
class Seeded:
    """Records of other people: ids to aim at, marks that must not leak."""

    ids: list[int]
    record_marks: list[str] = field(default_factory=list)
    private_marks: list[str] = field(default_factory=list)
    form_key: str = ""


def seed_others(session: Session) -> Seeded:
    """Dave's (a rep in the other team) records, private things of his, and an audit entry."""
    dave = session.exec(select(User).where(User.email == "dave@example.com")).one()
    alice = session.exec(select(User).where(User.email == "alice@example.com")).one()
    account = make_account(session, owner=dave, name=f"{RECORD_MARK} Account")
    contact = make_contact(
        session,
        owner=dave,
        first_name=RECORD_MARK,
        last_name="Contact",
        email=f"{RECORD_MARK.lower()}@example.net",
        account_id=account.id,
    )
    deal = make_deal(session, owner=dave, name=f"{RECORD_MARK} Deal")
    lead = make_lead(
        session, owner=dave, first_name=RECORD_MARK, email=f"lead.{RECORD_MARK.lower()}@x.net"
    )
    activity = make_activity(session, owner=dave, subject=f"{RECORD_MARK} call")
    view = SavedView(
        entity="contacts", name=f"{PRIVATE_MARK} view", owner_id=dave.id, created_by=dave.id
    )
    note = Notification(user_id=dave.id, kind="assigned", title=f"{PRIVATE_MARK} note")
    key = ApiKey(
        user_id=dave.id, name=f"{PRIVATE_MARK} key", prefix="zqx", key_hash=hash_token(new_token())
    )
    audit = AuditEvent(
        actor_id=alice.id, entity="setting", action="update", changes={"x": PRIVATE_MARK}
    )
    form = LeadForm(key=f"zqx-{new_token(6)}", name="Closed form", is_active=False)
    session.add_all([view, note, key, audit, form])
    session.flush()
    stage = session.exec(select(Stage).order_by(Stage.id.desc())).first()
    pipeline = session.exec(select(Pipeline)).first()
    ids = {
        account.id,
        contact.id,
        deal.id,
        lead.id,
        activity.id,
        view.id,
        note.id,
        key.id,
        alice.id,
        dave.id,
        stage.id,
        pipeline.id,
        form.id,
    }
    return Seeded(
        ids=sorted(i for i in ids if i),
        record_marks=[RECORD_MARK, RECORD_MARK.lower(), dave.email, alice.email],
        private_marks=[PRIVATE_MARK],
        form_key=form.key,
    )


# ---- hostile arguments ---------------------------------------------------------------------


def _values(kind: str, ids: list[int], keys: list[str], me: int) -> list[Any]:
    """Hostile values for one parameter: other people's ids first, then the junk."""
    texts = [str(i) for i in ids]
    junk_text = [
        "0",
        "-1",
        str(HUGE_INT),
        "",
        BIG,
        SQL,
        TEMPLATE,
        ids[0],  # other types: a number, nothing, an object, a list
        -1,
        HUGE_INT,
        None,
        {"owner_id": me},
        [texts[0]],
    ]
    if kind == "int":
        return [*ids, 0, -1, HUGE_INT, "abc", BIG, None, {"id": 1}, [1], 1.5]
    if kind == "bool":
        return [True, False, "yes", None, {"a": 1}, [True], BIG, 7]
    if kind == "form":
        smuggled = {k: me for k in SMUGGLED_KEYS} | {"role": "admin", "is_active": True}
        forms: list[Any] = [
            {},
            {k: texts[i % len(texts)] for i, k in enumerate(keys)} | smuggled,
            {k: BIG for k in keys} | smuggled,
            {k: SQL for k in keys},
            {k: TEMPLATE for k in keys},
            {k: None for k in keys},
            {k: {"$ne": 1} for k in keys},
            {k: [texts[0], BIG] for k in keys},
            {k: -1 for k in keys},
            None,
            SQL,
            [1, 2],
        ]
        return forms
    if kind == "upload":
        return [None, "chunks", {"filename": "x.csv"}, 2]
    return texts + junk_text


def calls(target: Target, seeded: Seeded, me: int) -> list[dict[str, Any]]:
    """The payloads to send `target`: as many rounds as its longest list of values."""
    if not target.params:
        return [{}]
    keys = form_keys(target.state)
    values = {p: _values(kind, seeded.ids, keys, me) for p, kind in target.params.items()}
    rounds = max(len(v) for v in values.values())
    return [{p: v[i % len(v)] for p, v in values.items()} for i in range(rounds)]


def router_paths(seeded: Seeded) -> list[str]:
    """Where the hostile tab claims to be: other people's record pages, settings, the closed
    public form, nonsense."""
    paths = [routes.DASHBOARD, routes.SETTINGS_IMPORT, routes.public_form(seeded.form_key)]
    for builder in (
        routes.contact_detail,
        routes.account_detail,
        routes.deal_detail,
        routes.lead_detail,
    ):
        paths += [builder(i) for i in seeded.ids[:4]]
    paths += ["/contacts/-1", "/deals/abc", f"/leads/{HUGE_INT}", "/f/" + "x" * 300]
    return paths


def router_data(path: str, seeded: Seeded) -> dict[str, Any]:
    """The router data a tab sends with its events (query strings aim at others' records)."""
    query = {
        "next": "//evil.example/",
        "account": str(seeded.ids[0]),
        "contact": str(seeded.ids[1]),
        "report": SQL,
        "view": str(seeded.ids[-1]),
        "pipeline": str(seeded.ids[2]),
        "token": "x" * 50,
    }
    return {"pathname": path, "asPath": path, "query": query}


# ---- the database's fingerprint --------------------------------------------------------------

# Left out because they move by design while a stranger knocks, without any data changing:
# - login_attempts: every refused sign-in is recorded there (the lock-out counts them);
# - rate_limit_counters: the per-address counters of sign-in, reset and public forms;
# - procrastinate_*: the job queue's own tables, moved by the in-process worker's periodic
#   tasks whatever the test does.
SKIPPED_TABLES = ("login_attempts", "rate_limit_counters")
SKIPPED_PREFIXES = ("procrastinate_",)
# A session's last_seen_at is touched (at most once a minute) by every authenticated event.
SKIPPED_COLUMNS = {"sessions": ("last_seen_at",)}
# The audit trail of refused attempts: a refusal is written down, and that is all it may write.
REFUSAL_ACTIONS = (
    "sign_in_failed",
    "sign_in_refused",
    "password_reset_requested",
    "password_reset_unknown",
)


def fingerprint(session: Session, *, own_rows: dict[str, str] | None = None) -> dict[str, str]:
    """Row count and checksum of every table, without the bookkeeping above, and without
    `own_rows` (table -> SQL condition: rows the acting user may change)."""
    tables = session.exec(
        text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    ).all()
    result = {}
    refusals = ", ".join(f"'{a}'" for a in REFUSAL_ACTIONS)
    for (table,) in tables:
        if table in SKIPPED_TABLES or table.startswith(SKIPPED_PREFIXES):
            continue
        dropped = "".join(f" - '{c}'" for c in SKIPPED_COLUMNS.get(table, ()))
        where = [f"NOT ({(own_rows or {})[table]})"] if table in (own_rows or {}) else []
        if table == "audit_events":
            where.append(f"action NOT IN ({refusals})")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        digest = f"md5((to_jsonb(t){dropped})::text)"  # table names come from the catalog
        row = session.exec(
            text(
                f"SELECT count(*), md5(coalesce(string_agg({digest}, '' ORDER BY {digest}), ''))"
                f' FROM "{table}" t{clause}'
            )
        ).one()
        result[table] = f"{row[0]} rows {row[1]}"
    return result


def changed_tables(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple]:
    """The tables whose fingerprint moved, with both fingerprints."""
    tables = before | after
    return {t: (before.get(t), after.get(t)) for t in tables if before.get(t) != after.get(t)}
