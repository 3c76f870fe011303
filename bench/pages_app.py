"""What gunicorn serves in the `pages` benchmark: the app as production builds it
(`create_app()`, FLASK_CONFIG=production), and beside it, under /bare/, the baseline: a bare
Flask app whose one route reads one row with SQLAlchemy Core and renders a template.

    gunicorn -c gunicorn.conf.py 'bench.pages_app:app'

DATABASE_URL names the database (PGOPTIONS may set its search_path), BENCH_PERSON the row the
bare route reads.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from trainer import create_app


def bare_app() -> Flask:
    bare = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
    person_id = int(os.environ.get("BENCH_PERSON", "1"))
    query = sa.text("SELECT id, name FROM users WHERE id = :id")

    @bare.get("/")
    def page():
        with engine.connect() as conn:
            person = conn.execute(query, {"id": person_id}).one()
        return render_template("bare.html", person=person)

    return bare


# Each gunicorn worker imports this module itself (no preloading): nothing is shared.
app = DispatcherMiddleware(create_app(), {"/bare": bare_app()})
