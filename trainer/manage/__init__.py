"""The manager's side: their teams, people, skills, questions, coaching and observations, and
the ways in for people without email (team tablets, sign-in cards)."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")

from trainer.manage import formatting  # noqa: E402,F401  (its template filters)
