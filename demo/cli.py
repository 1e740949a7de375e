"""``flask demo load``: the demo catalog and users (``demo.catalog``); here we only check
the schema, report and commit."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from core.cli import require_schema
from core.db import get_session
from demo.catalog import load_demo
from demo.data import DEMO_PASSWORD, DEMO_USERS

demo_cli = AppGroup("demo", help="Demo data for trying Bazaar out.")


@demo_cli.command("load", help="Load the demo catalog and one demo user per role.")
def demo_load():
    require_schema()
    session = get_session()
    summary = load_demo(session, current_app.config["UPLOAD_FOLDER"], echo=click.echo)
    if summary is None:
        click.echo("The demo data is already loaded (the demo users exist); nothing changed.")
        return
    session.commit()
    click.echo(f"Done: {summary}.")
    click.echo("Sign in as any of these, with the password " + DEMO_PASSWORD + ":")
    for email, role in DEMO_USERS:
        click.echo(f"  {role:<9} {email}")
