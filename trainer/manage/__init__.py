"""The manager's side: their teams, people, skills, questions, coaching and observations."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")
