from flask import Blueprint

bp = Blueprint("review", __name__)

from trainer.review import views  # noqa: E402,F401  (routes attach to bp)
