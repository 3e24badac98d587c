"""Calendar files: a user's private feed, and a meeting's invitation.

    GET /api/v1/calendar/<token>.ics          the token is the only credential; 404 otherwise
    GET /api/v1/activities/42/invite.ics      an API key, or a signed-in browser's cookie

The feed's URL is a secret: nothing here logs it, and responses are not stored by caches.
Calendar apps poll it: the feed's ETag spares them a download when nothing changed.
The invitation has a router of its own, so it sits beside the activity routes, not in them.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from crm_app import routes
from crm_app.api.deps import DbSession
from crm_app.api.routes.export import Caller, StreamSession
from crm_app.api.schemas import problems
from crm_app.services import calendar_feed

router = APIRouter(tags=["calendar"])

ICS = "text/calendar; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
ICS_RESPONSE = {200: {"content": {"text/calendar": {}}, "description": "An iCalendar file."}}
FEED_PATH = calendar_feed.FEED_PATH.removeprefix(routes.API_PREFIX)
INVITE_PATH = calendar_feed.INVITE_PATH.removeprefix(routes.API_PREFIX)


@router.get(
    FEED_PATH,
    response_class=Response,
    responses={
        **ICS_RESPONSE,
        304: {"description": "Unchanged since the `ETag` you sent."},
        **problems(404, 422),
    },
)
def calendar_feed_file(
    token: str,
    session: DbSession,
    if_none_match: Annotated[
        str | None,
        Header(description="The `ETag` of the feed you have: 304 when it is still current."),
    ] = None,
) -> Response:
    """Your tasks and meetings, for a calendar app to subscribe to (Settings -> Profile)."""
    ics = calendar_feed.feed_for_token(session, token)
    headers = {"ETag": _etag(ics), **NO_STORE}
    if if_none_match is not None and _matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(ics, media_type=ICS, headers=headers)


def _etag(ics: bytes) -> str:
    # A hash of the body, not of what the rows say: building the feed is cheap next to sending
    # megabytes to a calendar app that polls, and a fingerprint such as the latest updated_at
    # misses changes that do not touch it (a related record deleted, the window moving on).
    return f'"{hashlib.sha256(ics).hexdigest()[:32]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names `etag` or is `*` (weak comparison, RFC 9110 13.1.2)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


@router.get(
    INVITE_PATH,
    response_class=Response,
    responses={**ICS_RESPONSE, **problems(401, 403, 404, 422)},
)
def meeting_invite_file(
    activity_id: Annotated[int, Path(ge=1, le=2**63 - 1)], session: StreamSession, caller: Caller
) -> Response:
    """A meeting as an .ics file: its owner organises, its attendees are invited."""
    ics = calendar_feed.meeting_invite(session, actor=caller, activity_id=activity_id)
    disposition = f'attachment; filename="meeting-{activity_id}.ics"'
    return Response(ics, media_type=ICS, headers={"Content-Disposition": disposition, **NO_STORE})
