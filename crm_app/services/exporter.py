"""CSV export of a list view (contacts, companies, deals): the same search, filters and order
as the list, the columns the user shows (custom fields included), streamed from a server-side
cursor so memory stays flat however many rows there are.

Every cell a spreadsheet would run as a formula (one starting with =, +, -, @, a tab or a
carriage return) gets a leading apostrophe; the importer removes it again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from crm_app.models import Account, Contact, Deal, Stage, User
from crm_app.services import account as account_service
from crm_app.services import audit, custom_field, custom_value, deal_list
from crm_app.services import contact as contact_service
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import ListQuery, parse_sort
from crm_app.services.permission import require

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)
BATCH_ROWS = 2000


def escape_cell(value: str) -> str:
    """The cell as text a spreadsheet shows as it is (never runs as a formula)."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def _joined(column: Any) -> Any:
    """A text[] column as "a, b" (joined by the database: faster than row by row here)."""
    return func.array_to_string(column, ", ")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ExportColumn:
    """One column a list can export: its query name, header and SQL expression."""

    key: str
    label: str
    expr: Any
    show: Callable[[Any], str] = _text


def _owner_email(model: Any):
    """The e-mail of the row's owner (a correlated subquery: the list query has no join)."""
    return select(User.email).where(User.id == model.owner_id).correlate(model).scalar_subquery()


def _contact_columns() -> list[ExportColumn]:
    return [
        ExportColumn("id", "ID", Contact.id),
        ExportColumn("first_name", "First name", Contact.first_name),
        ExportColumn("last_name", "Last name", Contact.last_name),
        ExportColumn("email", "E-mail", Contact.email),
        ExportColumn("phone", "Phone", Contact.phone),
        ExportColumn("title", "Job title", Contact.title),
        ExportColumn("company", "Company", Contact.company_name),
        ExportColumn("owner", "Owner", Contact.owner_name),
        ExportColumn("owner_email", "Owner e-mail", _owner_email(Contact)),
        ExportColumn("lifecycle_stage", "Lifecycle stage", Contact.lifecycle_stage),
        ExportColumn("tags", "Tags", _joined(Contact.tags)),
        ExportColumn("additional_emails", "Other e-mails", _joined(Contact.additional_emails)),
        ExportColumn("additional_phones", "Other phones", _joined(Contact.additional_phones)),
        ExportColumn("created_at", "Created", Contact.created_at),
        ExportColumn("updated_at", "Updated", Contact.updated_at),
    ]


def _account_columns() -> list[ExportColumn]:
    contacts = account_service.live_contacts_count()
    texts = ("industry", "size", "phone", "website", "street", "city", "region", "country")
    return [
        ExportColumn("id", "ID", Account.id),
        ExportColumn("name", "Name", Account.name),
        ExportColumn("domain", "Domain", Account.domain),
        *[ExportColumn(k, k.capitalize(), getattr(Account, k)) for k in texts],
        ExportColumn("postal_code", "Postal code", Account.postal_code),
        ExportColumn("description", "Description", Account.description),
        ExportColumn("owner", "Owner", Account.owner_name),
        ExportColumn("owner_email", "Owner e-mail", _owner_email(Account)),
        ExportColumn("contacts", "Contacts", contacts),
        ExportColumn("tags", "Tags", _joined(Account.tags)),
        ExportColumn("created_at", "Created", Account.created_at),
        ExportColumn("updated_at", "Updated", Account.updated_at),
    ]


def _deal_columns() -> list[ExportColumn]:
    # The deal export starts from the list's joined query: stage, company and owner are there.
    return [
        ExportColumn("id", "ID", Deal.id),
        ExportColumn("name", "Name", Deal.name),
        ExportColumn("company", "Company", deal_list.Company.name),
        ExportColumn("contact", "Primary contact", deal_list.CONTACT_NAME),
        ExportColumn("pipeline", "Pipeline", deal_list.PIPELINE_NAME),
        ExportColumn("stage", "Stage", Stage.name),
        ExportColumn("status", "Status", Stage.kind),
        ExportColumn("amount", "Amount", Deal.amount),
        ExportColumn("currency", "Currency", Deal.currency),
        ExportColumn("probability", "Probability (%)", deal_list.PROBABILITY),
        ExportColumn("weighted", "Weighted amount", func.round(deal_list.WEIGHTED, 2)),
        ExportColumn("recurring_monthly_value", "Monthly recurring", Deal.recurring_monthly_value),
        ExportColumn("expected_close_date", "Expected close", Deal.expected_close_date),
        ExportColumn("owner", "Owner", deal_list.Owner.name),
        ExportColumn("owner_email", "Owner e-mail", deal_list.Owner.email),
        ExportColumn("lost_reason", "Lost reason", Deal.lost_reason),
        ExportColumn("tags", "Tags", _joined(Deal.tags)),
        ExportColumn("closed_at", "Closed", Deal.closed_at),
        ExportColumn("created_at", "Created", Deal.created_at),
        ExportColumn("updated_at", "Updated", Deal.updated_at),
    ]


@dataclass(frozen=True)
class _Entity:
    model: Any
    service: Any
    plural: str
    columns: Callable[[], list[ExportColumn]]
    default: tuple[str, ...]
    # the SELECT of the view (session, actor, listq); default: the service's `list_query`
    query: Callable[..., Any] | None = None


ENTITIES = {
    "contact": _Entity(
        Contact,
        contact_service,
        "contacts",
        _contact_columns,
        (
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "company",
            "owner",
            "lifecycle_stage",
            "tags",
        ),
    ),
    "account": _Entity(
        Account,
        account_service,
        "companies",
        _account_columns,
        (
            "name",
            "domain",
            "industry",
            "size",
            "phone",
            "website",
            "city",
            "country",
            "owner",
            "tags",
        ),
    ),
    "deal": _Entity(
        Deal,
        deal_list,
        "deals",
        _deal_columns,
        (
            "name",
            "company",
            "contact",
            "pipeline",
            "stage",
            "status",
            "amount",
            "currency",
            "probability",
            "weighted",
            "expected_close_date",
            "owner",
            "tags",
        ),
        deal_list.joined_query,
    ),
}


def _entity(entity: str) -> _Entity:
    if entity not in ENTITIES:
        raise ValidationFailed.for_field("entity", "Export contacts, companies or deals.")
    return ENTITIES[entity]


def _choose_columns(
    session: Session, spec: _Entity, entity: str, keys: list[str] | None
) -> list[ExportColumn]:
    """The requested columns in order (default: the list's usual ones and every custom
    field); a 422 naming the unknown ones."""
    available = {c.key: c for c in spec.columns()}
    for definition in custom_field.list_fields(session, entity=entity):
        available[f"custom.{definition.key}"] = ExportColumn(
            f"custom.{definition.key}",
            definition.label,
            spec.model.custom[definition.key],
            lambda raw, d=definition: custom_value.display_value(d, raw),
        )
    if not keys:
        keys = [*spec.default, *(k for k in available if k.startswith("custom."))]
    unknown = [k for k in keys if k not in available]
    if unknown:
        choices = ", ".join(available)
        raise ValidationFailed.for_field(
            "columns", f"Unknown column {', '.join(unknown)}. Use: {choices}."
        )
    return [available[k] for k in dict.fromkeys(keys)]


@dataclass
class CsvExport:
    """A checked export, ready to stream (permissions and parameters already verified)."""

    entity: str
    filename: str
    columns: list[ExportColumn]
    query: Any
    actor_id: int
    filters: dict[str, str]

    def chunks(self, session: Session) -> Iterator[bytes]:
        """The file as UTF-8 byte chunks (a BOM first, for spreadsheet apps); audits the
        export with its row count once every row is sent."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([escape_cell(c.label) for c in self.columns])
        shows = [c.show for c in self.columns]
        count = 0
        result = session.execute(self.query.execution_options(yield_per=BATCH_ROWS))
        for batch in result.partitions():
            writer.writerows(_cells(shows, batch))
            count += len(batch)
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode("utf-8")
        actor = session.get(User, self.actor_id)
        audit.record(
            session,
            actor=actor,
            action="export",
            entity=self.entity,
            changes={
                "rows": count,
                "columns": [c.key for c in self.columns],
                **({"filters": self.filters} if self.filters else {}),
            },
        )


def _cells(shows: list[Callable[[Any], str]], batch: list[Any]) -> list[list[str]]:
    """Rows as escaped text (the inner loop of an export: kept to plain operations)."""
    starts = _FORMULA_STARTS
    out = []
    for row in batch:
        cells = []
        for show, value in zip(shows, row, strict=True):
            text = value if value.__class__ is str and show is _text else show(value)
            cells.append("'" + text if text[:1] in starts else text)
        out.append(cells)
    return out


def prepare_export(
    session: Session,
    *,
    actor: User,
    entity: str,
    listq: ListQuery,
    columns: list[str] | None = None,
) -> CsvExport:
    """Check permission ("export") and parameters, and build the query of the whole view."""
    spec = _entity(entity)
    require(session, actor, entity, "export")
    chosen = _choose_columns(session, spec, entity, columns)
    base = (spec.query or spec.service.list_query)(session, actor, listq)
    keys = parse_sort(listq.sort, spec.service.SORTS, spec.service.DEFAULT_SORT)
    last_desc = keys[-1][1] if keys else False
    order = [c.expr.desc() if d else c.expr.asc() for c, d in [*keys, (spec.service.ID, last_desc)]]
    columns_only = base.with_only_columns(*[c.expr for c in chosen], maintain_column_froms=True)
    query = columns_only.order_by(*order)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d")
    return CsvExport(
        entity=entity,
        filename=f"{spec.plural}-{stamp}.csv",
        columns=chosen,
        query=query,
        actor_id=actor.id or 0,
        filters={k: v for k, v in listq.filters.items() if v} | ({"q": listq.q} if listq.q else {}),
    )
