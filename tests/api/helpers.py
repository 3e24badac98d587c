"""What the API tests of every resource share: creating through the API, reading a problem's
fields, and following a list's cursor to its end."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


def create_at(client, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """POST `body` to `url`, which must answer 201; the created record."""
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def fields_of(response) -> set[str]:
    """The fields a problem+json response names."""
    assert response.headers["content-type"] == PROBLEM
    return {e["field"] for e in response.json()["errors"]}


def visit_all_at(client, url: str, headers: dict[str, str], query: str) -> list[int]:
    """The ids of every page of `url?query`, following `next_cursor` to the end."""
    ids, cursor = [], None
    while True:
        page = client.get(
            f"{url}?{query}" + (f"&cursor={cursor}" if cursor else ""), headers=headers
        )
        ids += [row["id"] for row in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return ids
