"""Register, sign in, sign out: CSRF, rate limits, safe redirects, one answer for bad credentials."""

import pytest
from sqlmodel import func, select

from storefront.models import Role, User
from tests import factories


def test_register_creates_customer_and_signs_in(client, db):
    response = client.post("/account/register", data={
        "display_name": "Ada", "email": "Ada@Example.com", "password": "long-enough-pw",
        "confirm": "long-enough-pw"})
    assert response.status_code == 302
    user = db.exec(select(User).where(User.email == "ada@example.com")).one()
    assert user.role == Role.CUSTOMER
    assert user.password_hash.startswith("$argon2")
    assert "Ada" in client.get("/").get_data(as_text=True)


def test_register_rejects_bad_input_and_writes_nothing(client, db):
    response = client.post("/account/register", data={
        "display_name": "", "email": "not-an-email", "password": "short", "confirm": "other"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Invalid email address" in page
    assert "Use 10 to 200 characters." in page
    assert db.exec(select(func.count()).select_from(User)).one() == 0


def test_register_duplicate_email(client, db):
    factories.make_user(db, email="taken@example.com")
    response = client.post("/account/register", data={
        "display_name": "X", "email": "TAKEN@example.com", "password": "long-enough-pw",
        "confirm": "long-enough-pw"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


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
