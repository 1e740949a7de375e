"""The catalog and its governance: partners, listings, releases, reviews,
badges, collections; the partner portal and the editor console."""

from __future__ import annotations

from flask import Flask

import listings.catalog_cache  # noqa: F401  (its session hooks version the catalog)
from listings.card_text import price, stars
from listings.card_tiles import card_tiles, listing_icon_url
from listings.cli import catalog_cli, listings_cli
from listings.collection_views import bp as collections_bp
from listings.editor_views import bp as editor_bp
from listings.listing_preview import listing_preview
from listings.partner_views import bp as partner_bp
from listings.plan_views import bp as plans_bp
from listings.prune import SETTINGS_KEY
from listings.prune_rules import load_prune_settings
from listings.prune_views import bp as pruning_bp
from listings.review_moderation_views import bp as review_moderation_bp
from listings.scopes import REGIONS, describe_scope, is_write_scope


def init_app(app: Flask) -> None:
    # The scope and region words every page that shows an app's consent uses.
    app.jinja_env.globals.update(describe_scope=describe_scope, is_write_scope=is_write_scope,
                                 REGIONS=REGIONS)
    # An app's price and rating as every card and app page writes them; the tiles of
    # a grid (templates/_card_tiles.html) and an app's icon.
    app.jinja_env.globals.update(price=price, stars=stars, card_tiles=card_tiles,
                                 listing_icon_url=listing_icon_url)
    # The partner listing form's preview (templates/listings/partner/_listing_preview.html).
    app.jinja_env.globals["listing_preview"] = listing_preview
    # The PRUNE_* settings, already checked at start-up by core/settings.py.
    app.extensions[SETTINGS_KEY] = load_prune_settings(app.config)

    app.register_blueprint(partner_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(collections_bp)
    app.register_blueprint(pruning_bp)
    app.register_blueprint(review_moderation_bp)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(listings_cli)
