"""The editors' synonym page: adding and removing a line (audited, in force at
once, in every process), refused lines, who may use it, CSRF, and the start-up
that stops on a bad synonym file."""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from accounts.models import Role
from app import create_app
from listings.models import AuditEvent
from search.models import SynonymRule
from search.synonyms import SynonymFileError
from tests import factories
from tests.sql_counting import count_queries

PAGE = "/editor/search/synonyms"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR, name="Edna Editor")
    login(user)
    return user


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rules(db) -> list[str]:
    db.expire_all()
    return list(db.exec(select(SynonymRule.line).order_by(SynonymRule.id)).all())


def audit_events(db) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action.like("search.synonym_%"))
                        .order_by(AuditEvent.id)).all())


def searched_as(app, query: str) -> list[str]:
    """What the store in force makes of a one-concept query, as text."""
    concept = app.extensions["bazaar.synonyms"].current().expand(query.split())[0]
    return [" ".join(words) for words in concept.alternatives]


def test_the_page_shows_the_file_version_and_its_rules_and_is_in_the_console_nav(client, editor):
    page = text_of(client.get(PAGE))

    version = client.application.extensions["bazaar.synonyms"].file_set.file_version
    assert f"The curated list, version {version}" in page
    assert "<code>email, e-mail, mail, electronic mail</code>" in page
    assert "No editor has added a line yet." in page
    assert 'aria-current="page">Search synonyms</a>' in page
    assert 'name="line"' in page and "One way: “payslip => payroll”" in page


def test_an_editor_adds_a_line_it_is_audited_and_searches_use_it_at_once(app, client, db, editor):
    assert searched_as(app, "kudos") == ["kudos"]

    response = client.post(PAGE, data={"line": "  Kudos, Shout-Out, peer recognition "})

    assert response.status_code == 302
    page = text_of(client.get(PAGE))
    assert "Added “kudos, shout-out, peer recognition”. Searches use it from now on." in page
    assert "<code>kudos, shout-out, peer recognition</code>" in page and "Edna Editor" in page
    assert rules(db) == ["kudos, shout-out, peer recognition"]
    [event] = audit_events(db)
    assert (event.action, event.actor_id, event.detail) == (
        "search.synonym_add", editor.id, {"line": "kudos, shout-out, peer recognition"})
    assert searched_as(app, "kudos") == ["kudos", "shout out", "peer recognition"]
    assert "kudos, shout-out, peer recognition" in text_of(client.get("/editor/audit"))


def test_another_process_sees_the_new_line_through_the_database(app, client, db, editor,
                                                                database_url):
    other = create_app({"DATABASE_URL": database_url, "TESTING": True,
                        "SEARCH_SYNC_SENDER": "off", "MAIL_SENDER": "off",
                        "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off"})
    try:
        assert searched_as(other, "kudos") == ["kudos"]  # its cache now holds the old rules

        client.post(PAGE, data={"line": "kudos, shout-out"})
        assert searched_as(other, "kudos") == ["kudos", "shout out"]

        rule_id = db.exec(select(SynonymRule.id)).one()
        client.post(f"{PAGE}/{rule_id}/remove")
        assert searched_as(other, "kudos") == ["kudos"]
    finally:
        other.extensions["bazaar.engine"].dispose()


def test_searches_at_an_unchanged_catalog_version_do_not_ask_for_the_editors_lines(
        app, client, db, editor):
    """An editor's line changes the catalog's version (it is tracked like a listing), so
    while the version a search read is the one the rules were last checked at, the
    rules are those: no query about the editors' lines. A new line is a new version,
    checked and used by the very next search."""
    board = factories.make_listing(db, name="Kudos Board", tagline="Say thanks to your team")
    shown = f'data-slug="{board.slug}"'  # the name itself may come back highlighted
    client.get("/search?q=board")  # the rules, checked at this version
    with count_queries(app) as statements:
        page = text_of(client.get("/search?q=thanks"))
    assert shown in page
    assert not [statement for statement in statements if "search_synonyms" in statement]

    client.post(PAGE, data={"line": "kudos, shout-out"})
    with count_queries(app) as statements:
        page = text_of(client.get("/search?q=shout-out"))
    assert [statement for statement in statements if "search_synonyms" in statement]
    assert shown in page


def test_an_editor_removes_a_line_audited_and_searches_stop_using_it(app, client, db, editor):
    client.post(PAGE, data={"line": "kudos => peer recognition"})
    rule_id = db.exec(select(SynonymRule.id)).one()
    assert searched_as(app, "kudos") == ["kudos", "peer recognition"]

    response = client.post(f"{PAGE}/{rule_id}/remove", follow_redirects=True)

    assert "Removed “kudos => peer recognition”. Searches no longer use it." in text_of(response)
    assert rules(db) == []
    assert [(e.action, e.target_id, e.detail) for e in audit_events(db)] == [
        ("search.synonym_add", rule_id, {"line": "kudos => peer recognition"}),
        ("search.synonym_remove", rule_id, {"line": "kudos => peer recognition"})]
    assert searched_as(app, "kudos") == ["kudos"]
    # A second click on Remove is not an error.
    again = client.post(f"{PAGE}/{rule_id}/remove", follow_redirects=True)
    assert again.status_code == 200 and "already removed" in text_of(again)


@pytest.mark.parametrize("line, message", [
    ("kudos", ("A synonym line needs at least two terms, e.g. 'email, e-mail, mail' or "
               "'payslip => payroll'.")),
    ("kudos, , praise", "There is an empty term"),
    ("kudos => praise => thanks", "Use '=>' at most once on a line."),
    ("snapshot, photos", "'photos' is already in: photo, photograph, picture, image, pic"),
    ("payroll => payslip", "This rule would loop: payroll => payslip => payroll."),
    ("", "Type a synonym line, e.g. 'email, e-mail, mail'."),
])
def test_a_refused_line_is_shown_beside_the_field_as_typed_and_nothing_is_saved(
        app, client, db, editor, line, message):
    response = client.post(PAGE, data={"line": line})

    assert response.status_code == 400
    page = text_of(response)
    assert re.search(r'<p class="error" id="line-error">' + re.escape(message), page), page[-3000:]
    assert f'value="{line}"' in page  # what was typed stays in the field
    assert rules(db) == [] and audit_events(db) == []


def test_a_line_that_loops_with_an_editors_line_is_refused(client, db, editor):
    client.post(PAGE, data={"line": "kudos => praise"})

    response = client.post(PAGE, data={"line": "praise => kudos"})

    assert response.status_code == 400
    assert "This rule would loop: praise => kudos => praise." in text_of(response)
    assert rules(db) == ["kudos => praise"]


def test_an_editors_line_that_a_newer_file_contradicts_is_skipped_not_fatal(app, client, db,
                                                                            editor, caplog):
    # Added when the file did not say "snapshot"; the deployed file now does.
    db.add(SynonymRule(line="photo, snapshot", created_by=editor.id))
    db.commit()

    with caplog.at_level(logging.WARNING, logger="search.synonyms"):
        assert searched_as(app, "photo")[:3] == ["photo", "photograph", "picture"]
    assert "snapshot" not in searched_as(app, "photo")
    assert "search synonym line" in caplog.text and "'photo' is already in" in caplog.text
    page = text_of(client.get(PAGE))
    assert "Not in use: it conflicts with the list file." in page


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_only_editors_may_use_the_page(client, db, login, role):
    login(factories.make_user(db, role=role))

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"line": "kudos, praise"}).status_code == 403
    assert rules(db) == []


def test_visitors_are_sent_to_sign_in(client, db):
    response = client.post(PAGE, data={"line": "kudos, praise"})

    assert response.status_code == 302 and "/account/login" in response.location
    assert rules(db) == []


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_adding_and_removing_need_the_csrf_token(client, db, app_overrides):
    editor = factories.make_user(db, role=Role.EDITOR)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      text_of(client.get("/account/login"))).group(1)
    client.post("/account/login", data={"email": editor.email, "password": factories.PASSWORD,
                                        "csrf_token": token})

    assert client.post(PAGE, data={"line": "kudos, praise"}).status_code == 400
    assert rules(db) == []

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      text_of(client.get(PAGE))).group(1)
    assert client.post(PAGE, data={"line": "kudos, praise", "csrf_token": token}).status_code == 302
    rule_id = db.exec(select(SynonymRule.id)).one()
    assert client.post(f"{PAGE}/{rule_id}/remove").status_code == 400
    assert rules(db) == ["kudos, praise"]


# --- start-up ---------------------------------------------------------------------------


def test_create_app_refuses_a_bad_synonym_file(database_url, tmp_path):
    bad = tmp_path / "synonyms.txt"
    bad.write_text("# version: 1\nemail, mail\nmail, post\n", encoding="utf-8")

    with pytest.raises(SynonymFileError, match=re.escape(f"{bad}:3: 'mail' is already in")):
        create_app({"DATABASE_URL": database_url, "SEARCH_SYNONYMS_FILE": str(bad)})


@pytest.mark.parametrize("content, expected", [
    (None, "{path}: the synonym file does not exist (SEARCH_SYNONYMS_FILE)"),
    ("# version: 1\nphoto, picture\nphoto\n",
     ("{path}:3: A synonym line needs at least two terms, e.g. 'email, e-mail, mail' or "
      "'payslip => payroll'.")),
])
def test_start_up_stops_with_one_line_naming_the_synonym_file(tmp_path, content, expected):
    path = tmp_path / "synonyms.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    env = {**os.environ, "SEARCH_SYNONYMS_FILE": str(path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bazaar.db'}"}

    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "routes"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 1
    assert result.stderr.strip() == "Bazaar cannot start: " + expected.format(path=path)
