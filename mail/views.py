"""/admin/mail: what the mail outbox holds, for admins. Without a MAIL_SERVER this is
where mail is read (rendered, with its links); with one, it shows what was sent and
what failed, and a failed message can be queued again."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from core.db import get_session
from core.pagination import page_count, page_number
from core.security import admin_required
from mail.models import MailMessage, MailStatus
from mail.preview import safe_preview
from mail.queries import mail_counts, mail_page
from mail.services import NotRetryable, retry_message

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")

STATUSES = [status.value for status in MailStatus]


@bp.route("")
@admin_required
def messages():
    """Every message, newest first, filtered by ``?status=``."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        status = None
    session = get_session()
    page = page_number()
    per_page = current_app.config.get("PAGE_SIZE", 24)
    found = mail_page(session, status, page, per_page)
    return render_template("mail_admin/messages.html", messages=found.messages,
                           total=found.total, page=page, pages=page_count(found.total, per_page),
                           status=status, statuses=STATUSES, counts=mail_counts(session),
                           mail_server=current_app.config.get("MAIL_SERVER"))


@bp.route("/<int:message_id>")
@admin_required
def message(message_id: int):
    """One message: its headers, the text part and the HTML part, rendered safely."""
    found = get_session().get(MailMessage, message_id)
    if found is None:
        abort(404)
    return render_template("mail_admin/message.html", message=found,
                           preview=safe_preview(found.html_body),
                           retryable=found.status in (MailStatus.FAILED, MailStatus.HELD),
                           mail_server=current_app.config.get("MAIL_SERVER"))


@bp.route("/<int:message_id>/retry", methods=["POST"])
@admin_required
def retry(message_id: int):
    """Queue a failed (or held) message again."""
    session = get_session()
    found = session.get(MailMessage, message_id)
    if found is None:
        abort(404)
    try:
        retry_message(session, found)
    except NotRetryable:
        flash(f"This message is {found.status}: only failed or held mail can be sent again.",
              "error")
        return redirect(url_for("mail.message", message_id=message_id)), 303
    session.commit()
    if current_app.config.get("MAIL_SERVER"):
        flash("Queued again: it goes out within a minute.", "success")
    else:
        flash("Queued again, but MAIL_SERVER is not set: it stays held here.", "warning")
    return redirect(url_for("mail.message", message_id=message_id)), 303
