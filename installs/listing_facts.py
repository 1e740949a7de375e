"""Installs' answer to listings' ``Installs`` port (listings.ports): the install
counts search documents show, the install activity the prune rules weigh, the
workspaces to tell when an app is delisted, and following an approved release."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, case, exists, or_
from sqlmodel import Session, col, func, select

from accounts.models import Workspace
from installs.models import Install, InstallStatus
from installs.services import apply_scope_reductions
from listings.models import Listing
from listings.notices import mail_workspace_admins
from listings.scopes import describe_scope
from listings.services import current_release
from mail.compose import absolute_url, with_app_context


class ListingFacts:
    def counts(self, session: Session, listing_ids: list[int]) -> dict[int, tuple[int, int]]:
        active = func.sum(case((Install.status == InstallStatus.ACTIVE, 1), else_=0))
        rows = session.exec(select(Install.listing_id, func.count(), active)
                            .where(col(Install.listing_id).in_(listing_ids))
                            .group_by(Install.listing_id)).all()
        return {listing_id: (total, int(active or 0)) for listing_id, total, active in rows}

    def active_counts(self) -> Subquery:
        return (select(Install.listing_id, func.count().label("n"))
                .where(Install.status == InstallStatus.ACTIVE)
                .group_by(Install.listing_id).subquery())

    def active_between(self, start: datetime, end: datetime) -> Subquery:
        # Installs active at any time in the window: an upper bound of the concurrent
        # count, so only listings that truly stayed below a minimum are flagged.
        return (select(Install.listing_id, func.count().label("n"))
                .where(Install.created_at <= end,
                       or_(col(Install.uninstalled_at).is_(None), Install.uninstalled_at > start))
                .group_by(Install.listing_id).subquery())

    def ever_installed(self, listing_id: ColumnElement) -> ColumnElement[bool]:
        return exists().where(Install.listing_id == listing_id)

    def installing_workspaces(self, session: Session,
                              listing_ids: list[int]) -> dict[int, list[int]]:
        installed_in: dict[int, list[int]] = defaultdict(list)
        for workspace_id, listing_id in session.execute(
                select(Install.workspace_id, Install.listing_id)
                .join(Workspace, Workspace.id == Install.workspace_id)
                .where(col(Install.listing_id).in_(listing_ids),
                       Install.status == InstallStatus.ACTIVE, col(Workspace.deleted_at).is_(None))
                .order_by(Install.listing_id, Install.workspace_id)):
            installed_in[listing_id].append(workspace_id)
        return dict(installed_in)

    def release_approved(self, session: Session, listing_id: int) -> None:
        apply_scope_reductions(session, listing_id)
        mail_scope_changes(session, listing_id)


@with_app_context
def mail_scope_changes(session: Session, listing_id: int) -> None:
    """Tell the admins of each workspace whose install now waits for their approval
    of more access (once per install and release)."""
    release = current_release(session, listing_id)
    if release is None:
        return
    listing = session.get(Listing, listing_id)
    for install in session.exec(select(Install).where(
            Install.listing_id == listing_id, Install.status == InstallStatus.ACTIVE)
            .order_by(Install.id)).all():
        added = [item["scope"] for item in release.scopes
                 if item["scope"] not in set(install.granted_scopes)]
        if not added:
            continue
        mail_workspace_admins(
            session, install.workspace_id, kind="scope_change",
            key=f"scope_change:{install.id}:{release.id}",
            subject=f"{listing.name} asks for more access",
            paragraphs=[f"Version {release.version} of {listing.name} asks for access your "
                        "workspace has not granted yet:",
                        *(f"{scope}: {describe_scope(scope)}" for scope in added),
                        "It keeps its current access until a workspace admin approves the "
                        "new one on My apps."],
            action_text="Review the request", action_url=absolute_url("installs.my_apps"))
