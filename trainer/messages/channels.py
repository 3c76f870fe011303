"""Which channels a message may go out on, for whom, and in which order.

A channel is offered when the deployment set it up; email always is (without a mail server it is
kept in the outbox to be read). It reaches a person who has its address: a browser with
notifications turned on, a phone number, an email address. A message's route is every channel
that reaches its person, their own choice first, then the rest in the default order (push, text
message, email); a message with no short version (a long digest) goes by email only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from trainer.languages import gettext as _
from trainer.messages import email, push, sms
from trainer.models import CHANNELS, EMAIL, PUSH, SMS, User

SEND, KEEP, OFF = "send", "keep", "off"
MODULES = {PUSH: push, SMS: sms, EMAIL: email}
LABELS = {PUSH: "push notification", SMS: "text message", EMAIL: "email"}


def label(channel: str) -> str:
    """LABELS[channel] in the reader's language, for pages."""
    names = {PUSH: _("push notification"), SMS: _("text message"), EMAIL: _("email")}
    return names.get(channel, channel)


def mode(channel: str, config: Mapping[str, Any]) -> str:
    """SEND: set up and sending; KEEP: offered, but kept in the outbox to be read; OFF: not
    set up, so not offered."""
    return MODULES[channel].mode(config)


def offered(config: Mapping[str, Any]) -> list[str]:
    """The channels this deployment offers, in the default order."""
    return [channel for channel in CHANNELS if mode(channel, config) != OFF]


def reachable(session: Session, user: User, config: Mapping[str, Any]) -> list[str]:
    """The offered channels that reach this person, in the default order."""
    channels = offered(config)
    if not channels:
        return []
    row = session.execute(
        select(*(MODULES[channel].reaches() for channel in channels)).where(User.id == user.id)
    ).one_or_none()
    return [channel for channel, reaches in zip(channels, row or (), strict=False) if reaches]


def reaches_someone(config: Mapping[str, Any]) -> ColumnElement[bool]:
    """An SQL condition on User: some offered channel reaches them."""
    channels = offered(config)
    if not channels:
        return false()
    return or_(*(MODULES[channel].reaches() for channel in channels))


def preferred(user: User, channels: list[str]) -> list[str]:
    """`channels` with the person's chosen one first, when it is among them."""
    chosen = user.reminder_channel
    if chosen in channels:
        return [chosen, *(channel for channel in channels if channel != chosen)]
    return list(channels)


def route(
    session: Session, user: User, config: Mapping[str, Any], *, short: bool = True
) -> list[str]:
    """The channels to try for a message to this person, in order; empty when none reaches
    them. `short`: the message has a version for push and text messages."""
    channels = reachable(session, user, config)
    if not short:
        channels = [channel for channel in channels if channel == EMAIL]
    return preferred(user, channels)


def address_of(channel: str, user: User) -> str | None:
    """The person's address on a channel (for push, who they are: their browsers are looked
    up when it goes out)."""
    return MODULES[channel].address_of(user)


def where(channel: str, config: Mapping[str, Any]) -> str | None:
    """Where a sending channel sends, in words safe to show (no secrets)."""
    return MODULES[channel].where(config)


def sender(channel: str, config: Mapping[str, Any]):
    """A sender for a delivery run: `.send(session, message, user, now) -> Tried`, `.close()`."""
    return MODULES[channel].Sender(config)


def setup_lines(config) -> list[str]:
    """How each channel is set up, in a sentence each (no secrets), in the reader's language."""
    lines = []
    for channel in CHANNELS:
        state = mode(channel, config)
        place = where(channel, config)
        if channel == EMAIL:
            lines.append(
                _("Mail server: %(place)s.", place=place)
                if place
                else _("No MAIL_SERVER set: mail is kept here to be read, not sent.")
            )
        elif channel == PUSH:
            if state == OFF:
                lines.append(_("No VAPID keys set: push notifications are not offered."))
            elif state == KEEP:
                lines.append(_("Push notifications are kept here to be read."))
            else:
                lines.append(_("Push notifications go out through %(place)s.", place=place))
        elif state == OFF:
            lines.append(_("No SMS_URL set: text messages are not offered."))
        elif state == KEEP:
            lines.append(_("SMS_URL=outbox: text messages are kept here to be read."))
        else:
            lines.append(_("Text messages go out through %(place)s.", place=place))
    return lines
