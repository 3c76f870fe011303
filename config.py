"""Settings, read from the environment. Pick a class with FLASK_CONFIG or `create_app(...)`."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'trainer.sqlite'}"
    )
    # A deployment may set SQLAlchemy's own options here; `pool_pre_ping` among them replaces
    # DATABASE_PING_IDLE_SECONDS with a check on every use.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # PostgreSQL timeouts, in seconds: a database that does not answer gives a 503 page quickly
    # instead of holding every web worker until the WSGI server kills it (trainer/database.py).
    DATABASE_CONNECT_TIMEOUT = _int("DATABASE_CONNECT_TIMEOUT", 5)
    DATABASE_STATEMENT_TIMEOUT = _float("DATABASE_STATEMENT_TIMEOUT", 15)
    DATABASE_POOL_TIMEOUT = _float("DATABASE_POOL_TIMEOUT", 10)
    # PostgreSQL: a pooled connection idle this long is checked before use (and replaced if the
    # server went away); one used more recently is not, saving a round trip per request. 0:
    # check every time (trainer/database.py).
    DATABASE_PING_IDLE_SECONDS = _float("DATABASE_PING_IDLE_SECONDS", 1)
    # PostgreSQL: statements a connection runs often are prepared once (psycopg). Turn off
    # behind a pooler that hands one client's statements to another (PgBouncer's transaction
    # mode before 1.21).
    DATABASE_PREPARED_STATEMENTS = _bool("DATABASE_PREPARED_STATEMENTS", True)
    # Scheduled jobs and commands work through many rows at once; 0 means no limit.
    JOB_STATEMENT_TIMEOUT = _float("JOB_STATEMENT_TIMEOUT", 600)

    # No request body over this many bytes is read (413); the CSV import of people allows more.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    IMPORT_MAX_CONTENT_LENGTH = _int("IMPORT_MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    CONTENT_DIR = os.environ.get("CONTENT_DIR", str(BASE_DIR))
    # Each process keeps the lessons it has shown in memory; it asks the database whether the
    # library changed at most this often (trainer/content/live.py).
    LIBRARY_CHECK_SECONDS = _float("LIBRARY_CHECK_SECONDS", 2)
    # Each process keeps the pages people reload most (Today, an answered question, the team
    # page) for up to this long; a person's own writes and any change to the library make them
    # out of date at once, others' writes within this (trainer/page_cache.py). 0: none kept.
    PAGE_CACHE_SECONDS = _float("PAGE_CACHE_SECONDS", 60)
    PAGE_CACHE_MB = _float("PAGE_CACHE_MB", 16)  # per process
    # The language of pages, mail and lessons for people who have not chosen one and whose
    # browser asks for none we have (en, es, pl; trainer/languages.py).
    DEFAULT_LANGUAGE = os.environ.get("DEFAULT_LANGUAGE", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    KNOWN_BROWSER_COOKIE_NAME = "known_browser"
    # Sessions are rows (trainer/auth/sessions.py): "Keep me signed in" lasts at most this many
    # days; any other session ends after this long without a request.
    REMEMBER_DAYS = _int("REMEMBER_DAYS", 30)
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 480)
    WTF_CSRF_TIME_LIMIT = None  # a lesson left open over lunch must still submit
    HSTS_SECONDS = 0  # production: one year unless set

    # Sign-in throttling (trainer/auth/throttle.py). Per address, and per account and address,
    # failed attempts in the window make that address wait. Per account, from anywhere but the
    # owner's own browsers and addresses, checks slow down past a few and stop at a daily cap.
    LOGIN_FAILURE_WINDOW_SECONDS = _int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = _int(
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", 5
    )
    LOGIN_CHECKS_BEFORE_DELAY = _int("LOGIN_CHECKS_BEFORE_DELAY", 10)
    LOGIN_MAX_CHECKS_PER_ACCOUNT_PER_DAY = _int("LOGIN_MAX_CHECKS_PER_ACCOUNT_PER_DAY", 100)

    # A team's shared tablet (trainer/auth/device.py): sessions there end after this many
    # minutes without a request. PINs are counted per person on each device and per device
    # (failures in LOGIN_FAILURE_WINDOW_SECONDS), and per person a day (PINs checked).
    DEVICE_IDLE_MINUTES = _int("DEVICE_IDLE_MINUTES", 3)
    DEVICE_COOKIE_NAME = "team_device"
    PIN_MAX_FAILURES_PER_PERSON_AND_DEVICE = _int("PIN_MAX_FAILURES_PER_PERSON_AND_DEVICE", 5)
    PIN_MAX_FAILURES_PER_DEVICE = _int("PIN_MAX_FAILURES_PER_DEVICE", 30)
    PIN_MAX_CHECKS_PER_PERSON_PER_DAY = _int("PIN_MAX_CHECKS_PER_PERSON_PER_DAY", 20)
    # Personal sign-in cards (trainer/auth/cards.py) work once, for this many days.
    SIGN_IN_CARD_DAYS = _int("SIGN_IN_CARD_DAYS", 14)

    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/London")
    # Phone numbers written without a country code (07911 123456) are read as from here.
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "GB")
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
    # Web Push to the installed web app: offered when all three are set (make them with
    # `flask --app trainer push keys`). Pushes go only to these push services (a browser's
    # subscription names its own; anything else could make this server post anywhere).
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "")
    PUSH_SERVICE_HOSTS = os.environ.get(
        "PUSH_SERVICE_HOSTS",
        "fcm.googleapis.com,updates.push.services.mozilla.com,*.push.apple.com,"
        "*.notify.windows.com",
    )
    # Text messages (or chat) through Apprise: a URL with {phone} where the person's number
    # goes, e.g. twilio://SID:TOKEN@+15551234567/{phone}. Empty: not offered. "outbox": offered,
    # but kept in the outbox to be read (demos).
    SMS_URL = os.environ.get("SMS_URL", "")
    # Links in emails point here (no request to take the host from in a scheduled job).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")

    # Company sign-in with OpenID Connect (trainer/auth/oidc.py): offered once OIDC_ISSUER and
    # OIDC_CLIENT_ID are set. Register {PUBLIC_URL}/login/company/callback at the provider.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER") or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    # How a company account finds its person here the first time: "email", or the name of the
    # claim that holds the employee number (matched against the employee number here).
    OIDC_MATCH_CLAIM = os.environ.get("OIDC_MATCH_CLAIM", "email")
    # Off: only people who already have an account here sign in. On: new people get one, on
    # the team OIDC_DEFAULT_TEAM.
    OIDC_CREATE_USERS = _bool("OIDC_CREATE_USERS", False)
    OIDC_DEFAULT_TEAM = os.environ.get("OIDC_DEFAULT_TEAM") or None
    # Seconds the app waits for the provider in all, going to it and coming back from it: then a
    # 503 page (well inside the WSGI server's timeout: a slow provider never kills workers).
    OIDC_TIMEOUT_SECONDS = _float("OIDC_TIMEOUT_SECONDS", 5)
    # Development and tests only: a provider on plain http://. Refused in production.
    OIDC_ALLOW_HTTP = _bool("OIDC_ALLOW_HTTP", False)

    # Spaced repetition (docs/spaced-repetition.md).
    DESIRED_RETENTION = float(os.environ.get("DESIRED_RETENTION", 0.9))
    REFRESHER_MINUTES = float(os.environ.get("REFRESHER_MINUTES", 5))
    FSRS_FUZZ = _bool("FSRS_FUZZ", True)  # spreads reviews so a cohort's items don't bunch

    # Start the job scheduler inside the web server process on its first request (`make run`
    # only). Production runs `flask --app trainer scheduler` as its own process instead.
    SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS", False)

    # The task queue (trainer/jobs/queue.py): with a broker, the scheduler hands the work of
    # its jobs to `flask --app trainer worker` processes; without one, it does it itself.
    BROKER_URL = os.environ.get("BROKER_URL") or None  # redis://host:6379/0
    BROKER_NAMESPACE = os.environ.get("BROKER_NAMESPACE", "trainer")  # prefix of its Redis keys
    WORKER_PROCESSES = _int("WORKER_PROCESSES", 1)
    WORKER_THREADS = _int("WORKER_THREADS", 8)  # tasks at once per process (SMTP connections)
    DELIVERY_BATCH = _int("DELIVERY_BATCH", 50)  # messages one delivery task claims
    # A claimed message not sent within this is due again (its worker died): longer than a
    # batch can take to send.
    DELIVERY_LEASE_SECONDS = _int("DELIVERY_LEASE_SECONDS", 300)
    PLANNING_SHARD_LEARNERS = _int("PLANNING_SHARD_LEARNERS", 20000)  # learners per task


class DevelopmentConfig(Config):
    DEBUG = True
    # An edited template or a change made in the database by hand shows at the next reload.
    PAGE_CACHE_SECONDS = _float("PAGE_CACHE_SECONDS", 0)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False  # tests that prove CSRF turn it back on
    # argon2 at full strength makes a test suite of many logins slow; the KDF is the same.
    PASSWORD_HASH_FAST = True
    FSRS_FUZZ = False  # intervals repeatable in tests
    # One process: its own writes to the library clear its lessons at once; a check on a timer
    # would only make statement counts depend on how fast the machine is.
    LIBRARY_CHECK_SECONDS = 3600
    # Tests change the database behind the pages' back; tests of kept pages turn it on.
    PAGE_CACHE_SECONDS = 0
    # Channels a test wants, it sets up itself.
    VAPID_PUBLIC_KEY = VAPID_PRIVATE_KEY = VAPID_SUBJECT = SMS_URL = ""


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    # "__Host-" cookies are refused by browsers unless Secure, for this host only, path "/":
    # no subdomain or plain-HTTP page can set or overwrite them.
    if SESSION_COOKIE_SECURE:
        SESSION_COOKIE_NAME = "__Host-session"
        REMEMBER_COOKIE_NAME = "__Host-remember_token"
        KNOWN_BROWSER_COOKIE_NAME = "__Host-known_browser"
        DEVICE_COOKIE_NAME = "__Host-team_device"
    HSTS_SECONDS = _int("HSTS_SECONDS", 365 * 24 * 60 * 60)
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
        if config.get("OIDC_ALLOW_HTTP"):
            raise RuntimeError(
                "OIDC_ALLOW_HTTP is for development and tests: in production the company "
                "sign-in provider must use https://. Unset OIDC_ALLOW_HTTP."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
