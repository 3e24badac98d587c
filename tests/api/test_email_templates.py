"""`/api/v1/email-templates`: managers write templates, everyone reads and renders them."""

from __future__ import annotations

from tests.factories import make_contact

URL = "/api/v1/email-templates"
TEMPLATE = {
    "name": "Welcome",
    "entity": "contact",
    "subject": "Hi {{ contact.first_name }}",
    "body": "Hello **{{ contact.first_name }}**",
}


def test_a_manager_creates_a_template_and_a_rep_renders_it(client, people, key_for, bob):
    created = client.post(URL, json=TEMPLATE, headers=key_for(people.mona))
    assert created.status_code == 201
    template = created.json()
    assert created.headers["Location"] == f"{URL}/{template['id']}"
    assert (template["name"], template["version"]) == ("Welcome", 1)

    listed = client.get(URL, params={"entity": "contact"}, headers=bob)
    assert [t["name"] for t in listed.json()["data"]] == ["Welcome"]


def test_rendering_about_a_record(client, db, people, key_for, bob):
    template = client.post(URL, json=TEMPLATE, headers=key_for(people.alice)).json()
    contact = make_contact(db, owner=people.bob, first_name="<Jo>")
    rendered = client.post(
        f"{URL}/{template['id']}/preview", json={"record_id": contact.id}, headers=bob
    )
    assert rendered.status_code == 200
    assert rendered.json()["subject"] == "Hi <Jo>"
    assert "<strong>&lt;Jo&gt;</strong>" in rendered.json()["html"]
    missing = client.post(
        f"{URL}/{template['id']}/preview", json={"record_id": 999999}, headers=bob
    )
    assert missing.status_code == 404
    huge = client.post(f"{URL}/{template['id']}/preview", json={"record_id": 2**40}, headers=bob)
    assert huge.status_code == 404  # beyond a contact id: not found, not a database error


def test_reps_may_not_write_templates(client, bob):
    response = client.post(URL, json=TEMPLATE, headers=bob)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_a_sandbox_violation_is_a_422_naming_the_body(client, people, key_for):
    response = client.post(
        URL, json={**TEMPLATE, "body": "{{ ''.__class__.__mro__ }}"}, headers=key_for(people.mona)
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["field"] == "body" and "Not allowed" in errors[0]["message"]


def test_change_and_delete(client, people, key_for):
    mona = key_for(people.mona)
    template = client.post(URL, json=TEMPLATE, headers=mona).json()
    changed = client.patch(f"{URL}/{template['id']}", json={"name": "Hello"}, headers=mona)
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["subject"]) == ("Hello", TEMPLATE["subject"])
    assert changed.json()["version"] == 2
    assert client.delete(f"{URL}/{template['id']}", headers=mona).status_code == 204
    assert client.get(f"{URL}/{template['id']}", headers=mona).status_code == 404
