"""The mail about a person's account: password reset and "password changed", address
verification, email change, "someone tried to sign up with your address", and
workspace invitations. Each is queued in the caller's transaction through
``mail.compose.queue_mail`` (docs/mail.md) with the generic ``notice`` template.

Everything but the invitation is security mail: nobody can turn it off, it carries no
unsubscribe link, and it is sent before other due mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from accounts.models import User, Workspace, WorkspaceInvitation
from accounts.tokens import RESET_MAX_AGE, email_change_token, reset_token, verify_token
from mail.compose import absolute_url, queue_mail, render_mail

SECURITY_KINDS = ("password_reset", "password_changed", "verify_email", "signup_attempt",
                  "email_change_confirm", "email_changed")


def _security_mail(session: Session, user: User, kind: str, context: dict, *, to: str | None = None,
                   key: str | None = None) -> None:
    queue_mail(session, to=to or user.email, to_name=user.display_name, kind=kind,
               template="notice", user_id=user.id, security=True, key=key,
               context={"name": user.display_name, **context})


def _reset_context(link: str) -> dict:
    minutes = int(RESET_MAX_AGE.total_seconds() // 60)
    return {
        "subject": "Reset your Bazaar password",
        "paragraphs": [
            "Someone (we hope you) asked to reset the password of your Bazaar account.",
            f"The link below works once, for {minutes} minutes. Setting a new password signs "
            "you out on every device.",
            "If you did not ask for this, ignore this email: your password stays as it is.",
        ],
        "action_text": "Choose a new password", "action_url": link,
    }


def queue_password_reset(session: Session, user: User) -> None:
    """The reset link, to the account's address."""
    link = absolute_url("accounts.reset_password", token=reset_token(user))
    _security_mail(session, user, "password_reset", _reset_context(link))


def render_unsent_password_reset() -> None:
    """The rendering work a reset mail costs, for an address without an account, so
    both answers to "forgot your password" take about as long."""
    render_mail("notice", _reset_context(absolute_url("accounts.reset_password", token="x" * 80)))


def queue_password_changed(session: Session, user: User, when: datetime) -> None:
    """The notice that the password was changed (by a reset or on the settings page)."""
    _security_mail(session, user, "password_changed", {
        "subject": "Your Bazaar password was changed",
        "paragraphs": [
            f"The password of your Bazaar account was changed on {when:%d %b %Y at %H:%M} UTC, "
            "and every device was signed out.",
            "If this was not you, reset your password now and check your account's email address.",
        ],
        "action_text": "Reset your password", "action_url": absolute_url("accounts.forgot_password"),
    })


def queue_verification(session: Session, user: User) -> None:
    """The link that verifies the account's current address."""
    _security_mail(session, user, "verify_email", {
        "subject": "Confirm your email address for Bazaar",
        "paragraphs": [
            "Welcome to Bazaar! Please confirm that this address is yours.",
            "Until you do, you can browse and install free apps, but not pay for apps, invite "
            "people to your workspace or write reviews. The link works for two days.",
        ],
        "action_text": "Confirm my address",
        "action_url": absolute_url("accounts.verify_email", token=verify_token(user)),
    })


def queue_signup_attempt(session: Session, user: User, now: datetime) -> None:
    """Tell the owner of a taken address that someone tried to sign up with it (at most
    one such mail an hour, by its idempotency key)."""
    _security_mail(session, user, "signup_attempt", key=f"signup-attempt:{user.id}:{now:%Y%m%d%H}",
                   context={
                       "subject": "Someone tried to create a Bazaar account with your address",
                       "paragraphs": [
                           "Someone tried to create a new Bazaar account with this email address, "
                           "which already has an account. No new account was made.",
                           "If it was you and you have forgotten your password, reset it with the "
                           "link below. If it was not you, you can ignore this email.",
                       ],
                       "action_text": "Reset your password",
                       "action_url": absolute_url("accounts.forgot_password"),
                   })


def queue_email_change(session: Session, user: User, new_email: str) -> None:
    """The link that confirms ``new_email``, sent to that address."""
    _security_mail(session, user, "email_change_confirm", to=new_email, context={
        "subject": "Confirm your new email address for Bazaar",
        "paragraphs": [
            f"You asked to use {new_email} for your Bazaar account instead of {user.email}.",
            "The change happens when you open the link below (it works for two days). "
            "If you did not ask for this, ignore this email.",
        ],
        "action_text": "Confirm my new address",
        "action_url": absolute_url("accounts.confirm_email_change",
                                   token=email_change_token(user, new_email)),
    })


def queue_email_changed(session: Session, user: User, old_email: str) -> None:
    """Tell the old address that the account's address is now another one."""
    _security_mail(session, user, "email_changed", to=old_email, context={
        "subject": "Your Bazaar email address was changed",
        "paragraphs": [
            f"The email address of your Bazaar account was changed from {old_email} to "
            f"{user.email}. Mail about the account now goes there.",
            "If this was not you, reply to this email or contact Bazaar support at once: someone "
            "may have your password.",
        ],
    })


def queue_invitation(session: Session, invitation: WorkspaceInvitation, token: str,
                     workspace: Workspace, inviter: User) -> None:
    """The invitation link, to the invited address."""
    days = (invitation.expires_at - invitation.created_at).days
    queue_mail(session, to=invitation.email, kind="workspace_invitation", template="notice",
               key=f"workspace-invitation:{invitation.id}", context={
                   "subject": f"{inviter.display_name} invited you to {workspace.name} on Bazaar",
                   "paragraphs": [
                       f"{inviter.display_name} invited you to join the workspace "
                       f"{workspace.name} on Bazaar, where your team installs and uses apps.",
                       f"The invitation works for {days} days, until "
                       f"{invitation.expires_at:%d %b %Y}. Sign in, or create an account with "
                       f"this address ({invitation.email}), then accept it.",
                   ],
                   "action_text": "See the invitation",
                   "action_url": absolute_url("workspaces.invitation", token=token),
               })
