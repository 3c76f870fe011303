"""Email through the outbox: queued in the database, delivered by SMTP when one is set up."""

from trainer.mail.delivery import DeliveryReport, deliver_pending
from trainer.mail.outbox import queue_message

__all__ = ["DeliveryReport", "deliver_pending", "queue_message"]
