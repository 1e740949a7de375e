"""How the Stripe provider reports failures: ``ProviderUnavailable`` when Stripe can't
answer now (network error, timeout, 5xx, 429), ``ProviderError`` with Stripe's message
when it refuses the request (other 4xx). A small local HTTP server plays Stripe."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billing.interfaces import UNAVAILABLE_MESSAGE, ProviderError, ProviderUnavailable
from billing.stripe_provider import StripeProvider, build_client


class FakeStripe(BaseHTTPRequestHandler):
    """Answers every POST with the server's ``answer``: (status, JSON body)."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = json.dumps(self.server.answer[1]).encode()
        self.send_response(self.server.answer[0])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def fake_stripe():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStripe)
    server.answer = (200, {})
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def provider_for(url: str, timeout=(1.0, 1.0)) -> StripeProvider:
    client = build_client("sk_test_units", url, timeout=timeout, max_network_retries=0)
    return StripeProvider(client, "whsec_units")


def create_customer(provider):
    return provider.create_customer(name="Acme", email="a@acme.test", metadata={},
                                    idempotency_key="customer:workspace:1")


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def stripe_error(message: str, kind: str = "invalid_request_error", code: str | None = None):
    return {"error": {"type": kind, "message": message, "code": code}}


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_unavailable(fake_stripe, status):
    fake_stripe.answer = (status, stripe_error("Something went wrong", "api_error"))
    with pytest.raises(ProviderUnavailable) as failure:
        create_customer(provider_for(url_of(fake_stripe)))
    # What a customer is shown: retry later, nothing about Stripe's internals.
    assert str(failure.value) == UNAVAILABLE_MESSAGE
    assert failure.value.customer_message == UNAVAILABLE_MESSAGE


@pytest.mark.parametrize("status,kind,code", [
    (400, "invalid_request_error", "parameter_invalid_integer"),
    (402, "card_error", "card_declined"),
    (404, "invalid_request_error", "resource_missing"),
    (401, "invalid_request_error", None),
])
def test_refusals_are_provider_errors_with_stripes_message(fake_stripe, status, kind, code):
    fake_stripe.answer = (status, stripe_error("No such customer: 'cus_gone'", kind, code))
    with pytest.raises(ProviderError) as refused:
        create_customer(provider_for(url_of(fake_stripe)))
    assert str(refused.value) == "No such customer: 'cus_gone'"
    assert refused.value.status == status
    assert refused.value.code == code


def test_nothing_listening_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is free again: the connection is refused.
    with pytest.raises(ProviderUnavailable) as failure:
        create_customer(provider_for(f"http://127.0.0.1:{port}"))
    assert "could not reach Stripe" in failure.value.detail


def test_a_server_that_never_answers_times_out_as_unavailable():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(ProviderUnavailable):
            create_customer(provider_for(url, timeout=(0.5, 0.3)))
    finally:
        silent.close()


def test_secrets_never_show_in_the_provider_repr():
    provider = StripeProvider(build_client("sk_test_secretvalue"), "whsec_secretvalue")
    assert "secretvalue" not in repr(provider)
