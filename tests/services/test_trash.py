"""The trash: what shows, who restores, and purging after 30 days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_app.models import Account, Contact
from crm_app.models.base import utcnow
from crm_app.services import account as accounts
from crm_app.services import contact as contacts
from crm_app.services import trash
from crm_app.services.errors import Forbidden, NotFound
from tests.factories import make_account, make_contact


def test_deleted_records_show_in_the_trash_newest_first(db, people):
    c = make_contact(db, owner=people.bob, first_name="Gone", last_name="Contact")
    a = make_account(db, owner=people.bob, name="Gone Co")
    contacts.delete_contact(db, actor=people.bob, contact_id=c.id)
    accounts.delete_account(db, actor=people.bob, account_id=a.id)
    items, total = trash.list_trash(db, actor=people.bob)
    assert total == 2
    assert [(i.entity, i.label) for i in items] == [
        ("account", "Gone Co"),
        ("contact", "Gone Contact"),
    ]
    assert all(i.can_restore for i in items)
    others, _ = trash.list_trash(db, actor=people.dave)
    assert not any(i.can_restore for i in others)


def test_restore_brings_a_company_back_with_its_contacts_still_linked(db, people):
    a = make_account(db, owner=people.bob, name="Acme")
    c = make_contact(db, owner=people.bob, account_id=a.id)
    accounts.delete_account(db, actor=people.bob, account_id=a.id)
    with pytest.raises(Forbidden):
        trash.restore(db, actor=people.dave, entity="account", record_id=a.id)
    trash.restore(db, actor=people.bob, entity="account", record_id=a.id)
    assert accounts.get_account(db, actor=people.bob, account_id=a.id).deleted_at is None
    assert db.get(Contact, c.id).account_id == a.id


def test_after_thirty_days_records_cannot_be_restored_and_are_purged(db, people):
    c = make_contact(db, owner=people.bob)
    contacts.delete_contact(db, actor=people.bob, contact_id=c.id)
    c.deleted_at = utcnow() - timedelta(days=31)
    db.flush()
    assert trash.list_trash(db, actor=people.bob)[1] == 0
    with pytest.raises(NotFound):
        trash.restore(db, actor=people.bob, entity="contact", record_id=c.id)
    assert trash.purge_expired(db) >= 1
    db.expire_all()
    assert db.get(Contact, c.id) is None
    assert db.get(Account, 0) is None


def test_deleted_deals_and_leads_show_and_are_restored_in_their_place(db, people):
    from crm_app.models import Deal
    from crm_app.services import deal as deals
    from crm_app.services import lead as leads
    from tests.factories import make_deal, make_lead

    deal = make_deal(db, owner=people.bob, name="Orion")
    lead = make_lead(db, owner=people.bob, first_name="", last_name="", company_name="Vega Co")
    stage_id = deal.stage_id
    deals.delete_deal(db, actor=people.bob, deal_id=deal.id)
    leads.delete_lead(db, actor=people.bob, lead_id=lead.id)
    items, total = trash.list_trash(db, actor=people.bob)
    assert total == 2
    assert {(i.entity, i.label) for i in items} == {("deal", "Orion"), ("lead", "Vega Co")}
    assert trash.list_trash(db, actor=people.bob, entity="deal")[1] == 1
    assert not any(i.can_restore for i in trash.list_trash(db, actor=people.dave)[0])
    with pytest.raises(Forbidden):
        trash.restore(db, actor=people.dave, entity="deal", record_id=deal.id)
    trash.restore(db, actor=people.bob, entity="deal", record_id=deal.id)
    trash.restore(db, actor=people.bob, entity="lead", record_id=lead.id)
    assert db.get(Deal, deal.id).deleted_at is None and db.get(Deal, deal.id).stage_id == stage_id
    assert trash.list_trash(db, actor=people.bob)[1] == 0


def test_expired_deals_and_leads_are_purged_with_their_links_emptied(db, people):
    from crm_app.models import Deal, Lead
    from crm_app.services import deal as deals
    from tests.factories import make_deal, make_lead

    deal = make_deal(db, owner=people.bob)
    lead = make_lead(db, owner=people.bob, converted_deal_id=deal.id)
    deals.delete_deal(db, actor=people.bob, deal_id=deal.id)
    deal.deleted_at = utcnow() - timedelta(days=31)
    db.flush()
    assert trash.purge_expired(db) == 1
    db.expire_all()
    assert db.get(Deal, deal.id) is None
    assert db.get(Lead, lead.id).converted_deal_id is None


def test_an_unknown_kind_of_record_is_refused(db, people):
    from crm_app.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        trash.list_trash(db, actor=people.bob, entity="activity")
    with pytest.raises(ValidationFailed):
        trash.restore(db, actor=people.bob, entity="activity", record_id=1)
