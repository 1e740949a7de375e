"""Demo data for trying Bazaar out: ``flask demo load`` fills an empty database with a
believable catalog and one user per role. Not part of the marketplace's domain: no
package of the app imports it."""

from __future__ import annotations

from flask import Flask

from demo.cli import demo_cli


def init_app(app: Flask) -> None:
    """Register ``flask demo``."""
    app.cli.add_command(demo_cli)
