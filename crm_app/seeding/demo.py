"""The demo workspace created on first start: a small team with a few realistic records."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from crm_app.auth.passwords import hash_password
from crm_app.models import Account, Activity, Contact, Deal, Lead, Stage, Team, User
from crm_app.models.base import utcnow
from crm_app.seeding.defaults import ensure_defaults
from crm_app.settings import get_settings

DEMO_ADMIN_EMAIL = "admin@demo.example"
_HINT_FILE = "demo-admin.txt"

_PEOPLE = [
    # (name, e-mail, role, team index or None)
    ("Morgan Manager", "manager@demo.example", "manager", 0),
    ("Riley Rep", "riley@demo.example", "rep", 0),
    ("Sam Rep", "sam@demo.example", "rep", 0),
    ("Taylor Rep", "taylor@demo.example", "rep", 1),
    ("Val Viewer", "viewer@demo.example", "viewer", None),
]

_COMPANIES = [
    ("Acme Corporation", "acme.com", "Manufacturing", "201-500", "Chicago", "US"),
    ("Globex", "globex.com", "Energy", "1000+", "Springfield", "US"),
    ("Initech", "initech.com", "Software", "51-200", "Austin", "US"),
    ("Umbrella Health", "umbrella-health.com", "Healthcare", "1000+", "Raccoon City", "US"),
    ("Stark Logistics", "starklogistics.io", "Logistics", "201-500", "Rotterdam", "NL"),
    ("Wayne Foods", "waynefoods.co", "Food & Beverage", "51-200", "Lyon", "FR"),
]

_CONTACTS = [
    ("Ada", "Lovelace", "VP Engineering", 0),
    ("Grace", "Hopper", "CTO", 0),
    ("Alan", "Turing", "Head of Research", 1),
    ("Katherine", "Johnson", "Operations Lead", 1),
    ("Linus", "Pauling", "Procurement Manager", 2),
    ("Marie", "Curie", "CEO", 3),
    ("Nikola", "Tesla", "VP Operations", 4),
    ("Rosalind", "Franklin", "Buyer", 5),
    ("Edsger", "Dijkstra", "IT Director", 2),
    ("Barbara", "Liskov", "COO", 4),
]

_LEADS = [
    ("Jamie", "Doe", "jamie@brightside.io", "Brightside", "Head of Sales", "Website", "new"),
    (
        "Chris",
        "Park",
        "chris@northwind.com",
        "Northwind Traders",
        "VP Sales",
        "Referral",
        "contacted",
    ),
    ("Lee", "Moss", "lee@contoso.com", "Contoso", "Office Manager", "Event", "qualified"),
    ("Pat", "Quinn", "pat@fabrikam.com", "Fabrikam", "Founder", "Web form", "new"),
]

_DEALS = [
    # (name, company index, contact index, stage name, amount, mrr, days to close)
    ("Acme — factory rollout", 0, 0, "Proposal", "48000.00", None, 30),
    ("Globex — energy analytics", 1, 2, "Discovery", "120000.00", None, 60),
    ("Initech — support plan", 2, 4, "Won", "12000.00", "1000.00", -10),
    ("Umbrella — pilot", 3, 5, "Qualification", "8000.00", None, 45),
    ("Stark — fleet tracking", 4, 6, "Negotiation", "64000.00", None, 14),
    ("Wayne — subscription", 5, 7, "Lost", "9000.00", None, -20),
]


def workspace_is_empty(session: Session) -> bool:
    """True before anyone has an account: the first start of a new install."""
    return session.exec(select(func.count()).select_from(User)).one() == 0


def demo_admin_hint() -> str | None:
    """Where the demo admin's first password was written, for later starts."""
    path = get_settings().data_dir / _HINT_FILE
    if path.exists():
        return f"Demo admin: {DEMO_ADMIN_EMAIL} (first password saved in {path})"
    return None


def seed_demo(session: Session) -> tuple[str, str]:
    """Create the demo team and records; returns the admin's e-mail and a fresh password."""
    ensure_defaults(session)
    password = secrets.token_urlsafe(12)
    admin = session.exec(select(User).where(User.email == DEMO_ADMIN_EMAIL)).first()
    if admin is not None:
        admin.password_hash = hash_password(password)
        admin.is_active = True
        session.add(admin)
        _remember(password)
        return DEMO_ADMIN_EMAIL, password

    admin = User(
        email=DEMO_ADMIN_EMAIL,
        name="Alex Admin",
        role="admin",
        password_hash=hash_password(password),
    )
    session.add(admin)
    session.flush()
    teams = [
        Team(name="Sales East", created_by=admin.id),
        Team(name="Sales West", created_by=admin.id),
    ]
    session.add_all(teams)
    session.flush()
    # Other demo people get unusable passwords: the admin resets or re-invites them.
    people = []
    for name, email, role, team in _PEOPLE:
        person = User(
            email=email,
            name=name,
            role=role,
            team_id=teams[team].id if team is not None else None,
            password_hash=hash_password(secrets.token_urlsafe(24)),
        )
        session.add(person)
        people.append(person)
    session.flush()
    teams[0].manager_id = people[0].id
    admin.team_id = teams[0].id
    owners = [people[1], people[2], people[3]]
    _seed_records(session, admin, owners)
    _remember(password)
    return DEMO_ADMIN_EMAIL, password


def _seed_records(session: Session, admin: User, owners: list[User]) -> None:
    accounts = []
    for i, (name, domain, industry, size, city, country) in enumerate(_COMPANIES):
        account = Account(
            name=name,
            domain=domain,
            industry=industry,
            size=size,
            city=city,
            country=country,
            website=f"https://{domain}",
            owner_id=owners[i % len(owners)].id,
            created_by=admin.id,
        )
        accounts.append(account)
    session.add_all(accounts)
    session.flush()
    contacts = []
    for i, (first, last, title, company) in enumerate(_CONTACTS):
        domain = _COMPANIES[company][1]
        contact = Contact(
            first_name=first,
            last_name=last,
            title=title,
            email=f"{first.lower()}.{last.lower()}@{domain}",
            phone=f"+1415555{1000 + i:04d}",
            account_id=accounts[company].id,
            owner_id=accounts[company].owner_id,
            created_by=admin.id,
            lifecycle_stage="customer" if i % 3 == 0 else "lead",
        )
        contacts.append(contact)
    session.add_all(contacts)
    for i, (first, last, email, company, title, source, status) in enumerate(_LEADS):
        session.add(
            Lead(
                first_name=first,
                last_name=last,
                email=email,
                company_name=company,
                title=title,
                source=source,
                status=status,
                score=20 + 15 * i,
                owner_id=owners[i % len(owners)].id,
                created_by=admin.id,
            )
        )
    session.flush()
    stages = {s.name: s for s in session.exec(select(Stage)).all()}
    today = utcnow().date()
    now = utcnow()
    for i, (name, company, contact, stage_name, amount, mrr, days) in enumerate(_DEALS):
        stage = stages[stage_name]
        closed = now + timedelta(days=days) if stage.kind != "open" else None
        session.add(
            Deal(
                name=name,
                account_id=accounts[company].id,
                primary_contact_id=contacts[contact].id,
                pipeline_id=stage.pipeline_id,
                stage_id=stage.id,
                amount=Decimal(amount),
                recurring_monthly_value=Decimal(mrr) if mrr else None,
                expected_close_date=today + timedelta(days=days),
                probability=stage.probability,
                owner_id=accounts[company].owner_id,
                position=Decimal(i),
                stage_entered_at=now,
                closed_at=closed,
                won_at=closed if stage.kind == "won" else None,
                lost_reason="Price" if stage.kind == "lost" else None,
                created_by=admin.id,
            )
        )
    for i, contact in enumerate(contacts[:5]):
        session.add(
            Activity(
                kind="task",
                subject=f"Follow up with {contact.first_name}",
                due_at=now + timedelta(days=i - 1),
                owner_id=contact.owner_id,
                contact_id=contact.id,
                created_by=admin.id,
            )
        )
    session.flush()


def _remember(password: str) -> None:
    path = get_settings().data_dir / _HINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{DEMO_ADMIN_EMAIL}\n{password}\n")
    path.chmod(0o600)
