"""Web-to-lead: admin-defined public forms whose submissions become leads.

An admin picks which lead fields a form asks for (each required or not), the source its leads
get and the team whose reps receive them (round-robin, see `lead_assignment`; without a team,
the workspace's assignment team). A form is found by its key: 128 random bits, so forms cannot
be listed by guessing. The public page `/f/<key>` and `POST /api/v1/forms/<key>` both call
`submit_form`.

Defences of the public endpoint:
- A honeypot field (`HONEYPOT_FIELD`), hidden from people by the page, that bots fill in: such
  a submission gets the same success answer, and nothing is created.
- A rate limit of `RATE_LIMIT` submissions per `RATE_WINDOW` per address and form, counted in
  the database (`lead_form_submissions`) so it holds across backend workers and restarts; a
  transaction-scoped advisory lock on (form, address) makes concurrent submissions count one
  after the other. Submissions rejected as invalid are rolled back with everything else and so
  do not count; accepted ones and honeypot catches do.
- Every field is validated and normalised as a lead created by a user is, with an error per
  field. A repeated submission from the same person is a new inquiry and becomes a new lead
  (no duplicate check: the public must not learn who is already a lead).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from crm_app.models import Lead, LeadForm, Team, User
from crm_app.models.base import utcnow
from crm_app.models.lead_form import LeadFormSubmission
from crm_app.services import crud, lead_source
from crm_app.services import lead as leads
from crm_app.services.errors import FieldError, NotFound, RateLimited, ValidationFailed
from crm_app.services.permission import require

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "company_name": "Company",
    "title": "Job title",
}
FORM_FIELDS = tuple(FIELD_LABELS)
IDENTITY_FIELDS = ("first_name", "last_name", "email", "company_name")
HONEYPOT_FIELD = "website"  # no lead field has this name; bots love to fill it in
RATE_LIMIT = 10
RATE_WINDOW = timedelta(minutes=1)
EDITABLE = ("name", "fields", "source", "team_id", "is_active")
VALUE_LIMIT = 1000


@dataclass
class FormField:
    """One field of a public form, as its page shows it."""

    name: str
    label: str
    required: bool


@dataclass
class PublicForm:
    """What the public page of a form needs: its name and fields."""

    key: str
    name: str
    fields: list[FormField]


def new_key() -> str:
    """A random, unguessable form key (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


# ---- admins: the forms -----------------------------------------------------------------------


def _clean_fields(raw: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("fields", "Pick at least one field."))
        return []
    out: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        where = f"fields.{i}"
        if not isinstance(item, Mapping) or item.get("name") not in FORM_FIELDS:
            errors.append(FieldError(f"{where}.name", f"Pick one of: {', '.join(FORM_FIELDS)}."))
            continue
        name = str(item["name"])
        if any(f["name"] == name for f in out):
            errors.append(FieldError(f"{where}.name", "This field is already on the form."))
            continue
        label = " ".join(str(item.get("label") or "").split()) or FIELD_LABELS[name]
        if len(label) > 100:
            errors.append(FieldError(f"{where}.label", "Use at most 100 characters."))
        out.append({"name": name, "label": label[:100], "required": bool(item.get("required"))})
    if out and not any(f["name"] in IDENTITY_FIELDS for f in out):
        errors.append(FieldError("fields", "Ask for a name, an e-mail or a company."))
    return out


def _clean_form(
    session: Session, data: dict[str, Any], *, partial: bool, current: LeadForm | None = None
) -> dict[str, Any]:
    errors = [FieldError(k, "This field cannot be set.") for k in sorted(set(data) - {*EDITABLE})]
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = " ".join(str(data.get("name") or "").split())
        if not name or len(name) > 100:
            errors.append(FieldError("name", "Name the form (at most 100 characters)."))
        out["name"] = name
    if "fields" in data or not partial:
        out["fields"] = _clean_fields(data.get("fields"), errors)
    if "source" in data:
        try:
            keep = current.source if current else None
            out["source"] = lead_source.source_name(session, data["source"], keep=keep)
        except ValueError as error:
            errors.append(FieldError("source", str(error)))
    if "team_id" in data:
        team_id = data["team_id"]
        if team_id in (None, ""):
            out["team_id"] = None
        else:
            team = session.get(Team, int(team_id)) if str(team_id).isdigit() else None
            if team is None or team.deleted_at is not None or team.id >= 2**31:
                errors.append(FieldError("team_id", "Pick an existing team."))
            else:
                out["team_id"] = team.id
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return out


def list_forms(session: Session, *, actor: User) -> list[LeadForm]:
    """Every form (active or not), by name."""
    require(session, actor, "setting", "manage")
    return list(
        session.execute(
            select(LeadForm).where(LeadForm.deleted_at.is_(None)).order_by(LeadForm.name)
        )
        .scalars()
        .all()
    )


def get_form(session: Session, *, actor: User, form_id: int) -> LeadForm:
    """One form, for its settings page."""
    require(session, actor, "setting", "manage")
    return crud.get_live(session, LeadForm, form_id, label="form")


def create_form(session: Session, *, actor: User, data: dict[str, Any]) -> LeadForm:
    """A new active form with a fresh random key."""
    require(session, actor, "setting", "manage")
    values = _clean_form(session, data, partial=False)
    form = LeadForm(**values, key=new_key())
    crud.created(session, actor, form, entity="lead_form", fields=values)
    return form


def update_form(
    session: Session,
    *,
    actor: User,
    form_id: int,
    data: dict[str, Any],
    version: int | None = None,
) -> LeadForm:
    """Change a form's name, fields, source, team, or switch it off (`is_active`)."""
    require(session, actor, "setting", "manage")
    form = crud.get_live(session, LeadForm, form_id, label="form", lock=True)
    crud.check_version(form, version)
    values = _clean_form(session, data, partial=True, current=form)
    crud.apply_changes(session, actor, form, values, entity="lead_form")
    return form


def deactivate_form(session: Session, *, actor: User, form_id: int) -> LeadForm:
    """Stop a form taking submissions; its public URL then answers "not found"."""
    return update_form(session, actor=actor, form_id=form_id, data={"is_active": False})


# ---- the public: submissions -----------------------------------------------------------------


def _active_form(session: Session, key: str) -> LeadForm:
    form = None
    if isinstance(key, str) and 0 < len(key) <= 64:
        form = session.execute(
            select(LeadForm).where(
                LeadForm.key == key, LeadForm.is_active, LeadForm.deleted_at.is_(None)
            )
        ).scalar_one_or_none()
    if form is None:
        raise NotFound("No such form.")
    return form


def get_public_form(session: Session, key: str) -> PublicForm:
    """The form behind a public URL (no sign-in); NotFound when unknown or switched off."""
    form = _active_form(session, key)
    fields = [FormField(f["name"], f["label"], bool(f["required"])) for f in form.fields]
    return PublicForm(form.key, form.name, fields)


def _count_submission(session: Session, form: LeadForm, ip: str) -> None:
    """Record a submission from `ip`, or RateLimited when it already sent RATE_LIMIT in the
    last RATE_WINDOW."""
    lock_key = func.hashtextextended(f"lead_form:{form.id}:{ip}", 0)
    session.execute(select(func.pg_advisory_xact_lock(lock_key)))
    now = utcnow()
    mine = (LeadFormSubmission.form_id == form.id, LeadFormSubmission.ip == ip)
    session.execute(
        delete(LeadFormSubmission).where(*mine, LeadFormSubmission.at <= now - RATE_WINDOW)
    )
    recent = (
        session.execute(
            select(LeadFormSubmission.at)
            .where(*mine)
            .order_by(LeadFormSubmission.at)
            .limit(RATE_LIMIT)
        )
        .scalars()
        .all()
    )
    if len(recent) >= RATE_LIMIT:
        wait = math.ceil((recent[0] + RATE_WINDOW - now).total_seconds())
        raise RateLimited("Too many submissions. Please wait a minute and try again.", max(1, wait))
    session.add(LeadFormSubmission(form_id=form.id, ip=ip, at=now))
    session.flush()


def _submitted_values(session: Session, form: LeadForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields from `data`, checked and normalised as a lead's; errors per field."""
    errors: list[FieldError] = []
    raw: dict[str, Any] = {}
    for field in form.fields:
        name = field["name"]
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(name, "Enter text."))
            continue
        value = (value or "").strip()
        if len(value) > VALUE_LIMIT:
            errors.append(FieldError(name, f"Use at most {VALUE_LIMIT} characters."))
        elif field.get("required") and not value:
            errors.append(FieldError(name, "This field is required."))
        else:
            raw[name] = value
    try:
        values = leads.clean(session, None, raw, partial=True)
    except ValidationFailed as error:
        values = {}
        errors += error.errors
    if not errors and not any(values.get(k) for k in IDENTITY_FIELDS):
        first = next(f["name"] for f in form.fields if f["name"] in IDENTITY_FIELDS)
        errors.append(FieldError(first, "Fill in your name, e-mail or company."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return values


def submit_form(session: Session, key: str, data: Mapping[str, Any], ip: str | None) -> Lead | None:
    """Create a lead from a public submission; None when a bot was caught (answer it as a
    success all the same). Raises NotFound, RateLimited or ValidationFailed."""
    form = _active_form(session, key)
    _count_submission(session, form, ip or "unknown")
    if str(data.get(HONEYPOT_FIELD) or "").strip():
        return None
    values = _submitted_values(session, form, data)
    values = {**values, "source": form.source, "owner_id": None}
    return leads.insert_lead(
        session,
        values,
        actor=None,
        ip=ip,
        team_id=form.team_id,
        actor_label=f"Web form: {form.name}"[:100],
    )


def purge_submissions(session: Session) -> int:
    """Forget submissions older than the rate-limit window; returns how many (hourly job)."""
    result = session.execute(
        delete(LeadFormSubmission).where(LeadFormSubmission.at <= utcnow() - RATE_WINDOW)
    )
    return result.rowcount
