"""End-to-end fixtures: a live Bazaar under gunicorn and Debian's Chromium
driven by Playwright.

The server runs on a fresh SQLite database loaded with the demo catalog, the
way the README's run command serves it. It sends mail to the Mailpit the test
command started (``BAZAAR_TEST_MAIL_SMTP``), whose API the ``mailpit`` fixture reads. Chromium comes from Debian
(``CHROMIUM_PATH``, default /usr/bin/chromium): Playwright's own browser
download does not work here. A missing browser fails the run; it never skips.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from demo.data import DEMO_PASSWORD
from tests.mailpit import Mailpit

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "e2e" / "artifacts"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# axe-core, installed (pinned) by scripts/axe-core, which scripts/test runs.
AXE_SCRIPT = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAILING_IMPACTS = ("serious", "critical")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)


class LiveServer(str):
    """The base URL of a running Bazaar (a ``str``), with the environment its
    commands need: ``flask(...)`` runs a CLI command against the same database."""

    env: dict

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                              env=self.env, check=True, capture_output=True, text=True)


def _server_env(workdir: Path) -> dict:
    """A Bazaar's environment on the SQLite database and uploads in ``workdir``; its
    local search index goes beside the database (``SEARCH_INDEX_DIR``'s default)."""
    return {
        **os.environ,
        "BAZAAR_ENV": "local",
        "SECRET_KEY": "e2e-secret-key",
        "DATABASE_URL": f"sqlite:///{workdir / 'bazaar.db'}",
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        # Journeys sign in several times from one address.
        "LOGIN_RATE_LIMIT": "200 per minute",
        # As in production: web processes only enqueue, a worker process sends.
        "BACKGROUND_WORK": "worker",
    }


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory) -> Path:
    """A folder with the demo catalog made as ``scripts/run`` makes it (``flask db
    upgrade`` and ``flask demo load``: its database, local search index and
    screenshots), made once and copied for each live server: making it takes about
    7 seconds, and the journeys start seven servers."""
    folder = tmp_path_factory.mktemp("demo-catalog")
    env = {key: value for key, value in _server_env(folder).items()
           if key not in ("OPENSEARCH_URL", "OPENSEARCH_INDEX")}
    _flask(env, "db", "upgrade")
    _flask(env, "demo", "load")
    return folder


def _start_server(workdir: Path, demo: Path, opensearch: bool = True):
    """Start gunicorn on a copy of the ``demo`` catalog; yields the ``LiveServer`` and
    stops the server afterwards. ``opensearch=False``: the embedded search index
    only, as ``scripts/run`` gives a newcomer."""
    shutil.copytree(demo, workdir, dirs_exist_ok=True)
    env = _server_env(workdir)
    port = _free_port()
    smtp = os.environ.get("BAZAAR_TEST_MAIL_SMTP")
    if smtp:
        # Mail goes over real SMTP to Mailpit, with links back to this server.
        host, _, smtp_port = smtp.rpartition(":")
        env.update({"MAIL_SERVER": host, "MAIL_PORT": smtp_port,
                    "BAZAAR_BASE_URL": f"http://127.0.0.1:{port}"})
    elif os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but BAZAAR_TEST_MAIL_SMTP is not set: the journeys read mail "
                    "from Mailpit.")
    opensearch_url = os.environ.get("BAZAAR_TEST_OPENSEARCH_URL") if opensearch else None
    if opensearch_url:
        # Journeys search through a real OpenSearch when the test command started one.
        env["OPENSEARCH_URL"] = opensearch_url
        env["OPENSEARCH_INDEX"] = f"e2e-{uuid.uuid4().hex[:10]}"
    elif opensearch and os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but BAZAAR_TEST_OPENSEARCH_URL is not set: the journeys must "
                    "search through OpenSearch.")
    if opensearch_url:
        # The copied catalog's local index is already filled; OpenSearch's is new.
        _flask(env, "search", "reindex", "--target", "opensearch")
    log = open(workdir / "gunicorn.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--poll-interval", "0.2"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = LiveServer(f"http://127.0.0.1:{port}")
    base_url.env = env
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(base_url + "/", timeout=5).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or a first answer slower than 5 s: look again
        if server.poll() is not None or worker.poll() is not None or time.monotonic() > deadline:
            server.kill()
            worker.kill()
            pytest.fail(f"gunicorn or the worker did not start; see {workdir / 'gunicorn.log'}")
        time.sleep(0.2)
    yield base_url
    server.terminate()
    worker.terminate()
    server.wait(timeout=30)  # gunicorn's graceful_timeout: a loaded machine can need it
    assert worker.wait(timeout=30) == 0, f"the worker did not stop cleanly; see {workdir / 'gunicorn.log'}"
    log.close()
    if opensearch_url:
        requests.delete(f"{opensearch_url}/{env['OPENSEARCH_INDEX']}*", timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, demo_catalog):
    """Base URL of a gunicorn-served Bazaar with the demo catalog, shared by the journeys."""
    yield from _start_server(tmp_path_factory.mktemp("live"), demo_catalog)


@pytest.fixture(scope="module")
def own_live_server(tmp_path_factory, demo_catalog):
    """A Bazaar of the module's own, for a journey that changes the catalog for
    everyone (the prune job delists apps other journeys rely on)."""
    yield from _start_server(tmp_path_factory.mktemp("own-live"), demo_catalog)


@pytest.fixture(scope="module")
def embedded_live_server(tmp_path_factory, demo_catalog):
    """A Bazaar searching its embedded index only (no OpenSearch): the default a
    newcomer runs with ``scripts/run``."""
    yield from _start_server(tmp_path_factory.mktemp("embedded-live"), demo_catalog,
                             opensearch=False)


@pytest.fixture
def mailpit():
    """The Mailpit the live servers send to (tests/mailpit.py); a journey that needs
    mail fails, never skips, without one."""
    url, smtp = os.environ.get("BAZAAR_TEST_MAILPIT_URL"), os.environ.get("BAZAAR_TEST_MAIL_SMTP")
    if not (url and smtp):
        pytest.fail("BAZAAR_TEST_MAILPIT_URL and BAZAAR_TEST_MAIL_SMTP must be set: run "
                    "scripts/mailpit start, or scripts/test, which starts it.")
    return Mailpit(url, smtp)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM_PATH}: run scripts/chromium "
                    "(apt-get install chromium) or set CHROMIUM_PATH.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page_on(browser, base_url: str, request):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, live_server, request):
    yield from _page_on(browser, live_server, request)


@pytest.fixture
def embedded_page(browser, embedded_live_server, request):
    yield from _page_on(browser, embedded_live_server, request)


@pytest.fixture
def own_page(browser, own_live_server, request):
    """A page on ``own_live_server``."""
    yield from _page_on(browser, own_live_server, request)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def axe_script() -> Path:
    """axe-core's script. A missing axe-core fails with CI=true, else skips."""
    if not AXE_SCRIPT.exists():
        message = f"axe-core not found at {AXE_SCRIPT}: run scripts/axe-core (scripts/test does)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE_SCRIPT


def load_axe_on_every_page(context) -> None:
    """axe-core loaded by the browser itself into every page ``context`` opens, for a
    walk that checks every page: sent with each check instead, the script (half a
    megabyte) took 80 ms of each of the walk's checks. An init script, like
    ``page.evaluate``, is not subject to the app's CSP."""
    context.add_init_script(path=axe_script())


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (every rule axe runs by
    default, any impact)."""
    script = axe_script()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # page.evaluate, not add_script_tag: an inline <script> would be refused by the
        # app's CSP (script-src 'self'), whereas DevTools-protocol evaluation is not
        # subject to it, so every browser context can be checked as it is.
        page.evaluate(script.read_text())
    # https://github.com/dequelabs/axe-core/blob/develop/doc/API.md#api-name-axerun
    return page.evaluate("""async () => {
        const results = await axe.run(document, {resultTypes: ["violations"]});
        return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => n.target.join(" ")),
        }));
    }""")


def check_accessibility(page) -> None:
    """Fail when axe-core finds a serious or critical violation on the page as it
    is now, listing each one (rule, help text, the elements it names)."""
    failing = [v for v in axe_violations(page) if v["impact"] in AXE_FAILING_IMPACTS]
    assert not failing, f"axe-core on {page.url}:\n" + "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']} -> {', '.join(v['targets'][:5])}" for v in failing)


def mail_with(mailpit, to: str, subject: str, timeout: float = 20.0) -> dict:
    """The message to ``to`` with ``subject``, once the worker has sent it to Mailpit."""
    deadline = time.monotonic() + timeout
    while True:
        for summary in mailpit.sent_to(to):
            if summary["Subject"] == subject:
                return mailpit.message(summary["ID"])
        assert time.monotonic() < deadline, f"no mail {subject!r} to {to}"
        time.sleep(0.25)


def submit_listing(page, name: str, site: str, scope_reason: str) -> str:
    """As the signed-in partner: a new listing with a 1.0.0 release asking for
    ``deals:read``, sent to the editors. Returns the category chosen."""
    page.goto("/partner/")
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Tagline").fill(f"{name}, in a sentence")
    category = page.get_by_label("Category")
    category.select_option(index=1)
    category_name = category.locator("option:checked").inner_text().strip()
    page.get_by_label("Description").fill(f"**{name}** keeps partners in the loop.")
    page.get_by_label("Support page").fill(f"{site}/support")
    page.get_by_label("Privacy policy").fill(f"{site}/privacy")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    page.get_by_role("link", name="New release").click()
    page.get_by_label("Version").fill("1.0.0")
    page.get_by_label("Redirect URL").fill(f"{site}/installed")
    page.locator("input[type=checkbox][value='deals:read']").check()
    page.get_by_label("Why your app needs deals:read").fill(scope_reason)
    page.get_by_role("button", name="Add release").click()
    expect(page.get_by_text("1.0.0").first).to_be_visible()

    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".status").first).to_contain_text(re.compile("review", re.I))
    return category_name


def approve_as_editor(browser, live_server: str, name: str, scope_reason: str) -> None:
    """In a browser context of its own, the editor approves and publishes ``name``,
    having seen the partner's reason for its scope."""
    editor = browser.new_context(base_url=live_server).new_page()
    sign_in(editor, "editor@example.com")
    editor.goto("/editor/")
    editor.get_by_role("link", name=name).click()
    expect(editor.get_by_text(scope_reason)).to_be_visible()
    editor.get_by_role("button", name="Approve and publish").click()
    expect(editor.locator(".flash").first).to_be_visible()
    editor.context.close()
