"""Settings -> Custom fields: one entity's fields, the add/edit dialog, delete and restore."""

from __future__ import annotations

import reflex as rx

from crm_app.models.custom_field import FieldType
from crm_app.services import custom_field
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event

ENTITIES = list(custom_field.ENTITY_LABELS)
CHOICE_TYPES = [t.value for t in custom_field.CHOICE_TYPES]


def _field_id(raw: str) -> int:
    """A field id sent by the browser, or ValidationFailed."""
    try:
        return int(str(raw)[:12])
    except ValueError:
        raise ValidationFailed("Unknown field.") from None


def _row(definition, index: int, count: int) -> dict[str, str]:
    return {
        "id": str(definition.id),
        "label": definition.label,
        "key": definition.key,
        "type": custom_field.TYPE_LABELS[FieldType(definition.field_type)],
        "options": ", ".join(definition.options or []) or "—",
        "required": "Yes" if definition.required else "No",
        "version": str(definition.version),
        "first": "yes" if index == 0 else "",
        "last": "yes" if index == count - 1 else "",
    }


class CustomFieldState(AppState):
    """The chosen entity's fields (and deleted ones), and the dialogs acting on them."""

    entity: str = "contact"
    rows: list[dict[str, str]] = []
    deleted_rows: list[dict[str, str]] = []
    # The add/edit dialog: editing_id "" adds a field; the form's starting values.
    form_open: bool = False
    editing_id: str = ""
    editing_version: str = ""
    form_label: str = ""
    form_type: str = FieldType.text.value
    form_options: str = ""
    form_required: bool = False
    label_error: str = ""
    type_error: str = ""
    options_error: str = ""
    required_error: str = ""
    # The delete confirmation.
    confirm_id: str = ""
    confirm_label: str = ""

    def _reload(self, session, actor) -> None:
        found = custom_field.list_fields(session, entity=self.entity)
        self.rows = [_row(d, i, len(found)) for i, d in enumerate(found)]
        deleted = (
            custom_field.list_deleted(session, entity=self.entity)
            if self.can_manage_settings
            else []
        )
        self.deleted_rows = [_row(d, 0, 1) for d in deleted[:20]]

    def _refresh(self) -> rx.event.EventSpec | None:
        return self._act_then(None, self._reload)

    @rx.event
    def load(self):
        """on_load: the contacts' fields."""
        self.entity, self.form_open, self.confirm_id = "contact", False, ""
        return self._load_page(self._reload)

    @rx.event
    def choose_entity(self, entity: str):
        """Show another entity's fields."""
        if entity not in ENTITIES:
            return None
        self.entity = entity
        return self._refresh()

    @rx.event
    def open_add(self):
        """Open the dialog for a new field."""
        if self.can_manage_settings:
            self._fill_form(None)

    @rx.event
    def open_edit(self, field_id: str):
        """Open the dialog on one of the listed fields, as it is now."""
        if not self.can_manage_settings:
            return None
        try:
            with self._actor_session() as (session, actor):
                wanted = _field_id(field_id)
                found = custom_field.list_fields(session, entity=self.entity)
                definition = next((d for d in found if d.id == wanted), None)
                if definition is None:
                    self._reload(session, actor)
                    return rx.toast.error("That field was deleted meanwhile.")
                self._fill_form(definition)
        except DomainError as error:
            return error_event(error)
        return None

    def _fill_form(self, definition) -> None:
        editing = definition is not None
        self.editing_id = str(definition.id) if editing else ""
        self.editing_version = str(definition.version) if editing else ""
        self.form_label = definition.label if editing else ""
        self.form_type = definition.field_type if editing else FieldType.text.value
        self.form_options = "\n".join(definition.options or []) if editing else ""
        self.form_required = definition.required if editing else False
        self._show_errors({})
        self.form_open = True

    def _show_errors(self, found: dict[str, str]) -> None:
        self.label_error = found.get("label", "")
        self.type_error = found.get("field_type", "")
        self.options_error = found.get("options", "")
        self.required_error = found.get("required", "")

    @rx.event
    def close_form(self, is_open: bool = False):
        """Dismiss the add/edit dialog."""
        if not is_open:
            self.form_open = False

    @rx.event
    def choose_type(self, field_type: str):
        """The type picked in the add dialog (options show for the select types)."""
        if field_type in {t.value for t in FieldType} and not self.editing_id:
            self.form_type = field_type

    @rx.event
    def toggle_required(self, checked: bool):
        """The required checkbox of the dialog."""
        self.form_required = bool(checked)

    @rx.event
    def save(self, form: dict):
        """Add the field, or save the one being edited."""
        self._show_errors({})
        label = str(form.get("label", ""))[:200]
        options = str(form.get("options", ""))[:20_000].splitlines()
        try:
            with self._actor_session() as (session, actor):
                if self.editing_id:
                    custom_field.update_field(
                        session,
                        actor=actor,
                        field_id=_field_id(self.editing_id),
                        version=_field_id(self.editing_version),
                        label=label,
                        options=options,
                        required=self.form_required,
                    )
                else:
                    custom_field.create_field(
                        session,
                        actor=actor,
                        entity=self.entity,
                        label=label,
                        field_type=self.form_type,
                        options=options,
                        required=self.form_required,
                    )
                self._reload(session, actor)
        except ValidationFailed as error:
            found = {e.field: e.message for e in error.errors}
            self._show_errors(found)
            shown = {"label", "field_type", "options", "required"} & found.keys()
            return None if shown else error_event(error)
        except DomainError as error:
            return error_event(error)
        message = "Saved." if self.editing_id else f"{' '.join(label.split())} added."
        self.form_open = False
        return rx.toast.success(message)

    @rx.event
    def ask_delete(self, field_id: str):
        """Open the confirmation for deleting a listed field."""
        row = next((r for r in self.rows if r["id"] == str(field_id)), None)
        if row is not None:
            self.confirm_id, self.confirm_label = row["id"], row["label"]

    @rx.event
    def close_confirm(self, is_open: bool = False):
        """Dismiss the delete confirmation."""
        if not is_open:
            self.confirm_id = ""

    @rx.event
    def confirm_delete(self):
        """Delete the field the confirmation was about."""
        field_id, self.confirm_id = self.confirm_id, ""
        return self._act(
            lambda session, actor: custom_field.delete_field(
                session, actor=actor, field_id=_field_id(field_id)
            ),
            f"{self.confirm_label} deleted. Its values are kept if you restore it.",
        )

    @rx.event
    def restore(self, field_id: str):
        """Bring a deleted field back."""
        return self._act(
            lambda session, actor: custom_field.restore_field(
                session, actor=actor, field_id=_field_id(field_id)
            ),
            "Field restored.",
        )

    @rx.event
    def move(self, field_id: str, offset: int):
        """Move a field one place up (-1) or down (1)."""
        if offset not in (-1, 1):
            return None
        return self._act(
            lambda session, actor: custom_field.move_field(
                session, actor=actor, field_id=_field_id(field_id), offset=offset
            ),
            None,
        )

    def _act(self, change, message: str | None = None) -> rx.event.EventSpec | None:
        """Run `change(session, actor)` and show the page as it is now."""
        return self._act_then(change, self._reload, message)

    @rx.var
    def entity_label(self) -> str:
        """The chosen entity as the UI names it ("Companies" for accounts)."""
        return custom_field.ENTITY_LABELS.get(self.entity, "")

    @rx.var
    def shows_options(self) -> bool:
        """Whether the dialog asks for options (select and multi-select)."""
        return self.form_type in CHOICE_TYPES

    @rx.var
    def form_type_label(self) -> str:
        """The type of the field being edited, as shown (it cannot change)."""
        return custom_field.TYPE_LABELS.get(FieldType(self.form_type), "")

    @rx.var
    def form_title(self) -> str:
        """The add/edit dialog's title."""
        if self.editing_id:
            return f"Edit {self.form_label}"
        return f"Add a field to {custom_field.ENTITY_LABELS.get(self.entity, '')}"
