"""Pages for admins only: people, teams, the CSV import, checklists, and the outbox."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from trainer.admin import views  # noqa: E402,F401  (routes attach to bp)
