"""A small client of Mailpit's API (https://mailpit.axllent.org/docs/api-v1/), to read
what the app really delivered over SMTP, and a Mailpit of a test's own (scripts/mailpit
on other ports) that the test may stop and start."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


class Mailpit:
    def __init__(self, api_url: str, smtp: str):
        self.api_url = api_url.rstrip("/")
        host, _, port = smtp.rpartition(":")
        self.smtp_host, self.smtp_port = host, int(port)

    def app_config(self) -> dict:
        """The app settings that send mail here."""
        return {"MAIL_SERVER": self.smtp_host, "MAIL_PORT": self.smtp_port}

    def _get(self, path: str, **params):
        response = requests.get(f"{self.api_url}/api/v1/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response

    def search(self, query: str) -> list[dict]:
        """Summaries of every message matching Mailpit's search ``query``
        (e.g. ``to:"ada@example.com"``), newest first."""
        found, start = [], 0
        while True:
            page = self._get("search", query=query, start=start, limit=200).json()
            found += page["messages"]
            start += len(page["messages"])
            if not page["messages"] or start >= page["messages_count"]:
                return found

    def sent_to(self, address: str) -> list[dict]:
        return self.search(f'to:"{address}"')

    def message(self, message_id: str) -> dict:
        """One message, parsed: Subject, From, To, Bcc, Text, HTML, MessageID, Date."""
        return self._get(f"message/{message_id}").json()

    def headers(self, message_id: str) -> dict[str, list[str]]:
        return self._get(f"message/{message_id}/headers").json()

    def raw(self, message_id: str) -> bytes:
        return self._get(f"message/{message_id}/raw").content

    def total(self) -> int:
        return self._get("messages", limit=1).json()["messages_count"]

    def wait_for(self, address: str, count: int, timeout: float = 10.0) -> list[dict]:
        """The messages to ``address`` once there are ``count`` of them (SMTP has
        answered by then, but Mailpit stores a message just after)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.sent_to(address)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnMailpit(Mailpit):
    """A Mailpit on ports of its own, run with scripts/mailpit, which a test stops and
    starts (an SMTP outage) without disturbing the shared one."""

    def __init__(self, tmp_path: Path, **options: str):
        """``options``: Mailpit settings by their environment names (``MP_...``,
        https://mailpit.axllent.org/docs/configuration/runtime-options/)."""
        smtp_port, http_port = _free_port(), _free_port()
        super().__init__(f"http://127.0.0.1:{http_port}", f"127.0.0.1:{smtp_port}")
        self._env = {**os.environ, "BAZAAR_MAILPIT_SMTP_PORT": str(smtp_port),
                     "BAZAAR_MAILPIT_HTTP_PORT": str(http_port),
                     "BAZAAR_MAILPIT_RUN_DIR": str(tmp_path / "mailpit-run"), **options}

    def _script(self, action: str) -> None:
        done = subprocess.run([str(ROOT / "scripts" / "mailpit"), action], env=self._env,
                              capture_output=True, text=True, timeout=180)
        if done.returncode:
            raise RuntimeError(f"scripts/mailpit {action} failed: {done.stderr}")

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")
