"""Who someone is: the ways of signing in, sessions as rows, throttling, the Account page."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    """Who is signed in: Flask-Login asks the session rows (`sessions.load`). Company sign-in
    must be set up whole, or not at all."""
    from trainer.auth import joining, oidc, sessions
    from trainer.extensions import db, login_manager

    oidc.check_config(app.config)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str):
        return sessions.load(db.session, token)

    joining.init_app(app)
