"""The pieces of Settings -> Automation: the rule builder ("When ... If ... Then ...") and a
rule's run log."""

from __future__ import annotations

import reflex as rx

from crm_app.services.workflow import ENTITIES, OPERATORS
from crm_app.state.views import NONE
from crm_app.state.workflow import WorkflowState as S

LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}
TRIGGER_KINDS = [
    ("record_created", "A record is created"),
    ("record_updated", "A record is changed"),
    ("field_changed", "A field changes"),
    ("stage_changed", "A deal changes stage"),
    ("score_crosses", "A lead's score crosses a value"),
    ("date_reached", "A date is reached"),
]
ACTION_KINDS = [
    ("create_task", "Create a task"),
    ("send_email", "Send a templated e-mail"),
    ("set_field", "Set a field"),
    ("assign_owner", "Assign an owner"),
    ("add_tag", "Add a tag"),
    ("call_webhook", "Call a webhook"),
]


def _error(message: rx.Var | str) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _labelled(label: rx.Var | str, control_id: rx.Var | str, control: rx.Component):
    return rx.vstack(
        rx.el.label(label, html_for=control_id, style=LABEL_STYLE),
        control,
        spacing="1",
        min_width="10rem",
    )


def choice_select(label, control_id, value, on_change, *items, width="100%") -> rx.Component:
    """A labelled select of fixed items (rx.select.item) and/or rx.foreach groups."""
    return _labelled(
        label,
        control_id,
        rx.select.root(
            rx.select.trigger(id=control_id, width=width),
            rx.select.content(*items, position="popper"),
            value=value,
            on_change=on_change,
        ),
    )


def _items(choices: rx.Var) -> rx.Component:
    return rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))


def text_input(label, control_id, value, on_change, **props) -> rx.Component:
    """A labelled, controlled text input."""
    return _labelled(
        label,
        control_id,
        rx.input(id=control_id, value=value, on_change=on_change, width="100%", **props),
    )


# ---- When ------------------------------------------------------------------------------------


def _trigger_details() -> rx.Component:
    t = S.trigger
    entity = choice_select(
        "Record",
        "trigger-entity",
        t["entity"],
        lambda v: S.set_trigger("entity", v),
        *[rx.select.item(label, value=key) for key, label in ENTITIES.items()],
    )
    field = choice_select(
        "Field",
        "trigger-field",
        t["field"],
        lambda v: S.set_trigger("field", v),
        _items(S.field_choices),
    )
    date_field = choice_select(
        "Date field",
        "trigger-date-field",
        t["field"],
        lambda v: S.set_trigger("field", v),
        _items(S.date_field_choices),
    )
    stage = rx.hstack(
        choice_select(
            "Moves to",
            "trigger-to",
            t["to"],
            lambda v: S.set_trigger("to", v),
            rx.select.item("Any stage", value="any"),
            rx.select.item("A won stage", value="won"),
            rx.select.item("A lost stage", value="lost"),
            rx.select.item("One stage", value="stage"),
        ),
        rx.cond(
            t["to"] == "stage",
            choice_select(
                "Stage",
                "trigger-stage",
                t["stage_id"],
                lambda v: S.set_trigger("stage_id", v),
                rx.select.item("Pick a stage", value=NONE),
                _items(S.stages),
            ),
        ),
        choice_select(
            "Pipeline",
            "trigger-pipeline",
            t["pipeline_id"],
            lambda v: S.set_trigger("pipeline_id", v),
            rx.select.item("Any pipeline", value=NONE),
            _items(S.pipelines),
        ),
        spacing="3",
        wrap="wrap",
    )
    score = rx.hstack(
        choice_select(
            "Direction",
            "trigger-direction",
            t["direction"],
            lambda v: S.set_trigger("direction", v),
            rx.select.item("Goes up to or above", value="up"),
            rx.select.item("Drops below", value="down"),
        ),
        text_input(
            "Score",
            "trigger-threshold",
            t["threshold"],
            lambda v: S.set_trigger("threshold", v),
            type="number",
            min=1,
            max=100,
        ),
        spacing="3",
    )
    offset = text_input(
        "Days after the date (negative: before)",
        "trigger-offset",
        t["offset_days"],
        lambda v: S.set_trigger("offset_days", v),
        type="number",
        min=-365,
        max=365,
    )
    to_value = text_input(
        "To the value (optional)",
        "trigger-to-value",
        t["to_value"],
        lambda v: S.set_trigger("to_value", v),
        max_length=200,
    )
    return rx.match(
        t["kind"],
        ("stage_changed", stage),
        ("score_crosses", score),
        ("field_changed", rx.hstack(entity, field, to_value, spacing="3", wrap="wrap")),
        ("date_reached", rx.hstack(entity, date_field, offset, spacing="3", wrap="wrap")),
        entity,
    )


def when_section() -> rx.Component:
    """The trigger: what kind of event, and its details."""
    return rx.vstack(
        rx.heading("When", size="3", as_="h3"),
        rx.hstack(
            choice_select(
                "Trigger",
                "trigger-kind",
                S.trigger["kind"],
                lambda v: S.set_trigger("kind", v),
                *[rx.select.item(label, value=key) for key, label in TRIGGER_KINDS],
            ),
            _trigger_details(),
            spacing="3",
            wrap="wrap",
            align="start",
        ),
        _error(S.errors.get("trigger", "")),
        spacing="2",
        width="100%",
    )


# ---- If --------------------------------------------------------------------------------------


def _condition_row(row: rx.Var, i: rx.Var) -> rx.Component:
    n = (i + 1).to_string()
    return rx.vstack(
        rx.hstack(
            choice_select(
                "Condition " + n + " field",
                "condition-field-" + n,
                row["field"],
                lambda v: S.set_condition(i, "field", v),
                _items(S.field_choices),
            ),
            choice_select(
                "Condition " + n + " comparison",
                "condition-operator-" + n,
                row["operator"],
                lambda v: S.set_condition(i, "operator", v),
                *[rx.select.item(words, value=key) for key, words in OPERATORS.items()],
            ),
            rx.cond(
                (row["operator"] != "is_empty") & (row["operator"] != "is_not_empty"),
                text_input(
                    "Condition " + n + " value",
                    "condition-value-" + n,
                    row["value"],
                    lambda v: S.set_condition(i, "value", v),
                    placeholder=rx.cond(row["operator"] == "in", "a, b, c", ""),
                    max_length=500,
                ),
            ),
            rx.button(
                rx.icon("x", size=14),
                "Remove",
                type="button",
                variant="soft",
                color_scheme="gray",
                size="1",
                aria_label="Remove condition " + n,
                on_click=S.remove_condition(i),
                align_self="end",
            ),
            spacing="3",
            wrap="wrap",
            align="end",
        ),
        _error(S.condition_errors[i]),
        spacing="1",
    )


def if_section() -> rx.Component:
    """The conditions: all must hold."""
    return rx.vstack(
        rx.heading("If", size="3", as_="h3"),
        rx.text(
            "Every condition must hold when the rule runs (none: always).",
            size="2",
            color_scheme="gray",
        ),
        rx.foreach(S.conditions, _condition_row),
        _error(S.errors.get("conditions", "")),
        rx.button(
            rx.icon("plus", size=14),
            "Add condition",
            type="button",
            variant="soft",
            size="1",
            on_click=S.add_condition,
        ),
        spacing="2",
        width="100%",
    )


# ---- Then ------------------------------------------------------------------------------------


def _action_details(row: rx.Var, i: rx.Var, n: rx.Var) -> rx.Component:
    def set_(key: str):
        return lambda v: S.set_action(i, key, v)

    task = rx.hstack(
        text_input(
            "Action " + n + " task subject",
            "action-subject-" + n,
            row["subject"],
            set_("subject"),
            placeholder="Call {{name}}",
            max_length=300,
        ),
        text_input(
            "Action " + n + " due in days",
            "action-due-" + n,
            row["due_in_days"],
            set_("due_in_days"),
            type="number",
            min=0,
            max=365,
        ),
        choice_select(
            "Action " + n + " assignee",
            "action-assignee-" + n,
            row["assignee"],
            set_("assignee"),
            rx.select.item("The record's owner", value="owner"),
            _items(S.users),
        ),
        spacing="3",
        wrap="wrap",
    )
    email = choice_select(
        "Action " + n + " template",
        "action-template-" + n,
        row["template_id"],
        set_("template_id"),
        rx.select.item("Pick a template", value=NONE),
        _items(S.templates),
    )
    set_field = rx.hstack(
        choice_select(
            "Action " + n + " field",
            "action-field-" + n,
            row["field"],
            set_("field"),
            _items(S.settable_choices),
        ),
        text_input(
            "Action " + n + " value",
            "action-value-" + n,
            row["value"],
            set_("value"),
            max_length=200,
        ),
        spacing="3",
        wrap="wrap",
    )
    owner = choice_select(
        "Action " + n + " new owner",
        "action-owner-" + n,
        row["owner"],
        set_("owner"),
        rx.select.item("Pick a user or a team", value=NONE),
        _items(S.owners),
    )
    tag = text_input(
        "Action " + n + " tag", "action-tag-" + n, row["tag"], set_("tag"), max_length=50
    )
    hook = choice_select(
        "Action " + n + " webhook",
        "action-webhook-" + n,
        row["webhook_id"],
        set_("webhook_id"),
        rx.select.item("Pick a webhook", value=NONE),
        _items(S.webhooks),
    )
    return rx.match(
        row["kind"],
        ("create_task", task),
        ("send_email", email),
        ("set_field", set_field),
        ("assign_owner", owner),
        ("add_tag", tag),
        ("call_webhook", hook),
        rx.fragment(),
    )


def _action_row(row: rx.Var, i: rx.Var) -> rx.Component:
    n = (i + 1).to_string()
    return rx.vstack(
        rx.hstack(
            choice_select(
                "Action " + n,
                "action-kind-" + n,
                row["kind"],
                lambda v: S.set_action(i, "kind", v),
                *[rx.select.item(label, value=key) for key, label in ACTION_KINDS],
            ),
            _action_details(row, i, n),
            rx.button(
                rx.icon("x", size=14),
                "Remove",
                type="button",
                variant="soft",
                color_scheme="gray",
                size="1",
                aria_label="Remove action " + n,
                on_click=S.remove_action(i),
                align_self="end",
            ),
            spacing="3",
            wrap="wrap",
            align="end",
        ),
        _error(S.action_errors[i]),
        spacing="1",
        padding_y="0.25rem",
    )


def then_section() -> rx.Component:
    """The actions, run in order; one refusal undoes them all."""
    return rx.vstack(
        rx.heading("Then", size="3", as_="h3"),
        rx.text(
            "Actions run in order as you, the rule's author. A task subject may use "
            "{{name}} and other fields, e.g. {{amount}} or a custom one: {{custom.plan}}.",
            size="2",
            color_scheme="gray",
        ),
        rx.foreach(S.actions, _action_row),
        _error(S.errors.get("actions", "")),
        rx.button(
            rx.icon("plus", size=14),
            "Add action",
            type="button",
            variant="soft",
            size="1",
            on_click=S.add_action,
        ),
        spacing="2",
        width="100%",
    )


def builder() -> rx.Component:
    """The rule form: name, When, If, Then, on/off, save."""
    return rx.card(
        rx.vstack(
            rx.heading(S.builder_title, size="4", as_="h2"),
            rx.box(
                text_input("Rule name", "rule-name", S.name, S.set_name, max_length=100),
                _error(S.errors.get("name", "")),
                max_width="28rem",
                width="100%",
            ),
            when_section(),
            if_section(),
            then_section(),
            rx.checkbox("Active", checked=S.rule_active, on_change=S.set_active),
            _error(S.errors.get("rule", "")),
            rx.hstack(
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_builder),
                rx.button("Save rule", on_click=S.save),
                spacing="3",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        role="region",
        aria_label=S.builder_title,
    )
