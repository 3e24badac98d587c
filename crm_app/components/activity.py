"""The activity composer of a record page, and the card it shares with the timeline."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.hotkeys import hotkeys
from crm_app.components.inline_edit import record_picker
from crm_app.components.timeline import timeline
from crm_app.state.activity import HOTKEYS, KINDS, OUTCOMES, PRIORITIES, REMINDERS

FORM_ID = "activity-composer"
SUBJECT_ID = "compose-subject"


def _error(state: Any, name: str) -> rx.Component:
    message = state.compose_errors.get(name, "")
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _labelled(label: str, name: str, control: rx.Component, state: Any) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"compose-{name}", font_weight="500", font_size="0.875rem"),
        control,
        _error(state, name),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _input(state: Any, label: str, name: str, **props) -> rx.Component:
    message = state.compose_errors.get(name, "")
    control = rx.input(
        id=f"compose-{name}",
        name=name,
        width="100%",
        aria_invalid=rx.cond(message != "", "true", "false"),
        **props,
    )
    return _labelled(label, name, control, state)


def _select(
    state: Any, label: str, name: str, choices: Any, default: str | rx.Var, key: str = ""
) -> rx.Component:
    control = rx.select.root(
        rx.select.trigger(id=f"compose-{name}", width="100%"),
        rx.select.content(
            rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))
            if isinstance(choices, rx.Var)
            else rx.fragment(*[rx.select.item(c.label, value=c.value) for c in choices]),
            position="popper",
        ),
        name=name,
        default_value=default,
        # each kind's form has its own select: one kept across kinds loses its default
        key=key or name,
    )
    return _labelled(label, name, control, state)


def _row(*children: rx.Component) -> rx.Component:
    return rx.grid(
        *children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"
    )


def _call_fields(state: Any) -> rx.Component:
    return _row(
        _labelled(
            "Outcome",
            "outcome",
            rx.select.root(
                rx.select.trigger(id="compose-outcome", placeholder="Choose…", width="100%"),
                rx.select.content(*[rx.select.item(o, value=o) for o in OUTCOMES]),
                name="outcome",
            ),
            state,
        ),
        _input(state, "Duration (minutes)", "duration_minutes", type="number", min=0, max=1440),
    )


def _attendees(state: Any) -> rx.Component:
    chips = rx.flex(
        rx.foreach(
            state.attendees,
            lambda c: rx.badge(
                c.label,
                rx.icon_button(
                    rx.icon("x", size=12),
                    size="1",
                    variant="ghost",
                    type="button",
                    aria_label="Remove " + c.label,
                    on_click=state.remove_attendee(c.value),
                ),
                size="2",
                variant="soft",
            ),
        ),
        gap="0.5rem",
        wrap="wrap",
    )
    colleagues = rx.flex(
        rx.foreach(
            state.colleagues,
            lambda c: rx.el.label(
                rx.el.input(type="checkbox", name="user:" + c.value),
                rx.text(c.label, size="2", as_="span"),
                display="flex",
                gap="0.35rem",
                align_items="center",
            ),
        ),
        gap="0.75rem",
        wrap="wrap",
    )
    return rx.vstack(
        rx.el.fieldset(
            rx.el.legend("Contacts attending", font_weight="500", font_size="0.875rem"),
            chips,
            record_picker(
                noun="contacts",
                query=state.attendee_query,
                options=state.attendee_options,
                on_search=state.search_attendees,
                on_key=state.attendee_key,
                on_choose=state.add_attendee,
                label="Add a contact to the meeting",
            ),
            border="none",
            padding="0",
            margin="0",
            display="flex",
            flex_direction="column",
            gap="0.5rem",
            width="100%",
        ),
        rx.el.fieldset(
            rx.el.legend("Colleagues attending", font_weight="500", font_size="0.875rem"),
            colleagues,
            border="none",
            padding="0",
            margin="0",
        ),
        _error(state, "attendees"),
        spacing="3",
        width="100%",
    )


def _meeting_fields(state: Any) -> rx.Component:
    return rx.vstack(
        _row(
            _input(state, "Starts", "starts_at", type="datetime-local"),
            _input(state, "Ends", "ends_at", type="datetime-local"),
        ),
        _row(
            _input(state, "Place", "location", max_length=300, placeholder="Room, address or link"),
            _select(state, "Reminder", "reminder", REMINDERS, "none", key="meeting-reminder"),
        ),
        _attendees(state),
        spacing="3",
        width="100%",
    )


def _task_fields(state: Any) -> rx.Component:
    return rx.vstack(
        _row(
            _input(state, "Due", "due_at", type="datetime-local"),
            _select(state, "Reminder", "reminder", REMINDERS, "none", key="task-reminder"),
        ),
        _row(
            _select(state, "Assignee", "owner_id", state.assignees, state.me_id.to_string()),
            _select(state, "Priority", "priority", PRIORITIES, "normal"),
        ),
        spacing="3",
        width="100%",
    )


def composer(state: Any) -> rx.Component:
    """Log a note, call, e-mail, meeting or task on the page's record."""
    kind = state.compose_kind
    return rx.cond(
        state.can_log,
        rx.el.section(
            hotkeys(
                keys="".join(HOTKEYS),
                focus_id=SUBJECT_ID,
                submit_form_id=FORM_ID,
                on_key=state.hotkey,
            ),
            rx.heading("Log activity", size="4", as_="h3", id="composer-heading"),
            rx.segmented_control.root(
                *[rx.segmented_control.item(c.label, value=c.value) for c in KINDS],
                value=kind,
                on_change=state.pick_kind,
                aria_label="Kind of activity",
                width="100%",
                margin_y="0.5rem",
            ),
            rx.form(
                rx.vstack(
                    _input(
                        state,
                        "Subject",
                        "subject",
                        max_length=300,
                        placeholder=rx.match(
                            kind,
                            ("call", "What was the call about?"),
                            ("meeting", "What is the meeting about?"),
                            ("task", "What needs doing?"),
                            ("email", "The e-mail's subject"),
                            "A title (optional)",
                        ),
                    ),
                    rx.match(
                        kind,
                        ("call", _call_fields(state)),
                        ("meeting", _meeting_fields(state)),
                        ("task", _task_fields(state)),
                        rx.fragment(),
                    ),
                    _labelled(
                        rx.match(kind, ("note", "Note"), ("email", "Message"), "Notes"),
                        "body",
                        rx.text_area(
                            id="compose-body",
                            name="body",
                            rows="4",
                            width="100%",
                            max_length=50_000,
                            placeholder="**bold**, *italics*, - lists, [links](https://…)",
                        ),
                        state,
                    ),
                    _error(state, "form"),
                    rx.flex(
                        rx.text(
                            "Keys: N note · C call · E e-mail · M meeting · T task · "
                            "Ctrl+Enter saves",
                            size="1",
                            color_scheme="gray",
                        ),
                        rx.spacer(),
                        rx.button(
                            rx.match(
                                kind,
                                ("call", "Log call"),
                                ("email", "Log e-mail"),
                                ("meeting", "Add meeting"),
                                ("task", "Add task"),
                                "Add note",
                            ),
                            type="submit",
                        ),
                        align="center",
                        gap="0.5rem",
                        wrap="wrap",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                id=FORM_ID,
                key=state.compose_key,
                on_submit=state.log_activity,
                reset_on_submit=False,
                aria_labelledby="composer-heading",
                width="100%",
            ),
            aria_labelledby="composer-heading",
            width="100%",
        ),
    )


def history_card(state: Any) -> rx.Component:
    """The composer over the record's timeline."""
    return rx.card(
        rx.vstack(composer(state), timeline(state), spacing="5", width="100%"),
        width="100%",
    )
