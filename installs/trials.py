"""Trials: the reminder before one ends, and converting or expiring it at its end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from accounts.services import notify
from core.db import as_utc, utcnow
from installs.models import Install, InstallStatus, Trial, TrialStatus
from installs.ports import payments_port
from installs.services import install_event, revoke_install
from listings.models import Listing
from listings.notices import mail_workspace_admins
from mail.compose import absolute_url, with_app_context

# The customer and the partner hear this long before a trial ends.
TRIAL_REMINDER = timedelta(days=3)


def trial_days_left(trial: Trial, now=None) -> int:
    """Whole days until the trial ends, rounded up (0 once it has ended)."""
    now = now or utcnow()
    ends_at = as_utc(trial.ends_at)
    seconds = (ends_at - now).total_seconds()
    return max(0, -int(-seconds // 86400))


@dataclass
class TrialSweep:
    reminded: int = 0
    converted: int = 0
    expired: int = 0


@with_app_context
def settle_trials(session: Session, now=None, workspace_id: int | None = None) -> TrialSweep:
    """Remind trials that end within three days, and end the ones that are over.

    At its end a trial converts when the workspace can pay, otherwise it
    expires: the app is disabled (scopes revoked) and the workspace told.
    The partner gets ``trial.will_end`` and ``trial.ended``. Safe to run
    again at any time: each trial is reminded and ended once. Limited to one
    workspace when ``workspace_id`` is given (pages settle their own).
    """
    now = now or utcnow()
    sweep = TrialSweep()
    scope = [Trial.status == TrialStatus.ACTIVE]
    if workspace_id is not None:
        scope.append(Trial.workspace_id == workspace_id)
    due = session.exec(select(Trial).where(*scope, Trial.ends_at <= now + TRIAL_REMINDER)
                       .order_by(Trial.id)).all()
    for trial in due:
        install = session.exec(select(Install).where(Install.trial_id == trial.id,
                                                     Install.status == InstallStatus.ACTIVE)).first()
        listing = session.get(Listing, trial.listing_id)
        ends_at = as_utc(trial.ends_at)
        if install is None:  # uninstalled some other way: nothing left to run
            trial.status, trial.ended_at = TrialStatus.CANCELLED, now
        elif ends_at > now:
            if trial.reminded_at is None:
                trial.reminded_at = now
                days = trial_days_left(trial, now)
                notify(session, trial.workspace_id, "trial_ending",
                       f"Your trial of {listing.name} ends in {days} day{'s' if days != 1 else ''} "
                       f"({ends_at:%d %b %Y}).", listing_id=listing.id)
                mail_workspace_admins(
                    session, trial.workspace_id, kind="trial_ending",
                    key=f"trial_ending:{trial.id}",
                    subject=f"Your trial of {listing.name} ends in {days} "
                            f"day{'s' if days != 1 else ''}",
                    paragraphs=[f"Your workspace's free trial of {listing.name} ends on "
                                f"{ends_at:%d %b %Y}.",
                                "Add a payment method before then to keep using it; otherwise "
                                "the app is disabled when the trial ends."],
                    action_text="Manage your apps", action_url=absolute_url("installs.my_apps"))
                install_event(session, install, "trial.will_end")
                sweep.reminded += 1
        elif payments_port(session).can_pay(session, trial.workspace_id, trial.listing_id):
            trial.status, trial.ended_at = TrialStatus.CONVERTED, now
            install.trial_id = None
            session.add(install)
            install_event(session, install, "trial.ended", outcome="converted")
            sweep.converted += 1
        else:
            trial.status, trial.ended_at = TrialStatus.EXPIRED, now
            revoke_install(session, install, status=InstallStatus.EXPIRED, now=now)
            notify(session, trial.workspace_id, "trial_expired",
                   f"Your trial of {listing.name} ended, so the app is disabled and its access "
                   "revoked. Add a payment method to keep using it.", listing_id=listing.id)
            mail_workspace_admins(
                session, trial.workspace_id, kind="trial_ended", key=f"trial_ended:{trial.id}",
                subject=f"Your trial of {listing.name} ended",
                paragraphs=[f"Your workspace's free trial of {listing.name} ended on "
                            f"{ends_at:%d %b %Y}, so the app is disabled and its access revoked.",
                            "Add a payment method and install it again to keep using it."],
                action_text="Manage your apps", action_url=absolute_url("installs.my_apps"))
            install_event(session, install, "trial.ended", outcome="expired")
            sweep.expired += 1
        session.add(trial)
    session.flush()
    return sweep
