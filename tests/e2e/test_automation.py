"""Settings -> Automation: an admin builds "when a deal is won, create a task", wins a deal, and
watches the rule fire (the backend's in-process worker runs the job)."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Activity, Deal, User
from crm_app.services import custom_field, deal
from tests.e2e.conftest import sign_in
from tests.factories import make_deal


def _pick(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def _a_deal_of_bob(app_server, name: str) -> int:
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        deal = make_deal(session, owner=bob, name=name)
        session.commit()
        return deal.id


def test_an_admin_builds_a_rule_that_creates_a_task_when_a_deal_is_won(new_page, app_server):
    deal_id = _a_deal_of_bob(app_server, "Orbit Labs expansion")
    page = new_page(width=1400, height=1000)
    sign_in(page, app_server.admin_email)
    # the first page after the server starts can be slow on a busy machine
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible(timeout=20_000)
    page.goto("/settings/automation")
    expect(page.get_by_role("heading", name="Automation")).to_be_visible()

    page.get_by_role("button", name="New rule").click()
    builder = page.get_by_role("region", name="New rule")
    builder.get_by_label("Rule name").fill("Welcome pack")
    _pick(page, "Trigger", "A deal changes stage")
    _pick(page, "Moves to", "A won stage")
    _pick(page, "Action 1", "Create a task")
    # Saved without a subject: the problem shows next to the action.
    builder.get_by_role("button", name="Save rule").click()
    expect(builder.get_by_role("alert")).to_have_text("Subject: This is required.")
    builder.get_by_label("Action 1 task subject").fill("Send welcome pack")
    builder.get_by_role("button", name="Save rule").click()
    expect(builder).to_be_hidden()
    rules = page.get_by_role("table", name="Automation rules")
    row = rules.get_by_role("row").filter(has_text="Welcome pack")
    expect(row).to_contain_text("A deal is won")
    expect(row).to_contain_text("Never")

    # Bob's deal is won on its page; the rule's job adds the task for its owner.
    page.goto(f"/deals/{deal_id}")
    expect(page.get_by_role("heading", name="Orbit Labs expansion")).to_be_visible()
    page.get_by_role("navigation", name="Stages").get_by_role("button", name="Won").click()
    page.get_by_role("alertdialog", name="Mark this deal as won?").get_by_role(
        "button", name="Mark as won"
    ).click()
    expect(page.get_by_role("button", name="Won")).to_have_attribute("aria-current", "step")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app_server.session() as session:
            task = session.exec(
                select(Activity).where(Activity.deal_id == deal_id, Activity.kind == "task")
            ).first()
        if task is not None:
            break
        time.sleep(0.5)
    assert task is not None, "the rule's job did not run"
    page.reload()
    activities = page.get_by_role("region", name="Activities")
    expect(activities.get_by_text("Task: Send welcome pack")).to_be_visible()

    # The rule's log shows the run, linked to the deal.
    page.goto("/settings/automation")
    page.get_by_role("button", name="Run log of Welcome pack").click()
    log = page.get_by_role("table", name="Run log")
    expect(log.get_by_role("row")).to_have_count(2)
    expect(log).to_contain_text("succeeded")
    expect(log).to_contain_text("Created the task “Send welcome pack”")
    log.get_by_role("link", name=f"Deal #{deal_id}").click()
    expect(page.get_by_role("heading", name="Orbit Labs expansion")).to_be_visible()
    page.goto("/settings/automation")
    expect(rules.get_by_role("row").filter(has_text="Welcome pack")).to_contain_text("1")


def test_reps_get_no_automation_settings(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/settings/automation")
    expect(page.get_by_text("You don't have access to automation.")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Settings")
    expect(tabs.get_by_role("link", name="Automation")).to_have_count(0)


def test_a_condition_on_a_custom_field_picks_the_deals_it_acts_on(new_page, app_server):
    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        custom_field.create_field(
            session,
            actor=alice,
            entity="deal",
            label="Plan tier",
            field_type="select",
            options=["Starter", "Enterprise"],
        )
        session.commit()
    page = new_page(width=1400, height=1000)
    sign_in(page, app_server.admin_email)
    expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible(timeout=20_000)
    page.goto("/settings/automation")
    page.get_by_role("button", name="New rule").click()
    builder = page.get_by_role("region", name="New rule")
    builder.get_by_label("Rule name").fill("Tag enterprise deals")
    _pick(page, "Trigger", "A field changes")
    _pick(page, "Record", "Deal")
    _pick(page, "Field", "Plan tier")  # custom fields can be watched too
    _pick(page, "Trigger", "A record is created")
    builder.get_by_role("button", name="Add condition").click()
    _pick(page, "Condition 1 field", "Plan tier")
    builder.get_by_label("Condition 1 value").fill("Enterprise")
    _pick(page, "Action 1", "Add a tag")
    builder.get_by_label("Action 1 tag").fill("enterprise")
    builder.get_by_role("button", name="Save rule").click()
    expect(builder).to_be_hidden()

    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        made = {
            plan: deal.create_deal(
                session, actor=bob, data={"name": f"{plan} deal", "custom": {"plan_tier": plan}}
            ).id
            for plan in ("Enterprise", "Starter")
        }
        session.commit()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app_server.session() as session:
            tags = {plan: session.get(Deal, i).tags for plan, i in made.items()}
        if tags["Enterprise"]:
            break
        time.sleep(0.5)
    assert tags == {"Enterprise": ["enterprise"], "Starter": []}
