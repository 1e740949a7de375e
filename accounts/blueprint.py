"""The accounts blueprint (/account), shared by its view modules: signing in and out
(accounts/views.py), mailed links (accounts/recovery_views.py) and the settings page
(accounts/settings_views.py). No view module imports another."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")
