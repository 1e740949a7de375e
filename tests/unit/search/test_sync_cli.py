"""`flask search sync` and `flask search status` tell an operator (and cron)
plainly when something is wrong: a non-zero exit and one clear line each."""

from __future__ import annotations

import pytest

from search import sync
from tests import factories


def test_sync_exits_non_zero_when_another_process_holds_a_lease(app, db, runner):
    assert sync.claim(db, "embedded")  # a rebuild, say, is running
    factories.make_listing(db, name="Waiting")

    result = runner.invoke(args=["search", "sync"])

    assert result.exit_code == 1
    assert ("embedded: not synced: another process holds its lease (a sync or a rebuild); "
            "its rows wait. Try again shortly.") in result.output
    assert sync.pending_counts(db, ["embedded"])["embedded"] > 0

    sync.release(db, "embedded")
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert sync.pending_counts(db, ["embedded"])["embedded"] == 0


class TestStatusWhenOpenSearchIsDown:
    @pytest.fixture
    def app_overrides(self):
        # Port 9 (discard) refuses connections; the password must never be shown.
        return {"OPENSEARCH_URL": "http://search:hunter2@127.0.0.1:9", "OPENSEARCH_TIMEOUT": 0.3}

    def test_status_says_which_url_is_unreachable_and_exits_non_zero(self, app, runner):
        result = runner.invoke(args=["search", "status"])

        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert "opensearch: unreachable at http://127.0.0.1:9, 0 pending changes" in lines
        assert "embedded: 0 documents, 0 pending changes" in lines
        assert "Traceback" not in result.output and "ConnectionError" not in result.output
        assert "hunter2" not in result.output
