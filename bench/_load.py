"""The load side of ``bench/pages``: the fixed page mix, a cheap closed-loop HTTP
load generator and the figures made of its samples.

The generator shares the two cores with gunicorn, so it is as cheap as we could
make it: one asyncio process, raw HTTP/1.1 over ``asyncio`` streams with
keep-alive (a connection is opened again only when the server closes it, as
gunicorn's sync workers do after every response), no HTTP library on top. It
measures its own CPU time so the reader can see what it took from the server.

Nothing here imports the app.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from _common import percentile  # noqa: F401  (also the tests' way to it)

# kind -> share of the mix. What an anonymous visitor's clicks look like: most
# land on a listing (from search engines and links), then browsing and search.
MIX = {
    "home": 0.15,
    "categories": 0.05,
    "category": 0.15,          # pages 1-3 of a category, page 1 most
    "collection": 0.05,
    "listing": 0.30,           # skewed to popular listings
    "search": 0.10,            # words typed into the search box
    "search-filtered": 0.10,   # category / pricing / rating / sort, with or without words
    "suggest": 0.10,           # autocomplete on a prefix
}
CATEGORY_PAGES = [1, 2, 3]
CATEGORY_PAGE_WEIGHTS = [60, 25, 15]
COMMON_WORDS = ["sync", "invoices", "chat", "tickets", "analytics", "slack", "salesforce",
                "reports", "contacts", "email", "payroll", "shopify", "security", "calendar",
                "dashboard", "deals", "orders", "webhooks", "forms"]
SORTS = ["rating", "installs", "newest", "updated"]


@dataclass
class Sources:
    """What the mix draws from: real slugs read from the database, and words and
    brand names from the generated catalog."""

    category_slugs: list[str]
    collection_slugs: list[str]
    listing_slugs: list[str]
    listing_weights: list[float]   # popularity (active installs + 1)
    words: list[str]               # from taglines and descriptions
    brands: list[str]


def counts(total: int, shares: dict[str, float] = MIX) -> dict[str, int]:
    """How many requests of each kind (largest remainder, so they add up to total)."""
    exact = {kind: share * total for kind, share in shares.items()}
    result = {kind: int(value) for kind, value in exact.items()}
    for kind in sorted(exact, key=lambda k: exact[k] - result[k], reverse=True):
        if sum(result.values()) >= total:
            break
        result[kind] += 1
    return result


def build_mix(sources: Sources, total: int, seed: int) -> list[tuple[str, str]]:
    """``total`` requests as (kind, path), in a shuffled order; the same for a seed."""
    rng = random.Random(seed)
    cumulative, running = [], 0.0
    for weight in sources.listing_weights:
        running += weight
        cumulative.append(running)

    def words() -> str:
        roll = rng.random()
        if roll < 0.4:
            return rng.choice(COMMON_WORDS)
        if roll < 0.7:
            return rng.choice(sources.words)
        if roll < 0.85:
            return " ".join(rng.sample(sources.words, 2))
        return rng.choice(sources.brands).lower()

    def filtered() -> str:
        params = [("q", words())] if rng.random() < 0.5 else []
        params += rng.choice([
            lambda: [("category", rng.choice(sources.category_slugs))],
            lambda: [("pricing", rng.choice(["free", "paid"]))],
            lambda: [("min_rating", rng.choice(["3", "4"]))],
            lambda: [("sort", rng.choice(SORTS))],
            lambda: [("category", rng.choice(sources.category_slugs)), ("pricing", "free"),
                     ("sort", rng.choice(SORTS))],
        ])()
        return "/search?" + urlencode(params)

    def category() -> str:
        page = rng.choices(CATEGORY_PAGES, CATEGORY_PAGE_WEIGHTS)[0]
        path = f"/categories/{rng.choice(sources.category_slugs)}"
        return path if page == 1 else f"{path}?page={page}"

    makers = {
        "home": lambda: "/",
        "categories": lambda: "/categories",
        "category": category,
        "collection": lambda: f"/collections/{rng.choice(sources.collection_slugs)}",
        "listing": lambda: "/apps/" + rng.choices(sources.listing_slugs,
                                                  cum_weights=cumulative)[0],
        "search": lambda: "/search?" + urlencode({"q": words()}),
        "search-filtered": filtered,
        "suggest": lambda: "/search/suggest?" + urlencode(
            {"q": rng.choice(sources.brands).lower()[:rng.randint(2, 6)]}),
    }
    mix = [(kind, makers[kind]()) for kind, count in counts(total).items() for _ in range(count)]
    rng.shuffle(mix)
    return mix


# --- figures ---------------------------------------------------------------------------


@dataclass
class Figures:
    """One series of requests: throughput and latency (ms), errors."""

    count: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples: Sequence[tuple[str, float, int]], seconds: float) -> Figures:
        latencies = [latency * 1000.0 for _kind, latency, _status in samples]
        errors = sum(1 for _kind, _latency, status in samples if not is_success(status))
        return cls(len(samples), errors, len(samples) / seconds if seconds else math.nan,
                   percentile(latencies, 0.50), percentile(latencies, 0.95),
                   percentile(latencies, 0.99))


@dataclass
class LevelResult:
    """A level's run: all requests, each kind's, the client's CPU time."""

    clients: int
    seconds: float
    total: Figures
    by_kind: dict[str, Figures] = field(default_factory=dict)
    client_cpu_s: float = math.nan
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def client_cpu_ms_per_request(self) -> float:
        return self.client_cpu_s * 1000.0 / self.total.count if self.total.count else math.nan


def is_success(status: int) -> bool:
    """2xx and 3xx count as answered; anything else, and no answer (0), as an error."""
    return 200 <= status < 400


def summarise(samples: Sequence[tuple[str, float, int]], clients: int, seconds: float,
              client_cpu_s: float = math.nan) -> LevelResult:
    """Samples (kind, seconds, status) of one level into its figures."""
    kinds: dict[str, list] = defaultdict(list)
    statuses: dict[int, int] = defaultdict(int)
    for sample in samples:
        kinds[sample[0]].append(sample)
        statuses[sample[2]] += 1
    return LevelResult(clients, seconds, Figures.of(samples, seconds),
                       {kind: Figures.of(series, seconds) for kind, series in kinds.items()},
                       client_cpu_s, dict(statuses))


# --- the raw HTTP/1.1 client -----------------------------------------------------------

REQUEST_HEADERS = ("Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
                   "Accept-Encoding: gzip, br\r\n"      # as a browser sends it
                   "User-Agent: bazaar-bench-pages\r\n")


class Connection:
    """One keep-alive HTTP/1.1 connection from its own loopback source address."""

    def __init__(self, host: str, port: int, source: str | None):
        self.host, self.port, self.source = host, port, source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.source, 0) if self.source else None)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, int]:
        """GET ``path``, reading the whole body; (status, body bytes). A kept-alive
        connection the server has closed meanwhile is opened again once, as a
        browser does; other failures raise."""
        reused = self.writer is not None
        try:
            if not reused:
                await self._open()
            return await self._exchange(path)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
        await self._open()
        return await self._exchange(path)

    async def _exchange(self, path: str) -> tuple[int, int]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                          f"{REQUEST_HEADERS}\r\n".encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip().lower()
        if "chunked" in headers.get("transfer-encoding", ""):
            size = await self._read_chunked()
        elif "content-length" in headers:
            size = int(headers["content-length"])
            await self.reader.readexactly(size)
        else:  # the body runs to the end of the connection
            size = len(await self.reader.read())
            headers["connection"] = "close"
        if headers.get("connection") == "close" or version == "HTTP/1.0":
            self.close()
        return int(status), size

    async def _read_chunked(self) -> int:
        assert self.reader is not None
        size = 0
        while True:
            line = await self.reader.readuntil(b"\r\n")
            chunk = int(line.split(b";", 1)[0], 16)
            if chunk == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent
                return size
            await self.reader.readexactly(chunk + 2)
            size += chunk


# Requests per visitor: then the client carries on as a new visitor, on a new
# connection from a new loopback address. Anonymous visitors come and go, and the
# rate limits are per address (autocomplete allows 120 a minute: one address per
# client would hit it within a second or two at full speed).
VISIT_LENGTH = 20


def visitor_address(client: int, visitor: int) -> str:
    """A loopback source address per (client, visitor): 127.<client>.<x>.<y>, all
    local on Linux (127.0.0.0/8), never reused within 64,000 visitors of a client."""
    return f"127.{1 + client % 254}.{(visitor // 254) % 256}.{1 + visitor % 254}"


async def _drive(host: str, port: int, mix: Sequence[tuple[str, str]], clients: int,
                 seconds: float, timeout: float) -> list[tuple[str, float, int]]:
    """``clients`` closed-loop clients for ``seconds``; each walks the mix from its own
    starting point, as a new visitor every ``VISIT_LENGTH`` requests. Requests
    finished after the deadline are not counted."""
    samples: list[tuple[str, float, int]] = []
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        visitor, sent = 0, 0
        connection = Connection(host, port, visitor_address(n, visitor))
        position = n * len(mix) // clients
        while True:
            if sent == VISIT_LENGTH:
                connection.close()
                visitor, sent = visitor + 1, 0
                connection = Connection(host, port, visitor_address(n, visitor))
            kind, path = mix[position % len(mix)]
            position += 1
            sent += 1
            started = time.perf_counter()
            try:
                async with asyncio.timeout(timeout):  # no task per request, as wait_for makes
                    status, _size = await connection.get(path)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                connection.close()
                status = 0
            finished = time.perf_counter()
            if finished > deadline:
                break
            samples.append((kind, finished - started, status))
        connection.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return samples


def drive(host: str, port: int, mix: Sequence[tuple[str, str]], clients: int, seconds: float,
          timeout: float = 30.0) -> tuple[list[tuple[str, float, int]], float]:
    """Run the load in this process; (samples, this process's CPU seconds meanwhile)."""
    cpu = time.process_time()
    samples = asyncio.run(_drive(host, port, mix, clients, seconds, timeout))
    return samples, time.process_time() - cpu
