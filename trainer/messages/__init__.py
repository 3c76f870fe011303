"""Messages to people: the outbox, its delivery, and a module per channel (email, push, sms).

`trainer.notify` decides what to say and to whom; this package gets it there, on the person's
own channel, exactly once.
"""

from trainer.messages.delivery import DeliveryReport, deliver_one, deliver_pending
from trainer.messages.outbox import queue_message

__all__ = ["DeliveryReport", "deliver_one", "deliver_pending", "queue_message"]
