"""``bench/listing-latency``: what it refuses, and a short real run against this very
revision on a small database laid out as ``bench/pages --keep`` leaves it. No timing
is asserted: speed is the benchmark's business."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import upgrade_database
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "listing-latency"


def run(*args: str, timeout: float = 60, tmpdir: Path | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_URL", "OPENSEARCH_", "SEARCH_"))}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: --against"),
    (["--against", "HEAD"], "give --sqlite, --postgres or both"),
    (["--against", "HEAD", "--sqlite", "/nonexistent"], "no bazaar.db there"),
    (["--against", "HEAD", "--postgres", "mysql://x"], "--postgres takes a PostgreSQL URL"),
    (["--against", "HEAD", "--postgres", "postgresql://x", "--rounds", "0"],
     "--rounds must be at least 1"),
    (["--against", "HEAD", "--postgres", "postgresql://x", "--seconds", "0"],
     "--seconds above 0"),
])
def test_bad_arguments_are_refused_with_a_reason(args, message):
    completed = run(*args)
    assert completed.returncode == 2
    assert message in completed.stderr


def test_an_unknown_revision_is_refused_naming_it(tmp_path):
    (tmp_path / "bazaar.db").write_bytes(b"")
    completed = run("--against", "no-such-revision-xyz", "--sqlite", str(tmp_path))
    assert completed.returncode == 1
    assert "git cannot check out 'no-such-revision-xyz'" in completed.stderr


def test_a_short_run_serves_both_revisions_and_prints_their_figures(tmp_path):
    url = f"sqlite:///{tmp_path / 'bazaar.db'}"
    upgrade_database(url)
    from sqlmodel import Session, create_engine

    engine = create_engine(url)
    with Session(engine) as db:
        for n in range(5):
            factories.make_listing(db, name=f"Ledger Tool {n}")
    engine.dispose()
    (tmp_path / "uploads").mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    completed = run("--against", "HEAD", "--sqlite", str(tmp_path), "--seconds", "0.5",
                    "--rounds", "1", timeout=240, tmpdir=scratch)

    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    rows = re.findall(r"^\| SQLite \| (\S+)[^|]*\| ([\d,]+) \| (\d+) \|", completed.stdout,
                      re.MULTILINE)
    assert len(rows) == 2, completed.stdout[-2000:]
    assert rows[0][0] == "HEAD"
    for _revision, requests, errors in rows:
        assert int(requests.replace(",", "")) > 0 and errors == "0"
    # A run without failed requests keeps nothing: its gunicorn logs only matter
    # when it names them.
    assert sorted(path.name for path in scratch.iterdir()) == []
