"""Notifications the scheduled jobs send (reminders, overdue lessons, the managers' digest),
each exactly once, and the page a reminder's snooze/unsubscribe link opens."""

from flask import Blueprint

bp = Blueprint("notify", __name__)
