"""Admin: the users list and their roles.

Only admins (``admin_required``). Role rules, including "the last admin keeps
the admin role" so nobody can lock the admins out, live in
``accounts.services.change_role``; every change is written to the audit log.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from accounts.models import Role, User
from accounts.services import AccountError, change_role
from core.db import get_session
from core.pagination import page_count, page_number
from core.security import admin_required
from listings.services import audit
from storefront.forms import RoleForm
from storefront.queries import partner_name, partner_names, users_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

NO_PARTNER = 0  # the partner select's "none" choice (the field coerces to int)


def _role_form(user: User, partners: dict[int, str], submitted: bool = False) -> RoleForm:
    """The role form of one user; its prefix keeps field ids unique on the list page.
    ``partners`` is every partner's name by id, in the order the select shows them."""
    prefix = f"user-{user.id}"
    if submitted:
        form = RoleForm(prefix=prefix)
    else:
        form = RoleForm(prefix=prefix, formdata=None, role=user.role,
                        partner_id=user.partner_id or NO_PARTNER)
    form.partner_id.choices = [SelectChoice(NO_PARTNER, "No organisation")] + [
        SelectChoice(partner_id, name) for partner_id, name in partners.items()]
    return form


def _render_users(status: int = 200, failed: tuple[int, RoleForm] | None = None):
    """The users page; ``failed`` is (user id, form) of a change that was refused."""
    session = get_session()
    query_text = request.args.get("q", "").strip()
    page = page_number()
    per_page = current_app.config.get("PAGE_SIZE", 24)
    found = users_page(session, query_text, page, per_page)
    rows, total = found.users, found.total
    if failed and failed[0] not in {user.id for user in rows}:
        # The refused user is off this page: show it first so its message is seen.
        rows = [session.get(User, failed[0]), *rows]
    partners = partner_names(session)
    forms = {user.id: _role_form(user, partners) for user in rows}
    if failed:
        forms[failed[0]] = failed[1]
    return render_template("storefront/admin/users.html", users=rows, forms=forms, total=total,
                           page=page, pages=page_count(total, per_page), q=query_text,
                           partner_names=partners), status


@bp.route("/users")
@admin_required
def users():
    """Every account, searchable by email, each with its role form."""
    return _render_users()


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def change_user_role(user_id: int):
    """Give a user a new role (and partner organisation for partner members)."""
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    form = _role_form(user, partner_names(session), submitted=True)
    if not form.validate_on_submit():
        if form.role.errors:
            form.role.errors = ["Choose one of the roles in the list."]
        if form.partner_id.errors:
            form.partner_id.errors = ["Choose a partner organisation from the list."]
        return _render_users(400, (user.id, form))
    role = Role(form.role.data)
    partner_id = form.partner_id.data or None
    if role == user.role and (partner_id if role == Role.PARTNER else None) == user.partner_id:
        flash(f"{user.display_name} already has that role.", "info")
        return redirect(url_for("admin.users", q=request.args.get("q") or None))
    previous_role = user.role
    try:
        change_role(session, user, role, partner_id)
    except AccountError as error:
        field = form.partner_id if error.field == "partner_id" else form.role
        field.errors.append(str(error))
        return _render_users(400, (user.id, form))
    audit(session, current_user, "user.role_changed", user, role=role.value,
          partner_id=user.partner_id, previous_role=previous_role)
    session.commit()
    flash(f"{user.display_name} is now {_role_words(user, session)}.", "success")
    if not current_user.is_admin:
        # An admin who stepped down can no longer see this page.
        return redirect(url_for("editor.queue") if current_user.is_editor else url_for("storefront.home"))
    return redirect(url_for("admin.users", q=request.args.get("q") or None))


def _role_words(user: User, session) -> str:
    if user.role == Role.PARTNER:
        name = partner_name(session, user.partner_id)
        return f"a partner member of {name}" if name else "a partner member"
    return f"an {user.role}" if user.role in (Role.EDITOR, Role.ADMIN) else f"a {user.role}"
