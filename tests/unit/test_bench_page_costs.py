"""``bench/page-costs``: what it refuses, and its worker against a small database built
as ``bench/pages`` keeps one. No timing is asserted: speed is the benchmark's business."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import upgrade_database
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "page-costs"
WORKER = ROOT / "bench" / "_page_costs_worker.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: --against"),
    (["--against", "HEAD", "--rounds", "0"], "--rounds must be at least 1"),
    (["--against", "HEAD", "--size", "5"], "--size must be at least 100"),
    (["--against", "HEAD", "--kept", "/nonexistent"], "no bazaar.db there"),
])
def test_bad_arguments_are_refused_with_a_reason(args, message):
    completed = run(*args)
    assert completed.returncode == 2
    assert message in completed.stderr


def test_an_unknown_revision_is_refused_naming_it(tmp_path):
    (tmp_path / "bazaar.db").write_bytes(b"")
    completed = run("--against", "no-such-revision-xyz", "--kept", str(tmp_path))
    assert completed.returncode == 1
    assert "git cannot check out 'no-such-revision-xyz'" in completed.stderr


def test_the_worker_prints_a_cost_for_every_page_kind(tmp_path, monkeypatch):
    """Against a small database laid out as `bench/pages --keep` leaves it."""
    from sqlmodel import Session, create_engine

    url = f"sqlite:///{tmp_path / 'bazaar.db'}"
    upgrade_database(url)
    engine = create_engine(url)
    with Session(engine) as db:
        category = factories.make_category(db, name="Deals")
        listings = [factories.make_listing(db, category=category, name=f"Deals Tool {n}",
                                           description="Find deals and invoices.")
                    for n in range(3)]
        factories.make_collection(db, listings, name="Best deals")
    engine.dispose()
    completed = subprocess.run(
        [sys.executable, str(WORKER), str(ROOT), str(tmp_path), "kept", "1"],
        capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    costs = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(costs) == {"home", "categories", "category", "collection", "listing", "search",
                          "search-filtered", "suggest"}
    assert all(cost > 0 for cost in costs.values())
