"""Messages waiting to go out on a person's channel, the browsers that take push messages, and
the notifications that must never be sent twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow

# The ways a message reaches a person. The order is the default preference: the first one a
# person can receive is theirs unless they choose another.
PUSH, SMS, EMAIL = "push", "sms", "email"
CHANNELS = (PUSH, SMS, EMAIL)


class OutboxMessage(Base):
    """One message to one person (or one email address), on one channel at a time.

    Kept until a channel accepts it, the last channel of its route refuses it for good, or it
    expires (then `failed_at` is set and `last_error` says why); kept for reading while its
    channel is set up to keep messages (no MAIL_SERVER, SMS_URL=outbox). `deliveries` is its
    route: the channels it may go out on, in order, and what each did with it."""

    __tablename__ = "outbox"
    # Delivery looks for unsent, unfailed messages that are due.
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address on the current channel: an email address, a phone number, or for push the
    # person's handle (their browsers are looked up when it goes out).
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    # The few words a push notification or a text message carries, and the link it opens.
    # A message without them goes by email only.
    short: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16), default=EMAIL, server_default=EMAIL)
    kind: Mapped[str] = mapped_column(String(32), default="general")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)  # every try, on any channel
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)  # the last refusal, or why it failed
    # Not sent after this, marked failed instead (e.g. a reminder after the learner's day).
    expires_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # refused for good everywhere, or expired

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="message", order_by="Delivery.position", cascade="all, delete-orphan"
    )


class Delivery(Base):
    """One channel on a message's route: whether it was tried, accepted it, or refused it."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    position: Mapped[int]  # 0 first
    channel: Mapped[str] = mapped_column(String(16))
    to: Mapped[str | None] = mapped_column(String(254))  # where it was sent, once tried
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # this channel refused it for good: the next one is tried

    message: Mapped[OutboxMessage] = relationship(back_populates="deliveries")


class PushSubscription(Base):
    """A browser that agreed to show a person's notifications (Web Push): where its push
    service takes them, and the keys they are encrypted with for that browser alone."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # One browser, one person: the last to turn notifications on in it gets them.
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # the browser's public key, base64url
    auth: Mapped[str] = mapped_column(String(40))  # the browser's auth secret, base64url
    device: Mapped[str] = mapped_column(String(120))  # "Chrome on Android", for the person
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None]


class Notification(Base):
    """The record that a person was told something. Its unique key is the exactly-once rule:
    two processes running the same job race to insert it, and only one wins."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        # The jobs ask "who has been told this already" for one kind and key at a time.
        Index("ix_notifications_kind_key", "kind", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # reminder | overdue | overdue-report | digest
    key: Mapped[str] = mapped_column(String(120))  # e.g. the local date, or lesson id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
