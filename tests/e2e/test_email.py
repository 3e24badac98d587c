"""E-mail in the browser: a template previewed on a picked contact, a message sent from a
contact's page that shows in its timeline and in the outbox (development mode: no SMTP)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Contact, User
from tests.e2e.conftest import sign_in


def _contact(app_server, first_name: str, email: str) -> int:
    with app_server.session() as session:
        owner = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        contact = Contact(
            first_name=first_name,
            last_name="Mailer",
            email=email,
            owner_id=owner.id,
            created_by=owner.id,
        )
        session.add(contact)
        session.commit()
        return contact.id


def test_a_template_previews_on_a_picked_contact_and_a_contact_gets_an_email(new_page, app_server):
    contact_id = _contact(app_server, "Zelda", "zelda.mailer@example.com")
    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible(timeout=30_000)

    page.goto("/settings/email-templates")
    page.get_by_role("button", name="New template").click()
    page.get_by_label("Name").fill("Warm hello")
    page.get_by_label("Subject").fill("Hi {{ contact.first_name }}")
    page.get_by_label("Body (Markdown)").fill("Hello **{{ contact.first_name }}**, <b>welcome</b>!")
    page.get_by_label("Preview on").fill("Zelda")
    page.get_by_role("group", name="Matching records").get_by_role(
        "button", name="Zelda Mailer"
    ).click()
    preview = page.get_by_role("region", name="Template preview")
    expect(preview).to_contain_text("Subject: Hi Zelda")
    expect(preview.locator("strong", has_text="Zelda")).to_be_visible()
    expect(preview).to_contain_text("<b>welcome</b>")  # typed HTML shows as text
    page.get_by_role("button", name="Save template").click()
    expect(
        page.get_by_role("table", name="E-mail templates").get_by_role("row", name="Warm hello")
    ).to_be_visible()

    page.goto(f"/contacts/{contact_id}")
    expect(page.get_by_role("heading", name="Zelda Mailer")).to_be_visible()
    page.get_by_role("button", name="Send e-mail").click()
    dialog = page.get_by_role("dialog", name="Send e-mail")
    dialog.get_by_label("Template").click()
    page.get_by_role("option", name="Warm hello").click()
    expect(dialog.get_by_label("Subject")).to_have_value("Hi {{ contact.first_name }}")
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.get_by_role("region", name="E-mail preview")).to_contain_text("Hello Zelda")
    dialog.get_by_role("button", name="Send").click()
    expect(page.get_by_text("E-mail queued.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Hi Zelda").first).to_be_visible()  # in the timeline

    page.goto("/settings/outbox")
    row = page.get_by_role("table", name="Outgoing messages").get_by_role(
        "row", name=re.compile("Hi Zelda")
    )
    expect(row).to_contain_text("zelda.mailer@example.com")
    expect(row).to_contain_text(re.compile("kept|queued"))
    row.get_by_role("button", name="Hi Zelda").click()
    body = page.get_by_role("region", name="Message body")
    expect(body.locator("strong", has_text="Zelda")).to_be_visible()


def test_mass_mail_to_a_saved_view_sends_in_the_background_and_one_can_unsubscribe(
    new_page, app_server
):
    from crm_app.models import EmailMessage, EmailTemplate, SavedView, Suppression

    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        for first, address in [("Uma", "uma.mass@example.com"), ("Ike", "ike.mass@example.com")]:
            session.add(
                Contact(
                    first_name=first,
                    last_name="Massmail",
                    email=address,
                    tags=["massmail"],
                    owner_id=alice.id,
                    created_by=alice.id,
                )
            )
        session.add(
            SavedView(
                entity="contact",
                name="Mass mail list",
                owner_id=alice.id,
                filters={"tag": "massmail"},
                columns=["name", "email"],
            )
        )
        session.add(
            EmailTemplate(
                name="Autumn letter",
                entity="contact",
                subject="Autumn news for {{ contact.first_name }}",
                body="Dear {{ contact.first_name }}, here is our news.",
            )
        )
        session.commit()

    page = new_page()
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible(timeout=30_000)
    page.goto("/settings/mass-mail")
    page.get_by_label("Saved view").click()
    page.get_by_role("option", name="Contacts: Mass mail list").click()
    expect(page.get_by_role("status").filter(has_text="recipients")).to_contain_text("2 recipients")
    page.get_by_label("Template").click()
    page.get_by_role("option", name="Autumn letter").click()
    expect(page.get_by_role("region", name="Mass mail preview")).to_contain_text(
        re.compile("Autumn news for (Uma|Ike)")
    )
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("button", name="Send now").click()
    campaigns = page.get_by_role("table", name="Campaigns")
    row = campaigns.get_by_role("row", name=re.compile("Autumn letter"))
    expect(row).to_contain_text("2 / 2", timeout=30_000)  # sent by the background job
    expect(row).to_contain_text("done")
    row.get_by_role("button", name=re.compile("Recipients of")).click()
    expect(page.get_by_role("table", name="Recipients")).to_contain_text("uma.mass@example.com")

    with app_server.session() as session:
        message = session.exec(
            select(EmailMessage).where(EmailMessage.to_address == "uma.mass@example.com")
        ).one()
    link = message.headers["List-Unsubscribe"].split(",")[0].strip(" <>")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    visitor = new_page()
    visitor.goto(urlsplit(link).path)  # the server's own origin
    expect(visitor.get_by_text("uma.mass@example.com")).to_be_visible()
    visitor.get_by_role("button", name="Unsubscribe").click()
    expect(visitor.get_by_role("status")).to_contain_text("is unsubscribed")
    with app_server.session() as session:
        found = session.exec(
            select(Suppression).where(Suppression.email == "uma.mass@example.com")
        ).first()
    assert found is not None
