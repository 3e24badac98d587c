"""Refuse NUL characters anywhere in a request, before any route runs.

PostgreSQL stores no NUL (U+0000) in text or JSONB, so a NUL in a name, a tag, a filter or a
path segment would reach the database only to fail there as a server error. No field of the
CRM can hold one: it is a 422 naming where it was found.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from crm_app.services.errors import ValidationFailed

NUL = "\x00"
MESSAGE = "Text may not contain NUL characters."


def _holds_nul(value: Any) -> bool:
    # A loop, not recursion: a deeply nested body must not exhaust the stack here.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _body_holds_nul(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES:
        form = await request.form()  # kept on the request: the route reads the same form
        return any(_holds_nul(k) or _holds_nul(v) for k, v in form.multi_items())
    body = await request.body()
    if b"\\u" not in body:
        return False  # a JSON string spells NUL only as an escape (a raw one is invalid JSON)
    try:
        return _holds_nul(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON: the route's own parsing reports it


async def refuse_nul_characters(request: Request) -> None:
    """422 when the path, a query parameter or the body holds a NUL character."""
    for name, value in request.path_params.items():
        if _holds_nul(value):
            raise ValidationFailed.for_field(name, MESSAGE)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise ValidationFailed.for_field(name.replace(NUL, ""), MESSAGE)
    if request.method in ("POST", "PUT", "PATCH") and await _body_holds_nul(request):
        raise ValidationFailed.for_field("body", MESSAGE)
