"""Notifications the scheduled jobs send (reminders, overdue lessons, the managers' digest),
each exactly once, and the page a reminder's snooze/unsubscribe link opens."""

from flask import Blueprint

bp = Blueprint("notify", __name__)

from trainer.notify import views  # noqa: E402,F401  (routes attach to bp)
