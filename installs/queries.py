"""Reads about installs, for pages and the packages above: what made a review
verified, and a partner's view of its app's installs."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from accounts.models import Workspace
from installs.models import Install, Trial, TrialStatus
from listings.models import Listing, Release


def reviewing_install(session: Session, listing: Listing, workspace) -> Install | None:
    """The workspace's newest install of ``listing`` (active or not): what makes a review verified."""
    if workspace is None:
        return None
    return session.exec(select(Install).where(Install.workspace_id == workspace.id,
                                              Install.listing_id == listing.id)
                        .order_by(col(Install.created_at).desc(), col(Install.id).desc())).first()


def install_counts(session: Session, listing_id: int) -> dict[str, int]:
    """How many installs of a listing are in each state, and how many trials run."""
    counts = dict(session.exec(select(Install.status, func.count()).where(
        Install.listing_id == listing_id).group_by(Install.status)).all())
    trials = session.exec(select(func.count()).select_from(Trial).where(
        Trial.listing_id == listing_id, Trial.status == TrialStatus.ACTIVE)).one()
    return {"active": counts.get("active", 0), "uninstalled": counts.get("uninstalled", 0),
            "expired": counts.get("expired", 0), "trials": trials,
            "total": sum(counts.values())}


def listing_installs(session: Session, listing_id: int, page: int, per_page: int) -> list[tuple]:
    """A page of a listing's installs, newest first, as (install, workspace name, release version)."""
    return list(session.exec(
        select(Install, Workspace.name, Release.version)
        .join(Workspace, col(Workspace.id) == Install.workspace_id)
        .join(Release, col(Release.id) == Install.release_id)
        .where(Install.listing_id == listing_id)
        .order_by(col(Install.created_at).desc(), col(Install.id).desc())
        .offset((page - 1) * per_page).limit(per_page)).all())
