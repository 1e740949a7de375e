"""Commands and option types of the infrastructure: ``flask db upgrade``, the
``MomentType`` time option and the schema check every data command makes first."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from core import db


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


@db_cli.command("upgrade", help="Apply the Alembic migrations up to the newest.")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str):
    db.upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at revision {revision}.")
