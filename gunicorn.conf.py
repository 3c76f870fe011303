"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'trainer:create_app()'`.

Each can be changed from the environment. The timeouts fit the app's own: a request waits at
most DATABASE_CONNECT_TIMEOUT + DATABASE_STATEMENT_TIMEOUT (5 + 15 s by default) on the database
before it shows a 503 page, so a frozen database never makes gunicorn kill busy workers.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one, so run enough for the slow phones of a whole shift.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak anywhere never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# Refuse oversized request lines and headers before the app sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# Which proxy may say the request came over HTTPS (the app's PROXY_FIX_HOPS handles the rest).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Each worker builds its own app; create_app opens no database connection, so nothing is shared.
preload_app = False
