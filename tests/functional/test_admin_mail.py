"""/admin/mail: an admin reads held mail (rendered, with its links), sees what was
sent or failed and sends failed mail again; nobody else gets in."""

from __future__ import annotations

import pytest
from sqlmodel import select

from accounts.models import Role
from mail.compose import absolute_url, queue_mail
from mail.models import MailMessage, MailStatus
from tests import factories


def queue(app, db, subject="Your trial ends in 3 days", **kwargs) -> MailMessage:
    with app.app_context():
        row = queue_mail(db, to=kwargs.pop("to", "ada@example.com"), kind="trial_ending",
                         template="notice", context={
                             "subject": subject, "name": "Ada",
                             "paragraphs": ["Your trial of <Acme> ends on 7 Dec."],
                             "action_text": "See your apps",
                             "action_url": absolute_url("storefront.home")}, **kwargs)
    db.commit()
    return row


@pytest.fixture
def site_admin(db):
    return factories.make_user(db, Role.ADMIN)


def test_an_admin_reads_held_mail_with_its_links(app, db, client, login, site_admin):
    row = queue(app, db, unsubscribe_url="https://bazaar.example.com/unsubscribe/t0k3n")
    assert row.status == MailStatus.HELD
    login(site_admin)

    listing = client.get("/admin/mail")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Your trial ends in 3 days" in page and "ada@example.com" in page
    assert "mail is not sent: it is held here" in page

    detail = client.get(f"/admin/mail/{row.id}")
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    # The HTML part, rendered: its link clickable, user text escaped.
    assert '<a href="http://127.0.0.1:5000/" target="_blank" rel="noopener noreferrer">' \
           'See your apps</a>' in page
    assert "Your trial of &lt;Acme&gt; ends" in page
    # The text part and the headers.
    assert "See your apps: http://127.0.0.1:5000/" in page
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "List-Unsubscribe-Post" in page
    assert "https://bazaar.example.com/unsubscribe/t0k3n" in page


def test_the_list_filters_by_status_and_pages(app, db, client, login, site_admin):
    held = queue(app, db, subject="Held one")
    failed = queue(app, db, subject="Failed one")
    failed.status = MailStatus.FAILED
    db.add(failed)
    db.commit()
    login(site_admin)
    page = client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "Failed one" in page and "Held one" not in page
    page = client.get("/admin/mail?status=nonsense").get_data(as_text=True)
    assert "Failed one" in page and "Held one" in page
    assert held.id != failed.id


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 2}])
def test_a_long_list_is_paginated(app, db, client, login, site_admin):
    for number in range(5):
        queue(app, db, subject=f"Message number {number}")
    login(site_admin)
    first = client.get("/admin/mail").get_data(as_text=True)
    third = client.get("/admin/mail?page=3").get_data(as_text=True)
    assert "Message number 4" in first and "Message number 0" not in first
    assert "Message number 0" in third and "Page 3 of 3" in third


def test_an_admin_sends_failed_mail_again(app, db, client, login, site_admin):
    row = queue(app, db)
    row.status, row.attempts, row.last_error = MailStatus.FAILED, 16, "connection refused"
    db.add(row)
    db.commit()
    login(site_admin)
    assert "Send again" in client.get(f"/admin/mail/{row.id}").get_data(as_text=True)

    response = client.post(f"/admin/mail/{row.id}/retry")
    assert response.status_code == 303
    db.expire_all()
    again = db.get(MailMessage, row.id)
    assert (again.status, again.attempts) == (MailStatus.QUEUED, 0)


def test_sent_mail_is_not_sent_again(app, db, client, login, site_admin):
    row = queue(app, db)
    row.status = MailStatus.SENT
    db.add(row)
    db.commit()
    login(site_admin)
    assert "Send again" not in client.get(f"/admin/mail/{row.id}").get_data(as_text=True)
    response = client.post(f"/admin/mail/{row.id}/retry", follow_redirects=True)
    assert "only failed or held mail can be sent again" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(MailMessage, row.id).status == MailStatus.SENT


def test_an_unknown_message_is_404(db, client, login, site_admin):
    login(site_admin)
    assert client.get("/admin/mail/999").status_code == 404
    assert client.post("/admin/mail/999/retry").status_code == 404


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER, Role.EDITOR])
def test_nobody_but_an_admin_reads_or_retries_mail(app, db, client, login, role):
    row = queue(app, db)
    row.status = MailStatus.FAILED
    db.add(row)
    db.commit()
    login(factories.make_user(db, role))
    assert client.get("/admin/mail").status_code == 403
    assert client.get(f"/admin/mail/{row.id}").status_code == 403
    assert client.post(f"/admin/mail/{row.id}/retry").status_code == 403
    db.expire_all()
    assert db.get(MailMessage, row.id).status == MailStatus.FAILED


def test_a_visitor_is_sent_to_sign_in(app, db, client):
    row = queue(app, db)
    response = client.get(f"/admin/mail/{row.id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert db.exec(select(MailMessage)).one().status == MailStatus.HELD
