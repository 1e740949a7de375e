"""Storefront commands: the trial clock."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from core import db
from core.cli import MomentType
from installs.trials import settle_trials

installs_cli = AppGroup("installs", help="Installs and trials.")


@installs_cli.command("trials", help="Send reminders for trials ending within 3 days and "
                      "end the trials that are over. Run it hourly or nightly.")
@click.option("--now", type=MomentType(), default=None,
              help="Act as if it were this time (ISO 8601, UTC), for catching up and tests.")
def trials(now: datetime | None):
    session = db.get_session()
    sweep = settle_trials(session, now=now)
    session.commit()
    click.echo(f"Trials: {sweep.reminded} reminded, {sweep.converted} converted, "
               f"{sweep.expired} expired.")
