"""Who someone is: the ways of signing in, sessions as rows, throttling, the Account page."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    """Who is signed in: Flask-Login asks the session rows (`sessions.load`). Company sign-in
    must be set up whole, or not at all."""
    from flask import flash, redirect, request, url_for
    from flask_babel import lazy_gettext as _l
    from flask_login import current_user, login_url

    from trainer.auth import cli, joining, oidc, sessions, signin
    from trainer.extensions import db, login_manager

    oidc.check_config(app.config)
    cli.init_app(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str):
        return sessions.load(db.session, token)

    @login_manager.unauthorized_handler
    def sign_in_first():
        # In the words of whoever is asking; a flash is kept as text.
        flash(str(login_manager.login_message), login_manager.login_message_category)
        if signin.on_team_device():
            # The next colleague starts afresh on the tablet, not where the last one was.
            return redirect(url_for("auth.device"))
        return redirect(login_url(login_manager.login_view, next_url=request.url))

    @app.context_processor
    def shared_device():
        def on_shared_device() -> bool:
            """This page is for a session started on a team's shared tablet."""
            return current_user.is_authenticated and current_user.session_device_id is not None

        return {"on_shared_device": on_shared_device, "home_url": signin.home}

    joining.init_app(app)
