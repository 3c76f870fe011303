"""The manager's side: their teams, people, skills, questions, coaching and observations."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")

from trainer.manage import views_insight, views_people  # noqa: E402,F401  (routes attach to bp)
