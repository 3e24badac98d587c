"""`/me`: who the API key acts as."""

from __future__ import annotations

from fastapi import APIRouter

from crm_app.api.deps import Actor
from crm_app.api.schemas import problems
from crm_app.models import UserPublic

router = APIRouter(tags=["users"], responses=problems(401, 429))


@router.get("/me", response_model=UserPublic, summary="The user the API key acts as")
def read_me(actor: Actor) -> UserPublic:
    """The calling user."""
    return UserPublic.model_validate(actor)
