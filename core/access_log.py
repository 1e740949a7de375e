"""Gunicorn's access log without secrets: invitation links carry their token in the
path, and a log line must never be enough to join someone's workspace.

Used with ``gunicorn --logger-class core.access_log.RedactingLogger``.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

# Paths whose last part is a secret; the Referer header can repeat them.
SECRET_IN_PATH = re.compile(r"(/invitations/)[^/?#\s\"]+")


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    """The standard gunicorn logger, with secrets in request lines, paths and headers masked."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in atoms.items()}
