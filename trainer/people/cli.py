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
def create_command(
    email, employee_number, phone, name, role, job_role, team, timezone, password, pin
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
        )
    except PersonError as error:
        db.session.rollback()
        hint = "--" + error.field.replace("_", "-")
        raise click.BadParameter(error.message, param_hint=hint) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.handle}.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo accounts and some lesson history (safe to run again)."""
    from trainer.extensions import db
    from trainer.people.demo import load_demo

    click.echo(load_demo(db.session))


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_command)
