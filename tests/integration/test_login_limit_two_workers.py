"""Sign-in limits hold across gunicorn workers: two sync workers share Redis (the
per-address limit, Flask-Limiter) and one database (the per-account lockout), so
a guesser gains nothing from landing on the other worker.

Each worker's pid is in the access log (gunicorn's ``%(p)s`` atom), which shows
which worker answered each attempt.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from sqlmodel import Session

from core.db import make_engine, upgrade_database
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
LOCKED = "Too many failed sign-ins for this email address"
SLOW_DOWN = "Too many attempts"



def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TwoWorkers:
    """A gunicorn with two sync workers on a fresh SQLite database with one user."""

    def __init__(self, workdir: Path, redis_url: str, **settings: str):
        database_url = f"sqlite:///{workdir / 'bazaar.db'}"
        upgrade_database(database_url)
        engine = make_engine(database_url)
        with Session(engine) as session:
            self.user = factories.make_user(session, email="ada@example.com")
        engine.dispose()
        # Counts left in Redis by an earlier run would change what this one sees.
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter("*LIMITER/*"):
            client.delete(key)
        client.close()

        self.access_log = workdir / "access.log"
        env = {**os.environ, "BAZAAR_ENV": "test", "SECRET_KEY": "two-workers-secret",
               "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(workdir / "uploads"),
               "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off",
               "RATELIMIT_STORAGE_URI": redis_url, **settings}
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = open(workdir / "gunicorn.log", "w")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--worker-class", "sync", "--access-logfile", str(self.access_log),
             "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "app:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        # Each worker warms itself up before it accepts (gunicorn.conf.py), so one may
        # answer while the other still boots: wait until both have answered.
        deadline = time.monotonic() + 30
        while len(self.workers_that_answered(200, method="GET")) < 2:
            try:
                requests.get(self.base_url + "/account/login", timeout=5)
            except (requests.ConnectionError, requests.Timeout):  # still booting
                time.sleep(0.2)
            if self.server.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("gunicorn's two workers did not both start; "
                            f"see {workdir / 'gunicorn.log'}")

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=15)
        self.log.close()

    def sign_in(self, email: str, password: str) -> requests.Response:
        """One sign-in as a browser does it: the form (for its CSRF token), then the POST."""
        with requests.Session() as browser:
            form = browser.get(self.base_url + "/account/login", timeout=10).text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
            return browser.post(self.base_url + "/account/login", timeout=10, allow_redirects=False,
                                data={"email": email, "password": password, "csrf_token": token})

    def workers_that_answered(self, status: int, method: str = "POST") -> set[str]:
        """The pids of the workers that answered a sign-in ``method`` with ``status``."""
        if not self.access_log.exists():
            return set()
        pids = set()
        for line in self.access_log.read_text().splitlines():
            pid, asked, path, answered = line.split()
            if asked == method and path == "/account/login" and answered == str(status):
                pids.add(pid)
        return pids


@pytest.fixture
def start(tmp_path, redis_url):
    """Two workers sharing the Redis of the test run (left out without one)."""
    servers = []

    def _start(**settings: str) -> TwoWorkers:
        server = TwoWorkers(tmp_path, redis_url, **settings)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


def test_a_locked_account_is_refused_by_every_worker_even_with_the_right_password(start):
    # A generous per-address limit: this test is about the per-account count.
    server = start(LOGIN_RATE_LIMIT="1000 per minute", LOGIN_LOCKOUT_MAX_FAILURES="5")
    email = server.user.email

    wrong = [server.sign_in(email, f"wrong-guess-{n}").status_code for n in range(5)]
    assert wrong == [401, 401, 401, 401, 429]

    # Several browsers at once, so both workers answer; every answer is a refusal.
    refused = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(10):
            answers = list(pool.map(lambda _: server.sign_in(email, factories.PASSWORD), range(8)))
            refused += answers
            if len(server.workers_that_answered(429)) >= 2:
                break
    assert all(r.status_code == 429 and LOCKED in r.text for r in refused), \
        sorted({r.status_code for r in refused})
    assert not any("Welcome back" in r.text or r.is_redirect for r in refused)
    assert len(server.workers_that_answered(429)) == 2


def test_the_per_address_limit_is_one_count_for_both_workers(start):
    server = start(LOGIN_RATE_LIMIT="6 per minute", LOGIN_LOCKOUT_MAX_FAILURES="100")

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda n: server.sign_in(f"nobody{n}@example.com", "guess"),
                                range(16)))

    statuses = [answer.status_code for answer in answers]
    # Six tries in all from this address, not six per worker.
    assert statuses.count(401) == 6, statuses
    assert statuses.count(429) == 10, statuses
    assert all(SLOW_DOWN in answer.text for answer in answers if answer.status_code == 429)
    assert len(server.workers_that_answered(401) | server.workers_that_answered(429)) == 2
