"""The learner's side: Today, the lesson player, answers and enrolment on paths."""

from flask import Blueprint

bp = Blueprint("learn", __name__)
