"""Migration 0027 on a database with price plans: each listing with plans gets what
its card says (the cheapest monthly plan, else a yearly one; the cheapest unit price
for usage; how many plans), the others keep their price columns; the way back drops
the columns."""

from alembic import command
from sqlalchemy import inspect, text

from core.db import alembic_config, make_engine, upgrade_database
from tests.unit.core.migration_data import database_with_listings

PLANS = [  # listing id, name, interval, price, unit price, position, retired
    (1, "Pro", "month", 7900, 0, 0, None),
    (1, "Basic", "month", 2900, 0, 1, None),
    (1, "Basic", "year", 24000, 0, 2, None),
    (1, "Cheap", "month", 900, 0, 3, "2026-02-01"),  # retired: not offered
    (2, "Standard", "year", 29000, 0, 0, None),
    (3, "Small", "month", 0, 5, 0, None),
    (3, "Volume", "month", 0, 2, 1, None),
]


def test_cards_get_their_plans_price_and_it_reverses(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0026", [
        {"name": f"App {n}", "slug": f"app-{n}", "description": "", "status": "published"}
        for n in range(4)])
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE listings SET pricing_model = 'flat_monthly' "
                                "WHERE id IN (1, 2)"))
        connection.execute(text("UPDATE listings SET pricing_model = 'usage' WHERE id = 3"))
        for listing_id, name, interval, price, unit_price, position, retired in PLANS:
            connection.execute(text(
                "INSERT INTO listing_plans (listing_id, name, interval, price, unit_price, "
                "included_units, position, created_at, retired_at) VALUES (:l, :n, :i, :p, "
                ":u, 0, :pos, '2026-01-01', :r)"),
                {"l": listing_id, "n": name, "i": interval, "p": price, "u": unit_price,
                 "pos": position, "r": retired})
    engine.dispose()

    upgrade_database(url, "0027")
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT card_price, card_interval, plan_count "
                                       "FROM listings ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        (2900, "month", 3), (29000, "year", 1), (2, "month", 2), (None, None, 1)]

    command.downgrade(alembic_config(url), "0026")
    engine = make_engine(url)
    columns = {column["name"] for column in inspect(engine).get_columns("listings")}
    engine.dispose()
    assert not columns & {"card_price", "card_interval", "plan_count"}
