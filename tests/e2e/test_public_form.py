"""A web-to-lead form sent by an anonymous visitor: a missing required field is reported,
a complete one becomes a lead and a thank-you."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import select

from crm_app import routes
from crm_app.models import Lead, User
from crm_app.services import lead_form
from tests.e2e.conftest import sign_in


def _make_form(app_server) -> str:
    """An admin's form asking for a first name, a required e-mail and a company."""
    with app_server.session() as session:
        admin = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        form = lead_form.create_form(
            session,
            actor=admin,
            data={
                "name": "Talk to sales",
                "fields": [
                    {"name": "first_name"},
                    {"name": "email", "required": True},
                    {"name": "company_name"},
                ],
                "source": "Web form",
            },
        )
        session.commit()
        return form.key


def test_an_anonymous_visitor_sends_the_form_and_becomes_a_lead(new_page, app_server):
    key = _make_form(app_server)
    page = new_page()
    page.goto(routes.public_form(key))
    expect(page.get_by_role("heading", name="Talk to sales")).to_be_visible()
    page.get_by_label("First name").fill("Katherine")
    page.get_by_label("Company").fill("Langley Computing")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert").filter(has_text="This field is required.")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("E-mail").fill("Katherine@Langley.example")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Thank you! We received your details")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_have_count(0)

    with app_server.session() as session:
        lead = session.exec(select(Lead).where(Lead.email == "katherine@langley.example")).one()
        assert (lead.first_name, lead.company_name, lead.source) == (
            "Katherine",
            "Langley Computing",
            "Web form",
        )


def test_an_unknown_form_says_so(new_page, app_server):
    page = new_page()
    page.goto(routes.public_form("no-such-form"))
    expect(page.get_by_role("heading", name="Form not found")).to_be_visible()
    expect(
        page.get_by_text("This form does not exist or no longer takes submissions.")
    ).to_be_visible()


def test_admin_creates_a_form_and_hands_out_its_link(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible()
    page.goto("/settings/forms")
    page.get_by_role("button", name="New form").click()
    dialog = page.get_by_role("dialog", name="New web form")
    dialog.get_by_label("Name", exact=True).fill("Webinar sign-up")
    dialog.get_by_role("checkbox", name="Ask for Company").click()
    dialog.get_by_role("checkbox", name="Company required").click()
    dialog.get_by_role("button", name="Save form").click()

    links = page.get_by_role("dialog", name="Link of Webinar sign-up")
    url = links.get_by_label("Link").input_value()
    assert url.startswith(app_server.base_url + "/f/")
    expect(links.get_by_text("/api/v1/forms/" + url.rsplit("/", 1)[-1])).to_be_visible()

    visitor = new_page()
    visitor.goto(url)
    expect(visitor.get_by_role("heading", name="Webinar sign-up")).to_be_visible()
    expect(visitor.get_by_label("Company")).to_be_visible()
