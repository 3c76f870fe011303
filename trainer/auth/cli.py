"""`flask --app trainer devices add|list|revoke`: team tablets from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

devices = AppGroup("devices", help="Team tablets, for signing in with employee number and PIN.")


def _team(name: str):
    from trainer.extensions import db
    from trainer.models import Team

    team = db.session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise click.BadParameter(f'there is no team named "{name}"', param_hint="--team")
    return team


@devices.command("add")
@click.option("--team", "team_name", required=True, help="The team's name, as on the Teams page.")
@click.option("--name", "label", required=True, help='What to call it, e.g. "Counter tablet".')
def add_command(team_name: str, label: str) -> None:
    """Make a device for a team and print its one-time enrolment link: open it in the
    tablet's browser within 48 hours."""
    from trainer.auth import device
    from trainer.extensions import db

    team = _team(team_name)
    try:
        added, code = device.add_device(db.session, team, label, created_by=None)
    except device.DeviceError as error:
        raise click.BadParameter(error.message, param_hint="--name") from None
    click.echo(
        f"Open this link once in the browser of {team.name}'s tablet “{added.label}”, "
        f"before {added.link_expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    click.echo(device.enrolment_link(code))


@devices.command("list")
@click.option("--team", "team_name", default=None, help="Only this team's devices.")
def list_command(team_name: str | None) -> None:
    """Every device, with its id, team, status and last use."""
    from trainer.auth import device
    from trainer.extensions import db
    from trainer.models import Team, utcnow

    team_ids = [_team(team_name).id] if team_name else list(db.session.scalars(select(Team.id)))
    now = utcnow()
    found = device.devices_of(db.session, team_ids)
    for row in found:
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M} UTC" if row.last_used_at else ""
        click.echo(f"{row.id}\t{row.team.name}\t{row.label}\t{row.status(now)}\t{used}".rstrip())
    if not found:
        click.echo("No devices.")


@devices.command("revoke")
@click.argument("device_id", type=click.IntRange(min=1))
def revoke_command(device_id: int) -> None:
    """Stop a device at once: no one signs in on it any more, and whoever is signed in there
    is signed out."""
    from trainer.auth import device
    from trainer.extensions import db
    from trainer.models import Device

    found = db.session.get(Device, device_id)
    if found is None:
        raise click.BadParameter(f"there is no device {device_id}", param_hint="DEVICE_ID")
    device.revoke(db.session, found)
    click.echo(f"Revoked {found.team.name}'s “{found.label}”.")


def init_app(app: Flask) -> None:
    app.cli.add_command(devices)
