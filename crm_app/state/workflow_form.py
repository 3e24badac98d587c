"""The rule builder's form: one row of plain strings per part (what the selects and inputs
hold), turned into the definition the workflow service validates, and back."""

from __future__ import annotations

from typing import Any

from crm_app.state.views import NONE

TRIGGER_KEYS = (
    "kind",
    "entity",
    "field",
    "to_value",
    "pipeline_id",
    "to",
    "stage_id",
    "threshold",
    "direction",
    "offset_days",
)
CONDITION_KEYS = ("field", "operator", "value")
ACTION_KEYS = (
    "kind",
    "subject",
    "due_in_days",
    "assignee",
    "template_id",
    "field",
    "value",
    "owner",
    "tag",
    "webhook_id",
)
NEW_TRIGGER = {
    "kind": "stage_changed",
    "entity": "deal",
    "field": "name",
    "to_value": "",
    "pipeline_id": NONE,
    "to": "won",
    "stage_id": NONE,
    "threshold": "50",
    "direction": "up",
    "offset_days": "-3",
}
NEW_CONDITION = {"field": "name", "operator": "equals", "value": ""}
NEW_ACTION = {
    "kind": "create_task",
    "subject": "",
    "due_in_days": "1",
    "assignee": "owner",
    "template_id": NONE,
    "field": "name",
    "value": "",
    "owner": NONE,
    "tag": "",
    "webhook_id": NONE,
}
PART_LABELS = {
    "field": "Field",
    "to_value": "Value",
    "stage_id": "Stage",
    "pipeline_id": "Pipeline",
    "threshold": "Score",
    "offset_days": "Days",
    "operator": "Comparison",
    "value": "Value",
    "values": "Values",
    "subject": "Subject",
    "due_in_days": "Due in days",
    "user_id": "User",
    "team_id": "Team",
    "template_id": "Template",
    "tag": "Tag",
    "webhook_id": "Webhook",
    "kind": "Action",
}


def _picked(value: str) -> str | None:
    return None if value in ("", NONE) else value


def trigger_data(form: dict[str, str]) -> dict[str, Any]:
    kind = form["kind"]
    out: dict[str, Any] = {"kind": kind}
    if kind in ("record_created", "record_updated", "field_changed", "date_reached"):
        out["entity"] = form["entity"]
    if kind in ("field_changed", "date_reached"):
        out["field"] = form["field"]
    if kind == "field_changed":
        out["to_value"] = form["to_value"].strip() or None
    if kind == "stage_changed":
        out |= {"to": form["to"], "pipeline_id": _picked(form["pipeline_id"])}
        if form["to"] == "stage":
            out["stage_id"] = _picked(form["stage_id"])
    if kind == "score_crosses":
        out |= {"threshold": form["threshold"], "direction": form["direction"]}
    if kind == "date_reached":
        out["offset_days"] = form["offset_days"]
    return {k: v for k, v in out.items() if v is not None or k == "to_value"}


def condition_data(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"field": row["field"], "operator": row["operator"]}
    if row["operator"] == "in":
        out["values"] = [v.strip() for v in row["value"].split(",") if v.strip()]
    elif row["operator"] not in ("is_empty", "is_not_empty"):
        out["value"] = row["value"]
    return out


def action_data(row: dict[str, str]) -> dict[str, Any]:
    kind = row["kind"]
    out: dict[str, Any] = {"kind": kind}
    if kind == "create_task":
        out |= {"subject": row["subject"], "due_in_days": row["due_in_days"] or "0"}
        if row["assignee"] == "owner":
            out["assignee"] = "owner"
        else:
            out |= {"assignee": "user", "user_id": row["assignee"]}
    elif kind == "send_email":
        out["template_id"] = _picked(row["template_id"])
    elif kind == "set_field":
        out |= {"field": row["field"], "value": row["value"]}
    elif kind == "assign_owner":
        who, _, picked = row["owner"].partition(":")
        if who == "team":
            out |= {"mode": "round_robin", "team_id": picked}
        else:
            out |= {"mode": "user", "user_id": picked or None}
    elif kind == "add_tag":
        out["tag"] = row["tag"]
    elif kind == "call_webhook":
        out["webhook_id"] = _picked(row["webhook_id"])
    return {k: v for k, v in out.items() if v is not None}


def trigger_form(trigger: dict[str, Any]) -> dict[str, str]:
    form = dict(NEW_TRIGGER)
    for key in TRIGGER_KEYS:
        if trigger.get(key) is not None:
            form[key] = str(trigger[key])
    return form


def condition_form(condition: dict[str, Any]) -> dict[str, str]:
    value = condition.get("value", "")
    if condition.get("operator") == "in":
        value = ", ".join(condition.get("values", []))
    return {"field": condition["field"], "operator": condition["operator"], "value": str(value)}


def action_form(action: dict[str, Any]) -> dict[str, str]:
    row = dict(NEW_ACTION)
    for key in ACTION_KEYS:
        if action.get(key) is not None:
            row[key] = str(action[key])
    if action["kind"] == "create_task" and action.get("assignee") == "user":
        row["assignee"] = str(action.get("user_id"))
    if action["kind"] == "assign_owner":
        if action.get("mode") == "round_robin":
            row["owner"] = f"team:{action.get('team_id')}"
        else:
            row["owner"] = f"user:{action.get('user_id')}"
    return row
