"""Single sign-on against a local OpenID provider: who signs in, and every check that refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from crm_app.models import AuditEvent, AuthToken, OidcLogin, UserIdentity
from crm_app.models.base import utcnow
from crm_app.services import auth, invitation, oidc
from crm_app.services.errors import Forbidden, NotFound, ValidationFailed
from crm_app.settings import get_settings
from tests import oidc_provider
from tests.factories import PASSWORD
from tests.oidc_provider import Misbehaviour, ProviderUser, authorize

local_provider, sso = oidc_provider.local_provider, oidc_provider.sso  # the fixtures


def round_trip(db, *, next_path: str | None = None) -> oidc.SsoOutcome:
    """Start a sign-in, let the provider approve it, and finish it in the same browser."""
    started = oidc.begin(db, next_path=next_path)
    answer = authorize(started.url)
    return oidc.finish(db, state=answer["state"], code=answer["code"], browser_state=started.state)


def invite_ivy(db, people):
    return invitation.invite_user(
        db, actor=people.alice, email="ivy@example.com", name="Ivy Invited", role="rep"
    ).user


def link(db, user, provider, subject: str) -> UserIdentity:
    identity = UserIdentity(user_id=user.id, issuer=provider.issuer, subject=subject)
    db.add(identity)
    db.flush()
    return identity


def refusals(db) -> list[dict]:
    return [
        e.changes
        for e in db.exec(select(AuditEvent).where(AuditEvent.action == "sign_in_refused")).all()
    ]


def test_an_invited_user_is_linked_on_first_sign_in_and_signed_in(db, people, sso):
    ivy = invite_ivy(db, people)
    outcome = round_trip(db, next_path="/deals")
    assert outcome.error is None
    assert outcome.user.id == ivy.id and outcome.next_path == "/deals"
    assert auth.authenticate(db, outcome.session_token).id == ivy.id
    identity = db.exec(select(UserIdentity).where(UserIdentity.user_id == ivy.id)).one()
    assert (identity.issuer, identity.subject, identity.email) == (
        sso.issuer,
        "subject-1",
        "ivy@example.com",
    )
    invite = db.exec(select(AuthToken).where(AuthToken.user_id == ivy.id)).one()
    assert invite.used_at is not None
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.entity_id == ivy.id)).all()
    assert "sso_linked" in actions and "sign_in" in actions


def test_the_identity_is_found_by_subject_even_when_the_email_changed(db, people, sso):
    link(db, people.bob, sso, "bob-at-provider")
    sso.user = ProviderUser(sub="bob-at-provider", email="robert@elsewhere.example")
    outcome = round_trip(db)
    assert outcome.error is None and outcome.user.id == people.bob.id


def test_an_email_alone_never_signs_in_a_linked_user(db, people, sso):
    link(db, people.bob, sso, "bob-at-provider")
    sso.user = ProviderUser(sub="someone-else", email="bob@example.com")
    outcome = round_trip(db)
    assert outcome.error.reason == "no_account"
    assert outcome.error.message == "No account for this sign-in; ask an admin for an invitation."


def test_an_invitation_links_once(db, people, sso):
    ivy = invite_ivy(db, people)
    assert round_trip(db).user.id == ivy.id
    sso.user = ProviderUser(sub="another-subject", email="ivy@example.com")
    assert round_trip(db).error.reason == "no_account"
    assert len(db.exec(select(UserIdentity).where(UserIdentity.user_id == ivy.id)).all()) == 1


def test_an_unknown_email_is_refused(db, people, sso):
    sso.user = ProviderUser(sub="stranger", email="stranger@example.com")
    outcome = round_trip(db)
    assert outcome.error.reason == "no_account" and outcome.session_token is None
    assert refusals(db)[-1]["reason"] == "no_account"


def test_a_user_who_was_not_invited_is_not_linked_by_email(db, people, sso):
    sso.user = ProviderUser(sub="bob-guess", email="bob@example.com")
    assert round_trip(db).error.reason == "no_account"
    assert db.exec(select(UserIdentity)).all() == []


def test_an_unverified_email_is_not_linked(db, people, sso):
    invite_ivy(db, people)
    sso.user = ProviderUser(sub="ivy", email="ivy@example.com", email_verified=False)
    assert round_trip(db).error.reason == "no_account"
    sso.user = ProviderUser(sub="ivy", email="ivy@example.com", email_verified=None)
    assert round_trip(db).error.reason == "no_account"


def test_an_expired_invitation_is_not_linked(db, people, sso):
    ivy = invite_ivy(db, people)
    db.exec(
        update(AuthToken)
        .where(AuthToken.user_id == ivy.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    assert round_trip(db).error.reason == "no_account"


def test_a_deactivated_user_is_refused(db, people, sso):
    link(db, people.bob, sso, "bob-at-provider")
    people.bob.is_active = False
    db.add(people.bob)
    db.flush()
    sso.user = ProviderUser(sub="bob-at-provider", email="bob@example.com")
    outcome = round_trip(db)
    assert outcome.error.reason == "deactivated" and outcome.session_token is None


@pytest.mark.parametrize(
    "misbehaviour",
    [
        Misbehaviour(issuer="https://evil.example"),
        Misbehaviour(audience="another-client"),
        Misbehaviour(audience=["another-client", "crm-test"]),  # several audiences, no azp
        Misbehaviour(audience=["another-client", "crm-test"], azp="another-client"),
        Misbehaviour(alg="none"),
        Misbehaviour(alg="HS256"),
        Misbehaviour(nonce="not-the-nonce-we-sent"),
        Misbehaviour(expired=True),
        Misbehaviour(foreign_key=True),
    ],
    ids=[
        "wrong issuer",
        "wrong audience",
        "several audiences without azp",
        "azp of another client",
        "alg none",
        "alg HS256",
        "bad nonce",
        "expired",
        "signed by another key",
    ],
)
def test_an_id_token_failing_a_check_is_refused(db, people, sso, misbehaviour):
    link(db, people.bob, sso, "subject-1")
    sso.misbehave = misbehaviour
    outcome = round_trip(db)
    assert outcome.error is not None and outcome.error.reason == "invalid"
    assert outcome.session_token is None
    assert refusals(db)[-1] == {"reason": "invalid", "method": "sso", "issuer": None}


def test_several_audiences_are_accepted_when_we_are_the_authorized_party(db, people, sso):
    link(db, people.bob, sso, "subject-1")
    sso.misbehave = Misbehaviour(audience=["crm-test", "another-client"], azp="crm-test")
    assert round_trip(db).user.id == people.bob.id


def test_a_state_from_another_browser_is_refused(db, people, sso):
    link(db, people.bob, sso, "subject-1")
    started = oidc.begin(db, next_path=None)
    answer = authorize(started.url)
    other = oidc.begin(db, next_path=None)
    outcome = oidc.finish(db, state=answer["state"], code=answer["code"], browser_state=other.state)
    assert outcome.error.reason == "expired"
    missing = oidc.finish(db, state=answer["state"], code=answer["code"], browser_state=None)
    assert missing.error.reason == "expired"


def test_a_replayed_state_is_refused(db, people, sso):
    link(db, people.bob, sso, "subject-1")
    started = oidc.begin(db, next_path=None)
    answer = authorize(started.url)
    first = oidc.finish(db, state=answer["state"], code=answer["code"], browser_state=started.state)
    assert first.error is None
    again = oidc.finish(db, state=answer["state"], code=answer["code"], browser_state=started.state)
    assert again.error.reason == "expired"


def test_a_sign_in_left_too_long_expires(db, people, sso):
    link(db, people.bob, sso, "subject-1")
    started = oidc.begin(db, next_path=None)
    answer = authorize(started.url)
    db.exec(update(OidcLogin).values(expires_at=utcnow() - timedelta(seconds=1)))
    outcome = oidc.finish(
        db, state=answer["state"], code=answer["code"], browser_state=started.state
    )
    assert outcome.error.reason == "expired"


def test_the_provider_saying_no_is_reported(db, people, sso):
    started = oidc.begin(db, next_path=None)
    outcome = oidc.finish(
        db,
        state=started.state,
        code=None,
        browser_state=started.state,
        provider_error="access_denied",
    )
    assert outcome.error.reason == "denied"


def test_the_discovery_document_is_fetched_once_and_kept(db, people, sso):
    link(db, people.bob, sso, "subject-1")
    before = sso.discovery_requests
    assert round_trip(db).user.id == people.bob.id
    assert round_trip(db).user.id == people.bob.id
    assert sso.discovery_requests == before + 1


def test_an_unreachable_provider_is_reported(db, people, sso, monkeypatch):
    monkeypatch.setattr(get_settings(), "oidc_discovery_url", "http://127.0.0.1:9")
    with pytest.raises(oidc.SsoRefused) as refused:
        oidc.begin(db, next_path=None)
    assert refused.value.reason == "unavailable"


def test_without_configuration_single_sign_on_is_off(db, people, monkeypatch):
    monkeypatch.setattr(get_settings(), "oidc_discovery_url", "")
    assert not oidc.is_configured()
    with pytest.raises(oidc.SsoRefused) as refused:
        oidc.begin(db, next_path=None)
    assert refused.value.reason == "not_configured"


def test_next_is_kept_only_when_it_is_a_path_of_this_site(db, people, sso):
    link(db, people.bob, sso, "subject-1")
    assert round_trip(db, next_path="https://evil.example/").next_path == "/"
    assert round_trip(db, next_path="/\\evil.example").next_path == "/"


# -- require single sign-on ----------------------------------------------------------------


def require_sso(db, people, sso) -> None:
    link(db, people.alice, sso, "alice-at-provider")
    oidc.set_sso_required(db, actor=people.alice, required=True)


def test_requiring_sso_refuses_password_sign_in_and_reset(db, people, sso):
    require_sso(db, people, sso)
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    assert outcome.handoff_code is None
    assert (
        outcome.error.message
        == "This workspace signs in with single sign-on: use “Sign in with Local SSO”."
    )
    with pytest.raises(ValidationFailed, match="single sign-on"):
        invitation.request_password_reset(db, email="bob@example.com")
    sso.user = ProviderUser(sub="alice-at-provider", email="alice@example.com")
    assert round_trip(db).user.id == people.alice.id


def test_a_reset_link_issued_before_sso_was_required_no_longer_works(db, people, sso, caplog):
    invitation.request_password_reset(db, email="bob@example.com")
    token = caplog.records[-1].getMessage().rsplit("/", 1)[1]
    require_sso(db, people, sso)
    with pytest.raises(ValidationFailed, match="single sign-on"):
        invitation.set_password_with_token(
            db, token=token, purpose=invitation.RESET, password="a new long passphrase"
        )


def test_an_invitee_cannot_set_a_password_while_sso_is_required_but_can_use_sso(db, people, sso):
    link_url = invitation.invite_user(
        db, actor=people.alice, email="ivy@example.com", name="Ivy Invited", role="rep"
    ).url
    require_sso(db, people, sso)
    with pytest.raises(ValidationFailed, match="single sign-on"):
        invitation.set_password_with_token(
            db,
            token=link_url.rsplit("/", 1)[1],
            purpose=invitation.INVITE,
            password="a new long passphrase",
        )
    assert round_trip(db).user.email == "ivy@example.com"


def test_turning_sso_off_gives_passwords_back(db, people, sso):
    require_sso(db, people, sso)
    oidc.set_sso_required(db, actor=people.alice, required=False)
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).handoff_code


def test_requiring_sso_is_refused_when_it_is_not_configured(db, people, monkeypatch):
    monkeypatch.setattr(get_settings(), "oidc_client_id", "")
    with pytest.raises(ValidationFailed, match="not configured"):
        oidc.set_sso_required(db, actor=people.alice, required=True)


def test_an_admin_must_have_signed_in_with_sso_before_requiring_it(db, people, sso):
    with pytest.raises(ValidationFailed, match="Connect single sign-on to your own account first"):
        oidc.set_sso_required(db, actor=people.alice, required=True)
    assert not oidc.sso_required(db)


def test_only_admins_require_sso(db, people, sso):
    link(db, people.mona, sso, "mona")
    with pytest.raises(Forbidden):
        oidc.set_sso_required(db, actor=people.mona, required=True)


def test_the_requirement_lapses_when_sso_is_unconfigured(db, people, sso, monkeypatch):
    require_sso(db, people, sso)
    monkeypatch.setattr(get_settings(), "oidc_discovery_url", "")
    assert not oidc.sso_required(db)
    assert auth.sign_in(db, email="bob@example.com", password=PASSWORD).handoff_code


# -- connecting a provider account from one's profile --------------------------------------


def connect_trip(db, user, *, signed_in=None) -> oidc.SsoOutcome:
    """Bob (say) presses Connect on his profile, the provider approves, and the callback
    arrives in the browser signed in as `signed_in` (by default the same user)."""
    started = oidc.begin(db, next_path="/deals", connect=user)
    answer = authorize(started.url)
    return oidc.finish(
        db,
        state=answer["state"],
        code=answer["code"],
        browser_state=started.state,
        signed_in=user if signed_in is None else signed_in,
    )


def test_a_signed_in_user_connects_their_provider_account_whatever_its_email(db, people, sso):
    sso.user = ProviderUser(sub="bob-at-provider", email="robert@elsewhere.example")
    outcome = connect_trip(db, people.bob)
    assert outcome.error is None and outcome.connecting
    assert outcome.session_token is None  # no new session: Bob is signed in already
    assert outcome.next_path == "/settings/profile?sso=connected"
    [identity] = oidc.connected_identities(db, actor=people.bob)
    assert (identity.issuer, identity.subject, identity.email) == (
        sso.issuer,
        "bob-at-provider",
        "robert@elsewhere.example",
    )
    # From now on the provider signs Bob in.
    signed_in = round_trip(db)
    assert signed_in.error is None and signed_in.user.id == people.bob.id


def test_connecting_again_keeps_one_connection(db, people, sso):
    sso.user = ProviderUser(sub="bob-at-provider", email="bob@example.com")
    connect_trip(db, people.bob)
    assert connect_trip(db, people.bob).error is None
    assert len(oidc.connected_identities(db, actor=people.bob)) == 1


def test_an_account_connected_to_someone_else_is_refused(db, people, sso):
    link(db, people.alice, sso, "shared-subject")
    sso.user = ProviderUser(sub="shared-subject", email="alice@example.com")
    outcome = connect_trip(db, people.bob)
    assert outcome.connecting and outcome.error.reason == "taken"
    assert outcome.error.message == (
        "That account at the sign-in provider is already connected to another user."
    )
    assert oidc.connected_identities(db, actor=people.bob) == []


def test_the_callback_must_arrive_signed_in_as_the_user_who_started(db, people, sso):
    # Another person's session in that browser (or none) cannot take Bob's connection, nor
    # be given one.
    for someone in (people.alice, None):
        started = oidc.begin(db, next_path=None, connect=people.bob)
        answer = authorize(started.url)
        outcome = oidc.finish(
            db,
            state=answer["state"],
            code=answer["code"],
            browser_state=started.state,
            signed_in=someone,
        )
        assert outcome.connecting and outcome.error.reason == "not_signed_in"
    assert db.exec(select(UserIdentity)).all() == []


def test_one_disconnects_only_ones_own_connections(db, people, sso):
    bobs = link(db, people.bob, sso, "bob-at-provider")
    alices = link(db, people.alice, sso, "alice-at-provider")
    for not_bobs in (alices.id, 0, -1, 2**63):
        with pytest.raises(NotFound):
            oidc.disconnect(db, actor=people.bob, identity_id=not_bobs)
    oidc.disconnect(db, actor=people.bob, identity_id=bobs.id)
    assert oidc.connected_identities(db, actor=people.bob) == []
    assert [i.id for i in oidc.connected_identities(db, actor=people.alice)] == [alices.id]
    audit_row = db.exec(select(AuditEvent).where(AuditEvent.action == "sso_unlinked")).one()
    assert audit_row.entity_id == people.bob.id
    sso.user = ProviderUser(sub="bob-at-provider", email="bob@example.com")
    assert round_trip(db).error.reason == "no_account"


def test_the_last_connection_stays_while_sso_is_required(db, people, sso):
    require_sso(db, people, sso)
    [alices] = oidc.connected_identities(db, actor=people.alice)
    with pytest.raises(ValidationFailed, match="keep this account connected"):
        oidc.disconnect(db, actor=people.alice, identity_id=alices.id)
    second = link(db, people.alice, sso, "alice-second-account")
    oidc.disconnect(db, actor=people.alice, identity_id=second.id)
    assert len(oidc.connected_identities(db, actor=people.alice)) == 1


def test_the_security_page_names_the_people_without_a_connection(db, people, sso):
    link(db, people.alice, sso, "alice-at-provider")
    people.mona.is_active = False
    db.add(people.mona)
    db.flush()
    shown = oidc.security_settings(db, actor=people.alice)
    assert people.alice.name not in shown.not_connected
    assert people.bob.name in shown.not_connected and people.mona.name not in shown.not_connected
    assert shown.not_connected_count == len(shown.not_connected)


def test_someone_without_a_password_keeps_their_only_connection(db, people, sso):
    ivy = invite_ivy(db, people)
    round_trip(db)  # Ivy joins through single sign-on and never sets a password
    [identity] = oidc.connected_identities(db, actor=ivy)
    with pytest.raises(ValidationFailed, match="You have no password"):
        oidc.disconnect(db, actor=ivy, identity_id=identity.id)
    assert len(oidc.connected_identities(db, actor=ivy)) == 1
