"""Spaced repetition: FSRS review cards, the daily refresher and its player."""

from flask import Blueprint

bp = Blueprint("review", __name__)
