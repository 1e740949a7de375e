"""The access log never carries an invitation's secret token."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from gunicorn.config import Config

from core.access_log import RedactingLogger


def test_invitation_tokens_are_masked_in_request_line_path_and_referer():
    logger = RedactingLogger(Config())
    token = "s3cr3t-Token_value"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/invitations/{token}?x=1",
               "PATH_INFO": f"/invitations/{token}", "SERVER_PROTOCOL": "HTTP/1.1",
               "QUERY_STRING": "x=1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": f"http://127.0.0.1:8000/invitations/{token}"}
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[("Referer", environ["HTTP_REFERER"])])

    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=5))

    assert token not in repr(atoms)
    assert atoms["r"] == "GET /invitations/[redacted]?x=1 HTTP/1.1"
    assert atoms["U"] == "/invitations/[redacted]"
    assert atoms["s"] == "200"


def test_other_paths_are_logged_as_they_are():
    logger = RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/apps/hooklog", "PATH_INFO": "/apps/hooklog",
               "SERVER_PROTOCOL": "HTTP/1.1"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", headers=[], sent=1),
                         SimpleNamespace(headers=[]), environ, datetime.timedelta(0))
    assert atoms["r"] == "GET /apps/hooklog HTTP/1.1"
