"""`flask --app trainer users create` and `flask --app trainer demo`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from trainer.models import ROLES

users = AppGroup("users", help="Manage accounts from the command line.")


@users.command("create")
@click.option("--email", prompt=True, help="Sign-in email.")
@click.option("--name", prompt=True, help="Full name.")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--job-role", default=None, help="Job role id, e.g. teller.")
@click.option("--team", default=None, help="Team name (created if new).")
@click.option("--timezone", default="Europe/London", show_default=True)
@click.password_option(help="Password (asked for when not given).")
def create_command(email, name, role, job_role, team, timezone, password) -> None:
    """Create an account, e.g. the first admin."""
    from trainer.extensions import db
    from trainer.people.services import PersonError, create_user

    try:
        user = create_user(
            db.session,
            email=email,
            name=name,
            password=password,
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
    click.echo(f"Created {user.role} {user.email}.")


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
