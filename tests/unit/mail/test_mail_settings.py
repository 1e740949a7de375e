"""The mail settings (core/settings.py): what an operator sees when one is wrong."""

from __future__ import annotations

import pytest

from core.settings import ConfigError, load_config

PRODUCTION = {"BAZAAR_ENV": "production", "SECRET_KEY": "p" * 40}


def test_without_a_mail_server_mail_is_held_and_links_point_at_the_local_server(tmp_path):
    config = load_config(tmp_path, {"BAZAAR_ENV": "test"})
    assert config["MAIL_SERVER"] is None
    assert config["BAZAAR_BASE_URL"] == "http://127.0.0.1:5000"
    assert config["MAIL_FROM"] == "Bazaar <no-reply@localhost>"


def test_the_port_follows_the_kind_of_encryption(tmp_path):
    base = {"BAZAAR_ENV": "test", "MAIL_SERVER": "smtp.example.com"}
    assert load_config(tmp_path, base)["MAIL_PORT"] == 25
    assert load_config(tmp_path, {**base, "MAIL_USE_TLS": "true"})["MAIL_PORT"] == 587
    assert load_config(tmp_path, {**base, "MAIL_USE_SSL": "true"})["MAIL_PORT"] == 465
    assert load_config(tmp_path, {**base, "MAIL_PORT": "2525"})["MAIL_PORT"] == 2525


def test_starttls_and_ssl_together_stop_start_up(tmp_path):
    with pytest.raises(ConfigError, match=r"^MAIL_USE_TLS and MAIL_USE_SSL"):
        load_config(tmp_path, {"BAZAAR_ENV": "test", "MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"})


def test_a_password_without_a_user_name_stops_start_up_without_echoing_it(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {"BAZAAR_ENV": "test", "MAIL_PASSWORD": "s3cret-pass"})
    assert str(caught.value).startswith("MAIL_PASSWORD")
    assert "s3cret" not in str(caught.value)


def test_production_mail_needs_the_public_address_for_its_links(tmp_path):
    with pytest.raises(ConfigError, match=r"^BAZAAR_BASE_URL must be set"):
        load_config(tmp_path, {**PRODUCTION, "MAIL_SERVER": "smtp.example.com"})
    config = load_config(tmp_path, {**PRODUCTION, "MAIL_SERVER": "smtp.example.com",
                                    "BAZAAR_BASE_URL": "https://bazaar.example.com/"})
    assert config["BAZAAR_BASE_URL"] == "https://bazaar.example.com"


def test_a_plain_sender_address_is_accepted(tmp_path):
    config = load_config(tmp_path, {"BAZAAR_ENV": "test", "MAIL_FROM": "shop@example.com"})
    assert config["MAIL_FROM"] == "shop@example.com"
