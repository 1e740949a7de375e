"""Installs: installing an app into a workspace with the admin's consent, trials,
install tokens, approving new scopes, and deleting an account (which revokes the
installs of the workspaces it empties).

It sits above ``listings`` and below ``billing``, ``webhooks`` and ``api``: what those
must hear about an install, installs write as ``InstallEvent`` rows that they
consume (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask

from installs.cli import installs_cli


def init_app(app: Flask) -> None:
    app.cli.add_command(installs_cli)
