"""Contacts keep their company's and owner's names, companies their owner's name.

Lists sort by these names through an index instead of joining and sorting the whole table,
and a contact's search vector covers its company, so "acme" finds the people at Acme. Row
triggers keep the copies current on every path that writes (the ORM, COPY in imports and the
scale seed, referential actions): a contact gets the names when its company or owner is set,
and renaming a company or a user rewrites the copies.

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "e5f6a7b8c9d0"
down_revision: str | None = "d4e5f6a7b8c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
NAME = sa.String(length=200)

CONTACT_TERMS = (
    "coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '')"
    " || ' ' || coalesce(split_part(email, '@', 2), '')"
    " || ' ' || coalesce(replace(replace(email, '@', ' '), '.', ' '), '')"
    " || ' ' || coalesce(phone, '') || ' ' || coalesce(regexp_replace(phone, '\\D', '', 'g'), '')"
    " || ' ' || coalesce(title, '')"
)

FUNCTIONS = """
CREATE FUNCTION crm_copy_company_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.company_name := (SELECT name FROM accounts WHERE id = NEW.account_id);
    RETURN NEW;
END $$;

CREATE FUNCTION crm_copy_owner_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.owner_name := (SELECT name FROM users WHERE id = NEW.owner_id);
    RETURN NEW;
END $$;

CREATE FUNCTION crm_company_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts SET company_name = NEW.name WHERE account_id = NEW.id;
    RETURN NULL;
END $$;

CREATE FUNCTION crm_user_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts SET owner_name = NEW.name WHERE owner_id = NEW.id;
    UPDATE accounts SET owner_name = NEW.name WHERE owner_id = NEW.id;
    RETURN NULL;
END $$;
"""


def _copy_triggers(table: str, column: str, function: str) -> str:
    """On insert with the link set, and on an update that changes the link, copy the name."""
    return f"""
CREATE TRIGGER {table}_{column}_on_insert BEFORE INSERT ON {table} FOR EACH ROW
    WHEN (NEW.{column} IS NOT NULL) EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_{column}_on_update BEFORE UPDATE OF {column} ON {table} FOR EACH ROW
    WHEN (NEW.{column} IS DISTINCT FROM OLD.{column}) EXECUTE FUNCTION {function}();
"""


TRIGGERS = (
    _copy_triggers("contacts", "account_id", "crm_copy_company_name")
    + _copy_triggers("contacts", "owner_id", "crm_copy_owner_name")
    + _copy_triggers("accounts", "owner_id", "crm_copy_owner_name")
    + """
CREATE TRIGGER accounts_renamed AFTER UPDATE OF name ON accounts FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION crm_company_renamed();
CREATE TRIGGER users_renamed AFTER UPDATE OF name ON users FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION crm_user_renamed();
"""
)

BACKFILL = """
UPDATE contacts c SET company_name = a.name FROM accounts a WHERE a.id = c.account_id;
UPDATE contacts c SET owner_name = u.name FROM users u WHERE u.id = c.owner_id;
UPDATE accounts a SET owner_name = u.name FROM users u WHERE u.id = a.owner_id;
"""


def _search_vector(terms: str) -> sa.Column:
    return sa.Column(
        "search_vector",
        postgresql.TSVECTOR(),
        sa.Computed(f"to_tsvector('simple'::regconfig, {terms})", persisted=True),
        nullable=True,
    )


def _replace_contact_search_vector(terms: str) -> None:
    op.drop_index("ix_contacts_search_vector", table_name="contacts", postgresql_using="gin")
    op.drop_column("contacts", "search_vector")
    op.add_column("contacts", _search_vector(terms))
    op.create_index(
        "ix_contacts_search_vector", "contacts", ["search_vector"], postgresql_using="gin"
    )


def upgrade() -> None:
    op.add_column("contacts", sa.Column("company_name", NAME, nullable=True))
    op.add_column("contacts", sa.Column("owner_name", NAME, nullable=True))
    op.add_column("accounts", sa.Column("owner_name", NAME, nullable=True))
    op.execute(BACKFILL)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    _replace_contact_search_vector(CONTACT_TERMS + " || ' ' || coalesce(company_name, '')")
    for table, column in (
        ("contacts", "company_name"),
        ("contacts", "owner_name"),
        ("accounts", "owner_name"),
    ):
        op.create_index(f"ix_{table}_live_{column}", table, [column, "id"], postgresql_where=LIVE)


def downgrade() -> None:
    for table, column in (
        ("accounts", "owner_name"),
        ("contacts", "owner_name"),
        ("contacts", "company_name"),
    ):
        op.drop_index(f"ix_{table}_live_{column}", table_name=table, postgresql_where=LIVE)
    _replace_contact_search_vector(CONTACT_TERMS)
    op.execute(
        """
DROP TRIGGER users_renamed ON users;
DROP TRIGGER accounts_renamed ON accounts;
DROP TRIGGER accounts_owner_id_on_update ON accounts;
DROP TRIGGER accounts_owner_id_on_insert ON accounts;
DROP TRIGGER contacts_owner_id_on_update ON contacts;
DROP TRIGGER contacts_owner_id_on_insert ON contacts;
DROP TRIGGER contacts_account_id_on_update ON contacts;
DROP TRIGGER contacts_account_id_on_insert ON contacts;
DROP FUNCTION crm_user_renamed();
DROP FUNCTION crm_company_renamed();
DROP FUNCTION crm_copy_owner_name();
DROP FUNCTION crm_copy_company_name();
"""
    )
    op.drop_column("accounts", "owner_name")
    op.drop_column("contacts", "owner_name")
    op.drop_column("contacts", "company_name")
