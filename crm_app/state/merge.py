"""The merge screen: two records side by side, a choice per field."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.services import merge
from crm_app.services.errors import DomainError
from crm_app.state.base import AppState, error_event

DETAIL = {"contact": routes.contact_detail, "account": routes.account_detail}


def _shown(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class MergeState(AppState):
    """Which two records are merged, which one survives, and the per-field choices."""

    entity: str = "contact"
    survivor_id: int = 0
    other_id: int = 0
    rows: list[dict[str, str]] = []
    problem: str = ""

    def _compare(self, session, actor) -> None:
        found = merge.compare(
            session,
            actor=actor,
            entity=self.entity,
            survivor_id=self.survivor_id,
            other_id=self.other_id,
        )
        self.rows = [
            {
                "name": f.name,
                "label": f.name.removeprefix("custom.").replace("_", " ").capitalize(),
                "survivor": _shown(f.survivor),
                "other": _shown(f.other),
                # Take the other's value by default only where the survivor has none.
                "pick": "other"
                if f.survivor in (None, "") and f.other not in (None, "")
                else "survivor",
            }
            for f in found
        ]

    def _open(self, entity: str):
        self.entity, self.rows, self.problem = entity, [], ""
        params = self.router.url.query_parameters
        try:
            self.survivor_id, self.other_id = int(params.get("a", "")), int(params.get("b", ""))
        except ValueError:
            self.problem = "Pick two records to merge."
            return self._check_session()
        result = self._load_page(self._compare)
        if result is not None and not self.checked:
            return result
        if result is not None:
            self.problem = "One of these records does not exist or you may not see it."
        return None

    @rx.event
    def load_contacts(self):
        """on_load of /contacts/merge?a=&b=."""
        return self._open("contact")

    @rx.event
    def load_accounts(self):
        """on_load of /accounts/merge?a=&b=."""
        return self._open("account")

    @rx.event
    def pick(self, name: str, side: str):
        """Keep this field's value from one side."""
        if side in ("survivor", "other"):
            self.rows = [{**r, "pick": side} if r["name"] == name else r for r in self.rows]

    @rx.event
    def swap(self):
        """Keep the other record instead."""
        self.survivor_id, self.other_id = self.other_id, self.survivor_id
        flip = {"survivor": "other", "other": "survivor"}
        self.rows = [
            {**r, "survivor": r["other"], "other": r["survivor"], "pick": flip[r["pick"]]}
            for r in self.rows
        ]

    @rx.event
    def submit(self):
        """Merge, then open the survivor."""
        take_other = {r["name"] for r in self.rows if r["pick"] == "other"}
        try:
            with self._actor_session() as (session, actor):
                survivor = merge.merge(
                    session,
                    actor=actor,
                    entity=self.entity,
                    survivor_id=self.survivor_id,
                    other_id=self.other_id,
                    take_other=take_other,
                    ip=self._client_ip(),
                )
                target = DETAIL[self.entity](survivor.id)
        except DomainError as error:
            return error_event(error)
        return [rx.redirect(target), rx.toast.success("Merged. The duplicate is in the trash.")]
