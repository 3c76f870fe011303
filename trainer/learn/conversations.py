"""Playing a conversation: where the learner's run stands, a choice, and the way they went.

A run starts with its first choice and ends at an ending. Every choice is an answer to its
node's review item, stored by `trainer.review.answers.store_attempt` like any other answer:
graded (the best-scored line is right), kept once however often it is sent, and scheduled on
the learner's card, so the same turn comes back in their refreshers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.content.specs import MAX_CHOICE_SCORE
from trainer.languages import gettext as _
from trainer.learn.services import start_run
from trainer.models import (
    Attempt,
    Conversation,
    ConversationRun,
    Lesson,
    QuizItem,
    User,
    utcnow,
)
from trainer.models.base import insert_skipping_duplicates
from trainer.review.answers import AnswerError, find_by_token, store_attempt

OUTCOMES = {"good": _l("A good ending"), "mixed": _l("A mixed ending"), "poor": _l("A poor ending")}

# Where a conversation happens, for the line above it; another setting shows its own name.
SETTINGS = {
    "phone": _l("On the phone"),
    "counter": _l("At the counter"),
    "contact-centre": _l("Contact centre"),
    "table": _l("At the table"),
}


def setting_name(setting: str) -> str:
    """A conversation's setting as the learner reads it: "On the phone"."""
    name = SETTINGS.get(setting)
    return str(name) if name is not None else setting.replace("-", " ").capitalize()


@dataclass
class Turn:
    """One step of a run: the customer's line, what the learner said and how it landed."""

    step: int
    node: str
    customer: str
    cue: str
    said: str
    points: int
    feedback: str
    best_points: int  # the most any line scored at this node
    better: list[dict]  # the best-scored lines, when the one said scored less

    @property
    def was_best(self) -> bool:
        return self.points >= self.best_points


@dataclass
class Position:
    """Where a learner stands in a conversation: a node to answer, or an ending."""

    conversation: Conversation
    run: ConversationRun | None  # None before the first choice
    key: str
    node: dict
    last: Turn | None  # the choice that led here

    @property
    def step(self) -> int:
        return self.run.steps if self.run else 0


def open_conversation_run(
    session: Session, user: User, conversation: Conversation
) -> ConversationRun | None:
    return session.scalar(
        select(ConversationRun).where(
            ConversationRun.user_id == user.id,
            ConversationRun.conversation_id == conversation.id,
            ConversationRun.is_open,
        )
    )


def own_run(session: Session, user: User, conversation: Conversation, run_id: int):
    """The learner's run of this conversation with that id, or None."""
    run = session.get(ConversationRun, run_id)
    if run is None or run.user_id != user.id or run.conversation_id != conversation.id:
        return None
    return run


def position(session: Session, user: User, conversation: Conversation) -> Position:
    """The learner's open run where it stands, or the start when none is open. A run whose node
    has left the conversation's file (or is no longer a decision) is set aside, and the learner
    starts again."""
    run = open_conversation_run(session, user, conversation)
    if run is not None and "choices" not in (conversation.node(run.node) or {}):
        run.finished_at = utcnow()
        session.commit()
        run = None
    if run is None:
        start = conversation.start
        return Position(conversation, None, start, conversation.node(start) or {}, None)
    return at_run(session, run)


def at_run(session: Session, run: ConversationRun) -> Position:
    """Where a run stands (its ending, once it ended), with the choice that led there."""
    conversation = run.conversation
    steps = turns(session, run)
    node = conversation.node(run.node) or {"ending": run.ending or "poor", "summary": ""}
    return Position(conversation, run, run.node, node, steps[-1] if steps else None)


def choose(
    session: Session,
    user: User,
    lesson: Lesson,
    conversation: Conversation,
    *,
    run_id: int | None,
    step: int,
    choice: int,
    token: str,
    seconds: float | None,
    answered_at: datetime | None = None,
) -> ConversationRun | None:
    """Say line `choice` at step `step` of the run `run_id` (None: a new run, from the start)
    and move the run on; at an ending the run ends with its points. Committed.

    Recorded once: the same form sent twice finds its token taken, and a form for a step the
    run has already taken (another tab, the Back button) records nothing. Either way the run as
    it now stands is returned (None: there is none, start from the conversation's page).
    Raises `AnswerError` for a line the node does not have.
    """
    replay = find_by_token(session, user, token)
    if replay is not None and replay.conversation_run_id is not None:
        return session.get(ConversationRun, replay.conversation_run_id)
    run = open_conversation_run(session, user, conversation)
    if run_id is not None and (run is None or run.id != run_id):
        # That run has ended (or was set aside) since the form was shown.
        return own_run(session, user, conversation, run_id) or run
    if run is not None and run.steps != step:
        return run
    key = run.node if run is not None else conversation.start
    node = conversation.node(key) or {}
    lines = node.get("choices") or []
    if not 0 <= choice < len(lines):
        raise AnswerError(_("That is not one of the lines you can say here."))
    item = _decision(session, conversation, key)
    if item is None:  # the file changed under the run: start again
        return position(session, user, conversation).run

    now = answered_at or utcnow()
    if run is None:
        lesson_run = start_run(session, user, lesson)
        session.execute(
            insert_skipping_duplicates(session, ConversationRun.__table__).values(
                user_id=user.id,
                conversation_id=conversation.id,
                lesson_run_id=lesson_run.id,
                node=conversation.start,
                started_at=now,
                steps=0,
                points=0,
            )
        )
        run = open_conversation_run(session, user, conversation)
        if run.steps != step:  # another tab started it first and has moved on
            return run

    # The run moves on in the same commit as the answer, or not at all.
    said = lines[choice]
    run.node = said["next"]
    run.steps = step + 1
    run.points += said["score"]
    onward = conversation.node(said["next"]) or {}
    if "ending" in onward:
        run.ending = onward["ending"]
        run.best = conversation.best_score
        run.finished_at = now
    run_id = run.id
    store_attempt(
        session,
        user,
        item,
        [choice],
        token,
        seconds,
        conversation_run_id=run_id,
        step=step,
        earlier=lambda: _attempt_at(session, run_id, step),
        answered_at=now,
    )
    return session.get(ConversationRun, run_id)


def _decision(session: Session, conversation: Conversation, key: str) -> QuizItem | None:
    return session.scalar(
        select(QuizItem).where(
            QuizItem.quiz_id == conversation.quiz_id,
            QuizItem.key == key,
            QuizItem.retired.is_(False),
        )
    )


def _attempt_at(session: Session, run_id: int, step: int) -> Attempt | None:
    return session.scalar(
        select(Attempt).where(Attempt.conversation_run_id == run_id, Attempt.step == step)
    )


def turns(session: Session, run: ConversationRun) -> list[Turn]:
    """The run's steps in order, as the learner took them (their line as they saw it, its
    points then), with the conversation as it now reads for the rest."""
    attempts = session.scalars(
        select(Attempt).where(Attempt.conversation_run_id == run.id).order_by(Attempt.step)
    )
    items = {}
    result = []
    for attempt in attempts:
        item = items.get(attempt.item_id) or session.get(QuizItem, attempt.item_id)
        items[attempt.item_id] = item
        node = run.conversation.node(item.key) or {}
        lines = node.get("choices") or []
        index = attempt.chosen[0]
        best = max((line["score"] for line in lines), default=0)
        points = round(attempt.score * MAX_CHOICE_SCORE)
        result.append(
            Turn(
                step=attempt.step,
                node=item.key,
                customer=node.get("customer", ""),
                cue=node.get("cue", ""),
                said=attempt.chosen_text[0],
                points=points,
                feedback=lines[index]["feedback"] if index < len(lines) else "",
                best_points=best,
                better=[line for line in lines if line["score"] == best] if points < best else [],
            )
        )
    return result


def last_ended(session: Session, user: User, conversation: Conversation):
    """The learner's latest run of the conversation that reached an ending, if any."""
    return session.scalar(
        select(ConversationRun)
        .where(
            ConversationRun.user_id == user.id,
            ConversationRun.conversation_id == conversation.id,
            ConversationRun.ending.is_not(None),
        )
        .order_by(ConversationRun.finished_at.desc(), ConversationRun.id.desc())
    )
