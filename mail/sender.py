"""Sending queued mail: the only module that talks SMTP.

``send_due(app)`` is the one entry point: the in-process sender thread, ``flask
--app app worker`` (the "mail" outbox), ``flask mail send`` and the tests call it.
Each call

1. claims up to a batch of due rows (``core.outbox.claim_rows``: ``FOR UPDATE
   SKIP LOCKED`` on PostgreSQL, a lease in ``locked_until``), so two senders never
   send one row together, and marks them ``sending``;
2. opens one SMTP connection (SMTPS, or STARTTLS, and a login, as configured),
   sends each message and records it at once: ``sent``; ``failed`` when the server
   refuses it for good (5xx) or the attempts run out; else queued again after the
   outbox backoff. An unreachable server only delays mail: every claimed row
   waits for its next attempt, none is lost.

A sender that dies between the server's "250 OK" and the commit leaves the row to
be sent again when its lease runs out; it carries the same Message-ID, which is
how receivers drop the duplicate.

Why smtplib and email.message (the standard library) and not Flask-Mail or
Flask-Mailman: no extra dependency, and full control of what we rely on: the
Message-ID fixed per row, the List-Unsubscribe headers, the timeouts, and
``policy=SMTP``, which refuses to write a header that would start another line.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime

from flask import Flask
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from core.db import utcnow
from core.observability import count_sends
from core.outbox import (
    Backoff,
    OutboxSender,
    claim_rows,
    register_outbox,
    wake_after_commit,
)
from mail.compose import LINE_BREAKS, PENDING_INFO_KEY, MailError
from mail.models import MailMessage, MailStatus

log = logging.getLogger(__name__)

EXTENSION_KEY = "bazaar.mail.sender"
OUTBOX_NAME = "mail"
# The wait after the n-th failed attempt: 30 s x 2^(n-1), +/- 10 %, at most an hour
# (docs/mail.md). A provider's outage of an afternoon delays mail; it loses none.
BACKOFF = Backoff(base=timedelta(seconds=30), cap=timedelta(hours=1))
DEFAULT_BATCH = 20
# A reply code of 5xx is the server refusing the message for good (RFC 5321 4.2.1).
PERMANENT = 500


class SmtpPolicy(EmailPolicy):
    """``email.policy.SMTP`` (CRLF line ends, no header that starts another line),
    except that the one-click unsubscribe headers are written on one line as they
    are: folding a long URL at 78 characters turns it into RFC 2047 encoded words,
    which mail programs do not read as a URL (RFC 2369 section 2, RFC 8058)."""

    def fold_binary(self, name, value):
        text = str(value)
        if name.lower() in UNFOLDED_HEADERS and text.isascii() and len(text) < 990 - len(name) \
                and not LINE_BREAKS.search(text):
            return f"{name}: {text}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


UNFOLDED_HEADERS = {"list-unsubscribe", "list-unsubscribe-post"}
SMTP = SmtpPolicy(linesep="\r\n")


@dataclass
class SendReport:
    """What one ``send_due`` call did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def __str__(self) -> str:
        return (f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"
                + (f", held {self.held}" if self.held else ""))


def due_clauses(now: datetime) -> list:
    """The rows a sender may take now: queued, or left ``sending`` by a sender whose
    lease ran out, and due."""
    return [col(MailMessage.status).in_([MailStatus.QUEUED, MailStatus.SENDING]),
            col(MailMessage.next_attempt_at) <= now,
            or_(col(MailMessage.locked_until).is_(None), col(MailMessage.locked_until) < now)]


def build_message(row: MailMessage, sender: str) -> EmailMessage:
    """The MIME message of ``row``: multipart/alternative, text then HTML (the last
    part is the one mail programs prefer, RFC 2046 5.1.4)."""
    # compose.py already made every header one line; a row written any other way
    # is refused rather than let a line break add a header (or a recipient).
    headers = {"From": sender, "To": row.to_address, "Subject": row.subject,
               "Message-ID": row.message_id, **(row.headers or {})}
    if any(LINE_BREAKS.search(f"{name}{value}") for name, value in headers.items()):
        raise MailError("a header holds a line break: not sent")
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    # When it was composed, so a message sent again is byte-for-byte the same one.
    message["Date"] = format_datetime(row.created_at, usegmt=True)
    message["Message-ID"] = row.message_id
    # Automatic mail (RFC 3834): an out-of-office reply must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


def connect(config) -> smtplib.SMTP:
    """An SMTP connection made as ``MAIL_*`` says: SMTPS or STARTTLS (certificates
    checked), then a login when ``MAIL_USERNAME`` is set. Every socket operation
    waits at most ``MAIL_SEND_TIMEOUT`` seconds."""
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_SEND_TIMEOUT"]
    context = ssl.create_default_context()
    if config["MAIL_USE_SSL"]:
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"]:
            connection.starttls(context=context)
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        connection.close()
        raise
    return connection


def describe_error(error: BaseException, timeout: float) -> str:
    """A short line for the admin saying why a message was not sent; never a password
    (a login error names the settings, not their values)."""
    if isinstance(error, MailError):
        return str(error)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"the SMTP server refused the login ({error.smtp_code}): check MAIL_USERNAME " \
               "and MAIL_PASSWORD"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return f"recipient refused: {code} {_reply(reply)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the SMTP server answered {error.smtp_code} {_reply(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the SMTP server closed the connection"
    if isinstance(error, ssl.SSLError):
        return ("TLS with the SMTP server failed (check MAIL_USE_TLS/MAIL_USE_SSL and its "
                "certificate)")
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"the SMTP server did not answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection to the SMTP server refused"
    if isinstance(error, socket.gaierror):
        return "could not resolve the SMTP server's host name"
    return f"sending failed ({type(error).__name__})"


def _reply(reply) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def _permanent(error: BaseException) -> bool:
    if isinstance(error, MailError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= PERMANENT for code, _ in error.recipients.values())
    return (isinstance(error, smtplib.SMTPResponseException)
            and not isinstance(error, smtplib.SMTPAuthenticationError)
            and error.smtp_code >= PERMANENT)


def _record(session: Session, row: MailMessage, error: BaseException | None, now: datetime,
            max_attempts: int, timeout: float, report: SendReport) -> None:
    row.attempts += 1
    row.locked_until = None
    if error is None:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = \
            MailStatus.SENT, now, None, None
        report.sent += 1
    else:
        row.last_error = describe_error(error, timeout)
        if _permanent(error) or row.attempts >= max_attempts:
            row.status, row.next_attempt_at = MailStatus.FAILED, None
            report.failed += 1
        else:
            row.status, row.next_attempt_at = MailStatus.QUEUED, now + BACKOFF.delay(row.attempts)
            report.retrying += 1
    session.add(row)
    session.commit()
    count_sends(OUTBOX_NAME, sent=int(error is None), failed=int(error is not None))
    # The row and its kind, never the address or a body: logs are not for reading mail.
    log.info("Mail %s (%s): %s", row.id, row.kind, "sent" if error is None else row.last_error)


def hold_queued(session: Session) -> int:
    """With no ``MAIL_SERVER``: mark queued mail held (kept for /admin/mail); commits."""
    waiting = col(MailMessage.status).in_([MailStatus.QUEUED, MailStatus.SENDING])
    # A read first: a worker polls every second, and there is rarely anything to hold
    # (queue_mail holds mail itself when there is no server).
    if session.exec(select(MailMessage.id).where(waiting).limit(1)).first() is None:
        return 0
    held = session.execute(
        update(MailMessage)
        .where(waiting)
        .values(status=MailStatus.HELD, locked_until=None)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return held


def send_due(app: Flask, now: datetime | None = None, limit: int = DEFAULT_BATCH) -> SendReport:
    """Send up to ``limit`` due messages through ``MAIL_SERVER`` (see the module's
    docstring). Safe in several threads and processes at once. Without a
    ``MAIL_SERVER``, queued mail is held instead (never an error). ``now`` (tests)
    fixes the clock for claims and backoff."""
    config = app.config
    report = SendReport()
    with Session(app.extensions["bazaar.engine"], expire_on_commit=False) as session:
        if not config.get("MAIL_SERVER"):
            report.held = hold_queued(session)
            return report
        current = now or utcnow()
        timeout = float(config["MAIL_SEND_TIMEOUT"])
        # Long enough for every message of a batch to take each SMTP step's timeout.
        lease = timedelta(seconds=max(300.0, limit * 4 * timeout))
        ids = claim_rows(session, MailMessage, due_clauses(current),
                         (col(MailMessage.security).desc(), col(MailMessage.next_attempt_at),
                          col(MailMessage.id)), now=current, limit=limit, lease=lease)
        if not ids:
            return report
        session.execute(update(MailMessage).where(col(MailMessage.id).in_(ids))
                        .values(status=MailStatus.SENDING)
                        .execution_options(synchronize_session=False))
        session.commit()
        rows = list(session.exec(select(MailMessage).where(col(MailMessage.id).in_(ids))
                                 .order_by(col(MailMessage.security).desc(), col(MailMessage.id))
                                 .execution_options(populate_existing=True)).all())
        max_attempts = int(config["MAIL_MAX_ATTEMPTS"])
        try:
            connection = connect(config)
        except (OSError, smtplib.SMTPException) as error:
            # The server is away: every claimed message waits for its next attempt.
            for row in rows:
                _record(session, row, error, now or utcnow(), max_attempts, timeout, report)
            return report
        try:
            for index, row in enumerate(rows):
                try:
                    connection.send_message(build_message(row, config["MAIL_FROM"]))
                except (MailError, smtplib.SMTPRecipientsRefused) as error:
                    _record(session, row, error, now or utcnow(), max_attempts, timeout, report)
                except smtplib.SMTPResponseException as error:
                    _record(session, row, error, now or utcnow(), max_attempts, timeout, report)
                    if error.smtp_code == 421:  # the server is closing the connection
                        _give_back(session, rows[index + 1:], error, now, max_attempts,
                                   timeout, report)
                        break
                except (OSError, smtplib.SMTPServerDisconnected) as error:
                    # The connection is gone: this message and the rest wait.
                    _give_back(session, rows[index:], error, now, max_attempts, timeout, report)
                    break
                except Exception as error:  # noqa: BLE001  (one odd message must not
                    # stall the rest, nor sit "sending" for ever: it counts an attempt)
                    _record(session, row, error, now or utcnow(), max_attempts, timeout, report)
                else:
                    _record(session, row, None, now or utcnow(), max_attempts, timeout, report)
        finally:
            _quit(connection)
    return report


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()  # already gone: what was sent is recorded


def _give_back(session, rows, error, now, max_attempts, timeout, report) -> None:
    for row in rows:
        _record(session, row, error, now or utcnow(), max_attempts, timeout, report)


def _send_round(app: Flask) -> int:
    return send_due(app, limit=DEFAULT_BATCH).attempted


wake_after_commit(PENDING_INFO_KEY, EXTENSION_KEY)


def sender_of(app: Flask) -> OutboxSender | None:
    """The app's background mail sender, or None when ``MAIL_SENDER`` is "off"."""
    return app.extensions.get(EXTENSION_KEY)


def init_sender(app: Flask) -> None:
    """Register the "mail" outbox with the worker, ``flask outbox-status`` and
    /metrics, and run a sender in each web process when ``MAIL_SENDER`` is "thread"."""
    register_outbox(app, OUTBOX_NAME, _send_round, batch=DEFAULT_BATCH,
                    queued_at=MailMessage.created_at, due=due_clauses,
                    given_up=lambda: [MailMessage.status == MailStatus.FAILED])
    if app.config["MAIL_SENDER"] != "thread" or not app.config.get("MAIL_SERVER"):
        return  # with no server, queue_mail holds mail itself: nothing to send
    sender = OutboxSender(app, _send_round, name="bazaar-mail-sender", batch=DEFAULT_BATCH)
    app.extensions[EXTENSION_KEY] = sender
    # Started by the first request too, so retries go out from every web process.
    app.before_request(sender.ensure_started)
