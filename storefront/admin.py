"""Admin: manage users' roles (being written)."""

from flask import Blueprint

from storefront.security import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@admin_required
def users():
    return "users"
