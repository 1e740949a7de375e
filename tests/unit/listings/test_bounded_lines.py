"""The catalog reader never hands over more than a line's worth of bytes at once."""

from __future__ import annotations

import io

from listings.catalog import OverlongLine, bounded_lines


def read(data: bytes, limit: int = 10) -> list:
    return list(bounded_lines(io.BytesIO(data), limit))


def test_lines_up_to_the_limit_come_whole_with_their_newline():
    assert read(b"short\n" + b"y" * 10 + b"\nend") == [b"short\n", b"y" * 10 + b"\n", b"end"]


def test_a_longer_line_is_skipped_with_its_size_and_the_next_line_still_comes():
    assert read(b"a\n" + b"x" * 50 + b"\nb\n") == [b"a\n", OverlongLine(51), b"b\n"]


def test_a_long_last_line_without_a_newline_is_skipped_too():
    assert read(b"a\n" + b"z" * 11) == [b"a\n", OverlongLine(11)]
