"""Installs: installing an app into a workspace with the admin's consent, trials,
install tokens, approving new scopes, and deleting an account (which revokes the
installs of the workspaces it empties).

It sits above ``listings`` and below ``billing``, ``webhooks`` and ``api``: what those
must hear about an install, installs write as ``InstallEvent`` rows that they
consume (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask

from installs.cli import installs_cli
from installs.listing_facts import ListingFacts
from installs.models import Install
from installs.partner_views import bp as partner_installs_bp
from listings.ports import plug_installs
from search.sync import watch


def init_app(app: Flask) -> None:
    # Listings ask about installs through their port; search re-indexes a listing
    # whose installs change (its document counts them).
    plug_installs(app, ListingFacts())
    watch(Install)
    app.cli.add_command(installs_cli)
    app.register_blueprint(partner_installs_bp)
