"""gunicorn's gthread workers render pages in several threads of one process, and
bleach's Cleaner and Linker are not thread-safe ("the html parser has internal
state. Create a separate cleaner per thread!"): each thread must get its own."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from core import markdown
from mail import preview


def _sanitizers_seen_by_threads(sanitizers, count: int = 4) -> set[int]:
    seen: set[int] = set()
    barrier = threading.Barrier(count)

    def look():
        barrier.wait()  # all alive at once, so no thread id is reused
        cleaner, linker = sanitizers()
        seen.add(id(cleaner))
        seen.add(id(linker))

    with ThreadPoolExecutor(count) as pool:
        for future in [pool.submit(look) for _ in range(count)]:
            future.result()
    return seen


def test_each_thread_cleans_user_markdown_with_its_own_sanitizers():
    assert len(_sanitizers_seen_by_threads(markdown.sanitizers)) == 8


def test_each_thread_cleans_mail_previews_with_its_own_sanitizers():
    assert len(_sanitizers_seen_by_threads(preview.sanitizers)) == 8


def test_markdown_rendered_in_many_threads_at_once_is_rendered_right():
    texts = [f"## Part {n}\n\nSee <b>{n}</b> at https://example.com/{n} and **bold {n}**.\n\n"
             f"- one {n}\n- two {n}\n" * (1 + n % 5) for n in range(200)]
    expected = [markdown._rendered.__wrapped__(text) for text in texts]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(markdown._rendered.__wrapped__, texts))
    assert got == expected
