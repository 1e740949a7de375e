"""The pure parts of ``bench/pages`` (``bench/_load.py``): the page mix it drives,
the figures it prints, and its raw HTTP/1.1 client against a small local server.
No timing is asserted: speed is the benchmark's business, not the suite's."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

_BENCH = Path(__file__).resolve().parents[2] / "bench"
_PATH = _BENCH / "_load.py"
if str(_BENCH) not in sys.path:
    sys.path.append(str(_BENCH))  # as bench/pages runs it: beside _common.py
_spec = importlib.util.spec_from_file_location("bench_load", _PATH)
load = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = load  # dataclasses look their module up while the class is made
_spec.loader.exec_module(load)


def sources(listings: int = 200) -> load.Sources:
    slugs = [f"app-{n}" for n in range(listings)]
    # One listing far more popular than the rest, as installs make it.
    weights = [500.0] + [1.0] * (listings - 1)
    return load.Sources(category_slugs=["crm", "analytics", "security"],
                        collection_slugs=["staff-favourites", "new-and-noteworthy"],
                        listing_slugs=slugs, listing_weights=weights,
                        words=["invoices", "contacts", "tickets"], brands=["Pipely", "Ledgerhub"])


def kind_of(path: str) -> str:
    parts = urlsplit(path)
    if parts.path == "/":
        return "home"
    if parts.path == "/categories":
        return "categories"
    if parts.path.startswith("/categories/"):
        return "category"
    if parts.path.startswith("/collections/"):
        return "collection"
    if parts.path.startswith("/apps/"):
        return "listing"
    if parts.path == "/search/suggest":
        return "suggest"
    query = parse_qs(parts.query)
    return "search" if set(query) == {"q"} else "search-filtered"


# --- the mix ---------------------------------------------------------------------------


def test_the_mix_is_the_same_for_a_seed_and_differs_for_another():
    assert load.build_mix(sources(), 2000, 7) == load.build_mix(sources(), 2000, 7)
    assert load.build_mix(sources(), 2000, 7) != load.build_mix(sources(), 2000, 8)


def test_the_mix_has_the_stated_share_of_each_kind_and_its_paths_match_their_kind():
    mix = load.build_mix(sources(), 5000, 1)
    shares = Counter(kind for kind, _path in mix)
    assert len(mix) == 5000
    for kind, share in load.MIX.items():
        assert abs(shares[kind] - share * 5000) <= 1, kind
    assert all(kind_of(path) == kind for kind, path in mix)
    assert math.isclose(sum(load.MIX.values()), 1.0)


def test_the_mix_uses_only_the_given_slugs_and_favours_popular_listings_and_first_pages():
    mix = load.build_mix(sources(), 5000, 3)
    listings = Counter(path.removeprefix("/apps/") for kind, path in mix if kind == "listing")
    assert set(listings) <= {f"app-{n}" for n in range(200)}
    assert listings.most_common(1)[0][0] == "app-0"
    pages = Counter(parse_qs(urlsplit(path).query).get("page", ["1"])[0]
                    for kind, path in mix if kind == "category")
    assert set(pages) == {"1", "2", "3"}
    assert pages["1"] > pages["2"] > pages["3"]
    categories = {urlsplit(path).path.rsplit("/", 1)[-1] for kind, path in mix if kind == "category"}
    assert categories <= {"crm", "analytics", "security"}
    collections = {path.rsplit("/", 1)[-1] for kind, path in mix if kind == "collection"}
    assert collections <= {"staff-favourites", "new-and-noteworthy"}


def test_counts_add_up_to_the_total_whatever_the_rounding():
    for total in (1, 7, 99, 1001):
        assert sum(load.counts(total).values()) == total


# --- the figures -----------------------------------------------------------------------


def test_percentiles_interpolate_between_samples():
    assert load.percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert load.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert load.percentile([9.0], 0.99) == 9.0
    assert math.isnan(load.percentile([], 0.5))


def test_a_level_counts_throughput_errors_and_each_kind():
    samples = [("home", 0.010, 200), ("home", 0.030, 200), ("listing", 0.020, 302),
               ("listing", 0.040, 500), ("search", 0.050, 0), ("search", 0.005, 404)]
    level = load.summarise(samples, clients=2, seconds=2.0, client_cpu_s=0.006)

    assert level.total.count == 6
    assert level.total.rps == 3.0
    assert level.total.errors == 3  # a 500, a 404 and a request with no answer
    assert level.total.p50 == pytest.approx(25.0)
    assert level.by_kind["home"].errors == 0
    assert level.by_kind["home"].p50 == pytest.approx(20.0)
    assert level.by_kind["listing"].errors == 1
    assert level.statuses == {200: 2, 302: 1, 500: 1, 0: 1, 404: 1}
    assert level.client_cpu_ms_per_request == pytest.approx(1.0)


# --- the raw HTTP/1.1 client -----------------------------------------------------------


SEEN: list[tuple[str, tuple, str]] = []  # (path, client (address, port), Accept-Encoding)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless a response says otherwise
    disable_nagle_algorithm = True  # headers and body go out at once, as gunicorn's do

    def do_GET(self):
        SEEN.append((self.path, self.client_address,
                             self.headers.get("Accept-Encoding", "")))
        body = b"x" * 1000
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:300], body[300:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(500 if self.path == "/broken" else 200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    SEEN.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_the_client_reads_whole_bodies_and_keeps_the_connection_alive(server):
    async def session():
        connection = load.Connection("127.0.0.1", server, "127.0.0.2")
        try:
            return [await connection.get(path) for path in ("/a", "/chunked", "/b", "/broken")]
        finally:
            connection.close()

    assert asyncio.run(session()) == [(200, 1000), (200, 1000), (200, 1000), (500, 1000)]
    assert len({client for _path, client, _encoding in SEEN}) == 1  # one connection
    assert {encoding for _path, _port, encoding in SEEN} == {"gzip, br"}


def test_the_client_opens_a_new_connection_when_the_server_closes_one(server):
    async def session():
        connection = load.Connection("127.0.0.1", server, "127.0.0.3")
        try:
            return [await connection.get(path) for path in ("/close", "/a", "/a")]
        finally:
            connection.close()

    assert asyncio.run(session()) == [(200, 1000)] * 3
    clients = [client for _path, client, _encoding in SEEN]
    assert clients[0] != clients[1] == clients[2]


def test_each_visitor_of_each_client_has_its_own_loopback_address():
    addresses = {load.visitor_address(client, visitor)
                 for client in range(32) for visitor in range(2000)}
    assert len(addresses) == 32 * 2000
    assert all(address.startswith("127.") for address in addresses)
    assert not any(address.endswith((".0", ".255")) for address in addresses)


def test_a_client_comes_back_as_a_new_visitor_from_a_new_address(server):
    mix = [("fine", "/a")]
    samples, _cpu = load.drive("127.0.0.1", server, mix, clients=1, seconds=1.0)

    assert len(samples) > load.VISIT_LENGTH  # a local server answers hundreds a second
    connections = Counter(client for _path, client, _encoding in SEEN)
    # Kept alive within a visit: VISIT_LENGTH requests per connection (the last may be cut short).
    assert max(connections.values()) == load.VISIT_LENGTH
    assert len(connections) >= 2
    assert len({address for address, _port in connections}) == len(connections)


def test_driving_the_mix_records_each_request_with_its_kind_and_status(server):
    mix = [("fine", "/a"), ("fine", "/chunked"), ("broken", "/broken")]
    samples, cpu_seconds = load.drive("127.0.0.1", server, mix, clients=2, seconds=0.3)

    assert samples
    assert {kind for kind, _seconds, _status in samples} <= {"fine", "broken"}
    assert all(status == (500 if kind == "broken" else 200) for kind, _s, status in samples)
    assert cpu_seconds >= 0


@pytest.mark.parametrize("args, message", [
    (["--configs", "mysql"], "--configs takes sqlite, postgres or both"),
    (["--levels", "0,x"], "--levels takes whole numbers"),
    (["--size", "-5"], "use at least 100 listings"),
    (["--seconds", "0"], "a positive --seconds"),
])
def test_bad_arguments_are_refused_with_a_clear_message_before_any_work(args, message):
    import subprocess

    finished = subprocess.run([sys.executable, str(_BENCH / "pages"), *args],
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert message in finished.stderr
    assert "Traceback" not in finished.stderr
