"""The CSV download routes: a list view's export, and an import's rejected rows."""

from __future__ import annotations

import csv
import io

from crm_app.routes import SESSION_COOKIE
from crm_app.services import auth, importer
from crm_app.services.importer import storage
from tests.factories import make_contact, make_deal


def signed_in(client, db, user) -> None:
    """Give the test client the browser's session cookie for `user`."""
    client.cookies.set(SESSION_COOKIE, auth.start_session(db, user=user))


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_session_cookie_downloads_the_view(client, db, people):
    make_contact(db, owner=people.bob, first_name="Ada", email="ada@example.com")
    make_contact(db, owner=people.bob, first_name="=cmd", email="x@example.com")
    signed_in(client, db, people.mona)
    response = client.get("/exports/contacts.csv?q=ada&columns=first_name,email")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="contacts-')
    assert rows(response) == [["First name", "E-mail"], ["Ada", "ada@example.com"]]


def test_an_api_key_downloads_too_with_filters_as_query_parameters(client, db, people, key_for):
    make_contact(db, owner=people.bob, first_name="=cmd", lifecycle_stage="customer")
    make_contact(db, owner=people.bob, first_name="Lead", lifecycle_stage="lead")
    response = client.get(
        "/exports/contacts.csv?lifecycle_stage=customer&columns=first_name",
        headers=key_for(people.alice),
    )
    assert rows(response) == [["First name"], ["'=cmd"]]


def test_without_a_session_or_key_it_is_401(client, db, people):
    response = client.get("/exports/contacts.csv")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    assert client.get("/exports/contacts.csv").status_code == 401


def test_a_rep_without_the_export_permission_gets_403(client, db, people, key_for):
    signed_in(client, db, people.bob)
    assert client.get("/exports/contacts.csv").status_code == 403
    assert client.get("/exports/accounts.csv", headers=key_for(people.vic)).status_code == 403


def test_bad_columns_or_filters_are_422_and_unknown_lists_404(client, db, people, key_for):
    headers = key_for(people.alice)
    response = client.get("/exports/contacts.csv?columns=nope", headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "columns"
    assert client.get("/exports/contacts.csv?bogus=1", headers=headers).status_code == 422
    assert client.get("/exports/leads.csv", headers=headers).status_code == 404


def test_companies_export_by_either_name(client, db, people, key_for):
    headers = key_for(people.alice)
    for name in ("accounts", "companies"):
        response = client.get(f"/exports/{name}.csv?columns=name", headers=headers)
        assert response.status_code == 200 and rows(response) == [["Name"]]


def test_the_deals_list_downloads_with_its_filters_sort_and_columns(client, db, people):
    make_deal(db, owner=people.bob, name="@Orion", amount="1200")
    make_deal(db, owner=people.bob, name="Vega", amount="10")
    signed_in(client, db, people.mona)
    response = client.get(
        "/exports/deals.csv?status=open&amount_min=100&sort=-amount&columns=name,amount,currency"
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="deals-')
    assert rows(response) == [["Name", "Amount", "Currency"], ["'@Orion", "1200.00", "USD"]]
    assert client.get("/exports/deals.csv?status=maybe").status_code == 422


def _import_with_a_rejected_row(db, actor):
    path = storage.new_path(".csv")
    with storage.create_private(path) as handle:
        handle.write(b"Email\nada@example.com\nnot-an-email\n")
    job = importer.start_import(
        db,
        actor=actor,
        entity="contact",
        path=path,
        filename="leads.csv",
        mapping={"Email": "email"},
    )
    importer.process_import(db, job.id)
    return job


def test_the_importer_downloads_the_rejected_rows(client, db, people):
    job = _import_with_a_rejected_row(db, people.mona)
    signed_in(client, db, people.mona)
    response = client.get(f"/imports/{job.id}/rejected.csv")
    assert response.status_code == 200
    assert 'filename="leads-rejected.csv"' in response.headers["content-disposition"]
    header, row = rows(response)
    assert header == ["Row", "Email", "Errors"] and row[:2] == ["3", "not-an-email"]


def test_someone_elses_rejected_rows_are_404_but_an_admin_sees_them(client, db, people, key_for):
    job = _import_with_a_rejected_row(db, people.mona)
    assert (
        client.get(f"/imports/{job.id}/rejected.csv", headers=key_for(people.dave)).status_code
        == 404
    )
    assert (
        client.get(f"/imports/{job.id}/rejected.csv", headers=key_for(people.alice)).status_code
        == 200
    )
    assert client.get(f"/imports/{job.id}/rejected.csv").status_code == 401
