"""`flask --app trainer outbox`: read the outbox, and deliver it now."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from trainer.mail.delivery import build_email, deliver_pending, message_status
from trainer.models import OutboxMessage

SUBJECT_WIDTH = 40
TO_WIDTH = 30


@click.command("outbox")
@click.option("--show", "show_id", type=int, metavar="ID", help="Print one message whole.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many to list."
)
@click.option("--deliver", is_flag=True, help="Send what is due now, then list.")
@with_appcontext
def outbox_command(show_id: int | None, limit: int, deliver: bool) -> None:
    """List the outbox, newest first: what was sent, what waits, what failed, what is kept."""
    from trainer.extensions import db

    if deliver:
        click.echo(str(deliver_pending(db.session)))
        click.echo()
    if show_id is not None:
        _show(db.session.get(OutboxMessage, show_id), show_id)
        return
    _list(db.session, limit)


def _list(session, limit: int) -> None:
    server = current_app.config.get("MAIL_SERVER")
    total = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    if server:
        where = f"Mail server: {server}:{current_app.config['MAIL_PORT']}."
    else:
        where = "No MAIL_SERVER set: mail is kept here to be read, not sent."
    if total == 0:
        click.echo(f"The outbox is empty. {where}")
        return
    unsent = _count(session, OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    failed = _count(session, OutboxMessage.failed_at.is_not(None))
    shown = min(total, limit)
    click.echo(
        f"Outbox: {total} message(s), {unsent} unsent, {failed} failed (not sent and never "
        f"tried again); newest {shown} shown. {where}"
    )
    messages = session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    ).all()
    click.echo(
        f"{'ID':>6}  {'QUEUED (UTC)':16}  {'TO':{TO_WIDTH}}  {'SUBJECT':{SUBJECT_WIDTH}}  STATUS"
    )
    for message in messages:
        status = message_status(message, server)
        click.echo(
            f"{message.id:>6}  {message.created_at:%Y-%m-%d %H:%M}  "
            f"{_cut(message.to, TO_WIDTH):{TO_WIDTH}}  "
            f"{_cut(message.subject, SUBJECT_WIDTH):{SUBJECT_WIDTH}}  {status.word}"
        )
        if status.detail:
            click.echo(f"{'':8}{status.detail}")
    if total > shown:
        click.echo(f"({total - shown} older not shown: use --limit.)")


def _show(message: OutboxMessage | None, show_id: int) -> None:
    if message is None:
        raise click.ClickException(f"There is no message #{show_id} in the outbox.")
    try:
        headers = [
            (name, value)
            for name, value in build_email(message, current_app.config).items()
            if name.lower() not in {"content-type", "mime-version", "content-transfer-encoding"}
        ]
    except Exception as exc:  # the reason it cannot be sent is worth showing, not a traceback
        click.echo(f"(This message cannot be built into an email: {exc})")
        headers = [("To", message.to), ("Subject", message.subject)]
    for name, value in headers:
        click.echo(f"{name}: {value}")
    click.echo(f"Status: {message_status(message, current_app.config.get('MAIL_SERVER'))}")
    click.echo(f"Kind: {message.kind}")
    if message.html:
        click.echo(f"HTML alternative: {len(message.html)} characters (not shown).")
    click.echo()
    click.echo(message.text)


def _count(session, *where) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def init_app(app: Flask) -> None:
    app.cli.add_command(outbox_command)
