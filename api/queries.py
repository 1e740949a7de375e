"""Read queries behind the Partner API: an API key's listing's installs, one at a
time or a page at a time.

Each takes a Session and plain arguments (the key's listing id, never a request),
so it can be tested without HTTP; every function is scoped by that listing id, so
a key never reads another listing's installs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from accounts.models import Workspace
from installs.models import Install, Trial
from listings.models import Listing, Release


def listing_install(session: Session, listing_id: int, install_id: int) -> Install | None:
    """The install with this id when it is one of the listing's; None otherwise
    (another listing's install is not admitted to exist)."""
    install = session.get(Install, install_id)
    if install is None or install.listing_id != listing_id:
        return None
    return install


@dataclass
class InstallsPage:
    """A page of a listing's installs and whether more follow."""

    installs: list[Install]
    more: bool
    # The workspaces, listings, releases and trials of the installs. The session's
    # identity map holds rows weakly, so without this reference they would be dropped
    # at once and describing each install would read them again, one by one.
    related: list = field(default_factory=list, repr=False)


def listing_installs_after(session: Session, listing_id: int, status: str | None,
                           cursor: int | None, limit: int) -> InstallsPage:
    """Up to ``limit`` of the listing's installs, oldest (lowest id) first, after the
    install id ``cursor`` (None: from the start), only those in ``status`` when given;
    and whether more follow. The rows ``install_public`` reads for them are loaded
    too, in four queries rather than four per install, and kept while the page lives."""
    query = select(Install).where(Install.listing_id == listing_id)
    if status:
        query = query.where(Install.status == status)
    if cursor is not None:
        query = query.where(col(Install.id) > cursor)
    rows = list(session.exec(query.order_by(col(Install.id)).limit(limit + 1)).all())
    page = rows[:limit]
    return InstallsPage(page, len(rows) > limit, related=install_related_rows(session, page))


def install_related_rows(session: Session, installs: list[Install]) -> list:
    """The workspaces, listings, releases and trials of these installs, in four queries.
    While the caller holds the list, ``session.get`` finds them without asking the
    database, so describing each install costs no query."""
    related: list = []
    for model, ids in ((Workspace, {i.workspace_id for i in installs}),
                       (Listing, {i.listing_id for i in installs}),
                       (Release, {i.release_id for i in installs}),
                       (Trial, {i.trial_id for i in installs if i.trial_id})):
        if ids:
            related += session.exec(select(model).where(col(model.id).in_(ids))).all()
    return related
