"""Partner webhooks: signed, versioned events about installs, delivered from an outbox."""

from __future__ import annotations

import os

from flask import Flask

SENDERS = ("thread", "off")


def _bool_setting(name: str, default: bool) -> bool:
    from core.settings import ConfigError

    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def webhook_settings(bazaar_env: str, in_process: bool = False) -> dict:
    """The ``WEBHOOK_*`` settings from the environment (docs/webhooks.md lists them);
    ``in_process``: web processes send too (``BACKGROUND_WORK``), the sender's default."""
    from core.settings import ConfigError, _float_setting, _int_setting

    default = "thread" if in_process else "off"
    sender = os.environ.get("WEBHOOK_SENDER", default).strip().lower() or default
    if sender not in SENDERS:
        raise ConfigError(f"WEBHOOK_SENDER must be one of {', '.join(SENDERS)}, got {sender!r}")
    return {
        # "thread": each web process sends after commits and retries every 30 s;
        # "off": web processes only enqueue (`flask --app app worker` sends).
        "WEBHOOK_SENDER": sender,
        # Seconds one delivery may take in all, connect to last byte (delivery.Deadline).
        "WEBHOOK_TIMEOUT": _float_setting("WEBHOOK_TIMEOUT", 5.0, 0.1, 60.0),
        "WEBHOOK_MAX_ATTEMPTS": _int_setting("WEBHOOK_MAX_ATTEMPTS", 12, 1, 50),
        # Posting to loopback/private/link-local addresses would let a partner
        # reach our internal network; only local and test runs allow it.
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": _bool_setting("WEBHOOK_ALLOW_PRIVATE_HOSTS",
                                                     bazaar_env in {"local", "test"}),
    }


def init_app(app: Flask) -> None:
    """Read the webhook settings (explicit overrides win), the sender, the CLI and the portal pages."""
    from core.settings import sends_in_process
    from webhooks.cli import webhooks_cli
    from webhooks.sender import init_sender
    from webhooks.views import bp

    settings = webhook_settings(app.config.get("BAZAAR_ENV", "production"), sends_in_process(app))
    for name, value in settings.items():
        app.config.setdefault(name, value)
    if app.config["WEBHOOK_SENDER"] not in SENDERS:
        from core.settings import ConfigError

        raise ConfigError(f"WEBHOOK_SENDER must be one of {', '.join(SENDERS)}")
    init_sender(app)
    app.cli.add_command(webhooks_cli)
    app.register_blueprint(bp)
