"""Mail waiting to go out, and the notifications that must never be sent twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainer.models.base import Base, utcnow


class OutboxMessage(Base):
    """An email. Kept until an SMTP server accepts it, refuses it for good, or it expires (then
    `failed_at` is set and `last_error` says why); kept for reading when no server is set up."""

    __tablename__ = "outbox"
    # Delivery looks for unsent, unfailed messages that are due.
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="general")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)  # the server's reply, or why it failed
    # Not sent after this, marked failed instead (e.g. a reminder after the learner's day).
    expires_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # refused for good, or expired: never tried again


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
