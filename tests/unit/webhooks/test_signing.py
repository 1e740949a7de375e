"""Signing webhook requests, and the verification snippet partners copy from docs/webhooks.md."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from datetime import timedelta
from pathlib import Path

import pytest

from webhooks.delivery import BACKOFF_CAP, backoff_delay
from webhooks.signing import request_headers, signature_header, verify_signature

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
SECRET = "whsec_test-secret"
BODY = '{"id":"evt_1","type":"install.created"}'
NOW = 1_800_000_000


def doc_snippet_verify():
    """The ``verify_signature`` defined by the snippet in docs/webhooks.md, run as partners would."""
    text = DOC.read_text()
    match = re.search(r"<!-- verify-signature-snippet -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/webhooks.md lost its verification snippet"
    namespace: dict = {}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)  # stdlib only, by design
    return namespace["verify_signature"]


VERIFIERS = {"webhooks.signing": verify_signature, "docs snippet": doc_snippet_verify()}


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = signature_header([SECRET], BODY, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


def test_request_headers_name_the_event_and_sign_the_body():
    headers = request_headers(event_id="evt_1", event_type="install.created", secrets=[SECRET],
                              body=BODY, timestamp=NOW)
    assert headers["Bazaar-Event-Id"] == "evt_1"
    assert headers["Bazaar-Event-Type"] == "install.created"
    assert headers["Bazaar-Timestamp"] == str(NOW)
    assert headers["User-Agent"] == "Bazaar-Webhooks/1"
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(SECRET, BODY, headers["Bazaar-Signature"], now=NOW)


@pytest.mark.parametrize("verify", VERIFIERS.values(), ids=VERIFIERS.keys())
def test_valid_signature_within_tolerance_is_accepted(verify):
    header = signature_header([SECRET], BODY, NOW)
    assert verify(SECRET, BODY, header, now=NOW)
    assert verify(SECRET, BODY.encode(), header, now=NOW + 300)
    assert verify(SECRET, BODY, header, now=NOW - 300)


@pytest.mark.parametrize("verify", VERIFIERS.values(), ids=VERIFIERS.keys())
def test_stale_or_future_timestamps_are_refused(verify):
    header = signature_header([SECRET], BODY, NOW)
    assert not verify(SECRET, BODY, header, now=NOW + 301)
    assert not verify(SECRET, BODY, header, now=NOW - 301)
    assert verify(SECRET, BODY, header, tolerance=3600, now=NOW + 3000)


@pytest.mark.parametrize("verify", VERIFIERS.values(), ids=VERIFIERS.keys())
def test_wrong_secret_tampered_body_or_bad_header_is_refused(verify):
    header = signature_header([SECRET], BODY, NOW)
    assert not verify("whsec_other", BODY, header, now=NOW)
    assert not verify(SECRET, BODY.replace("created", "uninstalled"), header, now=NOW)
    # The timestamp is signed too: moving it breaks the signature.
    moved = header.replace(f"t={NOW}", f"t={NOW + 10}")
    assert not verify(SECRET, BODY, moved, now=NOW)
    for bad in [None, "", "garbage", f"t={NOW}", header.split(",")[1], "t=abc,v1=00",
                f"t={NOW},v1=", header + "é", header.replace("t=", "t=²", 1)]:
        assert not verify(SECRET, BODY, bad, now=NOW), bad


@pytest.mark.parametrize("verify", VERIFIERS.values(), ids=VERIFIERS.keys())
def test_any_matching_v1_signature_is_enough(verify):
    # During a secret rotation a request may carry one signature per secret.
    header = signature_header(["whsec_old", SECRET], BODY, NOW)
    assert header.count("v1=") == 2
    assert verify(SECRET, BODY, header, now=NOW)
    assert verify("whsec_old", BODY, header, now=NOW)
    assert not verify("whsec_third", BODY, header, now=NOW)


def test_backoff_doubles_from_30_seconds_with_bounded_jitter_and_a_cap():
    rng = random.Random(7)
    for attempts in range(1, 11):
        base = 30 * 2 ** (attempts - 1)
        for _ in range(20):
            seconds = backoff_delay(attempts, rng).total_seconds()
            assert base * 0.9 <= seconds <= min(base * 1.1, BACKOFF_CAP.total_seconds())
    assert backoff_delay(11, rng) == BACKOFF_CAP
    assert backoff_delay(40, rng) == BACKOFF_CAP
    # Jitter still keeps every wait longer than the one before.
    waits = [backoff_delay(n, rng) for n in range(1, 11)]
    assert waits == sorted(waits) and waits[0] >= timedelta(seconds=27)
