"""RFC 8058 one-click unsubscribe: a POST to the link of `List-Unsubscribe`, with no sign-in."""

from __future__ import annotations

from crm_app.services import suppression


def test_one_click_unsubscribe_needs_no_key_and_suppresses_the_address(client, db):
    token = suppression.make_token("Reader@Example.com", None)
    response = client.post(
        f"/unsubscribe/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.text == "reader@example.com is unsubscribed."
    assert suppression.is_suppressed(db, "reader@example.com")


def test_a_forged_token_is_a_404_problem(client, db):
    token = suppression.make_token("reader@example.com", None)
    response = client.post(f"/unsubscribe/{token[:-3]}xyz")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "This unsubscribe link is invalid or has expired."
    assert not suppression.is_suppressed(db, "reader@example.com")
