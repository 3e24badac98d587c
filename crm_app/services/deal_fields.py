"""Deal fields: what each editable field accepts, checked all at once (`clean`), and the
value parsers the list filters and the contacts involved reuse.

Whether a stage belongs to the pipeline and a lost reason fits the stage are rules of placing
a deal (`deal_position`), checked against the deal's current stage.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from crm_app.models import Account, AppSetting, Contact, Pipeline, StageKind, User
from crm_app.services import crud, custom_value, lost_reason, normalize
from crm_app.services.errors import FieldError, ValidationFailed

RESOURCE = "deal"
LABEL = "deal"
EDITABLE = (
    "name",
    "account_id",
    "primary_contact_id",
    "pipeline_id",
    "stage_id",
    "position",
    "amount",
    "currency",
    "recurring_monthly_value",
    "expected_close_date",
    "probability",
    "owner_id",
    "lost_reason",
    "tags",
    "custom",
)
PLACEMENT = ("pipeline_id", "stage_id", "lost_reason")  # what moving a deal changes
STATUSES = [k.value for k in StageKind]
DEFAULT_CURRENCY = "USD"
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1e16")  # NUMERIC(18, 2)
POSITION_PLACES = Decimal("1e-10")  # NUMERIC(20, 10)
POSITION_LIMIT = Decimal("1e10")
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1  # contacts.id is a BIGINT


def text_check(limit: int, *, required: bool = False):
    """A check of free text: spaces collapsed, at most `limit` characters, "" is None."""

    def check(value: Any) -> str | None:
        value = " ".join(str(value or "").split())
        if required and not value:
            raise ValueError("Enter a name.")
        if len(value) > limit:
            raise ValueError(f"Use at most {limit} characters.")
        return value or None

    return check


def _whole(value: Any, message: str) -> int:
    """An int from an int or a string of digits (not a bool, not 2.5)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(message)
    try:
        return int(value)
    except ValueError:
        raise ValueError(message) from None


def parse_id(value: Any, what: str, largest: int = MAX_ID) -> int:
    """A positive id that fits its column, or a ValueError naming `what` ("a company")."""
    number = _whole(value, f"'{value}' is not {what} id.")
    if not 0 < number <= largest:
        raise ValueError(f"'{value}' is not {what} id.")
    return number


def live_id(
    session: Session, model: Any, value: Any, what: str, largest: int = MAX_ID
) -> int | None:
    """The id of a live record of `model`, None for no value, or a ValueError."""
    if value in (None, ""):
        return None
    try:
        record = session.get(model, parse_id(value, what, largest))
    except ValueError:
        record = None
    if record is None or record.deleted_at is not None:
        raise ValueError(f"Pick an existing {what.split()[-1]}.")
    return record.id


def parse_money(value: Any) -> Decimal | None:
    """A non-negative amount with at most two decimals, as Decimal (floats pass via str)."""
    if value in (None, ""):
        return None
    message = "Enter an amount of 0 or more, with at most 2 decimals."
    if isinstance(value, bool):
        raise ValueError(message)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(message) from None
    if not amount.is_finite() or amount < 0 or amount >= MONEY_LIMIT:
        raise ValueError(message if amount < MONEY_LIMIT else "This amount is too large.")
    if amount != amount.quantize(CENT):
        raise ValueError(message)
    return amount.quantize(CENT)


def parse_currency(value: Any) -> str:
    """A three-letter currency code, upper-cased."""
    code = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError("Use a three-letter currency code such as USD or EUR.")
    return code


def parse_date(value: Any) -> date | None:
    """A day from a date or an ISO string; None for no value."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError("Use a date like 2026-01-31.") from None


def _probability(value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = _whole(value, "Enter a whole number from 0 to 100.")
    if not 0 <= number <= 100:
        raise ValueError("Enter a whole number from 0 to 100.")
    return number


def _position(value: Any) -> Decimal:
    message = "Enter a number: cards show by ascending position within their stage."
    if isinstance(value, bool) or value in (None, ""):
        raise ValueError(message)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(message) from None
    if not number.is_finite() or abs(number) >= POSITION_LIMIT:
        raise ValueError(message)
    return number.quantize(POSITION_PLACES, rounding=ROUND_HALF_UP)


def _required(check):
    def wrapped(value: Any) -> Any:
        if value in (None, ""):
            raise ValueError("This field cannot be empty.")
        return check(value)

    return wrapped


def clean(session: Session, actor: User, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated, normalised values for the editable fields in `data`; all errors at once.

    Whether the stage belongs to the pipeline and a lost reason fits the stage is checked
    when the deal is placed (`deal_position.place`), against the deal's current stage.
    """
    errors = [FieldError(k, "This field cannot be set.") for k in sorted(set(data) - set(EDITABLE))]
    out: dict[str, Any] = {}

    def attempt(key: str, fn) -> None:
        if key in data:
            try:
                out[key] = fn(data[key])
            except ValueError as error:
                errors.append(FieldError(key, str(error)))

    attempt("name", text_check(200, required=True))
    attempt("account_id", lambda v: live_id(session, Account, v, "a company"))
    attempt("primary_contact_id", lambda v: live_id(session, Contact, v, "a contact", MAX_BIG_ID))
    attempt("pipeline_id", _required(lambda v: live_id(session, Pipeline, v, "a pipeline")))
    attempt("stage_id", _required(lambda v: parse_id(v, "a stage")))
    attempt("position", _position)
    attempt("amount", parse_money)
    attempt("recurring_monthly_value", parse_money)
    attempt("currency", parse_currency)
    attempt("expected_close_date", parse_date)
    attempt("probability", _probability)
    attempt("owner_id", lambda v: None if v in (None, "") else parse_id(v, "a user"))
    attempt(
        "lost_reason", lambda v: None if v in (None, "") else lost_reason.active_name(session, v)
    )
    attempt("tags", normalize.tags)
    if "custom" in data:
        try:
            out["custom"] = custom_value.clean_values(
                session, entity="deal", values=data["custom"] or {}, partial=partial
            )
        except ValidationFailed as error:
            errors += error.errors
    if not partial and "name" not in data:
        errors.append(FieldError("name", "Enter a name."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    if "owner_id" in out:
        crud.check_owner(session, actor, RESOURCE, out["owner_id"])
    return out


def default_currency(session: Session) -> str:
    """The workspace's `default_currency` setting, else USD."""
    setting = session.get(AppSetting, "default_currency")
    value = setting.value if setting else None
    return (
        value if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) else DEFAULT_CURRENCY
    )
