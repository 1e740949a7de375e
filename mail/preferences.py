"""Who wants which notice by mail: the kinds of notice mail, each person's choices
(``mail_preferences``), and the signed one-click unsubscribe tokens (RFC 8058).

A token names one person and one kind and is signed with ``SECRET_KEY``
(itsdangerous), so it unsubscribes exactly that person from exactly that kind: a
token altered to name someone else or another kind fails its signature. Tokens do
not expire: an unsubscribe link in an old mail must still work.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.db import utcnow
from mail.models import MailPreference

# Every kind of notice a person may turn off, by who gets it, in the order the
# settings page lists them, with what it is about (docs/mail.md#notices).
CUSTOMER_KINDS: dict[str, str] = {
    "trial_ending": "A trial in your workspace ends in 3 days",
    "trial_ended": "A trial in your workspace ended",
    "app_delisted": "An app your workspace uses was removed from the catalog",
    "scope_change": "An app your workspace uses asks for more access",
    "invoice_paid": "An invoice was paid",
    "payment_failed": "A payment failed",
    "review_reply": "A partner replied to your review",
}
PARTNER_KINDS: dict[str, str] = {
    "listing_flagged": "Your listing was flagged or delisted by the catalog checks",
    "submission_reviewed": "Your submission was approved or rejected",
    "release_reviewed": "Your release was approved or rejected",
    "new_reviews": "New reviews of your apps, at most one mail a day",
    "webhook_failing": "Your webhook endpoint keeps failing",
    "payout_failed": "A payout to your bank failed",
    "payout_account_action": "Your payout account needs action",
}
NOTICE_KINDS: dict[str, str] = {**CUSTOMER_KINDS, **PARTNER_KINDS}
# Shown as always on: mail about the account's own safety cannot be turned off.
SECURITY_MAIL = ("Security mail: password reset, password or email changed, "
                 "address verification")

SALT = "mail-unsubscribe"


class BadUnsubscribeToken(ValueError):
    """A token that is not one we signed (forged, altered or cut short)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    """The signed token that turns ``kind`` off for ``user_id``."""
    return _serializer().dumps([int(user_id), kind])


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(user id, kind) of a token we signed; ``BadUnsubscribeToken`` otherwise."""
    try:
        user_id, kind = _serializer().loads(token)
    except (BadData, TypeError, ValueError) as error:
        raise BadUnsubscribeToken("not a valid unsubscribe link") from error
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(kind, str):
        raise BadUnsubscribeToken("not a valid unsubscribe link")
    return user_id, kind


def opted_out(session: Session, user_id: int, kind: str) -> bool:
    """Whether ``user_id`` turned ``kind`` off."""
    return bool(session.exec(select(MailPreference.opted_out).where(
        MailPreference.user_id == user_id, MailPreference.kind == kind)).first())


def opted_out_kinds(session: Session, user_id: int) -> set[str]:
    """Every kind ``user_id`` turned off."""
    return set(session.exec(select(MailPreference.kind).where(
        MailPreference.user_id == user_id, col(MailPreference.opted_out).is_(True))).all())


def set_preference(session: Session, user_id: int, kind: str, wanted: bool) -> None:
    """Turn ``kind`` on or off for ``user_id`` (an upsert, so a double click or two
    requests at once leave one row). The caller commits."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = insert(MailPreference).values(user_id=user_id, kind=kind,
                                              opted_out=not wanted, updated_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["user_id", "kind"],
        set_={"opted_out": not wanted, "updated_at": now}))


def kinds_for(user) -> dict[str, str]:
    """The kinds of notice ``user`` can get, so the settings page offers only those:
    a partner's when they belong to a partner, a customer's otherwise."""
    return PARTNER_KINDS if getattr(user, "is_partner", False) else CUSTOMER_KINDS


def save_preferences(session: Session, user_id: int, wanted: set[str],
                     shown: Iterable[str] = NOTICE_KINDS) -> None:
    """The settings page's form: of the kinds ``shown``, those in ``wanted`` on and
    the others off; kinds the page did not show keep their setting. The caller commits."""
    for kind in shown:
        set_preference(session, user_id, kind, kind in wanted)
