"""``flask --app app mail status|send|retry`` as an operator uses them (sending over
real SMTP is in tests/integration/test_mail_smtp.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import utcnow
from mail.compose import queue_mail
from mail.models import MailMessage, MailStatus


def queue(app, db, status: MailStatus | None = None, **kwargs) -> MailMessage:
    with app.app_context():
        row = queue_mail(db, to="ada@example.com", kind="trial_ending", template="notice",
                         context={"subject": "Trial ending", "paragraphs": []}, **kwargs)
    if status:
        row.status = status
        db.add(row)
    db.commit()
    return row


def test_status_counts_every_state_and_says_where_held_mail_is(app, db, runner):
    queue(app, db)  # held: no MAIL_SERVER
    queue(app, db, MailStatus.FAILED)
    queue(app, db, MailStatus.SENT)
    old = queue(app, db, MailStatus.QUEUED)
    old.created_at = utcnow() - timedelta(hours=3)
    db.add(old)
    db.commit()
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0, result.output
    assert "queued: 1, held: 1, sending: 0, sent: 1, failed: 1" in result.output
    assert "oldest queued: 3 h ago" in result.output
    assert "MAIL_SERVER is not set" in result.output
    assert "http://127.0.0.1:5000/admin/mail" in result.output


def test_send_without_a_mail_server_holds_queued_mail(app, db, runner):
    row = queue(app, db, MailStatus.QUEUED)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "held 1" in result.output and "/admin/mail" in result.output
    db.expire_all()
    assert db.get(MailMessage, row.id).status == MailStatus.HELD


@pytest.mark.parametrize("app_overrides", [{"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 9,
                                            "MAIL_SEND_TIMEOUT": 2.0}])
def test_send_with_the_server_away_keeps_the_mail_waiting(app, db, runner):
    row = queue(app, db)
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 0, retrying 1, failed 0" in result.output
    assert "tried again" in result.output
    db.expire_all()
    waiting = db.get(MailMessage, row.id)
    assert (waiting.status, waiting.attempts) == (MailStatus.QUEUED, 1)
    assert waiting.next_attempt_at > utcnow()


def test_retry_queues_one_failed_message(app, db, runner):
    row = queue(app, db, MailStatus.FAILED)
    row.attempts = 16
    db.add(row)
    db.commit()
    result = runner.invoke(args=["mail", "retry", str(row.id)])
    assert result.exit_code == 0, result.output
    assert f"Queued again: message {row.id} (trial_ending)." in result.output
    db.expire_all()
    again = db.get(MailMessage, row.id)
    assert (again.status, again.attempts) == (MailStatus.QUEUED, 0)


def test_retry_failed_and_held_queue_every_such_message(app, db, runner):
    failed = [queue(app, db, MailStatus.FAILED) for _ in range(2)]
    held = queue(app, db)
    sent = queue(app, db, MailStatus.SENT)
    result = runner.invoke(args=["mail", "retry", "--failed"])
    assert result.exit_code == 0 and "Queued again: 2 failed messages." in result.output
    result = runner.invoke(args=["mail", "retry", "--held"])
    assert result.exit_code == 0 and "Queued again: 1 held message." in result.output
    db.expire_all()
    assert {db.get(MailMessage, row.id).status for row in [*failed, held]} == {MailStatus.QUEUED}
    assert db.get(MailMessage, sent.id).status == MailStatus.SENT


@pytest.mark.parametrize("args, code, words", [
    ([], 2, "give one message ID, or --failed, or --held"),
    (["1", "--failed"], 2, "give one message ID, or --failed, or --held"),
    (["--failed", "--held"], 2, "give one message ID, or --failed, or --held"),
    (["zero"], 2, "is not a valid integer"),
    (["0"], 2, "is not in the range"),
    (["999"], 1, "no message 999"),
])
def test_retry_refuses_bad_input_clearly(app, db, runner, args, code, words):
    result = runner.invoke(args=["mail", "retry", *args])
    assert result.exit_code == code
    assert words in result.output


def test_retry_never_sends_sent_mail_again(app, db, runner):
    row = queue(app, db, MailStatus.SENT)
    result = runner.invoke(args=["mail", "retry", str(row.id)])
    assert result.exit_code == 1
    assert "is sent: only failed or held mail can be retried" in result.output
    db.expire_all()
    assert db.get(MailMessage, row.id).status == MailStatus.SENT


@pytest.mark.parametrize("app_overrides", [{"MAIL_SENDER": "thread"}])
def test_without_a_mail_server_no_sender_thread_runs(app):
    from mail.sender import sender_of

    assert app.config["MAIL_SENDER"] == "thread" and sender_of(app) is None
