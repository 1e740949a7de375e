"""The prune rules' settings: defaults, configuration and environment, and the
start-up check that refuses a negative or absurd value, naming the setting."""

from __future__ import annotations

import pytest

from app import create_app
from core.settings import ConfigError, load_config
from listings.prune import prune_settings
from listings.prune_rules import PruneSettings, load_prune_settings, rule_texts


def config_from(tmp_path, environ=None, overrides=None) -> dict:
    """The app's config (core/settings.py) from this environment and these overrides."""
    return load_config(tmp_path, {"BAZAAR_ENV": "test", **(environ or {})}, overrides)


def test_defaults_are_the_published_numbers(tmp_path):
    settings = load_prune_settings(config_from(tmp_path))

    assert settings == PruneSettings()
    assert (settings.no_release_days, settings.min_active_installs, settings.few_installs_days,
            settings.few_installs_min_age_days, settings.certification_max_age_days,
            settings.webhook_failing_days, settings.never_installed_days) == \
        (540, 3, 90, 180, 365, 7, 180)
    assert (settings.grace_days, settings.archive_after_days) == (30, 90)
    assert len(settings.enabled_rules) == 5


def test_configuration_wins_over_the_environment(tmp_path):
    settings = load_prune_settings(config_from(
        tmp_path, {"PRUNE_GRACE_DAYS": "21", "PRUNE_BATCH_SIZE": "50"}, {"PRUNE_GRACE_DAYS": 14}))

    assert settings.grace_days == 14
    assert settings.batch_size == 50


@pytest.mark.parametrize("name, raw, words", [
    ("PRUNE_GRACE_DAYS", "-1", "between 1 and 365"),
    ("PRUNE_NO_RELEASE_DAYS", "99999", "between 30 and 3650"),
    ("PRUNE_MIN_ACTIVE_INSTALLS", "0", "between 1 and"),
    ("PRUNE_WEBHOOK_FAILING_DAYS", "a week", "whole number"),
    ("PRUNE_BATCH_SIZE", "2.5", "whole number"),
])
def test_a_bad_value_is_refused_naming_the_setting(tmp_path, name, raw, words):
    with pytest.raises(ConfigError, match=name) as caught:
        config_from(tmp_path, {name: raw})
    assert words in str(caught.value)


def test_switching_off_an_unknown_rule_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="PRUNE_RULES_OFF names unknown rules: no_such_rule"):
        config_from(tmp_path, {"PRUNE_RULES_OFF": "webhook_failing, no_such_rule"})
    settings = load_prune_settings(config_from(tmp_path, {"PRUNE_RULES_OFF": "webhook_failing"}))
    assert "webhook_failing" not in settings.enabled_rules


def make_app(tmp_path, **overrides):
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'bazaar.db'}",
                       "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off", **overrides})


def test_the_app_refuses_to_start_with_a_negative_grace_period(tmp_path):
    with pytest.raises(ConfigError, match="PRUNE_GRACE_DAYS must be between 1 and 365"):
        make_app(tmp_path, PRUNE_GRACE_DAYS=-1)


def test_the_app_refuses_a_bad_setting_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_GRACE_DAYS", "-1")
    with pytest.raises(ConfigError, match="PRUNE_GRACE_DAYS"):
        make_app(tmp_path)


def test_the_app_keeps_the_settings_it_started_with(tmp_path):
    app = make_app(tmp_path, PRUNE_GRACE_DAYS="14", PRUNE_RULES_OFF="never_installed")
    try:
        settings = prune_settings(app)
        assert settings.grace_days == 14
        assert [str(rule) for rule in settings.enabled_rules] == [
            "no_recent_release", "few_active_installs", "certification_expired",
            "webhook_failing"]
    finally:
        app.extensions["bazaar.engine"].dispose()


def test_the_rule_texts_carry_the_configured_numbers():
    texts = rule_texts(PruneSettings(no_release_days=400, min_active_installs=5))

    statements = " ".join(text.statement for text in texts.values())
    assert "400 days" in statements and "Fewer than 5 active installs" in statements
    assert all(text.fix for text in texts.values())


def test_the_command_line_names_the_bad_setting_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PRUNE_ARCHIVE_AFTER_DAYS": "100000",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bazaar.db'}"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "listings", "prune",
                             "--dry-run"], cwd=Path(__file__).resolve().parents[3], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Bazaar cannot start: PRUNE_ARCHIVE_AFTER_DAYS must be between 1 and 3650" in result.stderr
    assert "Traceback" not in result.stderr
