"""The deals board: move a deal with the keyboard or the mouse; won and lost ask first."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import select

from crm_app.models import Deal, Stage, User
from tests.e2e.conftest import sign_in
from tests.factories import make_deal


def _deal(app_server, name: str) -> int:
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        deal = make_deal(session, owner=bob, name=name, amount="4200")
        session.commit()
        return deal.id


def _stage_of(app_server, deal_id: int) -> tuple[str, str | None]:
    with app_server.session() as session:
        deal = session.get(Deal, deal_id)
        return session.get(Stage, deal.stage_id).name, deal.lost_reason


def _open_board(page, app_server) -> None:
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/deals")


def _column(page, name: str):
    return page.get_by_role("region", name=f"{name}:")


def _drag(page, card, target) -> None:
    """A mouse drag slow enough for the library to see a drag, not a click."""
    start, end = card.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + 12)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + 30, steps=5)
    page.wait_for_timeout(150)  # past the click threshold: the library lifts the card
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=25)
    page.wait_for_timeout(150)  # it sees the pointer over the target before the drop
    page.mouse.up()


def test_a_deal_moved_with_the_keyboard_stays_in_its_new_stage(new_page, app_server):
    deal_id = _deal(app_server, "Orion Upgrade")
    page = new_page()
    _open_board(page, app_server)
    card = _column(page, "Qualification").get_by_role("button", name="Orion Upgrade")
    expect(card).to_be_visible()

    card.focus()
    for key in ("Space", "ArrowRight", "Space"):  # lift, move one column right, drop
        page.keyboard.press(key)
        page.wait_for_timeout(300)  # the library animates each step

    expect(_column(page, "Discovery").get_by_role("button", name="Orion Upgrade")).to_be_visible()
    expect(_column(page, "Qualification").get_by_text("Orion Upgrade")).to_have_count(0)
    page.reload()
    expect(_column(page, "Discovery").get_by_role("button", name="Orion Upgrade")).to_be_visible()
    assert _stage_of(app_server, deal_id) == ("Discovery", None)


def test_a_lost_move_needs_a_reason_and_a_cancelled_one_puts_the_card_back(new_page, app_server):
    deal_id = _deal(app_server, "Vega Renewal")
    page = new_page(width=1600, height=1000)
    _open_board(page, app_server)
    card = _column(page, "Qualification").get_by_role("button", name="Vega Renewal")
    expect(card).to_be_visible()
    lost_zone = page.get_by_label("Drop here: Lost (lost)")

    _drag(page, card, lost_zone)
    dialog = page.get_by_role("dialog", name="Why was this deal lost?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_visible()  # back in its column
    assert _stage_of(app_server, deal_id) == ("Qualification", None)
    page.wait_for_timeout(600)  # the library animates the card back; a drag during it is lost

    _drag(page, card, lost_zone)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog.get_by_role("alert")).to_have_text("Pick why the deal was lost.")
    assert _stage_of(app_server, deal_id) == ("Qualification", None)

    dialog.get_by_label("Lost reason").click()
    page.get_by_role("option", name="Price").click()
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Vega Renewal")).to_have_count(0)
    assert _stage_of(app_server, deal_id) == ("Lost", "Price")


def test_a_move_by_someone_else_shows_without_reloading(new_page, app_server):
    from crm_app.services import deal as deals

    deal_id = _deal(app_server, "Lyra Expansion")
    page = new_page()
    _open_board(page, app_server)
    expect(
        _column(page, "Qualification").get_by_role("button", name="Lyra Expansion")
    ).to_be_visible()

    with app_server.session() as session:
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        proposal = session.exec(select(Stage).where(Stage.name == "Proposal")).one()
        deals.move_deal(session, actor=alice, deal_id=deal_id, stage_id=proposal.id)
        session.commit()

    moved = _column(page, "Proposal").get_by_role("button", name="Lyra Expansion")
    expect(moved).to_be_visible(timeout=8000)  # the board checks every 3 s
