"""What a channel did with a message it was handed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """Why a message was not sent, and whether trying this channel again could ever help.
    A permanent failure moves the message to the next channel on its route, if any."""

    error: str
    permanent: bool = False


@dataclass(frozen=True)
class Tried:
    """One try on one channel: where it went (an address, or the browsers it was pushed to)
    and, if it was not taken, why."""

    to: str
    failure: Failure | None = None
