"""CSV export of a list view: formula escaping, the view's search, filters, order and columns,
custom fields, permissions, the audit event."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from crm_app.models import AuditEvent
from crm_app.services import custom_field, exporter
from crm_app.services import deal as deals
from crm_app.services.errors import Forbidden, ValidationFailed
from crm_app.services.listing import ListQuery
from crm_app.services.permission import set_scope
from tests.factories import make_account, make_contact, make_deal


def export(db, actor, entity="contact", *, columns=None, **listq) -> list[list[str]]:
    """The exported file, parsed."""
    plan = exporter.prepare_export(
        db, actor=actor, entity=entity, listq=ListQuery(**listq), columns=columns
    )
    data = b"".join(plan.chunks(db)).decode("utf-8")
    assert data.startswith("\ufeff")
    return list(csv.reader(io.StringIO(data.removeprefix("\ufeff"))))


@pytest.mark.parametrize("value", ["=1+2", "+1 555", "-3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(value):
    assert exporter.escape_cell(value) == "'" + value


def test_ordinary_cells_are_left_alone():
    assert exporter.escape_cell("Ada Lovelace") == "Ada Lovelace"
    assert exporter.escape_cell("") == ""


def test_formula_text_in_records_is_escaped_in_the_file(db, people):
    make_contact(db, owner=people.bob, first_name='=HYPERLINK("http://evil")', last_name="@x")
    rows = export(db, people.alice, columns=["first_name", "last_name", "phone"])
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "'@x", ""]


def test_search_filters_sort_and_columns_of_the_view_are_honoured(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    make_contact(
        db,
        owner=people.bob,
        first_name="Ada",
        last_name="Zed",
        lifecycle_stage="customer",
        account_id=acme.id,
        tags=["vip", "board"],
    )
    make_contact(
        db, owner=people.bob, first_name="Ada", last_name="Abel", lifecycle_stage="customer"
    )
    make_contact(db, owner=people.bob, first_name="Ada", last_name="Lead", lifecycle_stage="lead")
    make_contact(
        db, owner=people.bob, first_name="Bob", last_name="Other", lifecycle_stage="customer"
    )
    rows = export(
        db,
        people.alice,
        columns=["last_name", "company", "owner", "tags"],
        q="ada",
        filters={"lifecycle_stage": "customer"},
        sort="last_name",
    )
    assert rows == [
        ["Last name", "Company", "Owner", "Tags"],
        ["Abel", "", "Bob Rep", ""],
        ["Zed", "Acme", "Bob Rep", "vip, board"],
    ]


def test_the_default_columns_include_custom_fields_shown_as_on_pages(db, people):
    custom_field.create_field(
        db, actor=people.alice, entity="contact", label="Renewal", field_type="checkbox"
    )
    custom_field.create_field(
        db, actor=people.alice, entity="contact", label="Budget", field_type="money"
    )
    make_contact(
        db, owner=people.bob, email="a@example.com", custom={"renewal": True, "budget": "12.50"}
    )
    header, row = export(db, people.alice)
    assert header[:3] == ["First name", "Last name", "E-mail"]
    assert header[-2:] == ["Renewal", "Budget"]
    assert row[-2:] == ["Yes", "12.50"]


def test_companies_export_with_their_contact_counts(db, people):
    acme = make_account(db, owner=people.bob, name="Acme", domain="acme.com")
    make_contact(db, owner=people.bob, account_id=acme.id)
    rows = export(db, people.alice, "account", columns=["name", "domain", "contacts"])
    assert rows == [["Name", "Domain", "Contacts"], ["Acme", "acme.com", "1"]]


def test_trashed_records_are_not_exported(db, people):
    from crm_app.models.base import utcnow

    make_contact(db, owner=people.bob, email="gone@example.com", deleted_at=utcnow())
    assert export(db, people.alice, columns=["email"]) == [["E-mail"]]


def test_unknown_columns_and_filters_are_reported(db, people):
    with pytest.raises(ValidationFailed) as caught:
        export(db, people.alice, columns=["email", "password_hash"])
    assert caught.value.errors[0].field == "columns"
    with pytest.raises(ValidationFailed):
        export(db, people.alice, filters={"bogus": "1"})


def test_export_is_its_own_permission(db, people):
    with pytest.raises(Forbidden):
        export(db, people.bob)  # reps read every contact but may not export by default
    with pytest.raises(Forbidden):
        export(db, people.vic)
    assert export(db, people.mona, columns=["email"]) == [["E-mail"]]
    set_scope(db, actor=people.alice, role="rep", resource="contact", action="export", scope="all")
    assert export(db, people.bob, columns=["email"]) == [["E-mail"]]


def test_an_export_is_audited_once_with_its_row_count(db, people):
    for i in range(3):
        make_contact(db, owner=people.bob, email=f"p{i}@example.com")
    export(db, people.mona, columns=["email"], filters={"owner_id": str(people.bob.id)})
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "export")).scalars().all()
    assert (event.actor_id, event.entity, event.changes["rows"]) == (people.mona.id, "contact", 3)
    assert event.changes["filters"] == {"owner_id": str(people.bob.id)}


def test_large_exports_stream_in_batches(db, people, monkeypatch):
    monkeypatch.setattr(exporter, "BATCH_ROWS", 2)
    for i in range(5):
        make_contact(db, owner=people.bob, email=f"p{i}@example.com")
    plan = exporter.prepare_export(
        db, actor=people.alice, entity="contact", listq=ListQuery(sort="email"), columns=["email"]
    )
    chunks = list(plan.chunks(db))
    assert len(chunks) >= 3
    assert b"".join(chunks).decode().splitlines()[1:] == [f"p{i}@example.com" for i in range(5)]


def _deal(db, owner, name, amount, **fields):
    deal = make_deal(db, owner=owner, name=name, amount=amount)
    if fields:
        deals.update_deal(db, actor=owner, deal_id=deal.id, data=fields)
    return deal


def test_deals_export_the_filtered_view_with_stage_amounts_and_weighted_amounts(db, people):
    acme = make_account(db, owner=people.bob, name="Acme")
    _deal(db, people.bob, "=Big one", "12000", account_id=acme.id, probability=25)
    _deal(db, people.bob, "Small one", "100.50", currency="EUR")
    _deal(db, people.carol, "Tiny", "5")
    rows = export(
        db,
        people.alice,
        "deal",
        columns=["name", "company", "stage", "status", "amount", "currency", "weighted", "owner"],
        filters={"amount_min": "100"},
        sort="-amount",
    )
    assert rows == [
        ["Name", "Company", "Stage", "Status", "Amount", "Currency", "Weighted amount", "Owner"],
        ["'=Big one", "Acme", "Qualification", "open", "12000.00", "USD", "3000.00", "Bob Rep"],
        ["Small one", "", "Qualification", "open", "100.50", "EUR", "10.05", "Bob Rep"],
    ]


def test_deals_sort_by_company_and_owner_in_the_export_as_in_the_list(db, people):
    for name, company in (("B deal", "Zeta"), ("A deal", "Alpha")):
        account = make_account(db, owner=people.bob, name=company)
        _deal(db, people.bob, name, "10", account_id=account.id)
    rows = export(db, people.alice, "deal", columns=["name", "company"], sort="company")
    assert rows[1:] == [["A deal", "Alpha"], ["B deal", "Zeta"]]
    header, *_ = export(db, people.alice, "deal")
    assert header[:4] == ["Name", "Company", "Primary contact", "Pipeline"]


def test_deal_exports_need_the_deal_export_permission(db, people):
    with pytest.raises(Forbidden):
        export(db, people.bob, "deal")
    assert export(db, people.mona, "deal", columns=["name"]) == [["Name"]]
