"""`flask catalog import` given hostile input: bytes that are not UTF-8, JSON nested
past what the parser can take, and screenshot paths that are devices, pipes,
directories or huge files. Each is a clear error naming the line; none is a
traceback, a hang, or gigabytes read into memory."""

from __future__ import annotations

import json
import os

import pytest
from sqlmodel import select

from listings.models import Listing
from tests import factories
from tests.functional.test_catalog_cli import record

# More than one 8 KiB decoding chunk of good lines, so a chunk-relative offset shows.
GOOD_LINES = 40


def good_lines() -> bytes:
    return b"".join(json.dumps(record(f"app-{n}")).encode() + b"\n"
                    for n in range(1, GOOD_LINES + 1))


def imported_slugs(db) -> set[str]:
    return set(db.exec(select(Listing.slug)).all())


def test_invalid_utf8_names_the_line_and_the_byte_offset_in_the_file(runner, db, tmp_path):
    bad = json.dumps(record("latin-one", name="Caf\u00e9"),
                     ensure_ascii=False).encode("latin-1")
    data = good_lines() + bad + b"\n" + json.dumps(record("after")).encode() + b"\n"
    path = tmp_path / "catalog.jsonl"
    path.write_bytes(data)
    offset = data.index(b"Caf\xe9") + 3
    assert offset > 8192

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1
    assert (f"line {GOOD_LINES + 1}: encoding: not UTF-8 text (invalid continuation byte "
            f"at byte {offset} of the file)") in result.output
    assert f"Nothing was imported: 1 of {GOOD_LINES + 2} lines had errors." in result.output
    assert imported_slugs(db) == set()

    result = runner.invoke(args=["catalog", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert f"Imported {GOOD_LINES + 1} listings; skipped 1 invalid line." in result.output
    assert "latin-one" not in imported_slugs(db) and "after" in imported_slugs(db)


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000,
                                    '{"a":' * 5000 + "1" + "}" * 5000,
                                    json.dumps(record("deep"))[:-1] + ', "tags": '
                                    + "[" * 5000 + "]" * 5000 + "}"])
def test_deeply_nested_json_is_an_invalid_line(runner, db, tmp_path, nested):
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(record("fine")) + "\n" + nested + "\n", encoding="utf-8")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert "line 2: json: not valid JSON (nested too deeply" in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    result = runner.invoke(args=["catalog", "import", str(path), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert imported_slugs(db) == {"fine"}


def write_catalog_with_shot(tmp_path, shot_path: str):
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(record("pictured", screenshots=[{"path": shot_path}])) + "\n",
                    encoding="utf-8")
    return path


def test_screenshot_path_that_is_a_device_is_refused_unread(runner, db, tmp_path):
    path = write_catalog_with_shot(tmp_path, "/dev/zero")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert "line 1: screenshots[0].path: /dev/zero: is a device, not a regular file" \
        in result.output
    assert imported_slugs(db) == set()


def test_screenshot_path_that_is_a_fifo_is_refused_without_waiting(runner, db, tmp_path):
    os.mkfifo(tmp_path / "shot.png")  # no writer: opening it plainly would wait forever
    path = write_catalog_with_shot(tmp_path, "shot.png")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert "line 1: screenshots[0].path: shot.png: is a named pipe (FIFO), not a regular file" \
        in result.output


def test_screenshot_path_that_is_a_directory_is_refused(runner, db, tmp_path):
    (tmp_path / "shots").mkdir()
    path = write_catalog_with_shot(tmp_path, "shots")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert "line 1: screenshots[0].path: shots: is a directory, not a regular file" \
        in result.output


def test_huge_screenshot_is_refused_by_its_size_without_reading_it(runner, db, tmp_path):
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024**3)  # sparse: 64 GB long, no disk used
    path = write_catalog_with_shot(tmp_path, "huge.png")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert "line 1: screenshots[0].path: huge.png: The screenshot must be smaller than 5 MB." \
        in result.output


def test_a_good_screenshot_next_to_refused_ones_still_imports(runner, db, tmp_path):
    (tmp_path / "shot.png").write_bytes(factories.image_bytes(size=(400, 250)))
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(record("pictured", screenshots=[{"path": "shot.png"}])) + "\n"
                    + json.dumps(record("devious", screenshots=[{"path": "/dev/zero"}])) + "\n",
                    encoding="utf-8")

    result = runner.invoke(args=["catalog", "import", str(path), "--skip-invalid"])

    assert result.exit_code == 0, result.output
    assert "Imported 1 listing; skipped 1 invalid line." in result.output
    assert imported_slugs(db) == {"pictured"}


@pytest.mark.parametrize("make", ["fifo", "device"])
def test_catalog_file_that_is_not_a_regular_file_is_refused(runner, db, tmp_path, make):
    if make == "fifo":
        target = tmp_path / "catalog.jsonl"
        os.mkfifo(target)
        kind = "a named pipe (FIFO)"
    else:
        target, kind = "/dev/zero", "a device"

    result = runner.invoke(args=["catalog", "import", str(target)])

    assert result.exit_code == 2, result.output
    assert f"{target} is {kind}, not a regular file" in result.output


def test_a_line_longer_than_any_listing_is_reported_and_not_read_whole(runner, db, tmp_path):
    huge = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'  # 3 MiB on one line
    data = (json.dumps(record("before")).encode() + b"\n" + huge + b"\n"
            + json.dumps(record("after")).encode() + b"\n")
    path = tmp_path / "catalog.jsonl"
    path.write_bytes(data)

    result = runner.invoke(args=["catalog", "import", str(path), "--skip-invalid"])

    assert result.exit_code == 0, result.output
    assert f"line 2: length: {len(huge) + 1:,} bytes" in result.output
    assert "not read" in result.output
    assert {"before", "after"} <= imported_slugs(db)


def test_control_characters_from_the_file_are_shown_escaped(runner, db, tmp_path):
    line = record("escapes", screenshots=[{"path": "shots/\x1b[2Jgone.png", "caption": "x"}])
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "shots/\\x1b[2Jgone.png" in result.output


def test_a_line_cut_short_names_the_column_where_it_ends(runner, db, tmp_path):
    line = json.dumps(record("cut"))[:-1]  # no closing brace
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(record("fine")) + "\n" + line + "\n", encoding="utf-8")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    # The column after the last character, not column 1 of the line's newline.
    assert (f"line 2: json: not valid JSON (Expecting ',' delimiter at column "
            f"{len(line) + 1})") in result.output
    assert imported_slugs(db) == set()


@pytest.mark.parametrize("field", ["name", "tagline", "partner", "category"])
def test_control_characters_in_a_text_are_refused(runner, db, tmp_path, field):
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(record("nul", **{field: "Bad\u0000Text"})) + "\n",
                    encoding="utf-8")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert f"line 1: {field}: must not contain control characters" in result.output
    assert imported_slugs(db) == set()


def test_a_field_given_twice_is_refused_not_silently_overwritten(runner, db, tmp_path):
    line = json.dumps(record("twice"))[:-1] + ', "name": "Second Name"}'
    path = tmp_path / "catalog.jsonl"
    path.write_text(line + "\n", encoding="utf-8")

    result = runner.invoke(args=["catalog", "import", str(path)])

    assert result.exit_code == 1, result.output
    assert "line 1: json: not valid JSON (the field \"name\" is given twice)" in result.output
    assert imported_slugs(db) == set()
