"""Partner portal (being written)."""

from flask import Blueprint

from storefront.security import partner_required

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.route("/")
@partner_required
def dashboard():
    return "dashboard"
