"""Settings -> Pipelines: the pipelines, the stages of the one picked, and the lost reasons;
the dialogs that add, change and delete them (moving deals first). Admins only: every handler
goes through `services.pipeline` / `services.lost_reason`, which check it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import StageKind, User
from crm_app.services import deal_list, lost_reason, pipeline
from crm_app.services.errors import DomainError, StaleVersion, ValidationFailed
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import int_arg

KIND_LABELS = {"open": "Open", "won": "Won", "lost": "Lost"}
STAGE_FIELDS = ("name", "kind", "probability", "rotting_days")
STALE = "Changed by someone else meanwhile — reloaded."


def _number(raw: Any) -> int:
    """An id sent by the browser, or ValidationFailed."""
    try:
        return int(str(raw)[:12])
    except ValueError:
        raise ValidationFailed("Unknown item.") from None


def _message(error: ValidationFailed) -> str:
    return "; ".join(e.message for e in error.errors) or error.message


def _ends(i: int, count: int) -> dict[str, str]:
    return {"first": "yes" if i == 0 else "", "last": "yes" if i == count - 1 else ""}


def _moved(ids: list[str], item_id: str, step: int) -> list[int] | None:
    """The ids with one moved a place up (-1) or down (1); None when it cannot move."""
    if item_id not in ids or step not in (-1, 1):
        return None
    i = ids.index(item_id)
    j = i + step
    if not 0 <= j < len(ids):
        return None
    ids = list(ids)
    ids[i], ids[j] = ids[j], ids[i]
    return [int(x) for x in ids]


class PipelineSettingsState(AppState):
    """What Settings -> Pipelines shows and the dialog open on it."""

    can_manage: bool = False
    pipelines: list[dict[str, str]] = []  # id, name, default, version, first, last
    selected_id: str = ""
    stages: list[dict[str, str]] = []  # id, name, kind, kind_label, probability, rotting...
    reasons: list[dict[str, str]] = []  # id, name, active, first, last
    # add or rename a pipeline
    pipeline_dialog: bool = False
    pipeline_editing: str = ""
    pipeline_name: str = ""
    pipeline_error: str = ""
    # add or change a stage
    stage_dialog: bool = False
    stage_editing: str = ""
    stage_values: dict[str, str] = {}
    stage_errors: dict[str, str] = {}
    # delete a pipeline or a stage, moving its deals
    delete_kind: str = ""  # "pipeline", "stage" or ""
    delete_id: str = ""
    delete_name: str = ""
    delete_targets: list[dict[str, str]] = []  # id, label
    delete_error: str = ""
    _others: list[dict[str, str]] = []  # every live stage: where deals can be moved to
    # lost reasons
    reason_editing: str = ""
    reason_error: str = ""

    # ---- loading ----------------------------------------------------------------------------

    @rx.event
    def load(self):
        """on_load: the pipelines, the default one's stages, and the lost reasons."""
        self.selected_id = ""
        self._close_dialogs()
        return self._load_page(self._reload)

    def _reload(self, session: Session, actor: User) -> None:
        self.can_manage = can(session, actor, pipeline.RESOURCE, "manage")
        if not self.can_manage:
            return
        found = pipeline.list_pipelines(session, actor=actor)
        self.pipelines = [
            {
                "id": str(p.pipeline.id),
                "name": p.pipeline.name,
                "default": "yes" if p.pipeline.is_default else "",
                "version": str(p.pipeline.version),
                **_ends(i, len(found)),
            }
            for i, p in enumerate(found)
        ]
        chosen = next((p for p in found if str(p.pipeline.id) == self.selected_id), None)
        chosen = chosen or next((p for p in found if p.pipeline.is_default), None)
        self.selected_id = str(chosen.pipeline.id) if chosen else ""
        self.stages = self._stage_rows(session, actor, chosen) if chosen else []
        self._others = [
            {"id": str(s.id), "pipeline_id": str(p.pipeline.id), "kind": str(s.kind),
             "label": f"{p.pipeline.name} · {s.name}"}
            for p in found
            for s in p.stages
        ]  # fmt: skip
        found_reasons = lost_reason.list_lost_reasons(session, actor=actor, include_inactive=True)
        self.reasons = [
            {
                "id": str(r.id),
                "name": r.name,
                "active": "yes" if r.is_active else "",
                **_ends(i, len(found_reasons)),
            }
            for i, r in enumerate(found_reasons)
        ]

    def _stage_rows(self, session: Session, actor: User, chosen) -> list[dict[str, str]]:
        counts = deal_list.stage_counts(session, actor=actor, pipeline_id=chosen.pipeline.id)
        return [
            {
                "id": str(s.id),
                "name": s.name,
                "kind": str(s.kind),
                "kind_label": KIND_LABELS.get(str(s.kind), str(s.kind)),
                "probability": str(s.probability),
                "rotting": str(s.rotting_days or ""),
                "rotting_label": f"{s.rotting_days} days" if s.rotting_days else "—",
                "deals": str(counts.get(s.id, 0)),
                "version": str(s.version),
                **_ends(i, len(chosen.stages)),
            }
            for i, s in enumerate(chosen.stages)
        ]

    def _act(
        self,
        change: Callable[[Session, User], Any],
        done: str | None = None,
        invalid: Callable[[ValidationFailed], None] | None = None,
    ):
        """Run one change and show the page again; report it, or why it was refused (next to
        the field when `invalid` takes the error)."""
        try:
            with self._actor_session() as (session, actor):
                change(session, actor)
                self._reload(session, actor)
        except ValidationFailed as error:
            if invalid is None:
                return error_event(error)
            invalid(error)
            return None
        except StaleVersion:
            self._close_dialogs()
            return [rx.toast.warning(STALE), PipelineSettingsState.refresh]
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(done) if done else None

    @rx.event
    def refresh(self):
        """Read everything again."""
        return self._act(lambda session, actor: None)

    def _close_dialogs(self) -> None:
        self.pipeline_dialog = self.stage_dialog = False
        self.delete_kind = self.reason_editing = self.reason_error = ""

    # ---- pipelines --------------------------------------------------------------------------

    @rx.event
    def choose_pipeline(self, pipeline_id: str):
        """Show another pipeline's stages."""
        if any(p["id"] == str(pipeline_id) for p in self.pipelines):
            self.selected_id = str(pipeline_id)
            return PipelineSettingsState.refresh
        return None

    @rx.event
    def open_pipeline(self, pipeline_id: str = ""):
        """Open the dialog that adds a pipeline ("") or renames one."""
        found = next((p for p in self.pipelines if p["id"] == str(pipeline_id)), None)
        self.pipeline_editing = found["id"] if found else ""
        self.pipeline_name = found["name"] if found else ""
        self.pipeline_error, self.pipeline_dialog = "", self.can_manage

    @rx.event
    def close_pipeline(self, is_open: bool = False):
        """Dismiss the pipeline dialog."""
        if not is_open:
            self.pipeline_dialog = False

    @rx.event
    def save_pipeline(self, form: dict):
        """Add the pipeline (with the usual stages), or rename the one being edited."""
        name, editing = str(form.get("name", ""))[:200], self.pipeline_editing
        version = next((p["version"] for p in self.pipelines if p["id"] == editing), None)

        def change(session: Session, actor: User) -> None:
            if editing:
                pipeline.update_pipeline(
                    session,
                    actor=actor,
                    pipeline_id=_number(editing),
                    data={"name": name},
                    version=_number(version),
                    ip=self._client_ip(),
                )
            else:
                made = pipeline.create_pipeline(
                    session, actor=actor, data={"name": name}, ip=self._client_ip()
                )
                self.selected_id = str(made.pipeline.id)
            self.pipeline_dialog = False

        self.pipeline_error = ""
        return self._act(
            change,
            "Pipeline renamed." if editing else "Pipeline added.",
            invalid=lambda error: setattr(self, "pipeline_error", _message(error)),
        )

    @rx.event
    def make_default(self, pipeline_id: str):
        """New deals go to this pipeline unless another is named."""
        row = next((p for p in self.pipelines if p["id"] == str(pipeline_id)), None)
        if row is None:
            return None
        return self._act(
            lambda session, actor: pipeline.update_pipeline(
                session,
                actor=actor,
                pipeline_id=_number(row["id"]),
                data={"is_default": True},
                version=_number(row["version"]),
                ip=self._client_ip(),
            ),
            f"{row['name']} is now the default pipeline.",
        )

    @rx.event
    def move_pipeline(self, pipeline_id: str, step: int):
        """Move a pipeline one place up (-1) or down (1)."""
        order = _moved([p["id"] for p in self.pipelines], str(pipeline_id), int_arg(step))
        if order is None:
            return None
        return self._act(
            lambda session, actor: pipeline.reorder_pipelines(
                session, actor=actor, pipeline_ids=order
            )
        )

    # ---- stages -----------------------------------------------------------------------------

    @rx.event
    def open_stage(self, stage_id: str = ""):
        """Open the dialog that adds a stage to the pipeline shown ("") or changes one."""
        found = next((s for s in self.stages if s["id"] == str(stage_id)), None)
        self.stage_editing = found["id"] if found else ""
        self.stage_values = (
            {k: found[k] for k in ("name", "kind", "probability", "rotting")}
            if found
            else {"name": "", "kind": "open", "probability": "50", "rotting": ""}
        )
        self.stage_errors, self.stage_dialog = {}, self.can_manage and self.selected_id != ""

    @rx.event
    def close_stage(self, is_open: bool = False):
        """Dismiss the stage dialog."""
        if not is_open:
            self.stage_dialog = False

    @rx.event
    def save_stage(self, form: dict):
        """Add the stage, or save the one being edited."""
        data = {
            "name": str(form.get("name", ""))[:200],
            "kind": str(form.get("kind", "open"))[:10],
            "probability": str(form.get("probability", "")).strip()[:10],
            "rotting_days": str(form.get("rotting_days", "")).strip()[:10] or None,
        }
        editing = self.stage_editing
        version = next((s["version"] for s in self.stages if s["id"] == editing), None)

        def change(session: Session, actor: User) -> None:
            pipeline_id = _number(self.selected_id)
            if editing:
                pipeline.update_stage(
                    session,
                    actor=actor,
                    stage_id=_number(editing),
                    data=data,
                    pipeline_id=pipeline_id,
                    version=_number(version),
                    ip=self._client_ip(),
                )
            else:
                pipeline.add_stage(
                    session, actor=actor, pipeline_id=pipeline_id, data=data, ip=self._client_ip()
                )
            self.stage_dialog = False

        def invalid(error: ValidationFailed) -> None:
            self.stage_errors = {e.field: e.message for e in error.errors} or {
                "name": error.message
            }

        self.stage_errors = {}
        name = " ".join(data["name"].split())
        return self._act(change, f"{name} saved." if editing else f"{name} added.", invalid)

    @rx.event
    def move_stage(self, stage_id: str, step: int):
        """Move a stage one place left (-1) or right (1) on the board."""
        order = _moved([s["id"] for s in self.stages], str(stage_id), int_arg(step))
        if order is None or not self.selected_id:
            return None
        return self._act(
            lambda session, actor: pipeline.reorder_stages(
                session, actor=actor, pipeline_id=_number(self.selected_id), stage_ids=order
            )
        )

    # ---- deleting a pipeline or a stage -----------------------------------------------------

    @rx.event
    def ask_delete_pipeline(self, pipeline_id: str):
        """Confirm deleting a pipeline, offering the open stages of the others for its deals."""
        row = next((p for p in self.pipelines if p["id"] == str(pipeline_id)), None)
        if row is None:
            return
        self.delete_targets = [
            {"id": s["id"], "label": s["label"]}
            for s in self._others
            if s["pipeline_id"] != row["id"] and s["kind"] == StageKind.open
        ]
        self._ask_delete("pipeline", row)

    @rx.event
    def ask_delete_stage(self, stage_id: str):
        """Confirm deleting a stage, offering the pipeline's other stages of its kind."""
        row = next((s for s in self.stages if s["id"] == str(stage_id)), None)
        if row is None:
            return
        self.delete_targets = [
            {"id": s["id"], "label": s["name"]}
            for s in self.stages
            if s["id"] != row["id"] and s["kind"] == row["kind"]
        ]
        self._ask_delete("stage", row)

    def _ask_delete(self, kind: str, row: dict[str, str]) -> None:
        self.delete_kind = kind if self.can_manage else ""
        self.delete_id, self.delete_name, self.delete_error = row["id"], row["name"], ""

    @rx.event
    def close_delete(self, is_open: bool = False):
        """Dismiss the delete confirmation."""
        if not is_open:
            self.delete_kind = ""

    @rx.event
    def confirm_delete(self, form: dict):
        """Delete the pipeline or stage, moving its deals to the stage picked."""
        raw = str(form.get("move_to", "") or "")
        target = _number(raw) if raw.isdigit() else None
        kind, item_id = self.delete_kind, self.delete_id

        def change(session: Session, actor: User) -> None:
            if kind == "pipeline":
                pipeline.delete_pipeline(
                    session,
                    actor=actor,
                    pipeline_id=_number(item_id),
                    move_to_stage_id=target,
                    ip=self._client_ip(),
                )
            else:
                pipeline.delete_stage(
                    session,
                    actor=actor,
                    stage_id=_number(item_id),
                    move_to_stage_id=target,
                    ip=self._client_ip(),
                )
            self.delete_kind = ""

        self.delete_error = ""
        return self._act(
            change,
            f"{self.delete_name} deleted.",
            invalid=lambda error: setattr(self, "delete_error", _message(error)),
        )

    # ---- lost reasons -----------------------------------------------------------------------

    @rx.event
    def add_reason(self, form: dict):
        """Add a lost reason at the end of the list."""
        name = str(form.get("reason", ""))[:200]
        self.reason_error = ""
        return self._act(
            lambda session, actor: lost_reason.add_lost_reason(
                session, actor=actor, name=name, ip=self._client_ip()
            ),
            f"{' '.join(name.split())} added.",
            invalid=lambda error: setattr(self, "reason_error", _message(error)),
        )

    @rx.event
    def start_reason(self, reason_id: str):
        """Rename a reason in place."""
        if any(r["id"] == str(reason_id) for r in self.reasons):
            self.reason_editing, self.reason_error = str(reason_id), ""

    @rx.event
    def cancel_reason(self):
        """Close the rename editor."""
        self.reason_editing, self.reason_error = "", ""

    @rx.event
    def save_reason(self, form: dict):
        """Rename the reason being edited (on the deals that carry it too)."""
        name, reason_id = str(form.get("name", ""))[:200], self.reason_editing

        def change(session: Session, actor: User) -> None:
            lost_reason.rename_lost_reason(
                session, actor=actor, reason_id=_number(reason_id), name=name, ip=self._client_ip()
            )
            self.reason_editing = ""

        return self._act(
            change, invalid=lambda error: setattr(self, "reason_error", _message(error))
        )

    @rx.event
    def toggle_reason(self, reason_id: str):
        """Deactivate a reason (deals keep it, it is no longer offered) or reactivate it."""
        row = next((r for r in self.reasons if r["id"] == str(reason_id)), None)
        if row is None:
            return None
        return self._act(
            lambda session, actor: lost_reason.set_lost_reason_active(
                session,
                actor=actor,
                reason_id=_number(row["id"]),
                active=not row["active"],
                ip=self._client_ip(),
            ),
            f"{row['name']} {'deactivated' if row['active'] else 'offered again'}.",
        )

    @rx.event
    def move_reason(self, reason_id: str, step: int):
        """Move a reason one place up (-1) or down (1) in the list deals pick from."""
        order = _moved([r["id"] for r in self.reasons], str(reason_id), int_arg(step))
        if order is None:
            return None
        return self._act(
            lambda session, actor: lost_reason.reorder_lost_reasons(
                session, actor=actor, reason_ids=order
            )
        )

    # ---- computed ---------------------------------------------------------------------------

    @rx.var
    def selected_name(self) -> str:
        """The pipeline whose stages are shown."""
        return next((p["name"] for p in self.pipelines if p["id"] == self.selected_id), "")
