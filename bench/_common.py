"""Helpers shared by the benchmarks in ``bench/``: step headers with elapsed
times, percentiles, the app's CLI and a gunicorn server run as subprocesses,
HTTP sessions, a description of the machine, and the Markdown section that
``--write-doc`` puts into a document.

The benchmarks run the app exactly as it is deployed (the ``flask`` CLI and
gunicorn, configured through environment variables), so nothing here imports
the app at module level.
"""

from __future__ import annotations

import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def venv_tool(name: str) -> str:
    """The virtualenv's copy of a console script (flask, gunicorn), else the one on PATH."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


# --- progress ---------------------------------------------------------------------------


class Steps:
    """Prints a header per step with the time elapsed since the benchmark started,
    so a long run shows where it is and where the time went."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        seconds = self.elapsed()
        print(f"[{int(seconds // 60):3d}m{seconds % 60:04.1f}s] {message}", flush=True)


def say(message: str = "") -> None:
    print(message, flush=True)


# --- statistics ----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) with linear interpolation between the two
    nearest samples (what numpy calls "linear"); NaN for no samples."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Latency:
    """Summary of one series of timings, in milliseconds."""

    count: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = [s * 1000.0 for s in seconds]
        return cls(len(ms), percentile(ms, 0.50), percentile(ms, 0.95), max(ms) if ms else math.nan)


def ms(value: float | None) -> str:
    """A millisecond figure for a table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


# --- subprocesses -------------------------------------------------------------------------------


def run(command: Sequence[str], env: dict[str, str], capture: bool = False) -> tuple[float, str]:
    """Run a command from the repo root; its stderr (progress bars) goes to ours.
    Returns (seconds, stdout) and raises with its output when it fails."""
    started = time.perf_counter()
    completed = subprocess.run(list(command), cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE if capture else None)
    seconds = time.perf_counter() - started
    output = completed.stdout or ""
    if capture and output:
        print(output, end="" if output.endswith("\n") else "\n", flush=True)
    if completed.returncode != 0:
        raise SystemExit(f"command failed ({completed.returncode}): {' '.join(command)}")
    return seconds, output


def flask(env: dict[str, str], *args: str, capture: bool = False) -> tuple[float, str]:
    """``flask --app app ARGS`` with ``env``; (seconds, stdout)."""
    return run([venv_tool("flask"), "--app", "app", *args], env, capture=capture)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn app:app`` on a free local port, with its log in ``log_path``.
    Use as a context manager: it is stopped (by its own pid) on the way out.

    ``cwd`` is the source tree it serves (this one unless told).
    ``workers=None`` passes no worker settings, so gunicorn takes the deployment's
    own (``gunicorn.conf.py`` in the repository root, read from the working
    directory); ``options`` are more command-line flags (``--worker-class``...).
    Ready means ``/healthz`` answers; the first ``GET /`` after that is timed
    (``first_request_s``): what the first visitor after a deploy waits."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int | None = 2,
                 options: Sequence[str] = (), cwd: Path = ROOT):
        self.env = env
        self.cwd = cwd  # the source tree served (another revision's checkout, say)
        self.log_path = log_path
        self.workers = workers
        self.options = list(options)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.first_request_s = math.nan
        self.ready_s = math.nan  # from launch to /healthz answering

    def __enter__(self) -> Gunicorn:
        import requests

        command = [venv_tool("gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                   "--error-logfile", str(self.log_path)]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        command += [*self.options, "app:app"]
        launched = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=self.cwd, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); its log:\n"
                                 + self.log_tail())
            try:
                # /healthz touches nothing, so it answers as soon as a worker is up; any
                # failure (refused, reset, a slow first answer) means "not yet".
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    self.ready_s = time.perf_counter() - launched
                    started = time.perf_counter()
                    requests.get(self.url + "/", timeout=60)
                    self.first_request_s = time.perf_counter() - started
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise SystemExit("gunicorn did not answer within 60 s; its log:\n" + self.log_tail())

    def settings(self) -> str:
        """The worker class and count gunicorn reports in its log (its own
        settings, wherever they came from)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        worker_class = re.search(r"Using worker: (\S+)", text)
        booted = len(re.findall(r"Booting worker with pid", text))
        return f"{worker_class.group(1) if worker_class else '?'} worker class, {booted} workers"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __exit__(self, *_exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: the arbiter stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def http_pools(url: str, count: int):
    """``count`` keep-alive connection pools to the server at ``url``, each from its own
    loopback source address (127.0.0.2, 127.0.0.3, ...). Rate limits are per client
    address, so spreading requests over a few addresses lets a benchmark send more than
    a person would without turning the limiter off (its cost stays in the figures).

    urllib3, the HTTP library opensearch-py's client sends the raw queries with: a page
    and the query it makes are then fetched by the same client code, and what differs
    is the server's work, not the client library's (requests on top of urllib3 added
    about 0.35 ms a call: its hooks, cookie jar and proxy settings). Answers are asked
    for compressed, as a browser asks (gzip, deflate, br), and decoded."""
    import urllib3

    address = urllib3.util.parse_url(url)
    return [urllib3.HTTPConnectionPool(address.host, address.port, maxsize=1, timeout=30,
                                       retries=False, source_address=(f"127.0.0.{2 + n}", 0),
                                       headers=urllib3.util.make_headers(accept_encoding=True))
            for n in range(count)]


@contextmanager
def quiet_logs():
    """Silence library warnings (an unreachable node, retries) during timing loops."""
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


# --- the machine ------------------------------------------------------------------------


def _meminfo_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    """The commit benchmarked, with "+changes" when the working tree differs."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
        return head + (" +changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What the figures were measured on."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    facts = {
        "CPU": f"{os.cpu_count()} cores (nproc), {_cpu_model()}",
        "RAM": _meminfo_gib(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "load average at start (1/5/15 min)": load,
    }
    facts.update(extra or {})
    return facts


# --- documents -------------------------------------------------------------------------


def replace_section(path: Path, name: str, markdown: str) -> None:
    """Put ``markdown`` between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``
    in ``path`` (appended at the end, markers and all, when the markers are missing)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text, count=1)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    path.write_text(text)


def checkout(revision: str, steps: Steps) -> Path:
    """``revision`` checked out into a temporary git worktree (``remove_checkout`` it)."""
    folder = Path(tempfile.mkdtemp(prefix="bazaar-bench-checkout-"))
    steps(f"checking out {revision} into {folder}")
    completed = subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision],
                               cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        fail(f"git cannot check out {revision!r}: {completed.stderr.strip()}")
    return folder


def remove_checkout(folder: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT,
                   capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


def fail(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(1)
