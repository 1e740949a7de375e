"""Catalog commands: ``flask catalog export``, ``flask catalog import`` and the nightly
``flask listings prune``. They stay thin: the work is in ``listings.catalog`` and
``listings.prune``; here we only read options, show progress and commit."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from core.cli import MomentType, require_schema
from core.db import get_session
from listings.catalog import bounded_lines, check_catalog, finish_import
from listings.catalog_export import export_catalog
from listings.notices import send_review_digests
from listings.ports import search_port
from listings.prune import PruneLocked, run_prune
from listings.screenshots import special_file_kind

catalog_cli = AppGroup("catalog", help="Import and export the catalog as JSON Lines.")
listings_cli = AppGroup("listings", help="Catalog jobs.")


@catalog_cli.command("export", help="Write every listing as one JSON object per line.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="File to write (default: standard output).")
def catalog_export(output: Path | None):
    require_schema()
    lines = export_catalog(get_session(), current_app.config["UPLOAD_FOLDER"])
    if output is None:
        for line in lines:
            click.echo(line)
        return
    count = 0
    with output.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
            count += 1
    click.echo(f"Exported {_count(count, 'listing')} to {output}.", err=True)


@catalog_cli.command("import", help="Import listings from a JSON Lines file "
                                    "(see docs/catalog-format.md).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid lines and report the bad ones, instead of "
                   "importing nothing when a line is bad.")
def catalog_import(file: Path, skip_invalid: bool):
    # The file is read twice (counting lines, then checking), so it must be a
    # regular file: a FIFO would be empty the second time, /dev/zero endless.
    kind = special_file_kind(file.stat().st_mode)
    if kind is not None:
        raise click.BadParameter(f"{file} is {kind}, not a regular file.",
                                 param_hint="'FILE'")
    require_schema()
    session = get_session()
    # Read in bounded lines: a file without newlines is never held in memory whole.
    with file.open("rb") as handle:
        total = sum(1 for _ in bounded_lines(handle))
    # Lines go to the check as bytes: it decodes each one, so a bad byte is
    # reported with its line and its offset in the file.
    with file.open("rb") as handle:
        # disable=None: a bar on a terminal, silence in logs and pipes.
        lines = tqdm(bounded_lines(handle), total=total, unit=" lines", desc="Checking",
                     file=sys.stderr, disable=None)
        plan = check_catalog(session, lines, base_dir=file.resolve().parent)
    for error in plan.errors:
        click.echo(str(error), err=True)
    if plan.errors and not skip_invalid:
        good = plan.lines - plan.bad_lines
        hint = (f"Fix them, or run again with --skip-invalid to import the other {good}."
                if good else "Fix them and run again.")
        click.echo(f"Nothing was imported: {plan.bad_lines:,} of "
                   f"{_count(plan.lines, 'line')} had errors. {hint}", err=True)
        raise click.exceptions.Exit(1)
    with tqdm(total=len(plan.listings), unit=" listings", desc="Importing",
              file=sys.stderr, disable=None) as bar:
        result = finish_import(session, plan, current_app.config["UPLOAD_FOLDER"],
                               skip_invalid=skip_invalid, on_batch=bar.update)
    # Index the new listings here, with a progress bar, not silently on commit.
    search_port(session).index_later(session)
    session.commit()
    search_port(session).index_now(current_app._get_current_object(), progress=True)
    _report_slugs_made_unique(result.slugs_made_unique)
    click.echo(f"Imported {_count(result.imported, 'listing')}; skipped "
               f"{_count(result.skipped, 'invalid line')}.")


SLUG_NOTES_SHOWN = 20


def _report_slugs_made_unique(notes: list) -> None:
    """Which listings got a slug other than their name's, because another listing
    had that one: the first few, then how many more."""
    for note in notes[:SLUG_NOTES_SHOWN]:
        click.echo(str(note), err=True)
    if len(notes) > SLUG_NOTES_SHOWN:
        click.echo(f"... and {len(notes) - SLUG_NOTES_SHOWN:,} more listings whose slug "
                   "was made unique.", err=True)


@listings_cli.command("prune", help="Apply the published listing rules: flag stale "
                                    "listings, delist those past their grace period, archive old "
                                    "delistings, clear what was fixed. Run it nightly.")
@click.option("--dry-run", is_flag=True,
              help="Print what the run would do and change nothing (the preview is "
                   "recorded for the editor console).")
@click.option("--now", type=MomentType(), default=None,
              help="Evaluate the rules as if it were this time (ISO 8601, UTC), for "
                   "catching up and tests.")
def listings_prune(dry_run: bool, now: datetime | None):
    require_schema()
    bar = None

    def progress(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            # disable=None: a bar on a terminal, silence in logs and pipes.
            bar = tqdm(total=total, unit=" listings", file=sys.stderr, disable=None)
        bar.set_description(label)
        bar.update(done - bar.n)

    try:
        run = run_prune(current_app._get_current_object(), now=now, dry_run=dry_run,
                        progress=progress)
    except PruneLocked as error:
        click.echo(f"{error}; exiting.", err=True)
        raise click.exceptions.Exit(1) from None
    except Exception as error:
        raise click.ClickException(
            f"The prune run failed: {error}. The batches it finished are kept; the next "
            "run completes the rest.") from error
    finally:
        if bar is not None:
            bar.close()
    counts = (f"flag {run.flagged}, clear {run.cleared}, delist {run.delisted}, "
              f"relist {run.relisted}, archive {run.archived}")
    seconds = (run.finished_at - run.started_at).total_seconds()
    if dry_run:
        for action in run.actions:
            rules = f": {', '.join(action['rules'])}" if action["rules"] else ""
            reason = action["detail"].get("reason") if action["action"] == "clear" else None
            click.echo(f"would {action['action']} {action['slug']}{rules}"
                       + (f" ({reason})" if reason else ""))
        total = run.flagged + run.cleared + run.delisted + run.relisted + run.archived
        if total > len(run.actions):
            click.echo(f"... and {total - len(run.actions):,} more.")
        click.echo(f"Would {counts} (preview {run.id}, {seconds:.1f} s).")
        click.echo("Dry run: nothing changed.")
        return
    click.echo(f"Flagged {run.flagged}, cleared {run.cleared}, delisted {run.delisted}, "
               f"relisted {run.relisted}, archived {run.archived} "
               f"(run {run.id}, {seconds:.1f} s).")

def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@listings_cli.command("review-digest", help="Mail each partner one digest of its newly "
                                            "published reviews (at most one a day). Run it daily.")
@click.option("--now", type=MomentType(), default=None,
              help="Act as if it were this time (ISO 8601, UTC), for catching up and tests.")
def listings_review_digest(now: datetime | None):
    require_schema()
    session = get_session()
    partners = send_review_digests(session, now=now)
    session.commit()
    click.echo(f"Review digests: {partners} partner{'' if partners == 1 else 's'} mailed.")
