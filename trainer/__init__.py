"""Frontline Trainer: scenario lessons, quizzes and role-play for frontline staff."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


VIEW_MODULES = (
    "trainer.auth.views",
    "trainer.auth.views_cards",
    "trainer.auth.views_device",
    "trainer.auth.joining",
    "trainer.learn.views",
    "trainer.learn.views_conversation",
    "trainer.review.views",
    "trainer.notify.views",
    "trainer.admin.views",
    "trainer.manage.views_people",
    "trainer.manage.views_devices",
    "trainer.manage.views_insight",
    "trainer.manage.views_joining",
    "trainer.manage.views_nudges",
)


def import_views() -> None:
    import importlib

    for name in VIEW_MODULES:
        importlib.import_module(name)


def create_app(config_class: type | str | None = None, test_config: dict | None = None) -> Flask:
    """Build the app. Touches no database: forked web workers must not share connections."""
    from config import CONFIGS, ProductionConfig

    if config_class is None:
        config_class = os.environ.get("FLASK_CONFIG", "development")
    if isinstance(config_class, str):
        try:
            config_class = CONFIGS[config_class]
        except KeyError:
            names = ", ".join(CONFIGS)
            raise RuntimeError(f"FLASK_CONFIG={config_class!r} is not one of {names}") from None

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from trainer.web import IdConverter, SegmentConverter

    # Before any route is added.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = SegmentConverter
    app.config.from_object(config_class)
    if test_config:
        app.config.update(test_config)
    if issubclass(config_class, ProductionConfig):
        ProductionConfig.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from trainer import assets, database, languages, web
    from trainer.extensions import csrf, db, login_manager, migrate

    database.install()
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        database.ping_when_idle(db.engine, app.config)
    app.teardown_request(database.end_reads)  # before Flask-SQLAlchemy's own teardown
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    web.init_request_guards(app)  # before CSRF: they decide how much of a body may be read
    csrf.init_app(app)
    login_manager.init_app(app)
    languages.init_app(app)

    from trainer import auth, errors, page_cache
    from trainer.admin import bp as admin_bp
    from trainer.auth import bp as auth_bp
    from trainer.content import cli as content_cli
    from trainer.content import live
    from trainer.jobs import cli as jobs_cli
    from trainer.learn import bp as learn_bp
    from trainer.manage import bp as manage_bp
    from trainer.messages import cli as messages_cli
    from trainer.messages.views import bp as messages_bp
    from trainer.notify import bp as notify_bp
    from trainer.people import cli as people_cli
    from trainer.review import bp as review_bp

    # The views attach their routes to the blueprints; importing them here, and not from the
    # packages themselves, keeps a service import from dragging every view along (and loops).
    live.init_app(app)
    import_views()
    app.register_blueprint(auth_bp)
    app.register_blueprint(learn_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(messages_bp)
    auth.init_app(app)
    web.init_app(app)
    assets.init_app(app)
    page_cache.init_app(app)
    errors.init_app(app)
    content_cli.init_app(app)
    people_cli.init_app(app)
    jobs_cli.init_app(app)
    messages_cli.init_app(app)
    return app
