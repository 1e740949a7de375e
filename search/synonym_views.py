"""The editors' synonym page: the curated file's rules (read only), the lines
editors added, and a form to add or remove one without a deploy.

Editors and admins only (``editor_required``). ``SynonymStore`` checks a line and
writes the audit event; the view commits. A refused line is shown beside the
field with status 400, as typed, and nothing is written.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from core.db import get_session
from core.security import editor_required
from search.models import SynonymRule
from search.synonym_forms import SynonymLineForm
from search.synonyms import SynonymLineError, SynonymStore

bp = Blueprint("synonyms", __name__, url_prefix="/editor/search/synonyms")


def _store() -> SynonymStore:
    return current_app.extensions["bazaar.synonyms"]


def _render(form: SynonymLineForm | None = None, status: int = 200):
    store = _store()
    return render_template("search/synonyms.html", form=form or SynonymLineForm(),
                           file_set=store.file_set,
                           editor_rules=store.editor_rules(get_session())), status


@bp.route("", methods=["GET", "POST"])
@editor_required
def page():
    """The synonym rules in force, and the form that adds an editor's line."""
    form = SynonymLineForm()
    if not form.is_submitted():
        return _render(form)
    if not form.validate():
        return _render(form, 400)
    session = get_session()
    try:
        line = _store().add(session, form.line.data, current_user).line
    except SynonymLineError as error:
        form.line.errors.append(str(error))
        return _render(form, 400)
    session.commit()
    flash(f"Added “{line}”. Searches use it from now on.", "success")
    return redirect(url_for("synonyms.page"))


@bp.route("/<int:rule_id>/remove", methods=["POST"])
@editor_required
def remove(rule_id: int):
    """Remove an editor's line. One that is gone already (a second click) is no error."""
    session = get_session()
    rule = session.get(SynonymRule, rule_id)
    if rule is None:
        flash("That synonym line was already removed.", "info")
        return redirect(url_for("synonyms.page"))
    line = rule.line
    _store().remove(session, rule, current_user)
    session.commit()
    flash(f"Removed “{line}”. Searches no longer use it.", "success")
    return redirect(url_for("synonyms.page"))
