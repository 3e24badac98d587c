"""`/activities`: list, create, read, change, trash and restore calls, e-mails, meetings,
tasks and notes.

Every rule (permissions, what each kind carries, sanitising, reminders, rescoring a lead,
telling a new owner) lives in `services.activity`; these routes translate HTTP to service
calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from crm_app.api.activity_schemas import MAX_BIG_ID, ActivityInput
from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.schemas import (
    PROBLEMS,
    STALE,
    RecordList,
    etag,
    filter_parameters,
    if_match_version,
    list_query,
)
from crm_app.models import Activity, ActivityPublic
from crm_app.services import activity as activities
from crm_app.services import activity_list
from crm_app.services.listing import ListQuery

router = APIRouter(prefix="/activities", tags=["activities"], responses=PROBLEMS)

ActivityId = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="The activity's id.")]
FILTERS = {
    "kind": "One or more (comma-separated) of: " + ", ".join(activities.KINDS) + ".",
    "owner_id": "Owner's user id, `me`, or `none` for unowned activities.",
    "contact_id": "Activities about this contact.",
    "account_id": "Activities about this company.",
    "lead_id": "Activities about this lead.",
    "deal_id": "Activities about this deal.",
    "due_from": "Due at or after this time, with its offset (`2026-03-02T00:00:00+01:00`).",
    "due_to": "Due before this time, with its offset.",
    "done": "`true` for done activities, `false` for open ones.",
}


class ActivityList(RecordList[ActivityPublic]):
    """A page of activities."""


def _public(activity: Activity, response: Response) -> ActivityPublic:
    response.headers["ETag"] = etag(activity.version)
    return ActivityPublic.model_validate(activity)


@router.get(
    "",
    response_model=ActivityList,
    summary="List activities",
    openapi_extra=filter_parameters(FILTERS),
)
def list_activities(
    session: DbSession, actor: Actor, listq: Annotated[ListQuery, Depends(list_query)]
) -> ActivityList:
    """Live activities the key's user may read, newest first unless `sort` says otherwise.

    Sortable fields: due_at, starts_at, done_at, created_at, updated_at, kind, priority (low to
    high), subject. `q` finds activities whose subject contains every word.
    """
    page = activity_list.list_activities(session, actor=actor, listq=listq)
    data = [ActivityPublic.model_validate(activity) for activity in page.rows]
    return ActivityList(data=data, next_cursor=page.next_cursor)


@router.post("", status_code=201, response_model=ActivityPublic, summary="Create an activity")
def create_activity(
    body: ActivityInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> ActivityPublic:
    """A new activity, owned by the key's user unless `owner_id` names someone else. The
    records it is about must exist and be readable by the key's user; a lead it is about is
    rescored."""
    activity = activities.create_activity(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for("get_activity", activity_id=activity.id)
    return _public(activity, response)


@router.get("/{activity_id}", response_model=ActivityPublic, summary="Get an activity")
def get_activity(
    activity_id: ActivityId, response: Response, session: DbSession, actor: Actor
) -> ActivityPublic:
    """One live activity; its `ETag` is the version to send back in `If-Match`."""
    activity = activities.get_activity(session, actor=actor, activity_id=activity_id)
    return _public(activity, response)


@router.patch(
    "/{activity_id}",
    response_model=ActivityPublic,
    summary="Change an activity",
    responses=STALE,
)
def update_activity(
    activity_id: ActivityId,
    body: ActivityInput,
    version: Annotated[int | None, Depends(if_match_version)],
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> ActivityPublic:
    """Set the fields in the body and leave the others alone. Moving a task's due time or a
    meeting's start moves its reminder too; `done_at: null` opens a task again."""
    activity = activities.update_activity(
        session,
        actor=actor,
        activity_id=activity_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _public(activity, response)


@router.delete("/{activity_id}", status_code=204, summary="Move an activity to the trash")
def delete_activity(
    activity_id: ActivityId, request: Request, session: DbSession, actor: Actor
) -> Response:
    """The activity leaves lists and reads until `restore` brings it back."""
    activities.delete_activity(session, actor=actor, activity_id=activity_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/{activity_id}/restore", response_model=ActivityPublic, summary="Restore an activity")
def restore_activity(
    activity_id: ActivityId, request: Request, response: Response, session: DbSession, actor: Actor
) -> ActivityPublic:
    """Bring an activity back from the trash."""
    activity = activities.restore_activity(
        session, actor=actor, activity_id=activity_id, ip=client_ip(request)
    )
    return _public(activity, response)
