"""Editor console (being written)."""

from flask import Blueprint

from storefront.security import editor_required

bp = Blueprint("editor", __name__, url_prefix="/editor")


@bp.route("/")
@editor_required
def queue():
    return "queue"
