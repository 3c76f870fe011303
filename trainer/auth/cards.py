"""Personal sign-in cards: a way in for people with neither email nor phone.

A manager prints a sheet of cards for the people of a team they manage who have never signed in
(no session ever, whatever password or PIN an admin may have set for them). Each card carries a
one-time code, as a QR code and as a short link to type. Opening it on the person's own phone
asks them to choose a password (for their phone), a PIN (for the team's tablet, with the
employee number every such person has), or both; saving uses the card up and signs them in.

The one-time link rules of invitations hold: only the code's SHA-256 is stored, a card works
once and for SIGN_IN_CARD_DAYS, and a new card for someone cancels their older unused ones. A card
also stops working once its person has signed in some other way. Only learners get cards: a
card made by a manager must never open a manager's or an admin's account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session

from trainer.auth import codes
from trainer.auth.passwords import hash_password, password_problem
from trainer.auth.pins import hash_pin, pin_problem
from trainer.languages import gettext as _
from trainer.models import SignInCard, Team, User, UserSession, utcnow
from trainer.models.base import use_once


class CardInvalid(LookupError):
    """The card is unknown, used, expired, replaced, or its person can no longer use one."""


class CardError(ValueError):
    """A chosen password or PIN is not good enough; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def card_link(code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/card/{codes.written(code)}"


def link_to_type(link: str) -> str:
    """The link without its scheme: what a person types, shorter (browsers add it back)."""
    return link.split("://", 1)[-1]


@dataclass(frozen=True)
class PrintedCard:
    """A card on a sheet: its person, the code (known only now) and until when it works."""

    user: User
    code: str
    expires_at: datetime

    @property
    def link(self) -> str:
        return card_link(self.code)

    @property
    def typed_link(self) -> str:
        return link_to_type(self.link)

    @property
    def written_code(self) -> str:
        return codes.written(self.code)

    @property
    def typed_prefix(self) -> str:
        """The typed link before its code ("trainer.example.com/card/")."""
        return self.typed_link.removesuffix(self.written_code)


def _never_signed_in():
    signed_in = exists().where(UserSession.user_id == User.id)
    return User.last_seen_at.is_(None) & ~signed_in


def people_for_cards(team: Team) -> Select:
    """The people of `team` a card is for: active learners with neither email nor phone who
    have never signed in, by name."""
    return (
        select(User)
        .where(
            User.team_id == team.id,
            User.active.is_(True),
            User.role == "learner",
            User.email.is_(None),
            User.phone.is_(None),
            _never_signed_in(),
        )
        .order_by(User.name, User.id)
    )


def cards_out(session: Session, user_ids: list[int]) -> dict[int, SignInCard]:
    """Each person's newest card that still works."""
    if not user_ids:
        return {}
    found = session.scalars(
        select(SignInCard)
        .where(
            SignInCard.user_id.in_(user_ids),
            SignInCard.used_at.is_(None),
            SignInCard.expires_at > utcnow(),
        )
        .order_by(SignInCard.created_at)
    )
    return {card.user_id: card for card in found}


def cancel_cards(session: Session, user_ids: list[int]) -> None:
    """Unused cards of these people stop working (kept, as expired). Not committed."""
    if not user_ids:
        return
    now = utcnow()
    session.execute(
        update(SignInCard)
        .where(
            SignInCard.user_id.in_(user_ids),
            SignInCard.used_at.is_(None),
            SignInCard.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def print_cards(
    session: Session, team: Team, user_ids: list[int], made_by: User | None
) -> list[PrintedCard]:
    """New cards for the people `user_ids` of `team` who may have one (`people_for_cards`;
    anyone else is left out), by name. Their older unused cards stop working. Committed."""
    wanted = set(user_ids)
    people = [p for p in session.scalars(people_for_cards(team)) if p.id in wanted]
    cancel_cards(session, [p.id for p in people])
    now = utcnow()
    expires = now + timedelta(days=current_app.config["SIGN_IN_CARD_DAYS"])
    printed = []
    for person in people:
        code = codes.new_code()
        session.add(
            SignInCard(
                user_id=person.id,
                code_hash=codes.code_hash(code),
                created_by_id=made_by.id if made_by else None,
                created_at=now,
                expires_at=expires,
            )
        )
        printed.append(PrintedCard(person, code, expires))
    session.commit()
    return printed


def find_card(session: Session, text: str) -> SignInCard | None:
    """The card a typed or scanned code is for, if it can still be used."""
    code = codes.normalise(text)
    if code is None:
        return None
    card = session.scalar(select(SignInCard).where(SignInCard.code_hash == codes.code_hash(code)))
    if card is None or card.used_at is not None or card.expires_at <= utcnow():
        return None
    user = session.get(User, card.user_id)
    if user is None or not user.active or user.role != "learner":
        return None
    signed_in_since = session.scalar(
        select(UserSession.id)
        .where(UserSession.user_id == user.id, UserSession.created_at >= card.created_at)
        .limit(1)
    )
    if signed_in_since is not None or (user.last_seen_at and user.last_seen_at >= card.created_at):
        return None  # a card found after its owner got in must not take their account over
    return card


def use_card(
    session: Session, text: str, *, password: str | None = None, pin: str | None = None
) -> User:
    """Set the person's password and/or PIN from their card and use the card up. Committed.
    Raises `CardInvalid` when the card cannot be used (also when two tabs send it at once:
    only one wins), `CardError` when what they chose does not meet the rules."""
    card = find_card(session, text)
    if card is None:
        raise CardInvalid(text)
    if not password and not pin:
        raise CardError("password", _("Choose a password, a PIN, or both."))
    if password and (problem := password_problem(password)):
        raise CardError("password", problem)
    if pin and (problem := pin_problem(pin)):
        raise CardError("pin", problem)
    now = utcnow()
    if not use_once(session, SignInCard, card.id, now):
        session.rollback()
        raise CardInvalid(text)
    user = session.get(User, card.user_id)
    if password:
        user.password_hash = hash_password(password)
    if pin:
        user.pin_hash = hash_pin(pin)
    user.last_seen_at = now
    session.commit()
    return user
