"""``flask --app app mail ...``: the mail outbox from a terminal (docs/mail.md)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from core.db import app_session, schema_problem, utcnow
from mail.models import MailMessage
from mail.queries import mail_counts
from mail.sender import DEFAULT_BATCH, SendReport, send_due
from mail.services import NotRetryable, retry_all, retry_message

mail_cli = AppGroup("mail", help="The mail outbox: status, send due mail, retry failed mail.")


def _check_schema() -> None:
    problem = schema_problem()
    if problem:
        raise click.ClickException(problem)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{max(int(seconds), 0)} s"


@mail_cli.command("status", help="Messages queued, held, sending, sent and failed.")
def status_command() -> None:
    _check_schema()
    app = current_app._get_current_object()
    with app_session(app) as session:
        counts = mail_counts(session)
    click.echo(", ".join(f"{status}: {count}" for status, count in counts.by_status.items()))
    if counts.oldest_queued is not None:
        click.echo(f"oldest queued: {_age((utcnow() - counts.oldest_queued).total_seconds())} ago")
    if not app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: mail is held; read it at "
                   f"{app.config['BAZAAR_BASE_URL']}/admin/mail")


@mail_cli.command("send", help="Send every message that is due now.")
def send_command() -> None:
    _check_schema()
    app = current_app._get_current_object()
    total = SendReport()
    while True:
        report = send_due(app, limit=DEFAULT_BATCH)
        for field in ("sent", "retrying", "failed", "held"):
            setattr(total, field, getattr(total, field) + getattr(report, field))
        if report.attempted < DEFAULT_BATCH:
            break
        click.echo(f"… {total.attempted} tried so far ({total})", err=True)
    click.echo(f"Mail: {total}.")
    if not app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: nothing is sent; mail is held at "
                   f"{app.config['BAZAAR_BASE_URL']}/admin/mail")
    if total.retrying and not total.sent:
        click.echo("The SMTP server could not take the mail; it waits and is tried again "
                   "(flask --app app mail status).", err=True)


@mail_cli.command("retry", help="Queue failed mail again: one message by ID, or every failed "
                                "(--failed) or held (--held) message.")
@click.argument("message_id", required=False, type=click.IntRange(min=1))
@click.option("--failed", "every_failed", is_flag=True, help="Every failed message.")
@click.option("--held", "every_held", is_flag=True,
              help="Every held message (after setting MAIL_SERVER).")
def retry_command(message_id: int | None, every_failed: bool, every_held: bool) -> None:
    _check_schema()
    if (message_id is not None) + every_failed + every_held != 1:
        raise click.UsageError("give one message ID, or --failed, or --held")
    with app_session(current_app._get_current_object(), expire_on_commit=False) as session:
        if message_id is None:
            status = "failed" if every_failed else "held"
            count = retry_all(session, status)
            session.commit()
            click.echo(f"Queued again: {count} {status} message{'s' if count != 1 else ''}.")
            return
        message = session.get(MailMessage, message_id)
        if message is None:
            raise click.ClickException(f"no message {message_id}")
        try:
            retry_message(session, message)
        except NotRetryable as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"Queued again: message {message_id} ({message.kind}).")
