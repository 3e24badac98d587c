"""CSV import: mapping guesses, preview errors, duplicates in the database and in the file,
skip / update / create, the rejected-rows report, resuming, undo, permissions."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from crm_app.models import Account, AuditEvent, Contact, ImportJob, ImportRecord
from crm_app.services import custom_field, importer
from crm_app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from crm_app.services.importer import storage
from crm_app.services.permission import set_scope
from tests.factories import make_account, make_contact

HEADER = "First Name,Last Name,E-mail,Phone Number,Company\n"


def upload(content: str, encoding: str = "utf-8") -> Path:
    """A file in data/imports, as the upload handler writes it."""
    path = storage.new_path(".csv")
    with storage.create_private(path) as handle:
        handle.write(content.encode(encoding))
    return path


def run(db, actor, content: str, *, entity="contact", on_duplicate="skip", mapping=None, rows=2):
    """Upload, map (guessed unless given), start and run an import in small chunks."""
    path = upload(content)
    if mapping is None:
        mapping = importer.inspect_upload(db, actor=actor, entity=entity, path=path).mapping
    job = importer.start_import(
        db,
        actor=actor,
        entity=entity,
        path=path,
        filename="people.csv",
        mapping=mapping,
        on_duplicate=on_duplicate,
    )
    assert importer.process_import(db, job.id, chunk_rows=rows)
    db.refresh(job)
    return job


def live_contacts(db) -> list[Contact]:
    return list(
        db.exec(select(Contact).where(Contact.deleted_at.is_(None)).order_by(Contact.id))
        .scalars()
        .all()
    )


def report_rows(job: ImportJob) -> list[dict[str, str]]:
    with open(job.report_path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# ---- stage 1: mapping and preview --------------------------------------------------------


def test_header_synonyms_and_custom_fields_are_guessed(db, people):
    custom_field.create_field(
        db, actor=people.alice, entity="contact", label="Shoe size", field_type="number"
    )
    custom_field.create_field(
        db, actor=people.alice, entity="contact", label="Plan tier", field_type="text"
    )
    header = "Email Address,First Name,surname,Phone Number,Company,Shoe size,plan_tier,Notes\n"
    path = upload(header + "ada@example.com,Ada,Lovelace,,,42,gold,hi\n")
    preview = importer.inspect_upload(db, actor=people.alice, entity="contact", path=path)
    assert preview.mapping == {
        "Email Address": "email",
        "First Name": "first_name",
        "surname": "last_name",
        "Phone Number": "phone",
        "Company": "company",
        "Shoe size": "custom.shoe_size",
        "plan_tier": "custom.plan_tier",
    }
    assert "Notes" not in preview.mapping


def test_e_mail_spellings_map_to_email(db, people):
    for header in ("E-mail", "Email", "EMAIL ADDRESS", "e-mail address"):
        path = upload(f"{header},Name\nx@example.com,X\n")
        preview = importer.inspect_upload(db, actor=people.alice, entity="contact", path=path)
        assert preview.mapping[header] == "email"
        assert preview.mapping["Name"] == "name"


def test_preview_shows_each_rows_errors_next_to_its_column(db, people):
    path = upload(
        HEADER + "Ada,Lovelace,ada@example.com,+1 415 555 0100,\n"
        ",,not-an-email,12,\n"
        "Grace,Hopper,,,\n"
    )
    preview = importer.inspect_upload(db, actor=people.alice, entity="contact", path=path)
    first, second, third = preview.rows
    assert first.valid and third.valid
    assert (first.number, second.number) == (2, 3)
    assert "valid e-mail" in second.errors["E-mail"]
    assert "digits" in second.errors["Phone Number"] or "phone" in second.errors["Phone Number"]
    assert "name or an e-mail" in second.errors["First Name"]


def test_preview_reads_semicolons_and_windows_1252(db, people):
    path = upload("Prénom;Nom;E-mail\nZoë;Müller;zoe@example.com\n", encoding="cp1252")
    preview = importer.inspect_upload(db, actor=people.alice, entity="contact", path=path)
    assert preview.columns == ["Prénom", "Nom", "E-mail"]
    assert preview.rows[0].cells == ["Zoë", "Müller", "zoe@example.com"]


def test_a_field_chosen_for_two_columns_is_refused(db, people):
    path = upload("A,B\na@example.com,b@example.com\n")
    with pytest.raises(ValidationFailed) as caught:
        importer.start_import(
            db,
            actor=people.alice,
            entity="contact",
            path=path,
            filename="x.csv",
            mapping={"A": "email", "B": "email"},
        )
    assert "already imported" in caught.value.message


def test_paths_outside_the_imports_folder_are_never_read(db, people, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("Email\nx@example.com\n")
    with pytest.raises(NotFound):
        importer.inspect_upload(db, actor=people.alice, entity="contact", path=outside)


# ---- stage 2: the job --------------------------------------------------------------------


def test_start_queues_a_procrastinate_job_in_the_same_transaction(db, people):
    path = upload(HEADER + "Ada,Lovelace,ada@example.com,,\n")
    job = importer.start_import(
        db,
        actor=people.alice,
        entity="contact",
        path=path,
        filename="x.csv",
        mapping={"E-mail": "email"},
    )
    queued = db.execute(
        text("SELECT task_name, args, lock FROM procrastinate_jobs WHERE lock = :lock"),
        {"lock": f"import:{job.id}"},
    ).one()
    assert queued.task_name == "import_csv" and queued.args == {"job_id": job.id}
    assert job.status == "pending" and job.total_rows == 1


def test_import_creates_contacts_owned_by_the_importer(db, people):
    job = run(
        db,
        people.mona,
        HEADER + "Ada,Lovelace,ADA@example.com,(415) 555-0100,\nGrace,Hopper,grace@example.com,,\n",
    )
    assert (job.status, job.created_count, job.processed_rows) == ("succeeded", 2, 2)
    ada, grace = live_contacts(db)
    assert (ada.email, ada.phone, ada.owner_id) == (
        "ada@example.com",
        "+14155550100",
        people.mona.id,
    )
    assert grace.created_by == people.mona.id
    assert not Path(job.source_path).exists()  # the upload is deleted once imported


def test_duplicates_in_the_database_and_in_the_file_are_skipped(db, people):
    make_contact(db, owner=people.bob, email="ada@example.com")
    make_contact(db, owner=people.bob, phone="+14155550199", email=None)
    content = (
        HEADER + "Ada,L,Ada@Example.com,,\n"  # same e-mail as a contact
        "Phone,Twin,,415 555 0199,\n"  # same phone as a contact
        "New,One,new@example.com,,\n"
        "New,Again,NEW@example.com,,\n"  # same e-mail as the row before
        "Other,Person,other@example.com,+1 415 555 0123,\n"
        "Same,Phone,,+14155550123,\n"  # same phone as an earlier row (another chunk)
    )
    job = run(db, people.alice, content)
    assert (job.created_count, job.skipped_count, job.error_count) == (2, 4, 0)
    assert sorted(c.email or "" for c in live_contacts(db)) == [
        "",
        "ada@example.com",
        "new@example.com",
        "other@example.com",
    ]


def test_importing_the_same_file_twice_creates_nothing_new(db, people):
    content = HEADER + "".join(f"P{i},Q,p{i}@example.com,,Acme\n" for i in range(7))
    first = run(db, people.alice, content, rows=3)
    second = run(db, people.alice, content, rows=3)
    assert (first.created_count, second.created_count, second.skipped_count) == (7, 0, 7)
    assert len(live_contacts(db)) == 7
    assert db.exec(select(func.count()).select_from(Account)).one()[0] == 1


def test_update_applies_the_files_values_and_undo_restores_them(db, people):
    old = make_contact(
        db,
        owner=people.bob,
        first_name="Ada",
        email="ada@example.com",
        title="Analyst",
        tags=["vip"],
    )
    content = (
        "Email,Title,Tags,Last name\nada@example.com,CTO,board,Lovelace\nn@example.com,CEO,,N\n"
    )
    job = run(db, people.alice, content, on_duplicate="update")
    assert (job.created_count, job.updated_count) == (1, 1)
    db.refresh(old)
    assert (old.title, old.tags, old.last_name, old.version) == (
        "CTO",
        ["vip", "board"],
        "Lovelace",
        2,
    )
    record = db.get(ImportRecord, (job.id, "contact", old.id))
    assert record.action == "updated" and record.changes["title"] == ["Analyst", "CTO"]

    importer.undo_import(db, actor=people.alice, job_id=job.id)
    db.refresh(old)
    assert (old.title, old.tags, old.first_name) == ("Analyst", ["vip"], "Ada")
    assert [c.id for c in live_contacts(db)] == [old.id]  # the created one is in the trash


def test_undo_restores_every_updated_record_however_many(db, people, monkeypatch):
    from crm_app.services.importer import undo

    monkeypatch.setattr(undo, "BATCH", 2)  # read the update records two at a time
    olds = [
        make_contact(db, owner=people.bob, email=f"p{i}@example.com", title="Analyst")
        for i in range(5)
    ]
    content = "Email,Title\n" + "".join(f"p{i}@example.com,CTO\n" for i in range(5))
    job = run(db, people.alice, content, on_duplicate="update")
    assert job.updated_count == 5
    importer.undo_import(db, actor=people.alice, job_id=job.id)
    for old in olds:
        db.refresh(old)
    assert [old.title for old in olds] == ["Analyst"] * 5


def test_undo_keeps_a_field_someone_edited_after_the_import(db, people):
    old = make_contact(db, owner=people.bob, email="ada@example.com", title="Analyst")
    job = run(db, people.alice, "Email,Title\nada@example.com,CTO\n", on_duplicate="update")
    db.refresh(old)
    old.title = "Chief Technologist"
    db.add(old)
    db.flush()
    importer.undo_import(db, actor=people.alice, job_id=job.id)
    db.refresh(old)
    assert old.title == "Chief Technologist"


def test_update_of_an_unchanged_record_counts_as_skipped(db, people):
    make_contact(db, owner=people.bob, email="ada@example.com", title="CTO")
    job = run(db, people.alice, "Email,Title\nada@example.com,CTO\n", on_duplicate="update")
    assert (job.updated_count, job.skipped_count) == (0, 1)


def test_update_merges_duplicate_rows_of_the_file(db, people):
    content = "Email,Title,Phone\nada@example.com,CTO,\nada@example.com,,+1 415 555 0100\n"
    job = run(db, people.alice, content, on_duplicate="update", rows=10)
    (ada,) = live_contacts(db)
    assert (ada.title, ada.phone) == ("CTO", "+14155550100")
    assert (job.created_count, job.updated_count) == (1, 1)


def test_create_makes_duplicates_on_purpose(db, people):
    make_contact(db, owner=people.bob, email="ada@example.com")
    job = run(db, people.alice, "Email\nada@example.com\nada@example.com\n", on_duplicate="create")
    assert job.created_count == 2
    assert len(live_contacts(db)) == 3


def test_a_rep_cannot_update_someone_elses_contact_by_import(db, people):
    set_scope(db, actor=people.alice, role="rep", resource="contact", action="import", scope="all")
    theirs = make_contact(db, owner=people.dave, email="dave.client@example.com", title="Old")
    job = run(db, people.bob, "Email,Title\ndave.client@example.com,New\n", on_duplicate="update")
    assert (job.updated_count, job.error_count) == (0, 1)
    db.refresh(theirs)
    assert theirs.title == "Old"
    assert "may not edit" in report_rows(job)[0]["Errors"]


def test_rejected_rows_report_keeps_the_cells_and_says_why(db, people):
    content = (
        HEADER + "Ada,Lovelace,ada@example.com,,\n=HYPERLINK(x),Evil,not-an-email,,\n,,,415,\n"
    )
    job = run(db, people.alice, content)
    assert (job.created_count, job.error_count) == (1, 2)
    bad_email, no_name = report_rows(job)
    assert bad_email["Row"] == "3" and bad_email["First Name"] == "'=HYPERLINK(x)"
    assert bad_email["Errors"].startswith("E-mail: Enter a valid e-mail address")
    assert no_name["Row"] == "4" and "First name: Enter a name or an e-mail." in no_name["Errors"]
    assert os.stat(job.report_path).st_mode & 0o777 == 0o600


def test_custom_fields_are_validated_and_stored(db, people):
    custom_field.create_field(
        db, actor=people.alice, entity="contact", label="Seats", field_type="number"
    )
    job = run(db, people.alice, "Email,Seats\na@example.com,12\nb@example.com,many\n")
    assert (job.created_count, job.error_count) == (1, 1)
    assert live_contacts(db)[0].custom == {"seats": 12}
    assert "Seats: Enter a number" in report_rows(job)[0]["Errors"]


def test_company_column_links_existing_companies_and_creates_missing_ones(db, people):
    acme = make_account(db, owner=people.bob, name="Acme", domain="acme.com")
    content = (
        HEADER + "A,A,a@example.com,,ACME\n"
        "B,B,b@example.com,,https://www.acme.com\n"
        "C,C,c@example.com,,Initech\n"
        "D,D,d@example.com,,initech\n"
    )
    job = run(db, people.alice, content, rows=3)
    a, b, c, d = live_contacts(db)
    assert a.account_id == acme.id and b.account_id == acme.id
    assert c.account_id == d.account_id != acme.id
    assert db.get(Account, c.account_id).name == "Initech"
    assert job.companies_created == 1
    importer.undo_import(db, actor=people.alice, job_id=job.id)
    assert db.get(Account, c.account_id).deleted_at is not None
    assert db.get(Account, acme.id).deleted_at is None


def test_company_cells_differing_in_case_or_spaces_are_one_company(db, people, monkeypatch):
    from crm_app.services.importer import lookups

    monkeypatch.setattr(lookups, "CACHED_CELLS", 0)  # look each chunk's cells up again
    content = (
        HEADER + "A,A,a@example.com,,Initech Corp\n"
        "B,B,b@example.com,,Umbrella\n"
        "C,C,c@example.com,,INITECH  CORP\n"
    )
    job = run(db, people.alice, content, rows=1)
    a, b, c = live_contacts(db)
    assert a.account_id == c.account_id != b.account_id
    assert db.get(Account, a.account_id).name == "Initech Corp"
    assert job.companies_created == 2


def test_owner_column_assigns_by_email_and_refuses_unknown_users(db, people):
    content = "Email,Owner\na@example.com,BOB@example.com\nb@example.com,nobody@example.com\n"
    job = run(db, people.alice, content)
    (a,) = live_contacts(db)
    assert a.owner_id == people.bob.id
    assert "No active user" in report_rows(job)[0]["Errors"]


def test_companies_match_by_domain_then_by_name(db, people):
    make_account(db, owner=people.bob, name="Acme", domain="acme.com")
    make_account(db, owner=people.bob, name="Globex")
    content = (
        "Company,Website\n"
        "Acme Corporation,https://acme.com/about\n"  # same domain, from the website
        "globex,\n"  # same name, no domain
        "Globex,globex.com\n"  # a domain no company has: new
    )
    job = run(db, people.alice, content, entity="account")
    assert (job.created_count, job.skipped_count) == (1, 2)
    names = db.exec(select(Account.name).order_by(Account.id)).scalars().all()
    assert names == ["Acme", "Globex", "Globex"]


def test_an_interrupted_import_resumes_without_duplicates(db, people):
    content = HEADER + "".join(f"P{i},Q,p{i}@example.com,,\n" for i in range(5))
    path = upload(content)
    job = importer.start_import(
        db,
        actor=people.alice,
        entity="contact",
        path=path,
        filename="x.csv",
        mapping={"E-mail": "email", "First Name": "first_name"},
    )
    assert not importer.process_import(db, job.id, chunk_rows=2, should_stop=lambda: True)
    db.refresh(job)
    assert (job.status, job.processed_rows, job.next_row) == ("running", 2, 4)
    assert importer.process_import(db, job.id, chunk_rows=2)
    db.refresh(job)
    assert (job.status, job.created_count) == ("succeeded", 5)
    assert len(live_contacts(db)) == 5
    assert importer.process_import(db, job.id)  # a finished job runs again as a no-op
    assert len(live_contacts(db)) == 5


def test_an_import_and_its_undo_are_one_audit_event_each(db, people):
    job = run(db, people.alice, HEADER + "".join(f"P{i},Q,p{i}@example.com,,\n" for i in range(5)))
    events = db.exec(select(AuditEvent).where(AuditEvent.entity == "contact")).scalars().all()
    assert [(e.action, e.changes["created"]) for e in events] == [("import", 5)]
    importer.undo_import(db, actor=people.alice, job_id=job.id)
    undo = db.exec(select(AuditEvent).where(AuditEvent.action == "undo_import")).scalars().one()
    assert undo.changes["trashed"] == 5
    with pytest.raises(Conflict):
        importer.undo_import(db, actor=people.alice, job_id=job.id)


def test_companies_can_be_imported(db, people):
    job = run(
        db,
        people.alice,
        "Name,Domain,Industry,Size\nAcme,acme.com,Software,11-50\nBad,,,huge\n",
        entity="account",
    )
    assert (job.created_count, job.error_count) == (1, 1)
    acme = db.exec(select(Account)).scalars().one()
    assert (acme.domain, acme.size, acme.owner_id) == ("acme.com", "11-50", people.alice.id)


# ---- permissions ---------------------------------------------------------------------------


def test_viewers_and_reps_may_not_import_by_default(db, people):
    path = upload(HEADER + "Ada,L,ada@example.com,,\n")
    for who in (people.vic, people.bob):
        with pytest.raises(Forbidden):
            importer.inspect_upload(db, actor=who, entity="contact", path=path)
        with pytest.raises(Forbidden):
            importer.start_import(
                db,
                actor=who,
                entity="contact",
                path=path,
                filename="x.csv",
                mapping={"E-mail": "email"},
            )


def test_only_the_importer_or_an_admin_sees_or_undoes_an_import(db, people):
    job = run(db, people.mona, HEADER + "Ada,L,ada@example.com,,\n")
    set_scope(db, actor=people.alice, role="rep", resource="contact", action="import", scope="all")
    with pytest.raises(NotFound):
        importer.undo_import(db, actor=people.bob, job_id=job.id)
    assert [j.id for j in importer.list_imports(db, actor=people.bob)] == []
    assert [j.id for j in importer.list_imports(db, actor=people.alice)] == [job.id]
    importer.undo_import(db, actor=people.alice, job_id=job.id)


def test_update_mode_needs_the_update_permission(db, people):
    set_scope(
        db, actor=people.alice, role="viewer", resource="contact", action="import", scope="all"
    )
    path = upload(HEADER + "Ada,L,ada@example.com,,\n")
    with pytest.raises(ValidationFailed) as caught:
        importer.start_import(
            db,
            actor=people.vic,
            entity="contact",
            path=path,
            filename="x.csv",
            mapping={"E-mail": "email"},
            on_duplicate="update",
        )
    assert caught.value.errors[0].field == "on_duplicate"


def test_report_csv_is_readable_by_a_spreadsheet():
    from crm_app.services.exporter import escape_cell

    out = io.StringIO()
    csv.writer(out).writerow([escape_cell(v) for v in ("=1+1", "+1", "-1", "@x", "plain")])
    assert out.getvalue().strip() == "'=1+1,'+1,'-1,'@x,plain"


def test_uploads_left_behind_are_purged_but_running_imports_and_reports_stay(db, people):
    abandoned = upload("Email\nx@example.com\n")
    job = run(db, people.alice, "Email\nnot-an-email\n")
    queued_path = upload("Email\ny@example.com\n")
    importer.start_import(
        db,
        actor=people.alice,
        entity="contact",
        path=queued_path,
        filename="q.csv",
        mapping={"Email": "email"},
    )
    assert storage.purge_stale(db, older_than_hours=1) == 0  # all fresh
    assert storage.purge_stale(db, older_than_hours=-1) >= 1
    assert not abandoned.exists()
    assert queued_path.exists() and Path(job.report_path).exists()


def test_an_import_whose_user_was_deactivated_fails_with_a_reason(db, people):
    path = upload("Email\na@example.com\n")
    job = importer.start_import(
        db,
        actor=people.mona,
        entity="contact",
        path=path,
        filename="x.csv",
        mapping={"Email": "email"},
    )
    people.mona.is_active = False
    db.add(people.mona)
    db.commit()  # as the web request that queued the job would
    assert importer.process_import(db, job.id)
    db.refresh(job)
    assert (job.status, job.created_count) == ("failed", 0)
    assert "can no longer sign in" in job.message
    assert not path.exists()


@pytest.mark.parametrize("on_duplicate", ["skip", "update", "create"])
def test_a_big_file_is_validated_by_a_second_process(engine, monkeypatch, on_duplicate):
    """run_import as the worker runs it, on committed data (the validator process cannot see
    a test's transaction), in each duplicate mode (each commit expires the session's objects,
    and each mode reads them back at another step); everything it wrote is deleted afterwards."""
    from sqlmodel import Session, delete

    from crm_app.models import User
    from crm_app.services.importer import run as import_run
    from tests.factories import make_user

    monkeypatch.setattr(import_run, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(import_run, "CHUNK_ROWS", 3)
    content = "Email,Name\n" + "".join(f"p{i}@big.example,P {i}\n" for i in range(8)) + "bad,X\n"
    with Session(engine) as session:
        admin = make_user(session, role="admin", email="big-import-admin@example.com")
        job = importer.start_import(
            session,
            actor=admin,
            entity="contact",
            path=upload(content),
            filename="big.csv",
            mapping={"Email": "email", "Name": "name"},
            on_duplicate=on_duplicate,
            enqueue=False,
        )
        session.commit()
        admin_id, job_id = admin.id, job.id
    try:
        assert importer.run_import(job_id)
        with Session(engine) as session:
            job = session.get(ImportJob, job_id)
            assert (job.status, job.created_count, job.error_count) == ("succeeded", 8, 1)
            names = session.exec(
                select(Contact.last_name).where(Contact.created_by == admin_id)
            ).scalars()
            assert sorted(names) == [str(i) for i in range(8)]
    finally:
        with Session(engine) as session:
            session.exec(delete(ImportJob).where(ImportJob.created_by == admin_id))
            session.exec(delete(Contact).where(Contact.created_by == admin_id))
            session.exec(delete(AuditEvent).where(AuditEvent.actor_id == admin_id))
            session.exec(delete(User).where(User.id == admin_id))
            session.commit()
