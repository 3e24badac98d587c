"""Global search (prefix full-text)."""

from __future__ import annotations

from crm_app.services.search import global_search, prefix_query
from tests.factories import make_account, make_contact, make_deal


def test_prefix_query_turns_words_into_prefix_terms():
    assert prefix_query("Jo  Acme!") == "jo:* & acme:*"
    assert prefix_query("  ") is None
    assert prefix_query("o'brien") == "o:* & brien:*"


def test_search_finds_contacts_by_name_email_domain_and_phone_prefix(db, people):
    acme = make_account(db, owner=people.bob, name="Acme Rockets", domain="acme-rockets.com")
    jo = make_contact(
        db,
        owner=people.bob,
        first_name="Josephine",
        last_name="Baker",
        email="jo@acme-rockets.com",
        phone="+14155550100",
        account_id=acme.id,
    )
    for text in ("jos", "bak", "jo@acme", "acme-rockets", "1415555", "Jos Bak"):
        hits = global_search(db, actor=people.vic, text=text)
        assert any(h.kind == "Contact" and h.id == jo.id for h in hits), text
    hits = global_search(db, actor=people.vic, text="acme")
    assert {h.kind for h in hits} >= {"Contact", "Company"}
    assert next(h for h in hits if h.kind == "Company").href == f"/accounts/{acme.id}"


def test_search_skips_records_in_the_trash(db, people):
    from crm_app.models.base import utcnow

    gone = make_contact(db, owner=people.bob, first_name="Zebulon", last_name="Gone")
    gone.deleted_at = utcnow()
    db.flush()
    assert global_search(db, actor=people.alice, text="zebulon") == []


def test_search_finds_deals_by_name(db, people):
    deal = make_deal(db, owner=people.dave, name="Quantum upgrade")
    hits = global_search(db, actor=people.bob, text="quant")
    assert [(h.kind, h.id) for h in hits] == [("Deal", deal.id)]
