"""Settings -> E-mail templates: the list, the editor and its live preview on a chosen record."""

from __future__ import annotations

import reflex as rx

from crm_app.services import email_template
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event

EMPTY = {"name": "", "entity": "contact", "subject": "", "body": ""}


class EmailTemplateState(AppState):
    """Templates, the one being edited, and what it renders as about a picked record."""

    templates: list[dict[str, str]] = []
    can_manage: bool = False
    editor_open: bool = False
    editing_id: int = 0  # 0: a new template
    draft: dict[str, str] = dict(EMPTY)
    errors: dict[str, str] = {}
    record_query: str = ""
    record_options: list[dict[str, str]] = []
    record_id: int = 0
    record_label: str = ""
    preview_subject: str = ""
    preview_html: str = ""
    preview_error: str = ""

    def _reload(self, session, actor) -> None:
        self.can_manage = email_template.can_manage(session, actor)
        self.templates = [
            {
                "id": str(t.id),
                "name": t.name,
                "entity": email_template.ENTITY_LABELS.get(t.entity, t.entity),
                "subject": t.subject,
            }
            for t in email_template.list_templates(session, actor=actor)
        ]

    @rx.event
    def load(self):
        """on_load."""
        self.editor_open = False
        return self._load_page(self._reload)

    def _reset_preview(self) -> None:
        self.record_query, self.record_options = "", []
        self.record_id, self.record_label = 0, ""
        self.preview_subject = self.preview_html = self.preview_error = ""

    @rx.event
    def open_new(self):
        """Open the editor on a blank template."""
        self.editing_id, self.draft, self.errors = 0, dict(EMPTY), {}
        self._reset_preview()
        self.editor_open = True

    @rx.event
    def open_edit(self, template_id: str):
        """Open the editor on a saved template."""
        try:
            with self._actor_session() as (session, actor):
                template = email_template.get_template(
                    session, actor=actor, template_id=int(template_id)
                )
                self.draft = {k: getattr(template, k) for k in EMPTY}
                self.editing_id = template.id or 0
        except (DomainError, ValueError) as error:
            return error_event(error if isinstance(error, DomainError) else _bad_id())
        self.errors = {}
        self._reset_preview()
        self.editor_open = True
        return EmailTemplateState.render_preview

    @rx.event
    def close_editor(self, is_open: bool = False):
        """Close the editor (Cancel, Escape)."""
        self.editor_open = bool(is_open)

    @rx.event
    def set_draft(self, key: str, value: str):
        """A field of the editor changed; the preview follows."""
        if key not in EMPTY:
            return None
        if key == "entity" and value != self.draft.get("entity"):
            self._reset_preview()
        self.draft = {**self.draft, key: str(value)[: email_template.BODY_MAX]}
        return EmailTemplateState.render_preview

    @rx.event
    def search_records(self, query: str):
        """Find records of the template's kind for the preview."""
        self.record_query = str(query)[:200]
        entity = self.draft.get("entity", "contact")
        try:
            with self._actor_session() as (session, actor):
                found = email_template.search_records(
                    session, actor=actor, entity=entity, q=self.record_query
                )
        except DomainError as error:
            return error_event(error)
        self.record_options = [{"id": str(i), "label": label} for i, label in found]
        return None

    @rx.event
    def pick_record(self, record_id: str, label: str):
        """Preview on this record."""
        try:
            self.record_id = int(record_id)
        except ValueError:
            return error_event(_bad_id())
        self.record_label, self.record_options, self.record_query = str(label)[:200], [], ""
        return EmailTemplateState.render_preview

    @rx.event
    def render_preview(self):
        """Render the draft about the picked record (re-checked: the user may read it)."""
        try:
            with self._actor_session() as (session, actor):
                rendered = email_template.preview(
                    session,
                    actor=actor,
                    entity=self.draft.get("entity", "contact"),
                    subject=self.draft.get("subject", ""),
                    body=self.draft.get("body", ""),
                    record_id=self.record_id or None,
                )
        except ValidationFailed as error:
            self.preview_error = "; ".join(e.message for e in error.errors) or error.message
            return None
        except DomainError as error:
            self.preview_error = error.message
            return None
        self.preview_error = ""
        self.preview_subject, self.preview_html = rendered.subject, rendered.html
        return None

    @rx.event
    def save(self):
        """Create or update the template in the editor."""
        self.errors = {}
        try:
            with self._actor_session() as (session, actor):
                if self.editing_id:
                    email_template.update_template(
                        session, actor=actor, template_id=self.editing_id, data=self.draft
                    )
                else:
                    created = email_template.create_template(session, actor=actor, data=self.draft)
                    self.editing_id = created.id or 0
                self._reload(session, actor)
        except ValidationFailed as error:
            self.errors = {e.field: e.message for e in error.errors}
            return None
        except DomainError as error:
            return error_event(error)
        self.editor_open = False
        return rx.toast.success("Template saved.")

    @rx.event
    def delete(self, template_id: str):
        """Put a template in the trash."""
        try:
            with self._actor_session() as (session, actor):
                email_template.delete_template(session, actor=actor, template_id=int(template_id))
                self._reload(session, actor)
        except (DomainError, ValueError) as error:
            return error_event(error if isinstance(error, DomainError) else _bad_id())
        return rx.toast.success("Template deleted.")


def _bad_id() -> ValidationFailed:
    return ValidationFailed("That is not a valid id.")
