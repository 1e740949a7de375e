"""Sessions: what a sign-in cookie is worth after signing out, "sign out of all
devices", and a password change."""

from __future__ import annotations

import re

import pytest

from tests import factories

ACCOUNT_PAGE = "/account"  # the settings page (account deletion is linked from it)


def sign_in(client, user, remember: bool = False):
    data = {"email": user.email, "password": factories.PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/account/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def signed_in(client) -> bool:
    """Whether the client's cookies still open a page only a signed-in person sees."""
    return client.get(ACCOUNT_PAGE).status_code == 200


def remember_cookie(response) -> str:
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    return cookie.split(";", 1)[0].split("=", 1)[1]


def with_only_remember_cookie(app, value: str):
    """A fresh browser holding nothing but a (perhaps stolen) remember-me cookie."""
    thief = app.test_client()
    thief.set_cookie("remember_token", value, domain="bazaar.test")
    return thief


def test_a_remember_me_cookie_stops_working_once_its_owner_signs_out(app, client, db):
    user = factories.make_user(db)
    stolen = remember_cookie(sign_in(client, user, remember=True))
    assert signed_in(with_only_remember_cookie(app, stolen))

    client.post("/account/logout")

    assert not signed_in(with_only_remember_cookie(app, stolen))


def test_the_remember_me_cookie_does_not_carry_the_user_id(client, db):
    user = factories.make_user(db)
    value = remember_cookie(sign_in(client, user, remember=True))
    assert value.split("|", 1)[0] != str(user.id)


def test_signing_in_again_after_signing_out_gives_a_new_cookie(client, db):
    user = factories.make_user(db)
    first = remember_cookie(sign_in(client, user, remember=True))
    client.post("/account/logout")
    second = remember_cookie(sign_in(client, user, remember=True))
    assert first != second


def test_sign_out_of_all_devices_ends_every_session(app, client, db):
    user = factories.make_user(db)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    phone_remember = remember_cookie(sign_in(phone, user, remember=True))
    sign_in(client, user)

    response = client.post("/account/sign-out-everywhere")

    assert response.status_code == 302
    assert "signed out on every device" in client.get(response.location).get_data(as_text=True)
    assert not signed_in(client)
    assert not signed_in(laptop)  # its session cookie is worth nothing now
    assert not signed_in(phone)
    assert not signed_in(with_only_remember_cookie(app, phone_remember))
    # Signing in again works as before.
    sign_in(laptop, user)
    assert signed_in(laptop)


def test_the_account_page_offers_sign_out_of_all_devices(client, db, login):
    login(factories.make_user(db))
    page = client.get(ACCOUNT_PAGE).get_data(as_text=True)
    assert 'action="/account/sign-out-everywhere"' in page
    assert "Sign out of all devices" in page


def test_sign_out_of_all_devices_needs_a_post(client, db, login):
    login(factories.make_user(db))
    assert client.get("/account/sign-out-everywhere").status_code == 405
    assert signed_in(client)


def test_a_password_change_signs_out_the_other_devices(app, client, db):
    user = factories.make_user(db)
    other = app.test_client()
    sign_in(other, user)
    sign_in(client, user)

    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "a-new-long-password",
        "confirm": "a-new-long-password"})

    assert response.status_code == 302
    assert "Your password is changed" in client.get(response.location).get_data(as_text=True)
    assert signed_in(client)  # this device stays signed in
    assert not signed_in(other)
    assert app.test_client().post("/account/login", data={
        "email": user.email, "password": "a-new-long-password"}).status_code == 302
    assert app.test_client().post("/account/login", data={
        "email": user.email, "password": factories.PASSWORD}).status_code == 401


def test_a_password_change_needs_the_current_password(app, client, db, login):
    user = factories.make_user(db)
    other = app.test_client()
    sign_in(other, user)
    login(user)

    response = client.post("/account/password", data={
        "current_password": "not-the-password", "new_password": "a-new-long-password",
        "confirm": "a-new-long-password"})

    assert response.status_code == 400
    assert "That password is not right" in response.get_data(as_text=True)
    assert signed_in(other)
    assert app.test_client().post("/account/login", data={
        "email": user.email, "password": factories.PASSWORD}).status_code == 302


@pytest.mark.parametrize("new_password,confirm,message", [
    ("short", "short", "The password must be at least 10 characters."),
    ("a-new-long-password", "another-long-password", "The passwords do not match."),
    ("", "", "Enter a new password."),
])
def test_a_new_password_that_cannot_be_used_is_refused_with_its_reason(
        app, client, db, login, new_password, confirm, message):
    user = factories.make_user(db)
    login(user)

    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": new_password,
        "confirm": confirm})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    # Nothing changed: the old password still signs in, this device stays signed in.
    assert signed_in(client)
    assert app.test_client().post("/account/login", data={
        "email": user.email, "password": factories.PASSWORD}).status_code == 302


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_sign_out_of_all_devices_without_csrf_token_changes_nothing(self, app, client, db):
        user = factories.make_user(db)
        page = client.get("/account/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/account/login", data={"email": user.email, "password": factories.PASSWORD,
                                            "csrf_token": token})
        assert signed_in(client)

        response = client.post("/account/sign-out-everywhere")

        assert response.status_code == 400
        assert signed_in(client)
