"""Pages for admins only: people and teams, the CSV import, checklists, the outbox."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
