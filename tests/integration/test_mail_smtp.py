"""Mail over real SMTP: Mailpit (scripts/mailpit) receives what mail/sender.py sends,
and its API shows what a recipient would get. An outage is a Mailpit of the test's
own, stopped and started again."""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from core.db import utcnow
from mail.compose import absolute_url, queue_mail
from mail.models import MailMessage, MailStatus
from mail.sender import send_due
from tests.mailpit import OwnMailpit


@pytest.fixture
def app_overrides(mailpit):
    return {**mailpit.app_config(), "MAIL_SEND_TIMEOUT": 5.0,
            "BAZAAR_BASE_URL": "https://bazaar.example.com",
            "MAIL_FROM": "Bazaar <no-reply@bazaar.example.com>"}


def address() -> str:
    """A recipient no other test (or test process) sends to."""
    return f"smtp-{uuid.uuid4().hex[:12]}@example.com"


def queue(app, db, to: str, commit: bool = True, **kwargs) -> MailMessage:
    context = {"subject": kwargs.pop("subject", "Your trial ends in 3 days"), "name": "Ada",
               "paragraphs": ["Your trial of Acme CRM ends on 7 Dec."],
               "action_text": "See your apps"}
    with app.app_context():
        context["action_url"] = absolute_url("storefront.home")
        row = queue_mail(db, to=to, kind=kwargs.pop("kind", "trial_ending"), template="notice",
                         context=context, **kwargs)
    if commit:
        db.commit()
    return row


def test_a_message_arrives_with_both_parts_its_id_and_one_click_unsubscribe(app, db, mailpit):
    to = address()
    unsubscribe = "https://bazaar.example.com/notifications/unsubscribe/t0k3n"
    row = queue(app, db, to, to_name="Ada Lovelace", unsubscribe_url=unsubscribe)

    report = send_due(app)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)

    [summary] = mailpit.wait_for(to, 1)
    message = mailpit.message(summary["ID"])
    assert message["Subject"] == "Your trial ends in 3 days"
    assert message["From"] == {"Name": "Bazaar", "Address": "no-reply@bazaar.example.com"}
    assert message["To"] == [{"Name": "Ada Lovelace", "Address": to}]
    assert "Hello Ada," in message["Text"] and "https://bazaar.example.com/" in message["Text"]
    assert 'href="https://bazaar.example.com/"' in message["HTML"]
    assert f"<{message['MessageID']}>" == row.message_id
    headers = mailpit.headers(summary["ID"])
    assert headers["List-Unsubscribe"] == [f"<{unsubscribe}>"]
    assert headers["List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    # Mailpit's own reading of them (what its list-unsubscribe check reports).
    assert message["ListUnsubscribe"]["Links"] == [unsubscribe]
    assert message["ListUnsubscribe"]["Errors"] == ""
    assert message["ListUnsubscribe"]["HeaderPost"] == "List-Unsubscribe=One-Click"
    assert headers["Date"] and headers["Auto-Submitted"] == ["auto-generated"]
    assert "multipart/alternative" in headers["Content-Type"][0]

    db.expire_all()
    sent = db.get(MailMessage, row.id)
    assert (sent.status, sent.attempts, sent.last_error) == (MailStatus.SENT, 1, None)
    assert sent.sent_at is not None
    assert send_due(app).attempted == 0  # nothing is sent twice


def test_a_header_injection_never_reaches_smtp(app, db, mailpit):
    to, victim = address(), address()
    queue(app, db, to, to_name=f"Ada\r\nBcc: {victim}", subject=f"Hi\r\nBcc: {victim}")
    assert send_due(app).sent == 1
    [summary] = mailpit.wait_for(to, 1)
    message = mailpit.message(summary["ID"])
    assert message["Bcc"] == [] and message["Cc"] == []
    assert [recipient["Address"] for recipient in message["To"]] == [to]
    assert "\n" not in message["Subject"]
    # Mailpit lists envelope recipients missing from To/Cc as Bcc: there are none, and
    # no header line of the raw message starts with Bcc.
    header_lines = mailpit.raw(summary["ID"]).split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert not any(line.lower().startswith(b"bcc:") for line in header_lines)


def test_a_row_written_with_a_line_break_in_a_header_fails_unsent(app, db, mailpit):
    to, victim = address(), address()
    row = queue(app, db, to)
    row.subject = f"Hi\r\nBcc: {victim}"  # written past compose.py, which would clean it
    db.add(row)
    db.commit()
    report = send_due(app)
    assert (report.sent, report.failed) == (0, 1)
    db.expire_all()
    failed = db.get(MailMessage, row.id)
    assert (failed.status, failed.last_error) == (MailStatus.FAILED,
                                                  "a header holds a line break: not sent")
    assert mailpit.sent_to(to) == [] and mailpit.sent_to(victim) == []


def test_one_idempotency_key_is_one_mail(app, db, mailpit):
    to = address()
    key = f"trial-ending:{uuid.uuid4().hex}"
    queue(app, db, to, key=key)
    queue(app, db, to, key=key, subject="Queued again by a retried request")
    assert send_due(app).sent == 1
    queue(app, db, to, key=key)  # after it was sent, too
    assert send_due(app).attempted == 0
    assert [m["Subject"] for m in mailpit.wait_for(to, 1)] == ["Your trial ends in 3 days"]
    assert len(db.exec(select(MailMessage).where(MailMessage.idempotency_key == key)).all()) == 1


def test_security_mail_goes_first(app, db, mailpit):
    to = address()
    for number in range(3):
        queue(app, db, to, subject=f"Notice {number}")
    queue(app, db, to, subject="Reset your password", kind="password_reset", security=True)
    assert send_due(app, limit=1).sent == 1
    assert [m["Subject"] for m in mailpit.wait_for(to, 1)] == ["Reset your password"]


def test_a_message_sent_again_after_a_crash_carries_the_same_message_id(app, db, mailpit):
    to = address()
    row = queue(app, db, to)
    assert send_due(app).sent == 1
    # A sender died after the server's 250 and before its commit: the row is still
    # "sending" and its lease has run out, so another sender takes it again.
    db.expire_all()
    row = db.get(MailMessage, row.id)
    row.status, row.locked_until, row.sent_at = MailStatus.SENDING, utcnow() - timedelta(1), None
    row.next_attempt_at, row.attempts = row.created_at, 0  # as they were when it was claimed
    db.add(row)
    db.commit()
    assert send_due(app).sent == 1
    copies = mailpit.wait_for(to, 2)
    assert len(copies) == 2 and {m["MessageID"] for m in copies} == {row.message_id[1:-1]}


@pytest.fixture
def own_mailpit(tmp_path):
    server = OwnMailpit(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def outage_app(app, own_mailpit):
    app.config.update(MAIL_SERVER=own_mailpit.smtp_host, MAIL_PORT=own_mailpit.smtp_port,
                      MAIL_SEND_TIMEOUT=2.0)
    return app


def test_an_smtp_outage_delays_mail_and_loses_none(outage_app, db, own_mailpit):
    app, server = outage_app, own_mailpit
    server.start()
    to = address()
    queue(app, db, to, subject="Before the outage")
    assert send_due(app).sent == 1 and len(server.wait_for(to, 1)) == 1

    server.stop()
    rows = [queue(app, db, address(), subject=f"During the outage {n}") for n in range(20)]
    start = utcnow()
    # Three rounds while the server is down, each once the backoff has passed.
    for round_number, after in enumerate((0, 40, 120), start=1):
        report = send_due(app, now=start + timedelta(seconds=after), limit=50)
        assert (report.sent, report.retrying, report.failed) == (0, 20, 0)
        db.expire_all()
        waiting = db.exec(select(MailMessage).where(
            MailMessage.status == MailStatus.QUEUED)).all()
        assert len(waiting) == 20
        assert {m.attempts for m in waiting} == {round_number}
        assert all(m.last_error == "connection to the SMTP server refused" for m in waiting)
        # The next attempt waits: nothing is due straight away.
        assert send_due(app, now=start + timedelta(seconds=after + 1)).attempted == 0

    server.start()  # back, and empty
    report = send_due(app, now=start + timedelta(minutes=10), limit=50)
    assert (report.sent, report.retrying, report.failed) == (20, 0, 0)
    assert send_due(app, now=start + timedelta(hours=2), limit=50).attempted == 0
    for row in rows:
        delivered = server.wait_for(row.to_address, 1)
        assert len(delivered) == 1
        assert delivered[0]["MessageID"] == row.message_id[1:-1]
    assert server.total() == 20
    db.expire_all()
    assert {m.status for m in db.exec(select(MailMessage)).all()} == {MailStatus.SENT}


def test_the_attempts_run_out_into_failed_and_an_admin_retry_sends_it(outage_app, db,
                                                                       own_mailpit, runner):
    app, server = outage_app, own_mailpit
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    to = address()
    row = queue(app, db, to)
    start = utcnow()
    assert send_due(app, now=start).retrying == 1
    assert send_due(app, now=start + timedelta(minutes=5)).failed == 1
    db.expire_all()
    assert db.get(MailMessage, row.id).status == MailStatus.FAILED

    server.start()
    result = runner.invoke(args=["mail", "retry", "--failed"])
    assert result.exit_code == 0 and "Queued again: 1 failed message." in result.output
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Mail: sent 1, retrying 0, failed 0." in result.output
    assert len(server.wait_for(to, 1)) == 1


def test_flask_mail_send_and_the_worker_send_due_mail(app, db, mailpit, runner):
    first, second = address(), address()
    queue(app, db, first)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "sent 1" in result.output
    assert len(mailpit.wait_for(first, 1)) == 1

    queue(app, db, second)
    status = runner.invoke(args=["outbox-status"])
    assert status.exit_code == 0 and any(line.split()[:2] == ["mail", "1"]
                                         for line in status.output.splitlines())
    result = runner.invoke(args=["worker", "--once", "--outbox", "mail"])
    assert result.exit_code == 0 and "mail 1 tried" in result.output
    assert len(mailpit.wait_for(second, 1)) == 1


def test_in_process_the_commit_wakes_the_sender(app, db, mailpit):
    from mail.sender import EXTENSION_KEY, init_sender

    app.config["MAIL_SENDER"] = "thread"
    init_sender(app)  # as create_app does when MAIL_SENDER is "thread"
    to = address()
    queue(app, db, to)  # commits: no send_due call, the sender thread sends it
    assert len(mailpit.wait_for(to, 1, timeout=15)) == 1
    app.extensions[EXTENSION_KEY].stop()


def test_a_login_is_used_and_the_password_never_logged(app, db, mailpit, caplog):
    app.config.update(MAIL_USERNAME="bazaar-mailer", MAIL_PASSWORD="s3cret-smtp-pass")
    to = address()
    queue(app, db, to)
    with caplog.at_level("DEBUG"):
        assert send_due(app).sent == 1
    [summary] = mailpit.wait_for(to, 1)
    assert mailpit.message(summary["ID"])["Username"] == "bazaar-mailer"  # signed in as
    assert "s3cret" not in caplog.text and to not in caplog.text


def test_a_refused_recipient_fails_at_once_and_the_rest_still_go(app, db, tmp_path):
    # This server takes mail for example.com only and answers 550 to anyone else.
    server = OwnMailpit(tmp_path, MP_SMTP_ALLOWED_RECIPIENTS=r"@example\.com$")
    server.start()
    try:
        app.config.update(MAIL_SERVER=server.smtp_host, MAIL_PORT=server.smtp_port)
        refused = queue(app, db, "nobody@refused.example.org")
        accepted = queue(app, db, address())
        report = send_due(app)
        assert (report.sent, report.retrying, report.failed) == (1, 0, 1)
        db.expire_all()
        failed = db.get(MailMessage, refused.id)
        assert (failed.status, failed.attempts) == (MailStatus.FAILED, 1)
        assert failed.last_error.startswith("recipient refused: 550")
        assert db.get(MailMessage, accepted.id).status == MailStatus.SENT
        assert len(server.wait_for(accepted.to_address, 1)) == 1 and server.total() == 1
    finally:
        server.stop()


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (openssl), and its key."""
    cert, key = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.mark.parametrize("mode, server_option", [("MAIL_USE_TLS", "MP_SMTP_REQUIRE_STARTTLS"),
                                                 ("MAIL_USE_SSL", "MP_SMTP_REQUIRE_TLS")])
def test_tls_checks_the_certificate_and_sends_once_it_is_trusted(app, db, tmp_path, certificate,
                                                                 monkeypatch, mode, server_option):
    cert, key = certificate
    server = OwnMailpit(tmp_path, MP_SMTP_TLS_CERT=str(cert), MP_SMTP_TLS_KEY=str(key),
                        **{server_option: "true"})
    server.start()
    try:
        app.config.update(MAIL_SERVER=server.smtp_host, MAIL_PORT=server.smtp_port,
                          **{mode: True})
        row = queue(app, db, address())
        start = utcnow()
        # Not trusted (self-signed): nothing goes out in the clear, the mail waits.
        assert send_due(app, now=start).retrying == 1
        db.expire_all()
        assert db.get(MailMessage, row.id).last_error.startswith("TLS with the SMTP server failed")
        # Trusted (as a provider's certificate is): sent over TLS.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert send_due(app, now=start + timedelta(minutes=5)).sent == 1
        assert len(server.wait_for(row.to_address, 1)) == 1
    finally:
        server.stop()
