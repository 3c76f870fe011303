"""`flask --app trainer content check|sync`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from trainer.content.library import load_library
from trainer.content.sync import sync_library

content = AppGroup("content", help="Check and load the lessons and quizzes.")


def _load():
    root = current_app.config["CONTENT_DIR"]
    library = load_library(root)
    for problem in library.problems:
        click.echo(str(problem), err=True)
    for warning in library.warnings:
        click.echo(f"{warning.path}:{warning.line}: warning: {warning.message}", err=True)
    return library


@content.command("check")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on warnings too (a translation without its source hash, or behind its source).",
)
def check_command(strict: bool) -> None:
    """Validate every content file; print each problem as path:line: message, each
    translation's state, and each conversation's best possible score."""
    library = _load()
    if library.problems:
        _best_scores(library)
        click.echo(f"{len(library.problems)} problem(s) found.", err=True)
        raise SystemExit(1)
    click.echo(
        f"OK: {len(library.lessons)} lessons, {len(library.quizzes)} quizzes "
        f"({sum(len(q.items) for q in library.quizzes.values())} items), "
        f"{len(library.conversations)} conversations, {len(library.paths)} paths."
    )
    _translations(library)
    _best_scores(library)
    if strict and library.warnings:
        click.echo(f"{len(library.warnings)} warning(s), failing under --strict.", err=True)
        raise SystemExit(1)


def _translations(library) -> None:
    """How many files each language translates, and how many of them are behind."""
    languages = sorted({t.language for t in library.translations})
    for language in languages:
        done = [t for t in library.translations if t.language == language]
        behind = sum(1 for t in done if not t.current)
        note = f", {behind} to bring up to date (see the warnings)" if behind else ", all current"
        click.echo(f"Translations ({language}): {len(done)} files{note}.")


def _best_scores(library) -> None:
    """Each checked conversation's best possible score and the way through that scores it."""
    scored = [c for c in library.conversations.values() if c.best is not None]
    if scored:
        click.echo("Best possible scores:")
    for conversation in sorted(scored, key=lambda c: c.id):
        best = conversation.best
        click.echo(
            f"  {conversation.id}: {best.points} points in {best.steps} steps "
            f"({' -> '.join(best.nodes)})"
        )


@content.command("sync")
@click.option("-v", "--verbose", is_flag=True, help="List every created and updated row.")
def sync_command(verbose: bool) -> None:
    """Load the library into the database. Nothing is loaded while any file has a problem."""
    from trainer.extensions import db

    library = _load()
    if library.problems:
        click.echo(
            f"{len(library.problems)} problem(s) found; nothing was loaded. "
            "Fix them and run the sync again.",
            err=True,
        )
        raise SystemExit(1)
    report = sync_library(db.session, library)
    if verbose:
        for label in report.created:
            click.echo(f"  + {label}")
        for label in report.updated:
            click.echo(f"  ~ {label}")
    for label in report.retired:
        click.echo(f"  - {label} (retired; its history is kept)")
    click.echo(report.summary())
    from trainer.manage.observations import ensure_builtin_checklists

    ensure_builtin_checklists(db.session)
    from trainer.learn.enrolment import enrol_everyone_by_role

    enrolled = enrol_everyone_by_role(db.session)
    if enrolled:
        click.echo(f"Enrolled {enrolled} people on their job role's onboarding path.")


def init_app(app: Flask) -> None:
    app.cli.add_command(content)
