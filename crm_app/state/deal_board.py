"""`/deals`: the board of a pipeline, its filters, moves, won and lost confirmations, and
the refresh that shows other people's changes within seconds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import StageKind, User
from crm_app.services import deal as deals
from crm_app.services import deal_board as boards
from crm_app.services import lost_reason, pipeline, user
from crm_app.services.errors import DomainError, Forbidden, ValidationFailed
from crm_app.services.listing import ListQuery
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import ANY

REFRESH_MS = 3000  # how often an open board asks whether someone else changed it
FILTERS = ("owner_id", "expected_close_from", "expected_close_to", "amount_min", "amount_max")


def money(amounts: dict[str, Decimal]) -> str:
    """Amounts by currency as a board shows them: "12,500 USD + 3,000 EUR", "0" for none."""
    if not amounts:
        return "0"
    return " + ".join(f"{amount:,.0f} {currency}" for currency, amount in sorted(amounts.items()))


def days_label(days: int) -> str:
    """How long a deal has sat in its stage."""
    if days == 0:
        return "New in stage"
    return f"{days} day{'s' if days != 1 else ''} in stage"


def card_view(card: boards.Card) -> dict[str, Any]:
    """A card as kanban.jsx draws it: display strings only."""
    close = card.expected_close_date
    return {
        "id": str(card.id),
        "name": card.name,
        "href": routes.deal_detail(card.id),
        "company": card.company or "",
        "amount": money({card.currency: card.amount}) if card.amount is not None else "",
        "owner": card.owner or "Unassigned",
        "close": f"{close:%b} {close.day}, {close.year}" if close else "",
        "days": days_label(card.days_in_stage),
        "rotting": card.rotting,
    }


class DealBoardState(AppState):
    """The board shown: its pipeline, columns, filters and the move waiting for confirmation."""

    pipelines: list[dict[str, str]] = []  # id, name
    pipeline_id: str = ""
    columns: list[dict[str, Any]] = []
    drop_zones: list[dict[str, str]] = []  # the pipeline's won and lost stages
    version: int = 0  # bumped to put back a card whose move did not happen
    loaded: bool = False
    can_read: bool = True
    can_move: bool = False
    owners: list[dict[str, str]] = []
    filters: dict[str, str] = {}
    query: str = ""
    lost_reasons: list[str] = []
    # a drop on a won or lost stage, until it is confirmed or cancelled
    closing_deal_id: str = ""
    closing_deal_name: str = ""
    closing_stage_id: str = ""
    closing_stage_name: str = ""
    closing_kind: str = ""  # "won" or "lost"
    lost_reason_error: str = ""
    _cursors: dict[str, str] = {}
    _stamp: str = ""

    # ---- loading ---------------------------------------------------------------------------

    @rx.event
    def load(self):
        """on_load: the pipeline in `?pipeline=` (else the default one) and its board."""
        self.loaded, self.columns, self.closing_kind = False, [], ""
        self.filters = {name: "" for name in FILTERS}
        self.query = ""
        return self._load_page(self._first_board)

    def _first_board(self, session: Session, actor: User) -> None:
        self.can_read = can(session, actor, deals.RESOURCE, "read")
        if not self.can_read:
            return
        self.can_move = can(session, actor, deals.RESOURCE, "update")
        found = pipeline.list_pipelines(session, actor=actor)
        self.pipelines = [{"id": str(p.pipeline.id), "name": p.pipeline.name} for p in found]
        wanted = str(self.router.page.params.get("pipeline", ""))
        chosen = next((p for p in found if str(p.pipeline.id) == wanted), None)
        chosen = chosen or next((p for p in found if p.pipeline.is_default), found[0])
        self.pipeline_id = str(chosen.pipeline.id)
        self.drop_zones = [
            {"id": str(s.id), "name": f"{s.name} ({s.kind})", "kind": s.kind}
            for s in chosen.stages
            if s.kind != StageKind.open
        ]
        self.lost_reasons = [r.name for r in lost_reason.list_lost_reasons(session, actor=actor)]
        try:
            people, _ = user.list_users(session, actor=actor, limit=200)
        except Forbidden:
            people = []
        self.owners = [{"id": str(p.id), "name": p.name} for p in people]
        self._build(session, actor)

    def _listq(self) -> ListQuery:
        chosen = {k: v for k, v in self.filters.items() if v}
        return ListQuery(q=self.query, filters=chosen)

    def _build(self, session: Session, actor: User) -> None:
        """Read the board again (first cards of each column) and remember its stamp."""
        found = boards.board(
            session, actor=actor, pipeline_id=int(self.pipeline_id), listq=self._listq()
        )
        self.columns = [
            {
                "id": str(c.stage.id),
                "name": c.stage.name,
                "count": c.totals.count,
                "total": money(c.totals.amount),
                "weighted": money(c.totals.weighted),
                "cards": [card_view(card) for card in c.cards],
            }
            for c in found.columns
        ]
        self._cursors = {str(c.stage.id): c.next_cursor for c in found.columns if c.next_cursor}
        self._stamp = boards.board_stamp(session, actor=actor, pipeline_id=int(self.pipeline_id))
        self.loaded = True

    def _rebuild(self) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                self._build(session, actor)
        except DomainError as error:
            self.version += 1
            return error_event(error)
        return None

    # ---- choosing what the board shows --------------------------------------------------------

    @rx.event
    def choose_pipeline(self, pipeline_id: str):
        """Show another pipeline's board (its address changes, so it can be bookmarked)."""
        if not any(p["id"] == str(pipeline_id) for p in self.pipelines):
            return None
        return rx.redirect(routes.board(int(pipeline_id)))

    @rx.event
    def set_filter(self, name: str, value: str):
        """Narrow the board: owner, expected close dates, amounts."""
        name, value = str(name), str(value).strip()[:40]
        if name not in FILTERS:
            return None
        self.filters = {**self.filters, name: "" if value == ANY else value}
        return self._rebuild()

    @rx.event(supersedes=True)
    def search(self, text: str):
        """Only the deals whose names start with the typed words."""
        self.query = str(text)[:200]
        return self._rebuild()

    @rx.event
    def clear_filters(self):
        """Every deal of the pipeline again."""
        self.filters = {name: "" for name in FILTERS}
        self.query = ""
        return self._rebuild()

    @rx.event
    def more(self, stage_id: str):
        """The next cards of a column."""
        cursor = self._cursors.get(str(stage_id))
        if not cursor:
            return None
        try:
            with self._actor_session() as (session, actor):
                page = boards.column_page(
                    session, actor=actor, stage_id=int(stage_id), cursor=cursor,
                    listq=self._listq(),
                )  # fmt: skip
        except DomainError as error:
            return error_event(error)
        cards = [card_view(c) for c in page.cards]
        self.columns = [
            {**c, "cards": [*c["cards"], *cards]} if c["id"] == str(stage_id) else c
            for c in self.columns
        ]
        self._cursors = {**self._cursors, str(stage_id): page.next_cursor or ""}
        return None

    @rx.event
    def refresh_if_changed(self):
        """Every few seconds while the board is open: read it again when a deal of this
        pipeline changed since (someone moved, edited, added or deleted one)."""
        if not self.loaded or self.closing_kind:
            return None
        try:
            # a poll, not the user's doing: it must not keep an idle session alive
            with self._polling_session() as (session, actor):
                stamp = boards.board_stamp(session, actor=actor, pipeline_id=int(self.pipeline_id))
                if stamp != self._stamp:
                    self._build(session, actor)
        except DomainError as error:
            return error_event(error)
        return None

    # ---- moving cards ------------------------------------------------------------------------

    def _stage(self, stage_id: str) -> tuple[str, str] | None:
        """(kind, name) of a stage of this board."""
        if any(c["id"] == stage_id for c in self.columns):
            name = next(c["name"] for c in self.columns if c["id"] == stage_id)
            return StageKind.open.value, name
        zone = next((z for z in self.drop_zones if z["id"] == stage_id), None)
        return (zone["kind"], zone["name"]) if zone else None

    @rx.event
    def move(self, deal_id: str, stage_id: str, above_id: str, below_id: str):
        """A card was dropped: on an open stage it moves now (between the cards around it);
        on a won or lost stage the move waits for a confirmation or a lost reason."""
        deal_id, stage_id = str(deal_id), str(stage_id)
        stage = self._stage(stage_id)
        if stage is None or not deal_id.isdigit():
            self.version += 1
            return None
        kind, name = stage
        if kind != StageKind.open.value:
            self.closing_deal_id, self.closing_stage_id = deal_id, stage_id
            self.closing_stage_name, self.closing_kind = name, kind
            self.closing_deal_name = next(
                (k["name"] for c in self.columns for k in c["cards"] if k["id"] == deal_id), ""
            )
            self.lost_reason_error = ""
            return None
        above, below = str(above_id), str(below_id)
        return self._move(
            deal_id,
            stage_id,
            after_id=int(above) if above.isdigit() else None,
            before_id=int(below) if below.isdigit() and not above.isdigit() else None,
        )

    def _move(
        self, deal_id: str, stage_id: str, *, lost_reason: str | None = None, **slot: int | None
    ) -> rx.event.EventSpec | list[rx.event.EventSpec] | None:
        try:
            with self._actor_session() as (session, actor):
                deals.move_deal(
                    session,
                    actor=actor,
                    deal_id=int(deal_id),
                    stage_id=int(stage_id),
                    lost_reason=lost_reason,
                    ip=self._client_ip(),
                    **slot,
                )
        except DomainError as error:
            if lost_reason is not None and isinstance(error, ValidationFailed) and error.errors:
                self.lost_reason_error = error.errors[0].message  # shown in the dialog
                return None
            self.version += 1  # the card goes back where it was
            self._close_dialog()
            return [e for e in (error_event(error), self._rebuild()) if e is not None]
        self._close_dialog()
        return self._rebuild()

    def _close_dialog(self) -> None:
        self.closing_deal_id = self.closing_stage_id = self.closing_kind = ""
        self.closing_deal_name = self.closing_stage_name = self.lost_reason_error = ""

    @rx.event
    def confirm_won(self):
        """The won move is confirmed."""
        if self.closing_kind != StageKind.won.value:
            return None
        name = self.closing_deal_name
        error = self._move(self.closing_deal_id, self.closing_stage_id)
        return error or rx.toast.success(f"{name} is won.", duration=5000)

    @rx.event
    def confirm_lost(self, form: dict):
        """The lost move, with its reason."""
        if self.closing_kind != StageKind.lost.value:
            return None
        reason = str(form.get("lost_reason", "")).strip()[:200]
        if not reason:
            self.lost_reason_error = "Pick why the deal was lost."
            return None
        name = self.closing_deal_name
        error = self._move(self.closing_deal_id, self.closing_stage_id, lost_reason=reason)
        if error is None and not self.closing_kind:
            return rx.toast.info(f"{name} is lost ({reason}).", duration=5000)
        return error

    @rx.event
    def cancel_closing(self, is_open: bool = False):
        """The won or lost dialog was dismissed: the card goes back where it was."""
        if is_open:
            return
        self._close_dialog()
        self.version += 1

    # ---- what the page shows -----------------------------------------------------------------

    @rx.var
    def pipeline_name(self) -> str:
        """The pipeline shown."""
        return next((p["name"] for p in self.pipelines if p["id"] == self.pipeline_id), "")

    @rx.var
    def filtered(self) -> bool:
        """Whether a filter or search narrows the board."""
        return bool(self.query) or any(self.filters.values())

    @rx.var
    def refresh_ms(self) -> int:
        """How often the open board checks for other people's changes."""
        return REFRESH_MS
