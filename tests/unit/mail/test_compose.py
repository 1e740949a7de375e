"""Composing and queuing mail (mail/compose.py) and the MIME message built from a row
(mail/sender.py:build_message): what a recipient and an operator would see."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest
from sqlmodel import select

from mail.compose import PENDING_INFO_KEY, MailError, absolute_url, queue_mail
from mail.models import MailMessage, MailStatus
from mail.preview import safe_preview
from mail.sender import build_message


@pytest.fixture
def app_overrides():
    return {"BAZAAR_BASE_URL": "https://shop.example.com/bazaar/",
            "MAIL_FROM": "Bazaar <no-reply@shop.example.com>"}


def notice(db, app, **kwargs):
    context = kwargs.pop("context", None) or {
        "subject": "Your trial ends in 3 days", "name": "Ada",
        "paragraphs": ["Your trial of Acme CRM ends on 7 Dec."],
        "action_text": "See your apps", "action_url": None}
    with app.app_context():
        if context.get("action_url") is None and "action_url" in context:
            context["action_url"] = absolute_url("storefront.listing", slug="acme-crm")
        values = {"to": "ada@example.com", "kind": "trial_ending", "template": "notice",
                  "context": context, **kwargs}
        return queue_mail(db, **values)


def parsed(row: MailMessage, sender: str = "Bazaar <no-reply@shop.example.com>"):
    return message_from_bytes(build_message(row, sender).as_bytes(), policy=default)


def test_a_message_has_a_text_and_an_html_part_with_absolute_links(app, db):
    row = notice(db, app)
    assert row.subject == "Your trial ends in 3 days"
    link = "https://shop.example.com/bazaar/apps/acme-crm"
    assert "Hello Ada," in row.text_body and link in row.text_body
    assert f'href="{link}"' in row.html_body
    assert "<title>Your trial ends in 3 days</title>" in row.html_body
    message = parsed(row)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == \
        ["text/plain", "text/html"]
    assert link in message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Your trial ends in 3 days"
    assert message["From"] == "Bazaar <no-reply@shop.example.com>"


def test_user_text_is_escaped_in_the_html_part_but_not_in_the_text_part(app, db):
    row = notice(db, app, context={"subject": "Review of <b>Acme</b>", "name": "Ada",
                                   "paragraphs": ["Bob & <script>alert(1)</script> wrote"]})
    assert "<script>" not in row.html_body and "&lt;script&gt;" in row.html_body
    assert "Bob & <script>alert(1)</script> wrote" in row.text_body
    assert row.subject == "Review of <b>Acme</b>"


def test_the_message_id_and_date_stay_the_same_when_sent_again(app, db):
    row = notice(db, app, key="trial-ending:1")
    first, second = parsed(row), parsed(row)
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    assert row.message_id.endswith("@shop.example.com>")
    assert first["Date"] == second["Date"]
    other = notice(db, app, key="trial-ending:2")
    assert other.message_id != row.message_id


def test_queuing_the_same_key_twice_gives_one_message(app, db):
    first = notice(db, app, key="trial-ending:42")
    again = notice(db, app, key="trial-ending:42",
                   context={"subject": "A different text", "paragraphs": []})
    db.commit()
    assert again.id == first.id and again.subject == "Your trial ends in 3 days"
    assert len(db.exec(select(MailMessage)).all()) == 1


def test_without_a_key_each_call_is_a_new_message(app, db):
    notice(db, app)
    notice(db, app)
    db.commit()
    assert len(db.exec(select(MailMessage)).all()) == 2


def test_queuing_never_commits_the_callers_transaction(app, db):
    notice(db, app, key="trial-ending:7")
    db.rollback()
    assert db.exec(select(MailMessage)).all() == []


def test_without_a_mail_server_mail_is_held_and_no_sender_is_woken(app, db):
    row = notice(db, app)
    assert row.status == MailStatus.HELD
    assert not db.info.get(PENDING_INFO_KEY)


@pytest.mark.parametrize("app_overrides", [{"MAIL_SERVER": "127.0.0.1"}])
def test_with_a_mail_server_mail_is_queued_for_the_sender(app, db):
    row = notice(db, app)
    assert row.status == MailStatus.QUEUED
    assert db.info[PENDING_INFO_KEY] is True


INJECTIONS = ["Hi\r\nBcc: victim@evil.test", "Hi\nBcc: victim@evil.test",
              "Hi\rBcc: victim@evil.test", "Hi\u2028Bcc: victim@evil.test",
              "Hi\x00\r\n\r\nbody"]


@pytest.mark.parametrize("subject", INJECTIONS)
def test_a_line_break_in_a_subject_or_name_never_becomes_a_header(app, db, subject):
    row = notice(db, app, to_name=subject, context={"subject": subject, "paragraphs": []})
    assert "\r" not in row.subject and "\n" not in row.subject and "\n" not in row.to_address
    raw = build_message(row, "Bazaar <no-reply@shop.example.com>").as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in headers.split(b"\r\n"))
    message = parsed(row)
    assert message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == "ada@example.com"
    assert len(message["To"].addresses) == 1


@pytest.mark.parametrize("address", [
    "ada@example.com\r\nBcc: victim@evil.test", "ada@example.com\nCc: victim@evil.test",
    "ada@example.com, victim@evil.test", "Ada <ada@example.com>", "not-an-address", "",
])
def test_an_address_that_is_not_one_plain_address_is_refused(app, db, address):
    with pytest.raises(MailError):
        notice(db, app, to=address)
    assert db.exec(select(MailMessage)).all() == []


def test_a_kind_and_a_key_are_checked(app, db):
    with pytest.raises(MailError):
        notice(db, app, kind="Trial Ending\r\nX: y")
    with pytest.raises(MailError):
        notice(db, app, key="a\r\nb")


def test_an_unsubscribe_link_adds_the_one_click_headers(app, db):
    url = "https://shop.example.com/bazaar/unsubscribe/abc123"
    row = notice(db, app, unsubscribe_url=url)
    message = parsed(row)
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in row.text_body and f'href="{url}"' in row.html_body


def test_security_mail_has_no_unsubscribe_headers(app, db):
    row = notice(db, app, kind="password_reset", security=True)
    assert row.security and row.headers == {}
    assert parsed(row)["List-Unsubscribe"] is None


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://x.test/u\r\nBcc: a@b.c",
                                 "/relative/unsubscribe"])
def test_a_bad_unsubscribe_url_is_refused(app, db, url):
    with pytest.raises(MailError):
        notice(db, app, unsubscribe_url=url)


def test_the_admin_preview_keeps_links_and_drops_scripts_and_styles():
    html = ('<html><head><title>T</title><style>p{color:red}</style></head><body>'
            '<p style="color:red" onclick="steal()">Hi <a href="https://x.test/a">go</a></p>'
            '<script>alert(1)</script><a href="javascript:alert(2)">bad</a></body></html>')
    shown = str(safe_preview(html))
    assert '<a href="https://x.test/a" target="_blank" rel="noopener noreferrer">go</a>' in shown
    assert "script" not in shown and "style" not in shown and "onclick" not in shown
    assert "javascript:" not in shown and "<title>" not in shown and "color:red" not in shown


def test_a_row_with_a_line_break_in_a_header_is_never_built(app, db):
    row = notice(db, app)
    row.subject = "Hi\r\nBcc: victim@evil.test"  # written past compose.py
    with pytest.raises(MailError):
        build_message(row, "Bazaar <no-reply@shop.example.com>")
    row.subject, row.headers = "Hi", {"List-Unsubscribe": "<https://x.test/u>\nBcc: v@evil.test"}
    with pytest.raises(MailError):
        build_message(row, "Bazaar <no-reply@shop.example.com>")
