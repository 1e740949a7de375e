"""What ``bench/pages`` measured, and how it shows it: one configuration's
figures (``ConfigResult``), the issue's aims checked against them, and the
Markdown tables it prints and ``--write-doc`` puts into docs/performance.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from _common import git_revision, ms, say
from _load import MIX, LevelResult

CONFIGS = {"sqlite": "SQLite + embedded search", "postgres": "PostgreSQL + OpenSearch"}
WARMUP_SECONDS = 5.0       # untimed, at 8 clients, before the first level
CEILING_CLIENTS = 8
SEARCH_KINDS = ("search", "search-filtered", "suggest")

# The aims (2 cores, 100,000 listings, both configurations).
AIM_RPS_AT_8 = 200.0
AIM_P95_AT_8_MS = 100.0
AIM_P50_AT_1_MS = 15.0
AIM_CEILING_SHARE = 0.25
AIM_BROWSE_P95_AT_1_MS = 30.0   # home, category, collection, on SQLite + embedded
AIM_FIRST_REQUEST_MS = 500.0


@dataclass
class ConfigResult:
    key: str
    size: int
    import_s: float = math.nan
    added: dict = field(default_factory=dict)
    reindex_s: float = math.nan
    gunicorn: str = ""
    load_average: str = ""
    first_request_ms: float = math.nan
    ready_s: float = math.nan
    levels: list[LevelResult] = field(default_factory=list)
    ceiling: dict[str, LevelResult] = field(default_factory=dict)
    queries: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    workers: list[tuple[str, LevelResult, float]] = field(default_factory=list)  # + first GET /

    @property
    def name(self) -> str:
        return CONFIGS[self.key]

    def level(self, clients: int) -> LevelResult | None:
        return next((level for level in self.levels if level.clients == clients), None)


def _cell(figures) -> str:
    return f"{ms(figures.p50)} / {ms(figures.p95)} / {ms(figures.p99)}" if figures else "–"


def levels_table(result: ConfigResult) -> str:
    lines = ["| clients | req/s | p50 / p95 / p99 (ms) | errors | load process CPU per request (ms) |",
             "|---:|---:|---:|---:|---:|"]
    for level in result.levels:
        errors = f"**{level.total.errors}**" if level.total.errors else "0"
        lines.append(f"| {level.clients} | {level.total.rps:.1f} | {_cell(level.total)} | "
                     f"{errors} | {level.client_cpu_ms_per_request:.2f} |")
    return "\n".join(lines)


def kinds_table(result: ConfigResult, clients: list[int]) -> str:
    shown = [level for level in result.levels if level.clients in clients]
    lines = ["| kind (share) | " + " | ".join(f"p50 / p95 / p99 at {level.clients} (ms)"
                                              for level in shown) + " |",
             "|---|" + "---:|" * len(shown)]
    for kind, share in MIX.items():
        lines.append(f"| {kind} ({share:.0%}) | "
                     + " | ".join(_cell(level.by_kind.get(kind)) for level in shown) + " |")
    return "\n".join(lines)


def ceiling_line(result: ConfigResult) -> str:
    if not result.ceiling:
        return ""
    static, trivial = result.ceiling["static file"], result.ceiling["trivial view"]
    at8 = result.level(8)
    share = (f"; the mix at 8 clients is **{at8.total.rps / trivial.total.rps:.0%}** of the "
             "trivial view's" if at8 and trivial.total.rps else "")
    errors = static.total.errors + trivial.total.errors
    return (f"Ceiling on the same gunicorn, {CEILING_CLIENTS} clients: a static file "
            f"(`{static.by_kind and next(iter(static.by_kind))}`) "
            f"{static.total.rps:,.0f} req/s (p95 {ms(static.total.p95)} ms), the trivial "
            f"view `/healthz` {trivial.total.rps:,.0f} req/s (p95 {ms(trivial.total.p95)} ms)"
            f"{share}" + (f"; **{errors} errors**" if errors else "") + ". The load process "
            f"took {static.client_cpu_ms_per_request:.2f} and "
            f"{trivial.client_cpu_ms_per_request:.2f} ms CPU per request there.")


def queries_table(results: list[ConfigResult]) -> str:
    measured = [r for r in results if r.queries]
    lines = ["| kind | " + " | ".join(f"SQL statements, {r.name}" for r in measured)
             + " | the URL counted |", "|---|" + "---:|" * len(measured) + "---|"]
    for kind in MIX:
        cells = []
        for r in measured:
            _path, count, status = r.queries.get(kind, ("", -1, 0))
            cells.append(str(count) + ("" if status == 200 else f" (HTTP {status})"))
        path = next((r.queries[kind][0] for r in measured if kind in r.queries), "")
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | `{path}` |")
    return "\n".join(lines)


def aims(result: ConfigResult) -> list[tuple[str, str, bool | None]]:
    """(aim, measured, met?) for one configuration; None when not measured."""
    at1, at8 = result.level(1), result.level(8)
    checks: list[tuple[str, str, bool | None]] = []
    if at8:
        checks += [
            (f"8 clients: ≥ {AIM_RPS_AT_8:.0f} req/s on the mix", f"{at8.total.rps:.1f} req/s",
             at8.total.rps >= AIM_RPS_AT_8),
            (f"8 clients: p95 ≤ {AIM_P95_AT_8_MS:.0f} ms", f"{ms(at8.total.p95)} ms",
             at8.total.p95 <= AIM_P95_AT_8_MS),
            ("8 clients: 0 errors", str(at8.total.errors), at8.total.errors == 0),
        ]
    else:
        checks.append(("8 clients: throughput, p95, errors", "not measured", None))
    if at1:
        browse = {kind: f for kind, f in at1.by_kind.items() if kind not in SEARCH_KINDS}
        worst = max(browse, key=lambda kind: browse[kind].p50) if browse else None
        checks.append((f"1 client: p50 ≤ {AIM_P50_AT_1_MS:.0f} ms, every kind but search",
                       f"worst {worst} {ms(browse[worst].p50)} ms" if worst else "n/a",
                       all(f.p50 <= AIM_P50_AT_1_MS for f in browse.values()) if browse
                       else None))
    else:
        checks.append(("1 client: p50 per kind", "not measured", None))
    trivial = result.ceiling.get("trivial view")
    if at8 and trivial and trivial.total.rps:
        share = at8.total.rps / trivial.total.rps
        checks.append((f"mix ≥ {AIM_CEILING_SHARE:.0%} of the trivial-view ceiling",
                       f"{share:.0%} ({at8.total.rps:.0f} of {trivial.total.rps:.0f} req/s)",
                       share >= AIM_CEILING_SHARE))
    if result.key == "sqlite" and at1:
        for kind in ("home", "category", "collection"):
            figures = at1.by_kind.get(kind)
            checks.append((f"1 client: {kind} p95 ≤ {AIM_BROWSE_P95_AT_1_MS:.0f} ms",
                           f"{ms(figures.p95)} ms" if figures else "n/a",
                           figures.p95 <= AIM_BROWSE_P95_AT_1_MS if figures else None))
    checks.append((f"first request after start ≤ {AIM_FIRST_REQUEST_MS:.0f} ms",
                   f"{ms(result.first_request_ms)} ms",
                   result.first_request_ms <= AIM_FIRST_REQUEST_MS
                   if not math.isnan(result.first_request_ms) else None))
    return checks


def aims_table(results: list[ConfigResult]) -> str:
    lines = ["| configuration | aim | measured | met? |", "|---|---|---:|---|"]
    for r in results:
        for aim, value, met in aims(r):
            verdict = {True: "met", False: "**NOT met**", None: "not measured"}[met]
            lines.append(f"| {r.name} | {aim} | {value} | {verdict} |")
    return "\n".join(lines)


def workers_table(results: list[ConfigResult]) -> str:
    lines = [("| configuration | gunicorn | req/s | p50 / p95 / p99 (ms) | errors | "
              "first `GET /` (ms) |"), "|---|---|---:|---:|---:|---:|"]
    for r in results:
        for label, level, first_ms in r.workers:
            lines.append(f"| {r.name} | {label} | {level.total.rps:.1f} | {_cell(level.total)} | "
                         f"{level.total.errors} | {ms(first_ms)} |")
    return "\n".join(lines)


def mix_table() -> str:
    what = {
        "home": "`/`",
        "categories": "`/categories`",
        "category": "`/categories/<slug>`, page 1 (60%), 2 (25%) or 3 (15%)",
        "collection": "`/collections/<slug>`, one of the six",
        "listing": "`/apps/<slug>`, drawn by popularity (active installs + 1)",
        "search": "`/search?q=`: a common word, a catalog word, two words or a brand",
        "search-filtered": "`/search?` a category, pricing, minimum rating or sort, or all "
                           "three; with words half the time",
        "suggest": "`/search/suggest?q=`: the first 2-6 letters of a brand",
    }
    lines = ["| kind | share | requests |", "|---|---:|---|"]
    lines += [f"| {kind} | {share:.0%} | {what[kind]} |" for kind, share in MIX.items()]
    return "\n".join(lines)


def markdown(results: list[ConfigResult], facts: dict[str, str], args, seconds: float) -> str:
    levels = ",".join(str(n) for n in args.levels)
    command = (f".venv/bin/python bench/pages --size {args.size} --seconds {args.seconds:g} "
               f"--levels {levels} --configs {','.join(r.key for r in results)}")
    parts = [
        "## Pages",
        "",
        ("The storefront's pages under load: `bench/pages` builds the catalog of "
         "`bench/search` (with reviews, badges, 400 workspaces whose installs favour a "
         "popular few, six editors' collections), starts gunicorn as the deployment does "
         "(`gunicorn.conf.py`, `WEB_CONCURRENCY=2`) and drives a fixed mix of anonymous page views with closed-loop "
         "clients, each sending its next request when the last is read whole, for a fixed "
         "time per level. The load process is separate and cheap (raw HTTP/1.1 keep-alive "
         "over asyncio, `Accept-Encoding: gzip, br`, no cookies; every 20 requests a client "
         "comes back as a new visitor, on a new connection from a new loopback address, as "
         "rate limits are per address); its own CPU per request is in the tables, since it "
         "shares the "
         "two cores with gunicorn. Errors are answers outside 2xx/3xx and failed connections. "
         "The ceiling (a static file and `/healthz`) is measured on the same gunicorn in the "
         "same run; SQL statements per page kind are counted in-process (`app.test_client()`, "
         "a `before_cursor_execute` listener) on the second request of one URL of each kind."),
        "",
        "The mix (5,000 requests, deterministic from a seed, slugs read from the database):",
        "",
        mix_table(),
        "",
        f"### Measured {date.today().isoformat()} (commit {git_revision()})",
        "",
        (f"`{command}`, {duration(seconds)} in all; an untimed {WARMUP_SECONDS:.0f} s "
         "warm-up at 8 clients before the first level."),
        "",
        "Machine: " + "; ".join(f"{key} {value}" for key, value in facts.items()) + ".",
    ]
    for r in results:
        parts += ["", f"#### {r.name}", "",
                  (f"{r.size:,} listings; catalog import {r.import_s:.1f} s, "
                   f"reindex {r.reindex_s:.1f} s (whole command); gunicorn: {r.gunicorn}; "
                   f"ready (`/healthz` answers) {r.ready_s:.1f} s after launch, first `GET /` "
                   f"after that {ms(r.first_request_ms)} ms; load average before measuring "
                   f"{r.load_average}."), ""]
        if r.levels:
            parts += [levels_table(r), "", "By page kind:", "",
                      kinds_table(r, [n for n in (1, 8) if r.level(n)]), ""]
        if r.ceiling:
            parts += [ceiling_line(r)]
    if any(r.queries for r in results):
        parts += ["", "SQL statements per page kind:", "", queries_table(results)]
    parts += ["", "Aims (issue 15):", "", aims_table(results)]
    return "\n".join(parts)


def duration(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def print_results(results: list[ConfigResult]) -> None:
    for r in results:
        if r.workers:
            say(f"\n{r.name}, worker settings, 8 clients:\n" + workers_table([r]))
            continue
        say(f"\n{r.name}: {r.gunicorn}; first GET / {ms(r.first_request_ms)} ms")
        if r.levels:
            say(levels_table(r))
            say("\nBy page kind, every level:")
            say(kinds_table(r, [level.clients for level in r.levels]))
        if r.ceiling:
            say("\n" + ceiling_line(r))
    if any(r.queries for r in results):
        say("\nSQL statements per page kind:\n" + queries_table(results))
    say("\nAims:")
    for r in results:
        if r.workers:
            continue
        for aim, value, met in aims(r):
            verdict = {True: "met", False: "NOT met", None: "not measured"}[met]
            say(f"  {r.name}: {aim}: {value} -> {verdict}")
