"""`flask --app trainer outbox` (read the outbox, and deliver it now) and
`flask --app trainer push keys` (VAPID keys for Web Push)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from trainer.messages import channels, push
from trainer.messages.channels import LABELS
from trainer.messages.delivery import deliver_pending, delivery_status, message_status
from trainer.messages.email import build_email
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
    config = current_app.config
    total = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    where = " ".join(channels.setup_lines(config))
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
        f"{'ID':>6}  {'QUEUED (UTC)':16}  {'BY':6}  {'TO':{TO_WIDTH}}  "
        f"{'SUBJECT':{SUBJECT_WIDTH}}  STATUS"
    )
    for message in messages:
        status = message_status(message, config)
        click.echo(
            f"{message.id:>6}  {message.created_at:%Y-%m-%d %H:%M}  {message.channel:6}  "
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
    config = current_app.config
    try:
        headers = [
            (name, value)
            for name, value in build_email(message, config).items()
            if name.lower() not in {"content-type", "mime-version", "content-transfer-encoding"}
        ]
    except Exception as exc:  # the reason it cannot be sent is worth showing, not a traceback
        click.echo(f"(This message cannot be built into an email: {exc})")
        headers = [("To", message.to), ("Subject", message.subject)]
    for name, value in headers:
        click.echo(f"{name}: {value}")
    click.echo(f"Status: {message_status(message, config)}")
    click.echo(f"Kind: {message.kind}")
    for delivery in message.deliveries:
        to = f" to {delivery.to}" if delivery.to else ""
        click.echo(f"By {LABELS[delivery.channel]}{to}: {delivery_status(message, delivery)}")
    if message.html:
        click.echo(f"HTML alternative: {len(message.html)} characters (not shown).")
    if message.short:
        click.echo(f"Short version (push, text message): {message.short} {message.url or ''}")
    click.echo()
    click.echo(message.text)


def _count(session, *where) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


push_group = AppGroup("push", help="Web Push notifications to the installed web app.")


@push_group.command("keys")
@with_appcontext
def keys_command() -> None:
    """Print a new VAPID key pair and subject, ready to paste into the environment."""
    from email.utils import parseaddr

    public, private = push.new_keys()
    sender = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")[1]
    click.echo(f"VAPID_PUBLIC_KEY={public}")
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo(f"VAPID_SUBJECT=mailto:{sender or 'you@example.com'}")
    click.echo(
        "Set these three in the environment of the web server and the scheduler. Keep the "
        "private key secret, and keep it: with new keys, every browser has to turn "
        "notifications on again. VAPID_SUBJECT tells push services whom to contact (a mailto: "
        "address or an https:// page of yours).",
        err=True,
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(outbox_command)
    app.cli.add_command(push_group)
