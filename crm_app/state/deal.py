"""Deals: the new-deal form and the deal page (fields edited in place, the stage path with its
won and lost confirmations, stage history, contacts involved, activities, timeline)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import Account, Contact, Deal, Stage, StageKind, User
from crm_app.services import account, contact, deal_contact, deal_report, lost_reason, tag
from crm_app.services import deal as deals
from crm_app.services import pipeline as pipelines
from crm_app.services.deal_fields import default_currency
from crm_app.services.deal_list import cents
from crm_app.services.errors import DomainError, StaleVersion, ValidationFailed
from crm_app.services.listing import ListQuery
from crm_app.services.permission import can
from crm_app.state.account import CompanyPicker
from crm_app.state.audit import local_time
from crm_app.state.base import AppState, error_event
from crm_app.state.detail import STALE, RecordPage
from crm_app.state.record_form import RecordForm, text
from crm_app.state.tag import TagInput
from crm_app.state.views import NONE, Choice, FieldView, money, owner_view, text_view

PICKER_SIZE = 10
STATUS_LABELS = {"open": "Open", "won": "Won", "lost": "Lost"}


def duration_label(seconds: float) -> str:
    """Time spent in a stage, to the largest two units: "3 days 6 h", "2 h 5 min"."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} day{'s' * (days != 1)}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {mins} min" if mins else "")
    return f"{mins} min" if mins else "Under a minute"


def history_rows(visits: list[deal_report.StageVisit], tz: str) -> list[dict[str, str]]:
    """The stage history, newest first, with the time spent in each stage."""
    return [
        {
            "key": str(i),
            "stage": v.stage,
            "kind": STATUS_LABELS.get(v.kind, ""),
            "entered": local_time(v.entered_at, tz),
            "left": local_time(v.left_at, tz) if v.left_at else "Now",
            "spent": duration_label(v.duration.total_seconds()),
        }
        for i, v in reversed(list(enumerate(visits)))
    ]


def _contact_label(person: Contact) -> str:
    name = contact.display_name(person)
    return f"{name} ({person.email})" if person.email and person.email != name else name


class ContactPicker(AppState, mixin=True):
    """A search box that offers up to ten contacts matching what is typed."""

    contact_query: str = ""
    contact_options: list[Choice] = []

    def _contact_chosen(self, choice: Choice | None) -> Any:
        raise NotImplementedError

    @rx.event(supersedes=True)
    def search_contacts(self, typed: str):
        """Contacts whose name, e-mail or phone start with the typed words."""
        self.contact_query = str(typed)[:100]
        if not self.contact_query.strip():
            self.contact_options = []
            return None
        listq = ListQuery(q=self.contact_query, limit=PICKER_SIZE, sort="last_name,first_name")
        try:
            with self._actor_session() as (session, actor):
                page = contact.list_contacts(session, actor=actor, listq=listq)
        except DomainError as error:
            return error_event(error)
        self.contact_options = [
            Choice(str(r.contact.id), _contact_label(r.contact)) for r in page.rows
        ]
        return None

    @rx.event
    def choose_contact(self, value: str):
        """Take one of the offered contacts."""
        choice = next((c for c in self.contact_options if c.value == str(value)), None)
        self.contact_query, self.contact_options = "", []
        return None if choice is None else self._contact_chosen(choice)

    @rx.event
    def clear_contact(self):
        """No contact."""
        self.contact_query, self.contact_options = "", []
        return self._contact_chosen(None)

    @rx.event
    def contact_key(self, key: str):
        """Escape closes the offered contacts."""
        if key == "Escape":
            self.contact_query, self.contact_options = "", []


# ---- /deals/new ----------------------------------------------------------------------------


class DealFormState(ContactPicker, CompanyPicker, RecordForm, AppState):
    """`/deals/new`, optionally `?account=<id>` or `?contact=<id>` to start with them."""

    pipelines: list[Choice] = []
    stages: list[dict[str, str]] = []  # id, name, pipeline_id: the open stages
    form_pipeline: str = ""
    default_currency: str = "USD"
    company_id: str = ""
    company_name: str = ""
    contact_id: str = ""
    contact_name: str = ""

    def _entity(self) -> str:
        return "deal"

    def _prepare(self, session: Session, actor: User) -> None:
        found = pipelines.list_pipelines(session, actor=actor)
        self.pipelines = [Choice(str(p.pipeline.id), p.pipeline.name) for p in found]
        self.stages = [
            {"id": str(s.id), "name": s.name, "pipeline_id": str(p.pipeline.id)}
            for p in found
            for s in p.stages
            if s.kind == StageKind.open
        ]
        chosen = next((p for p in found if p.pipeline.is_default), found[0] if found else None)
        self.form_pipeline = str(chosen.pipeline.id) if chosen else ""
        self.default_currency = default_currency(session)
        self.company_id = self.company_name = self.contact_id = self.contact_name = ""
        self.company_query, self.company_options = "", []
        self.contact_query, self.contact_options = "", []
        self._prefill(session, actor)

    def _prefill(self, session: Session, actor: User) -> None:
        """The company and contact named in the address, when they exist."""
        params = self.router.url.query_parameters
        try:
            company = account.get_account(
                session, actor=actor, account_id=int(params.get("account", "")[:12])
            )
            self.company_id, self.company_name = str(company.id), company.name
        except (ValueError, DomainError):
            pass
        try:
            person = contact.get_contact(
                session, actor=actor, contact_id=int(params.get("contact", "")[:20])
            )
            self.contact_id, self.contact_name = str(person.id), contact.display_name(person)
        except (ValueError, DomainError):
            pass

    @rx.event
    def choose_pipeline(self, pipeline_id: str):
        """Offer the stages of another pipeline."""
        if any(p.value == str(pipeline_id) for p in self.pipelines):
            self.form_pipeline = str(pipeline_id)

    def _company_chosen(self, choice: Choice | None) -> None:
        self.company_id = choice.value if choice else ""
        self.company_name = choice.label if choice else ""

    def _contact_chosen(self, choice: Choice | None) -> None:
        self.contact_id = choice.value if choice else ""
        self.contact_name = choice.label if choice else ""

    def _data(self, form: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": text(form, "name", 500),
            "pipeline_id": self.form_pipeline or None,
            "stage_id": text(form, "stage_id", 12) or None,
            "amount": text(form, "amount", 40),
            "currency": text(form, "currency", 10) or self.default_currency,
            "expected_close_date": text(form, "expected_close_date", 20),
            "account_id": self.company_id or None,
            "primary_contact_id": self.contact_id or None,
        }

    def _create(self, session: Session, actor: User, data: dict, allow_duplicate: bool) -> Any:
        return deals.create_deal(session, actor=actor, data=data, ip=self._client_ip())

    def _route(self, record_id: int) -> str:
        return routes.deal_detail(record_id)

    @rx.var
    def stage_options(self) -> list[dict[str, str]]:
        """The open stages of the chosen pipeline."""
        return [s for s in self.stages if s["pipeline_id"] == self.form_pipeline]

    @rx.var
    def first_stage(self) -> str:
        """Where a new deal of the chosen pipeline starts unless another stage is picked."""
        return next((s["id"] for s in self.stages if s["pipeline_id"] == self.form_pipeline), "")


# ---- /deals/[id] ---------------------------------------------------------------------------


class DealPageState(ContactPicker, CompanyPicker, TagInput, RecordPage, AppState):
    """`/deals/[id]`: the deal, its stage path and history, the contacts involved in it, its
    activities and timeline."""

    name: str = ""
    amount_label: str = ""
    weighted_label: str = ""
    status: str = ""  # open, won or lost
    stage_id: str = ""
    stage_name: str = ""
    lost_reason: str = ""
    owner_name: str = ""
    company_id: int = 0
    company_name: str = ""
    contact_id: int = 0
    contact_name: str = ""
    path: list[dict[str, str]] = []  # the pipeline's stages: id, name, kind, state
    history: list[dict[str, str]] = []
    # a move to a won or lost stage, until it is confirmed or cancelled
    closing_kind: str = ""
    closing_stage_id: str = ""
    closing_stage_name: str = ""
    lost_reasons: list[str] = []
    lost_reason_error: str = ""
    # the contacts involved
    involved: list[dict[str, str]] = []  # id, name, href, detail, role
    adding_person: bool = False
    role_for: str = ""  # the contact whose role is being edited
    role_error: str = ""

    def _entity(self) -> str:
        return "deal"

    def _clear(self) -> None:
        super()._clear()
        self.closing_kind = self.closing_stage_id = self.closing_stage_name = ""
        self.path, self.history, self.involved = [], [], []
        self.adding_person, self.role_for = False, ""

    def _fetch(self, session: Session, actor: User) -> Deal:
        return deals.get_deal(session, actor=actor, deal_id=self.record_id)

    def _update(self, session, actor, data: dict, allow_duplicate: bool) -> Deal:
        return deals.update_deal(
            session,
            actor=actor,
            deal_id=self.record_id,
            data=data,
            version=self.version,
            ip=self._client_ip(),
        )

    def _delete(self, session: Session, actor: User):
        deals.delete_deal(session, actor=actor, deal_id=self.record_id, ip=self._client_ip())
        return [
            rx.redirect(routes.DEAL_LIST),
            rx.toast.success(f"{self.name} was moved to the trash."),
        ]

    # ---- what the page shows ------------------------------------------------------------

    def _show(self, session: Session, actor: User, deal: Deal) -> None:
        stage = session.get(Stage, deal.stage_id)
        self.name, self.tags = deal.name, deal.tags or []
        self.status = str(stage.kind) if stage else ""
        self.stage_id, self.stage_name = str(deal.stage_id), stage.name if stage else ""
        self.lost_reason = deal.lost_reason or ""
        probability = deal.probability if deal.probability is not None else stage.probability
        self.amount_label = money(deal.amount, deal.currency)
        weighted = cents(deal.amount * probability / 100) if deal.amount is not None else None
        self.weighted_label = money(weighted, deal.currency)
        self._show_links(session, deal)
        owner = owner_view(session, actor, "deal", deal.owner_id)
        self.owner_name = owner.display
        self.fields = self._fields(session, actor, deal, stage, owner)
        self._show_path(session, deal)
        visits = deal_report.stage_history(session, actor=actor, deal_id=deal.id)
        self.history = history_rows(visits, actor.timezone)

    def _show_links(self, session: Session, deal: Deal) -> None:
        """The company and primary contact, unless they are in the trash."""
        company = session.get(Account, deal.account_id) if deal.account_id else None
        live = company is not None and company.deleted_at is None
        self.company_id = company.id if live else 0
        self.company_name = company.name if live else ""
        person = session.get(Contact, deal.primary_contact_id) if deal.primary_contact_id else None
        live = person is not None and person.deleted_at is None
        self.contact_id = person.id if live else 0
        self.contact_name = contact.display_name(person) if live else ""

    def _fields(self, session, actor, deal: Deal, stage, owner: FieldView) -> list[FieldView]:
        found = pipelines.list_pipelines(session, actor=actor)
        here = next((p.pipeline.name for p in found if p.pipeline.id == deal.pipeline_id), "")
        shown_probability = (
            f"{deal.probability}%"
            if deal.probability is not None
            else f"{stage.probability}% (the stage's)"
        )
        fields = [
            text_view("name", "Name", deal.name),
            FieldView(
                key="amount",
                label="Amount",
                kind="money",
                value=str(deal.amount) if deal.amount is not None else "",
                display=money(deal.amount, deal.currency),
            ),
            text_view("currency", "Currency", deal.currency),
            FieldView(
                key="recurring_monthly_value",
                label="Monthly recurring",
                kind="money",
                value=_plain(deal.recurring_monthly_value),
                display=money(deal.recurring_monthly_value, deal.currency),
            ),
            FieldView(
                key="expected_close_date",
                label="Expected close",
                kind="date",
                value=_plain(deal.expected_close_date),
                display=_plain(deal.expected_close_date),
            ),
            FieldView(
                key="probability",
                label="Probability (%)",
                kind="number",
                value=_plain(deal.probability),
                display=shown_probability,
            ),
            FieldView(
                key="pipeline_id",
                label="Pipeline",
                kind="select",
                value=str(deal.pipeline_id),
                display=here,
                options=[Choice(str(p.pipeline.id), p.pipeline.name) for p in found],
            ),
            owner,
        ]
        if self.status == StageKind.lost:
            reasons = [r.name for r in lost_reason.list_lost_reasons(session, actor=actor)]
            if deal.lost_reason and deal.lost_reason not in reasons:
                reasons.insert(0, deal.lost_reason)  # deactivated since: shown, kept
            fields.append(
                FieldView(
                    key="lost_reason",
                    label="Lost reason",
                    kind="select",
                    value=deal.lost_reason or NONE,
                    display=deal.lost_reason or "",
                    options=[Choice(r, r) for r in reasons],
                )
            )
        return fields

    def _show_path(self, session: Session, deal: Deal) -> None:
        """The stages of the deal's pipeline: open ones before, at and after the deal's, then
        the won and lost ones."""
        stages = pipelines.live_stages(session, deal.pipeline_id)
        at = next((i for i, s in enumerate(stages) if s.id == deal.stage_id), -1)
        self.path = [
            {
                "id": str(s.id),
                "name": s.name,
                "kind": str(s.kind),
                "state": "current" if i == at else ("done" if i < at else "todo"),
            }
            for i, s in enumerate(stages)
        ]

    def _view(self, key: str) -> FieldView | None:
        # the company and the primary contact are edited in the header, as links
        if key == "account_id":
            return FieldView(key="account_id", label="Company", kind="company")
        if key == "primary_contact_id":
            return FieldView(key="primary_contact_id", label="Primary contact", kind="contact")
        return super()._view(key)

    def _load_related(self, session: Session, actor: User) -> None:
        self.can_see_activities = can(session, actor, "activity", "read")
        if self.can_see_activities:
            self.activities, self.activities_total = self._activities(session, actor, 0)
        self.lost_reasons = [r.name for r in lost_reason.list_lost_reasons(session, actor=actor)]
        self.adding_person, self.role_for, self.role_error = False, "", ""
        self._load_involved(session, actor)

    def _load_involved(self, session: Session, actor: User) -> None:
        found = deal_contact.list_deal_contacts(session, actor=actor, deal_id=self.record_id)
        self.involved = [
            {
                "id": str(c.contact_id),
                "name": c.name,
                "href": routes.contact_detail(c.contact_id),
                "detail": " · ".join(p for p in (c.title, c.email) if p),
                "role": c.role or "",
            }
            for c in found
        ]

    # ---- company and primary contact ----------------------------------------------------

    def _company_chosen(self, choice: Choice | None):
        return self._save({"account_id": int(choice.value) if choice else None})

    def _contact_chosen(self, choice: Choice | None):
        if self.editing == "primary_contact_id":
            return self._save({"primary_contact_id": int(choice.value) if choice else None})
        if self.adding_person and choice is not None:
            return self._involve(choice.value, None)
        return None

    # ---- the stage ----------------------------------------------------------------------

    @rx.event
    def choose_stage(self, stage_id: str):
        """Move the deal to a stage of its pipeline: an open one at once; a won one after a
        confirmation; a lost one with a reason."""
        stage = next((s for s in self.path if s["id"] == str(stage_id)), None)
        if not self.can_edit or stage is None or stage["state"] == "current":
            return None
        if stage["kind"] == StageKind.open:
            return self._move(stage["id"])
        self.closing_kind, self.closing_stage_id = stage["kind"], stage["id"]
        self.closing_stage_name, self.lost_reason_error = stage["name"], ""
        return None

    @rx.event
    def confirm_won(self):
        """The won move is confirmed."""
        if self.closing_kind != StageKind.won:
            return None
        error = self._move(self.closing_stage_id)
        return error or rx.toast.success(f"{self.name} is won.", duration=5000)

    @rx.event
    def confirm_lost(self, form: dict):
        """The lost move, with its reason."""
        if self.closing_kind != StageKind.lost:
            return None
        reason = str(form.get("lost_reason", "")).strip()[:200]
        if not reason:
            self.lost_reason_error = "Pick why the deal was lost."
            return None
        return self._move(self.closing_stage_id, reason)

    @rx.event
    def cancel_closing(self, is_open: bool = False):
        """The won or lost dialog was dismissed: the deal stays where it is."""
        if not is_open:
            self.closing_kind = self.closing_stage_id = self.closing_stage_name = ""

    def _move(self, stage_id: str, reason: str | None = None) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                deal = deals.move_deal(
                    session,
                    actor=actor,
                    deal_id=self.record_id,
                    stage_id=int(stage_id),
                    lost_reason=reason,
                    version=self.version,
                    ip=self._client_ip(),
                )
                self._show_record(session, actor, deal)
        except StaleVersion:
            self.closing_kind = ""
            return self._reload() or rx.toast.warning(STALE)
        except ValidationFailed as error:
            if reason is not None:
                self.lost_reason_error = error.errors[0].message if error.errors else error.message
                return None
            self.closing_kind = ""
            return error_event(error)
        except DomainError as error:
            self.closing_kind = ""
            return error_event(error)
        self.closing_kind = self.closing_stage_id = self.closing_stage_name = ""
        return None

    # ---- tags: saved with the deal's version, like any other field ----------------------

    def _add_tag(self, name: str) -> rx.event.EventSpec | None:
        name = next((s for s in self.tag_suggestions if s.lower() == name.lower()), name)
        return self._save_tags([*self.tags, name])

    def _remove_tag(self, name: str) -> rx.event.EventSpec | None:
        return self._save_tags([t for t in self.tags if t != name])

    def _save_tags(self, tags: list[str]) -> rx.event.EventSpec | None:
        self.tag_error = ""
        try:
            with self._actor_session() as (session, actor):
                deal = self._update(session, actor, {"tags": tags}, False)
                tag.remember(session, actor=actor, names=deal.tags or [])
                self._show_record(session, actor, deal)
        except StaleVersion:
            return self._reload() or rx.toast.warning(STALE)
        except ValidationFailed as error:
            self.tag_error = error.errors[0].message if error.errors else error.message
            return None
        except DomainError as error:
            return error_event(error)
        self._typed_done()
        return None

    # ---- contacts involved --------------------------------------------------------------

    @rx.event
    def open_add_person(self, is_open: bool = True):
        """Show or hide the search that adds a contact to the deal."""
        self.adding_person = bool(is_open) and self.can_edit
        self.contact_query, self.contact_options = "", []
        if self.adding_person:
            self.editing = ""

    @rx.event
    def start_role(self, contact_id: str):
        """Edit the role of one contact involved."""
        if self.can_edit and any(p["id"] == str(contact_id) for p in self.involved):
            self.role_for, self.role_error = str(contact_id), ""

    @rx.event
    def cancel_role(self):
        """Close the role editor."""
        self.role_for, self.role_error = "", ""

    @rx.event
    def save_role(self, form: dict):
        """Save the role of the contact being edited."""
        if not self.role_for:
            return None
        return self._involve(self.role_for, str(form.get("role", ""))[:200])

    @rx.event
    def remove_person(self, contact_id: str):
        """Stop involving a contact in the deal (the contact stays)."""
        try:
            with self._actor_session() as (session, actor):
                deal_contact.remove_deal_contact(
                    session,
                    actor=actor,
                    deal_id=self.record_id,
                    contact_id=int(str(contact_id)[:20]),
                    ip=self._client_ip(),
                )
                self._after_involved(session, actor)
        except ValueError:
            return None
        except DomainError as error:
            return error_event(error)
        return None

    def _involve(self, contact_id: str, role: str | None) -> rx.event.EventSpec | None:
        self.role_error = ""
        try:
            with self._actor_session() as (session, actor):
                deal_contact.add_deal_contact(
                    session,
                    actor=actor,
                    deal_id=self.record_id,
                    contact_id=contact_id,
                    role=role,
                    ip=self._client_ip(),
                )
                self._after_involved(session, actor)
        except ValidationFailed as error:
            self.role_error = "; ".join(e.message for e in error.errors) or error.message
            return None
        except DomainError as error:
            return error_event(error)
        self.adding_person, self.role_for = False, ""
        return None

    def _after_involved(self, session: Session, actor: User) -> None:
        self._load_involved(session, actor)
        self._reload_timeline(session, actor)

    # ---- computed -----------------------------------------------------------------------

    @rx.var
    def status_label(self) -> str:
        """Open, Won, or Lost with its reason."""
        label = STATUS_LABELS.get(self.status, "")
        return (
            f"{label}: {self.lost_reason}" if self.status == "lost" and self.lost_reason else label
        )


def _plain(value: Any) -> str:
    return "" if value is None else str(value)
