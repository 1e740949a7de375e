"""Storefront commands: the database schema and the trial clock."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask

from storefront import db


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


def register_cli(app: Flask) -> None:
    @app.cli.group("db", help="Database schema commands.")
    def db_group():
        pass

    @db_group.command("upgrade", help="Apply the Alembic migrations up to the newest.")
    @click.option("--revision", default="head", show_default=True)
    def upgrade(revision: str):
        db.upgrade_database(app.config["DATABASE_URL"], revision)
        click.echo(f"Database is at revision {revision}.")

    @app.cli.group("installs", help="Installs and trials.")
    def installs_group():
        pass

    @installs_group.command("trials", help="Send reminders for trials ending within 3 days and "
                            "end the trials that are over. Run it hourly or nightly.")
    @click.option("--now", type=MomentType(), default=None,
                  help="Act as if it were this time (ISO 8601, UTC), for catching up and tests.")
    def trials(now: datetime | None):
        from storefront.services import settle_trials

        session = db.get_session()
        sweep = settle_trials(session, now=now)
        session.commit()
        click.echo(f"Trials: {sweep.reminded} reminded, {sweep.converted} converted, "
                   f"{sweep.expired} expired.")
