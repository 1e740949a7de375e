"""The Bazaar application factory. It only assembles: each package registers
itself through ``init_app(app)``."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import accounts
import api
import billing
import core
import demo
import installs
import listings
import mail
import search
import storefront
import webhooks
from core.settings import ConfigError, load_config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(Path(__file__).resolve().parent / "instance"),
        template_folder="templates",
        static_folder="static",
    )
    # Overrides (tests) go through the same parsers as the environment.
    app.config.update(load_config(Path(app.instance_path), overrides=overrides))
    core.init_app(app)
    mail.init_app(app)  # before the packages that queue mail
    accounts.init_app(app)
    listings.init_app(app)
    search.init_app(app)
    installs.init_app(app)
    api.init_app(app)
    webhooks.init_app(app)
    billing.init_app(app)
    storefront.init_app(app)  # the pages on top of them all
    demo.init_app(app)  # `flask demo load`: sample data, outside the domain packages
    return app


def _app_or_exit() -> Flask:
    # A bad setting stops `flask`, gunicorn and the scripts with its name and
    # what is allowed, not with a traceback into the app's internals.
    try:
        return create_app()
    except ConfigError as error:
        raise SystemExit(f"Bazaar cannot start: {error}") from None


app = _app_or_exit()
