"""Deals: validation, stage moves and the won/lost rules, positions, the board, history,
totals, the forecast, and who may do what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from crm_app.models import Pipeline, Stage
from crm_app.services import deal as deals
from crm_app.services.errors import Forbidden, ValidationFailed


def default_stages(db) -> dict[str, Stage]:
    pipeline = db.exec(select(Pipeline).where(Pipeline.is_default)).one()
    return {s.name: s for s in db.exec(select(Stage).where(Stage.pipeline_id == pipeline.id))}


def test_a_new_deal_lands_in_the_default_pipelines_first_open_stage(db, people):
    deal = deals.create_deal(db, actor=people.bob, data={"name": "Big one", "amount": "1200.5"})
    stages = default_stages(db)
    assert deal.stage_id == stages["Qualification"].id and deal.amount == Decimal("1200.50")
    assert deal.owner_id == people.bob.id and deal.currency == "USD" and deal.version == 1


def test_viewer_cannot_create_a_deal(db, people):
    with pytest.raises(Forbidden):
        deals.create_deal(db, actor=people.vic, data={"name": "No"})


def test_bad_fields_are_reported_together(db, people):
    with pytest.raises(ValidationFailed) as caught:
        deals.create_deal(
            db,
            actor=people.bob,
            data={"amount": "-1", "currency": "dollars", "probability": 120, "id": 3},
        )
    assert {e.field for e in caught.value.errors} == {
        "name",
        "amount",
        "currency",
        "probability",
        "id",
    }
