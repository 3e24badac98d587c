"""The bell: an unread notification is counted, opened, and leads where it points."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Notification, User
from tests.e2e.conftest import sign_in


def test_a_notification_is_counted_opened_and_followed(new_page, app_server):
    with app_server.session() as session:
        carol = session.exec(select(User).where(User.email == "carol@example.com")).one()
        session.add(
            Notification(
                user_id=carol.id, kind="assigned", title="New lead: Nova Quest", link="/contacts"
            )
        )
        session.commit()
    page = new_page()
    sign_in(page, "carol@example.com")
    bell = page.get_by_role("button", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    bell.click()
    page.get_by_role("button", name=re.compile("New lead: Nova Quest")).click()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()
