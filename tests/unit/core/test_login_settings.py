"""The sign-in limit settings: published defaults, and a bad value stops start-up
with one line naming the setting (never echoing a storage password)."""

from __future__ import annotations

import pytest

from core.settings import ConfigError, load_config

SETTINGS = ("LOGIN_RATE_LIMIT", "RATELIMIT_STORAGE_URI", "LOGIN_LOCKOUT_MAX_FAILURES",
            "LOGIN_LOCKOUT_MINUTES")


@pytest.fixture
def environ(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_the_documented_ones(environ, tmp_path):
    config = load_config(tmp_path)
    assert config["LOGIN_RATE_LIMIT"] == "10 per minute;50 per hour"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert (config["LOGIN_LOCKOUT_MAX_FAILURES"], config["LOGIN_LOCKOUT_MINUTES"]) == (10, 15)


def test_a_redis_storage_is_taken_as_given(environ, tmp_path):
    environ.setenv("RATELIMIT_STORAGE_URI", "redis://:s3cret@cache.internal:6379/2")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://:s3cret@cache.internal:6379/2"


@pytest.mark.parametrize("name,raw,words", [
    ("LOGIN_LOCKOUT_MAX_FAILURES", "0", "between 3 and 100"),
    ("LOGIN_LOCKOUT_MAX_FAILURES", "1000", "between 3 and 100"),
    ("LOGIN_LOCKOUT_MAX_FAILURES", "ten", "whole number"),
    ("LOGIN_LOCKOUT_MINUTES", "0", "between 1 and 1440"),
    ("LOGIN_RATE_LIMIT", "lots", "limits like"),
    ("RATELIMIT_STORAGE_URI", "localhost:6379", "must start with one of"),
    ("RATELIMIT_STORAGE_URI", "redis:s3cret@cache:6379", "must start with one of"),
    ("RATELIMIT_STORAGE_URI", "mongodb://user:s3cret@db/limits", "must start with one of"),
])
def test_a_bad_value_is_refused_naming_the_setting(environ, tmp_path, name, raw, words):
    environ.setenv(name, raw)
    with pytest.raises(ConfigError, match=name) as caught:
        load_config(tmp_path)
    assert words in str(caught.value)
    assert "s3cret" not in str(caught.value)
