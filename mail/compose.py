"""Composing mail: render a message from ``templates/mail/`` and queue it in the
caller's transaction. Nothing here talks SMTP (that is mail/sender.py), and
nothing commits: the message goes out only if the change that caused it does.

    from mail.compose import absolute_url, queue_mail

    queue_mail(session, to=user.email, to_name=user.display_name, kind="trial_ending",
               template="notice", user_id=user.id, key=f"trial-ending:{install.id}",
               unsubscribe_url=..., context={"subject": "Your trial ends in 3 days",
               "paragraphs": [...], "action_text": "Manage your apps",
               "action_url": absolute_url("installs.my_apps")})

Each template is a pair, ``templates/mail/<name>.txt`` and ``<name>.html``, that
extend ``mail/base.txt`` and ``mail/base.html``; the subject is the ``subject``
block of the ``.txt`` one. Templates get ``absolute_url(endpoint, **values)``,
which builds links from ``BAZAAR_BASE_URL`` (no request is needed: jobs and the
CLI queue mail too).
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from core.db import APP_INFO_KEY, utcnow
from mail.models import MailMessage, MailStatus
from mail.preferences import opted_out, unsubscribe_token

# Set on the session when a queued message waits for the commit; the sender is
# woken after it (mail/sender.py).
PENDING_INFO_KEY = "bazaar.mail.pending"
KIND = re.compile(r"[a-z][a-z0-9_]{0,59}")
MAX_KEY_LENGTH = 200
MAX_SUBJECT_LENGTH = 200
# Anything that would end a header line, and the other controls no header needs.
LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class MailError(ValueError):
    """A message that cannot be queued: a bad address, kind, key or header."""


def one_line(text: str) -> str:
    """``text`` with every line break and control character turned into one space:
    what may go into a header built from user input (a name, a listing's title)."""
    return " ".join(LINE_BREAKS.sub(" ", str(text)).split())


def check_address(address: str) -> str:
    """``address`` if it is one plain ``name@domain`` address; else ``MailError``.
    A line break is refused, never cleaned: an address with one is an injection
    attempt, and mailing "what is left" could reach someone else."""
    value = str(address).strip()
    parsed = parseaddr(value)[1]
    local, at, domain = value.rpartition("@")
    if (LINE_BREAKS.search(value) or parsed != value or not at or not local or not domain
            or any(c.isspace() or c in "<>,;\"()[]\\" for c in value) or len(value) > 254):
        raise MailError(f"not a single email address: {value[:80]!r}")
    return value


def absolute_url(endpoint: str, **values) -> str:
    """The full URL of ``endpoint`` under ``BAZAAR_BASE_URL``, without a request
    (mail is queued by jobs and commands too). ``_anchor`` adds a ``#fragment``."""
    base = urlsplit(current_app.config["BAZAAR_BASE_URL"])
    anchor = values.pop("_anchor", None)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    url = adapter.build(endpoint, {k: v for k, v in values.items() if v is not None},
                        force_external=True)
    return f"{url}#{anchor}" if anchor else url


def with_app_context(function):
    """For a function of ``(session, ...)`` that queues mail: templates and absolute
    links need the app, and jobs and tests call services outside a request, so it
    runs in the app context of its session's app (``core.db.APP_INFO_KEY``) when no
    app context is active."""

    @functools.wraps(function)
    def run(session, *args, **kwargs):
        app = session.info.get(APP_INFO_KEY)
        if has_app_context() or app is None:
            return function(session, *args, **kwargs)
        with app.app_context():
            return function(session, *args, **kwargs)

    return run


def _message_id(key: str) -> str:
    """A Message-ID fixed by the idempotency key: the same message, however often it
    is sent. The domain is the sender's, as RFC 5322 section 3.6.4 suggests."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render_mail(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) of ``templates/mail/<template>.txt`` and ``.html``."""
    env = current_app.jinja_env
    context = {**context, "absolute_url": absolute_url,
               "base_url": current_app.config["BAZAAR_BASE_URL"]}
    text_template = env.get_template(f"mail/{template}.txt")
    if "subject" not in text_template.blocks:
        raise MailError(f"templates/mail/{template}.txt has no {{% block subject %}}")
    subject = one_line("".join(text_template.blocks["subject"](
        text_template.new_context(context))))
    if len(subject) > MAX_SUBJECT_LENGTH:
        subject = subject[:MAX_SUBJECT_LENGTH - 1].rstrip() + "…"
    context["subject"] = subject
    text = _tidy_text(text_template.render(context))
    html = env.get_template(f"mail/{template}.html").render(context)
    return subject, text, html


def _insert_once(session: Session, values: dict) -> None:
    """INSERT the row unless its idempotency key is taken (ON CONFLICT DO NOTHING),
    so two transactions queuing one key at once leave one row and no error."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(MailMessage).values(**values)
                    .on_conflict_do_nothing(index_elements=["idempotency_key"]))


SUPPRESSED_KEY = "bazaar.mail.suppressed"


@contextmanager
def mail_suppressed(session: Session) -> Iterator[None]:
    """Within this block ``queue_mail`` on ``session`` queues nothing: for writing
    made-up or imported history (the demo catalog), whose people must not be mailed."""
    session.info[SUPPRESSED_KEY] = True
    try:
        yield
    finally:
        session.info.pop(SUPPRESSED_KEY, None)


def queue_mail(session: Session, *, to: str, kind: str, template: str, context: dict | None = None,
               key: str | None = None, user_id: int | None = None, security: bool = False,
               unsubscribe_url: str | None = None,
               to_name: str | None = None) -> MailMessage | None:
    """Render ``templates/mail/<template>.{txt,html}`` and queue it for ``to`` in the
    caller's transaction (never commits, never talks SMTP); returns the row.

    ``key`` makes the message happen once: queuing an existing key returns the row
    already there (unchanged, whatever its state). Without one every call is a new
    message. ``kind`` names the sort of mail (``password_reset``, ``trial_ending``);
    ``security`` marks mail nobody may turn off, which is sent first.
    ``unsubscribe_url`` adds the one-click ``List-Unsubscribe`` headers (RFC 8058);
    it must work by a POST without signing in. Mail to a person (``user_id``) that
    is not ``security`` gets one by default, for that person and ``kind``
    (/account/notifications/unsubscribe/<signed token>), and is not queued at all,
    returning None, when the person turned ``kind`` off (mail/preferences.py), or
    inside ``mail_suppressed``.
    With no ``MAIL_SERVER`` the message is held for an admin to read at
    /admin/mail. Raises ``MailError`` for a bad address, kind, key or unsubscribe URL.
    """
    address = check_address(to)
    if session.info.get(SUPPRESSED_KEY):
        return None
    if not KIND.fullmatch(kind or ""):
        raise MailError(f"a mail kind is lower-case letters, digits and _: {kind!r}")
    key = key or f"{kind}:{uuid.uuid4().hex}"
    if len(key) > MAX_KEY_LENGTH or LINE_BREAKS.search(key):
        raise MailError("an idempotency key is one line of at most 200 characters")
    existing = session.exec(select(MailMessage).where(MailMessage.idempotency_key == key)).first()
    if existing is not None:
        return existing
    if user_id is not None and not security:
        if opted_out(session, user_id, kind):
            return None
        unsubscribe_url = unsubscribe_url or absolute_url(
            "notifications.unsubscribe", token=unsubscribe_token(user_id, kind))
    headers = {}
    if unsubscribe_url:
        parts = urlsplit(unsubscribe_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc or LINE_BREAKS.search(
                unsubscribe_url) or any(c in unsubscribe_url for c in "<> "):
            raise MailError("the unsubscribe URL must be one absolute http(s) URL")
        # https://www.rfc-editor.org/rfc/rfc8058: both headers, the URL in <>.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject, text, html = render_mail(template, {**(context or {}),
                                                 "unsubscribe_url": unsubscribe_url})
    # Quoted as the name needs; encoded for SMTP when sent (policy=SMTP).
    shown_to = str(Address(display_name=one_line(to_name), addr_spec=address)) \
        if to_name and one_line(to_name) else address
    now = utcnow()
    held = not current_app.config.get("MAIL_SERVER")
    _insert_once(session, {
        "idempotency_key": key, "kind": kind, "security": security, "to_address": shown_to,
        "user_id": user_id, "subject": subject, "text_body": text, "html_body": html,
        "headers": headers, "message_id": _message_id(key),
        "status": MailStatus.HELD if held else MailStatus.QUEUED, "attempts": 0,
        "next_attempt_at": now, "created_at": now,
    })
    if not held:
        session.info[PENDING_INFO_KEY] = True
    return session.exec(select(MailMessage).where(MailMessage.idempotency_key == key)
                        .execution_options(populate_existing=True)).one()
