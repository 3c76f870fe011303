"""`flask --app trainer users create` and `flask --app trainer demo`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from trainer.models import ROLES

users = AppGroup("users", help="Manage accounts from the command line.")


@users.command("create")
@click.option("--email", default=None, help="Sign-in email.")
@click.option("--employee-number", default=None, help="Employee number (tablet sign-in).")
@click.option("--phone", default=None, help="Mobile number, e.g. +44 7911 123456.")
@click.option("--name", prompt=True, help="Full name.")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--job-role", default=None, help="Job role id, e.g. teller.")
@click.option("--team", default=None, help="Team name (created if new).")
@click.option("--timezone", default="Europe/London", show_default=True)
@click.option(
    "--password", default=None, help="Password (asked for when neither it nor --pin is given)."
)
@click.option("--pin", default=None, help="Six-digit PIN for the team's enrolled tablet.")
@click.option(
    "--language", default=None, help="en, es or pl (default: the DEFAULT_LANGUAGE setting)."
)
def create_command(
    email, employee_number, phone, name, role, job_role, team, timezone, password, pin, language
) -> None:
    """Create an account, e.g. the first admin, or someone without email who signs in on the
    team's tablet (--employee-number and --pin)."""
    from trainer.extensions import db
    from trainer.people.services import PersonError, create_user

    if not (email or employee_number or phone):
        email = click.prompt("Email")
    if password is None and pin is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            db.session,
            email=email,
            employee_number=employee_number,
            phone=phone,
            name=name,
            password=password,
            pin=pin,
            role=role,
            job_role=job_role,
            team=team,
            timezone=timezone,
            language=language,
        )
    except PersonError as error:
        db.session.rollback()
        hint = "--" + error.field.replace("_", "-")
        raise click.BadParameter(error.message, param_hint=hint) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.handle}.")


join_codes = AppGroup("join-codes", help="Team codes that let new people join from a poster.")


@join_codes.command("create")
@click.option("--team", "team_name", required=True, help="The team's name.")
@click.option("--days", default=14, show_default=True, type=int, help="How long it works.")
@click.option("--uses", default=50, show_default=True, type=int, help="How many may join.")
@click.option("--job-role", default=None, help="Path newcomers start on (default: the team's).")
def create_join_code(team_name: str, days: int, uses: int, job_role: str | None) -> None:
    """Make a join code for a team; prints the code and its join URL."""
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.models import Team
    from trainer.people import joining
    from trainer.people.services import PersonError, check_job_role

    team = db.session.scalar(select(Team).where(Team.name == team_name))
    if team is None:
        raise click.BadParameter(f'no team named "{team_name}"', param_hint="--team")
    try:
        role = check_job_role(db.session, job_role)
        code = joining.create_code(db.session, team, by=None, days=days, uses=uses, job_role=role)
    except PersonError as error:
        raise click.BadParameter(error.message, param_hint="--" + error.field) from None
    click.echo(f"Code {code.display} for {team.name}: {uses} people, {days} days.")
    click.echo(f"Join URL: {joining.join_url(code)}")


@join_codes.command("list")
def list_join_codes() -> None:
    """Every code, newest first, with what is left of it."""
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.models import Team, utcnow
    from trainer.people import joining

    now = utcnow()
    teams = [team.id for team in db.session.scalars(select(Team))]
    for code in joining.codes_of(db.session, teams):
        state = "works" if code.usable(now) else "revoked" if code.revoked_at else "ended"
        click.echo(
            f"{code.display}  {code.team.name}  {state}  {code.uses}/{code.max_uses} used  "
            f"until {code.expires_at:%Y-%m-%d %H:%M} UTC"
        )


@join_codes.command("revoke")
@click.argument("code")
def revoke_join_code(code: str) -> None:
    """Stop a code working; people who joined with it stay."""
    from sqlalchemy import select

    from trainer.extensions import db
    from trainer.models import JoinCode
    from trainer.people import joining

    found = db.session.scalar(select(JoinCode).where(JoinCode.code == joining.clean_code(code)))
    if found is None:
        raise click.BadParameter(f'no code "{code}"', param_hint="CODE")
    joining.revoke(db.session, found)
    click.echo(f"Code {found.display} no longer works.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo accounts and some lesson history (safe to run again)."""
    from trainer.extensions import db
    from trainer.people.demo import load_demo

    click.echo(load_demo(db.session))


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(join_codes)
    app.cli.add_command(demo_command)
