"""Console sessions against an injected clock: idle and absolute timeouts, rotation at sign-in, sign-out,
password changes, CSRF tokens and the same refusal for a wrong email and a wrong password. SQLite only:
the domain logic is the same on both backends, which tests/integration/test_console_signin.py covers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from vault.config import Settings
from vault.db import make_engine, migrate, session_scope
from vault.errors import Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized
from vault.models import ConsoleSession, LedgerEntry
from vault.orgs import signin
from vault.orgs.organizations import Principal, Role, create_organization
from vault.orgs.staff import add_staff, set_staff_active

EMAIL = "pm@agency.example"
PASSWORD = "paper-lamp-orbit-71"
ORIGIN = signin.RequestOrigin(address="192.0.2.7", user_agent="pytest")
POLICY = signin.SessionPolicy(idle=timedelta(hours=8), absolute=timedelta(days=7))


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 3, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    engine: Engine
    clock: FakeClock
    admin: Principal
    limits: signin.SignInLimits

    def sign_in(
        self, email: str = EMAIL, password: str = PASSWORD, replacing: str | None = None
    ) -> signin.IssuedSession:
        with Session(self.engine) as session:
            identity = signin.check_credentials(
                session, email=email, password=password, origin=ORIGIN, limits=self.limits
            )
        with session_scope(self.engine) as session:
            return signin.start_session(
                session, identity=identity, origin=ORIGIN, policy=POLICY, replacing=replacing, clock=self.clock
            )

    def resolve(self, secret: str) -> signin.LiveSession:
        with Session(self.engine) as session:
            return signin.resolve_session(session, secret, policy=POLICY, clock=self.clock)

    def touch(self, live: signin.LiveSession) -> None:
        with session_scope(self.engine) as session:
            signin.touch_session(session, live.session_id, clock=self.clock)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(home=tmp_path, signin_rate_limit_account_failures=3, signin_rate_limit_address_failures=5)
    engine = make_engine(settings)
    migrate(engine)
    clock = FakeClock()
    with session_scope(engine) as session:
        org = create_organization(session, name="Agency", slug="agency", is_default=True, clock=clock)
        admin = Principal(org.id, Role.ADMIN, "test:admin")
        add_staff(session, admin, email=EMAIL, name="PM", role="member", clock=clock)
        signin.set_password(session, admin, email=EMAIL, password=PASSWORD, clock=clock)
    yield World(engine, clock, admin, signin.SignInLimits.from_settings(settings, clock=clock))
    engine.dispose()


def test_sign_in_gives_a_256_bit_secret_stored_only_hashed(world: World) -> None:
    issued = world.sign_in()
    assert len(issued.secret) >= 43 and issued.identity.role is Role.MEMBER
    assert issued.expires_at == world.clock.now + timedelta(days=7)
    with Session(world.engine) as session:
        row = session.exec(select(ConsoleSession)).one()
    assert row.token_hash == signin.hash_secret(issued.secret) and issued.secret not in row.token_hash
    assert world.resolve(issued.secret).identity.email == EMAIL


def test_idle_timeout_counts_from_the_last_recorded_activity(world: World) -> None:
    issued = world.sign_in()
    world.clock.advance(hours=7, minutes=59)
    live = world.resolve(issued.secret)
    assert live.stale
    world.touch(live)
    world.clock.advance(hours=7, minutes=59)
    world.resolve(issued.secret)  # 7 h 59 min after the touch: still alive
    world.clock.advance(minutes=1)
    with pytest.raises(Unauthorized, match="your session has ended"):
        world.resolve(issued.secret)


def test_absolute_timeout_ends_even_an_active_session(world: World) -> None:
    issued = world.sign_in()
    for _ in range(7 * 24 // 6 - 1):
        world.clock.advance(hours=6)
        world.touch(world.resolve(issued.secret))
    world.clock.advance(hours=5, minutes=59)
    world.resolve(issued.secret)
    world.clock.advance(minutes=1)
    with pytest.raises(Unauthorized, match="your session has ended"):
        world.resolve(issued.secret)


def test_touch_is_only_asked_for_after_a_minute(world: World) -> None:
    issued = world.sign_in()
    world.clock.advance(seconds=59)
    assert not world.resolve(issued.secret).stale
    world.clock.advance(seconds=1)
    assert world.resolve(issued.secret).stale


def test_sign_in_rotates_and_sign_out_ends(world: World) -> None:
    first = world.sign_in()
    second = world.sign_in(replacing=first.secret)
    assert second.secret != first.secret and second.csrf_token != first.csrf_token
    with pytest.raises(Unauthorized):
        world.resolve(first.secret)
    with session_scope(world.engine) as session:
        assert signin.end_session(session, second.secret, origin=ORIGIN, clock=world.clock)
    with session_scope(world.engine) as session:
        assert not signin.end_session(session, second.secret, origin=ORIGIN, clock=world.clock)
    with pytest.raises(Unauthorized):
        world.resolve(second.secret)
    with Session(world.engine) as session:
        rows = session.exec(select(LedgerEntry).order_by(col(LedgerEntry.idx))).all()
    assert [e.entry_type for e in rows][-3:] == ["staff.signed_in", "staff.signed_in", "staff.signed_out"]
    signed_in, signed_out = json.loads(rows[-2].body), json.loads(rows[-1].body)
    assert signed_in["actor"] == f"staff:{EMAIL}" and signed_in["time"] == "2026-12-03T09:00:00.000000Z"
    assert signed_in["data"]["address"] == "192.0.2.7" and signed_in["data"]["user_agent"] == "pytest"
    assert signed_in["data"]["session"] == signed_out["data"]["session"] != json.loads(rows[-3].body)["data"]["session"]
    assert json.loads(rows[-2].body)["data"]["replaced"] == json.loads(rows[-3].body)["data"]["session"]


def test_the_email_matches_whatever_its_case(world: World) -> None:
    assert world.sign_in("PM@Agency.Example").identity.email == EMAIL
    with Session(world.engine) as session:
        assert signin.identity_for_verified_email(session, " Pm@agency.example ").email == EMAIL


def test_wrong_email_and_wrong_password_are_the_same_refusal(world: World) -> None:
    answers = []
    attempts = [(EMAIL, "not-the-password-1"), ("nobody@agency.example", PASSWORD), ("not an email", PASSWORD)]
    for email, password in attempts:
        with pytest.raises(Unauthorized) as caught:
            world.sign_in(email, password)
        answers.append((type(caught.value), caught.value.message, caught.value.details))
    assert len(set(map(repr, answers))) == 1


def test_failures_per_account_are_limited_then_age_out(world: World) -> None:
    for _ in range(3):
        with pytest.raises(Unauthorized):
            world.sign_in(password="not-the-password-1")
    with pytest.raises(RateLimited) as caught:
        world.sign_in()  # even the right password: the account is locked for the window
    assert caught.value.details["retry_after"] == 900
    world.clock.advance(seconds=900)
    assert world.sign_in().identity.email == EMAIL


def test_password_change_ends_open_sessions_and_deactivation_kills_them(world: World) -> None:
    issued = world.sign_in()
    with session_scope(world.engine) as session:
        signin.set_password(session, world.admin, email=EMAIL, password="a-new-long-phrase-9", clock=world.clock)
    with pytest.raises(Unauthorized):
        world.resolve(issued.secret)
    with pytest.raises(Unauthorized):
        world.sign_in()
    fresh = world.sign_in(password="a-new-long-phrase-9")
    with session_scope(world.engine) as session:
        set_staff_active(session, world.admin, fresh.identity.staff_id, active=False, clock=world.clock)
    with pytest.raises(Unauthorized):
        world.resolve(fresh.secret)
    with pytest.raises(Unauthorized, match="email address or the password is not right"):
        world.sign_in(password="a-new-long-phrase-9")


def test_set_password_checks_role_member_and_policy(world: World) -> None:
    viewer = Principal(world.admin.organization_id, Role.VIEWER, "test:viewer")
    with session_scope(world.engine) as session, pytest.raises(Forbidden):
        signin.set_password(session, viewer, email=EMAIL, password="a-new-long-phrase-9")
    with session_scope(world.engine) as session, pytest.raises(NotFound, match="not a staff member"):
        signin.set_password(session, world.admin, email="nobody@agency.example", password="a-new-long-phrase-9")
    with session_scope(world.engine) as session, pytest.raises(InvalidInput, match="at least 12"):
        signin.set_password(session, world.admin, email=EMAIL, password="short")


def test_csrf_token_is_checked_in_constant_time_and_tied_to_the_session(world: World) -> None:
    issued = world.sign_in()
    signin.check_csrf(issued.csrf_token, issued.csrf_token)
    assert world.resolve(issued.secret).csrf_token == issued.csrf_token
    for presented in [None, "", issued.csrf_token[:-1] + "0", signin.csrf_token_for("another secret")]:
        if presented == issued.csrf_token:
            continue
        with pytest.raises(Forbidden, match="security token"):
            signin.check_csrf(issued.csrf_token, presented)


def test_unknown_and_oversized_secrets_are_ended_sessions(world: World) -> None:
    for secret in ["", "x" * 500, "not-a-session"]:
        with pytest.raises(Unauthorized):
            world.resolve(secret)
