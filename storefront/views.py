"""Storefront pages (being written)."""

from flask import Blueprint, render_template

bp = Blueprint("storefront", __name__)


@bp.route("/")
def home():
    return render_template("storefront/error.html", status=200, title="Bazaar", message="Home")


@bp.route("/categories")
def categories():
    return home()
