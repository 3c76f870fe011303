"""Settings, read from the environment. Pick a class with FLASK_CONFIG or `create_app(...)`."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'trainer.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    CONTENT_DIR = os.environ.get("CONTENT_DIR", str(BASE_DIR))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12  # one working day
    WTF_CSRF_TIME_LIMIT = None  # a lesson left open over lunch must still submit

    # Failed logins: after this many in the window, the account (or address) must wait.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20))
    LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60))

    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/London")
    # Behind a reverse proxy, how many proxies set X-Forwarded-For/-Proto/-Host. Without it every
    # request seems to come from the proxy, and sign-in throttling per address would lock out
    # everyone at once.
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", 0))

    # Mail. With no MAIL_SERVER, messages stay in the outbox for an admin to read.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Frontline Trainer <no-reply@frontline-trainer.local>"
    )
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", 10))
    # Links in emails point here (no request to take the host from in a scheduled job).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")

    # Spaced repetition (docs/spaced-repetition.md).
    DESIRED_RETENTION = float(os.environ.get("DESIRED_RETENTION", 0.9))
    REFRESHER_MINUTES = float(os.environ.get("REFRESHER_MINUTES", 5))
    FSRS_FUZZ = _bool("FSRS_FUZZ", True)  # spreads reviews so a cohort's items don't bunch

    # Start the job scheduler inside the web server process on its first request (`make run`
    # only). Production runs `flask --app trainer scheduler` as its own process instead.
    SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS", False)


class DevelopmentConfig(Config):
    DEBUG = True


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False  # tests that prove CSRF turn it back on
    # argon2 at full strength makes a test suite of many logins slow; the KDF is the same.
    PASSWORD_HASH_FAST = True
    FSRS_FUZZ = False  # intervals repeatable in tests


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, config) -> None:
        key = config.get("SECRET_KEY") or ""
        if key == DEV_SECRET_KEY or len(key) < 32:
            raise RuntimeError(
                "Production needs a real SECRET_KEY: set the SECRET_KEY environment variable "
                "to a random string of at least 32 characters "
                "(python -c 'import secrets; print(secrets.token_hex(32))')."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
