"""`flask catalog import` and `flask catalog export`: exit codes, messages, and
an imported catalog that is live at once."""

from __future__ import annotations

import json

from sqlmodel import func, select

from app import create_app
from listings.models import Listing, ListingStatus, Partner, Screenshot
from tests import factories


def write_lines(path, *records) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records), encoding="utf-8")
    return str(path)


def record(slug: str, **fields) -> dict:
    values = {
        "slug": slug, "name": slug.replace("-", " ").title(), "tagline": "Does one job well.",
        "description": "A **useful** app.\n\n- One\n- Two", "category": "Productivity",
        "partner": "Tidewater Software", "tags": ["notes"],
        "pricing": {"model": "usage", "currency": "usd", "unit_name": "active user",
                    "unit_price": 200, "included_units": 5},
        "releases": [{"version": "2.1.0", "redirect_url": "https://tidewater.example.com/cb",
                      "scopes": [{"scope": "files:read", "justification": "To preview files."}]}],
    }
    values.update(fields)
    return values


def listing_count(db) -> int:
    return db.exec(select(func.count()).select_from(Listing)).one()


def test_import_makes_listings_live(runner, client, db, tmp_path):
    image = tmp_path / "shot.png"
    image.write_bytes(factories.image_bytes(size=(400, 250)))
    path = write_lines(tmp_path / "catalog.jsonl",
                       record("scratchpad", screenshots=[{"path": "shot.png",
                                                          "caption": "Notes view"}]),
                       record("daily-digest", status="draft"))

    result = runner.invoke(args=["catalog", "import", path])

    assert result.exit_code == 0, result.output
    assert "Imported 2 listings; skipped 0 invalid lines." in result.output
    page = client.get("/apps/scratchpad")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Scratchpad" in html and "Does one job well." in html
    shot = db.exec(select(Screenshot)).one()
    image_response = client.get(f"/media/screenshots/{shot.filename}")
    image_response.close()  # send_file keeps the file open until then
    assert image_response.status_code == 200
    assert client.get("/apps/daily-digest").status_code == 404  # drafts stay hidden


def test_bad_line_means_nothing_imported_and_a_failing_exit(runner, db, tmp_path):
    path = write_lines(tmp_path / "catalog.jsonl", record("good-one"),
                       record("bad-one", status="live", pricing={"model": "flat_monthly"}),
                       "not json at all")

    result = runner.invoke(args=["catalog", "import", path])

    assert result.exit_code == 1
    assert "line 2: status: unknown status 'live'" in result.output
    assert "line 2: pricing.monthly_price: a flat monthly plan needs a price above zero" \
        in result.output
    assert "line 3: json: not valid JSON" in result.output
    assert "Nothing was imported: 2 of 3 lines had errors." in result.output
    assert "--skip-invalid" in result.output
    assert listing_count(db) == 0


def test_skip_invalid_imports_the_rest(runner, db, tmp_path):
    path = write_lines(tmp_path / "catalog.jsonl", record("good-one"),
                       record("missing-shot", screenshots=[{"path": "gone.png"}]),
                       record("good-two"))

    result = runner.invoke(args=["catalog", "import", path, "--skip-invalid"])

    assert result.exit_code == 0, result.output
    assert "line 2: screenshots[0].path: cannot read gone.png" in result.output
    assert "Imported 2 listings; skipped 1 invalid line." in result.output
    assert set(db.exec(select(Listing.slug)).all()) == {"good-one", "good-two"}


def test_names_that_make_one_slug_are_imported_each_with_its_own(runner, client, db, tmp_path):
    # A catalog of packages has "@types/node" and "types-node": one slug made from
    # two names. Both are imported, and the output says which slug each got.
    path = write_lines(tmp_path / "catalog.jsonl",
                       {**record("x"), "slug": None, "name": "@types/node"},
                       {**record("x"), "slug": None, "name": "types-node"})

    result = runner.invoke(args=["catalog", "import", path])

    assert result.exit_code == 0, result.output
    assert "line 2: slug: 'types-node' is another listing's; this one is 'types-node-2'" \
        in result.output
    assert "Imported 2 listings; skipped 0 invalid lines." in result.output
    assert "types-node" in client.get("/apps/types-node-2").get_data(as_text=True)

    again = runner.invoke(args=["catalog", "import", path])  # the same file a second time
    assert again.exit_code == 1
    assert ("line 1: slug: 'types-node' is already in the catalog, for a listing of the "
            "same name and partner") in again.output
    assert listing_count(db) == 2


def test_import_of_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["catalog", "import", str(tmp_path / "nope.jsonl")])

    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_export_to_stdout_and_to_a_file(runner, db, tmp_path):
    first = factories.make_listing(db, slug="first-app", status=ListingStatus.DRAFT)
    factories.make_listing(db, slug="second-app")

    result = runner.invoke(args=["catalog", "export"])

    assert result.exit_code == 0, result.output
    records = [json.loads(text) for text in result.stdout.splitlines()]
    assert [r["slug"] for r in records] == ["first-app", "second-app"]
    assert records[0]["status"] == "draft"
    assert records[0]["partner"] == db.get(Partner, first.partner_id).name
    assert records[1]["releases"][0]["scopes"][0]["scope"] == "contacts:read"

    out = tmp_path / "out.jsonl"
    result = runner.invoke(args=["catalog", "export", "--output", str(out)])
    assert result.exit_code == 0
    assert "Exported 2 listings" in result.output
    assert [json.loads(text)["slug"] for text in out.read_text().splitlines()] == [
        "first-app", "second-app"]


def test_export_then_import_round_trips_through_the_cli(runner, db, tmp_path):
    factories.make_listing(db, slug="kept", pricing_model="flat_monthly", monthly_price=2900,
                           currency="gbp", trial_days=7)
    out = tmp_path / "out.jsonl"
    assert runner.invoke(args=["catalog", "export", "-o", str(out)]).exit_code == 0

    # Importing into the same catalog: every slug is taken.
    result = runner.invoke(args=["catalog", "import", str(out)])
    assert result.exit_code == 1
    assert "line 1: slug: 'kept' is already in the catalog" in result.output

    text = out.read_text().replace('"kept"', '"kept-copy"')
    result = runner.invoke(args=["catalog", "import", write_lines(tmp_path / "copy.jsonl",
                                                                   text.strip())])
    assert result.exit_code == 0, result.output
    copy = db.exec(select(Listing).where(Listing.slug == "kept-copy")).one()
    assert (copy.pricing_model, copy.monthly_price, copy.currency, copy.trial_days) == (
        "flat_monthly", 2900, "gbp", 7)


def test_catalog_commands_need_a_migrated_database(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    try:
        result = app.test_cli_runner().invoke(args=["catalog", "export"])
    finally:
        app.extensions["bazaar.engine"].dispose()

    assert result.exit_code == 1
    assert "The database has not been migrated yet. Run `flask --app app db upgrade` first." \
        in result.output
