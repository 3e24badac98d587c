"""`/users`: read-only list of the workspace's users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import select

from crm_app.api.deps import Actor, DbSession
from crm_app.api.schemas import MAX_INT_ID, PROBLEMS, RecordList
from crm_app.models import User, UserPublic
from crm_app.services.errors import NotFound
from crm_app.services.permission import require

router = APIRouter(prefix="/users", tags=["users"], responses=PROBLEMS)

UserId = Annotated[int, Path(ge=1, le=MAX_INT_ID, description="The user's id.")]


class UserList(RecordList[UserPublic]):
    """A page of users."""


@router.get("", response_model=UserList, summary="List users")
def list_users(
    session: DbSession,
    actor: Actor,
    limit: int = Query(50, ge=1, le=200),
    cursor: int | None = Query(
        None, ge=0, le=MAX_INT_ID, description="Opaque cursor from `next_cursor`."
    ),
) -> dict:
    """Users by id, keyset-paged."""
    require(session, actor, "user", "read")
    query = select(User).order_by(User.id).limit(limit + 1)
    if cursor is not None:
        query = query.where(User.id > cursor)
    rows = session.exec(query).all()
    data = [UserPublic.model_validate(u).model_dump(mode="json") for u in rows[:limit]]
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return {"data": data, "next_cursor": next_cursor}


@router.get("/{user_id}", response_model=UserPublic, summary="Get a user")
def get_user(user_id: UserId, session: DbSession, actor: Actor) -> UserPublic:
    """One user."""
    require(session, actor, "user", "read")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return UserPublic.model_validate(user)
