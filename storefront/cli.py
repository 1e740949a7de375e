"""Storefront commands: the database schema and the trial clock."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from storefront import db
from storefront.services import settle_trials


class MomentType(click.ParamType):
    """An ISO 8601 time such as ``2027-01-31`` or ``2027-01-31T02:00:00Z`` (UTC if no zone)."""

    name = "time"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not a time; use ISO 8601 such as 2027-01-31 or "
                      "2027-01-31T02:00:00Z.", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def require_schema() -> None:
    """Stop the command (exit 1, saying why) unless the database is migrated to head."""
    problem = db.schema_problem()
    if problem:
        click.echo(problem, err=True)
        raise click.exceptions.Exit(1)


db_cli = AppGroup("db", help="Database schema commands.")
installs_cli = AppGroup("installs", help="Installs and trials.")


@db_cli.command("upgrade", help="Apply the Alembic migrations up to the newest.")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str):
    db.upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at revision {revision}.")


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
