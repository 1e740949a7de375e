"""Register, sign in, sign out: CSRF, rate limits, the per-account lockout, safe redirects,
one answer for bad credentials and for a taken address."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from accounts.models import LoginFailure, Role, User
from core.db import utcnow
from tests import factories

REGISTERED = "Thanks! If this email address is new to Bazaar, your account is ready"


def register(client, email: str, password: str = "long-enough-pw", name: str = "Ada", path=""):
    return client.post(f"/account/register{path}", data={
        "display_name": name, "email": email, "password": password, "confirm": password})


def test_register_creates_a_customer_who_then_signs_in(client, db):
    response = register(client, "Ada@Example.com")
    assert response.status_code == 302 and "/account/login" in response.location
    assert REGISTERED in client.get(response.location).get_data(as_text=True)
    user = db.exec(select(User).where(User.email == "ada@example.com")).one()
    assert user.role == Role.CUSTOMER
    assert user.password_hash.startswith("$argon2")
    assert client.post("/account/login", data={"email": "ada@example.com",
                                               "password": "long-enough-pw"}).status_code == 302
    assert "Ada" in client.get("/").get_data(as_text=True)


def test_register_rejects_bad_input_and_writes_nothing(client, db):
    response = client.post("/account/register", data={
        "display_name": "", "email": "not-an-email", "password": "short", "confirm": "other"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter an email address in the correct format, like name@example.com." in page
    assert "The password must be at least 10 characters." in page
    assert db.exec(select(func.count()).select_from(User)).one() == 0


def test_register_answers_alike_for_a_new_and_a_taken_address(app, db):
    owner = factories.make_user(db, email="taken@example.com")
    new_client, taken_client = app.test_client(), app.test_client()

    new = register(new_client, "new@example.com", path="?next=/categories")
    taken = register(taken_client, "TAKEN@example.com", password="someone-elses-pw", name="X",
                     path="?next=/categories")

    assert new.status_code == taken.status_code == 302
    assert new.location == taken.location
    new_page = new_client.get(new.location).get_data(as_text=True)
    taken_page = taken_client.get(taken.location).get_data(as_text=True)
    assert REGISTERED in new_page
    assert taken_page == new_page
    assert "already exists" not in taken_page
    # Nobody is signed in by registering, so signed-in pages can't tell them apart either.
    assert new_client.get("/account/delete").status_code == 302
    assert taken_client.get("/account/delete").status_code == 302
    # The existing account is untouched: no second row, the owner's password still works.
    assert db.exec(select(func.count()).select_from(User)
                   .where(User.email == "taken@example.com")).one() == 1
    assert app.test_client().post("/account/login", data={
        "email": owner.email, "password": factories.PASSWORD}).status_code == 302
    assert app.test_client().post("/account/login", data={
        "email": owner.email, "password": "someone-elses-pw"}).status_code == 401


def test_same_answer_for_unknown_email_and_wrong_password(client, db):
    user = factories.make_user(db)
    wrong = client.post("/account/login", data={"email": user.email, "password": "nope-nope-nope"})
    unknown = client.post("/account/login", data={"email": "nobody@example.com", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


@pytest.mark.parametrize("target,expected", [
    ("/categories", "/categories"),
    ("https://evil.example.com/", "/"),
    ("//evil.example.com/", "/"),
    ("/\\evil.example.com", "/"),
])
def test_next_only_redirects_locally(client, db, target, expected):
    user = factories.make_user(db)
    response = client.post(f"/account/login?next={target}",
                           data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.location.endswith(expected)
    assert "evil" not in response.location


def test_logout_needs_post(client, db, login):
    login(factories.make_user(db))
    assert client.get("/account/logout").status_code == 405
    assert client.post("/account/logout").status_code == 302


def test_session_cookie_is_hardened(client, db):
    user = factories.make_user(db)
    response = client.post("/account/login", data={"email": user.email, "password": factories.PASSWORD,
                                                   "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember


# --- failed sign-ins counted per account ---------------------------------------------------


LOCKED = "Too many failed sign-ins for this email address"


def attempt(app, email: str, password: str):
    """One sign-in from a fresh browser (as from another machine)."""
    return app.test_client().post("/account/login", data={"email": email, "password": password})


class TestLockout:
    @pytest.fixture
    def app_overrides(self):
        return {"LOGIN_LOCKOUT_MAX_FAILURES": 3, "LOGIN_LOCKOUT_MINUTES": 15}

    def test_after_the_failures_even_the_right_password_is_refused(self, app, db):
        user = factories.make_user(db)
        statuses = [attempt(app, user.email, f"wrong-{n}").status_code for n in range(3)]
        assert statuses[:2] == [401, 401]

        right = attempt(app, user.email, factories.PASSWORD)

        assert right.status_code == 429
        assert LOCKED in right.get_data(as_text=True)
        assert "15 minutes" in right.get_data(as_text=True)
        assert attempt(app, user.email.upper(), factories.PASSWORD).status_code == 429
        # Other accounts are not affected.
        other = factories.make_user(db)
        assert attempt(app, other.email, factories.PASSWORD).status_code == 302

    def test_an_unknown_address_locks_exactly_like_an_account(self, app, db):
        user = factories.make_user(db)
        known = [attempt(app, user.email, "wrong-password") for _ in range(4)]
        unknown = [attempt(app, "nobody@example.com", "wrong-password") for _ in range(4)]
        assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 429, 429]
        for ours, theirs in zip(known, unknown):
            assert ours.get_data(as_text=True).replace(user.email, "nobody@example.com") == \
                theirs.get_data(as_text=True)

    def test_the_lock_ends_when_the_failures_are_older_than_the_window(self, app, db):
        user = factories.make_user(db)
        for _ in range(3):
            attempt(app, user.email, "wrong-password")
        assert attempt(app, user.email, factories.PASSWORD).status_code == 429

        db.execute(update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=16)))
        db.commit()

        assert attempt(app, user.email, factories.PASSWORD).status_code == 302

    def test_signing_in_clears_earlier_failures(self, app, db):
        user = factories.make_user(db)
        for _ in range(2):
            attempt(app, user.email, "wrong-password")
        assert attempt(app, user.email, factories.PASSWORD).status_code == 302
        for _ in range(2):
            attempt(app, user.email, "wrong-password")
        assert attempt(app, user.email, factories.PASSWORD).status_code == 302

    def test_the_typed_address_is_not_stored(self, app, db):
        attempt(app, "Someone@Example.com", "wrong-password")
        stored = db.exec(select(LoginFailure)).one()
        assert "someone@example.com" not in str(stored.model_dump()).lower()


class TestWithCsrfAndLimits:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
                "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_post_without_csrf_token_is_refused(self, client, db):
        user = factories.make_user(db)
        response = client.post("/account/login", data={"email": user.email,
                                                       "password": factories.PASSWORD})
        assert response.status_code == 400
        assert "form expired" in response.get_data(as_text=True)

    def test_sign_in_is_rate_limited(self, client, db):
        statuses = [client.post("/account/login", data={"email": "a@b.c", "password": "x"}).status_code
                    for _ in range(4)]
        assert statuses[-1] == 429
        assert "Too many attempts" in client.post("/account/login").get_data(as_text=True)
