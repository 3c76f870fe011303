"""Choosing the day's refresher: what is due, in what order, within the time budget.

A refresher takes the due cards with the lowest predicted recall first, as many as fit the
learner's budget at their own pace, mixes skills so two items of one skill do not follow each
other where that can be helped, and ends on the item the learner is most likely to get right.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from trainer.models import (
    Attempt,
    Conversation,
    Lesson,
    QuizItem,
    Refresher,
    ReviewCard,
    User,
    utcnow,
)
from trainer.models.base import insert_skipping_duplicates
from trainer.review.cards import usual_seconds
from trainer.review.fsrs_cards import DEFAULT_ANSWER_SECONDS, RecallModel

FEEDBACK_SECONDS = 8  # reading the feedback after each answer
PACE_WINDOW_DAYS = 30


@dataclass(frozen=True)
class DueCard:
    item_id: int
    skill: str
    recall: float


def zone_of(user_timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(user_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(user_timezone: str, now: datetime) -> date:
    """The learner's calendar day at `now` (naive UTC)."""
    return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone_of(user_timezone)).date()


def end_of_local_day(user_timezone: str, day: date) -> datetime:
    """Naive UTC of the learner's next midnight: cards due before it belong to `day`."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), zone_of(user_timezone))
    return midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def budget_items(budget_seconds: int, pace_seconds: float) -> int:
    return max(1, int(budget_seconds // (pace_seconds + FEEDBACK_SECONDS)))


def order_items(cards: list[DueCard], limit: int) -> list[int]:
    """Lowest recall first, up to `limit`, skills interleaved, the surest item last."""
    chosen = sorted(cards, key=lambda c: (c.recall, c.item_id))[:limit]
    if not chosen:
        return []
    finale = max(chosen, key=lambda c: (c.recall, -c.item_id))
    rest = [c for c in chosen if c is not finale]
    by_skill: dict[str, list[DueCard]] = defaultdict(list)
    for card in rest:
        by_skill[card.skill].append(card)
    # Round-robin over skills, the skill holding the weakest card going first.
    queues = sorted(by_skill.values(), key=lambda q: q[0].recall)
    mixed = [card for group in itertools.zip_longest(*queues) for card in group if card is not None]
    return [c.item_id for c in mixed] + [finale.item_id]


def item_skills(session: Session) -> dict[int, str]:
    """Quiz item -> the skill of the lesson that uses its quiz, or of the conversation whose
    decision it is."""
    rows = session.execute(
        union_all(
            select(QuizItem.id, Lesson.skill).join(Lesson, Lesson.quiz_id == QuizItem.quiz_id),
            select(QuizItem.id, Conversation.skill).join(
                Conversation, Conversation.quiz_id == QuizItem.quiz_id
            ),
        )
    )
    return {item_id: skill for item_id, skill in rows}


def skill_recall(cards: list[DueCard]) -> dict[str, float]:
    totals: dict[str, list[float]] = defaultdict(list)
    for card in cards:
        totals[card.skill].append(card.recall)
    return {skill: round(sum(v) / len(v), 4) for skill, v in totals.items()}


def _skill_recall_of(due: list[tuple[float, int]], skills: dict[int, str]) -> dict[str, float]:
    """skill_recall() of (recall, item_id) pairs, in the same order and so the same sums."""
    totals: dict[str, list[float]] = defaultdict(list)
    for recall, item_id in due:
        totals[skills.get(item_id, "general")].append(recall)
    return {skill: round(sum(v) / len(v), 4) for skill, v in totals.items()}


def _budget_seconds() -> int:
    return int(current_app.config["REFRESHER_MINUTES"] * 60)


def todays_refresher(session: Session, user: User, now: datetime | None = None):
    now = now or utcnow()
    return session.scalar(
        select(Refresher).where(
            Refresher.user_id == user.id,
            Refresher.local_date == local_date(user.timezone, now),
            Refresher.kind == "daily",
        )
    )


def plan_for_user(session: Session, user: User, now: datetime | None = None):
    """Today's refresher for one learner, planned now if the job has not yet; None if nothing
    is due. Committed."""
    now = now or utcnow()
    existing = todays_refresher(session, user, now)
    if existing is not None:
        return existing
    day = local_date(user.timezone, now)
    horizon = end_of_local_day(user.timezone, day)
    skills = item_skills(session)
    model = RecallModel()
    rows = session.execute(
        select(ReviewCard.item_id, ReviewCard.stability, ReviewCard.last_review)
        .join(QuizItem, QuizItem.id == ReviewCard.item_id)
        .where(
            ReviewCard.user_id == user.id,
            ReviewCard.due <= horizon,
            QuizItem.retired.is_(False),
        )
    )
    cards = [
        DueCard(item_id, skills.get(item_id, "general"), model.recall(stab, last, now))
        for item_id, stab, last in rows
    ]
    if not cards:
        return None
    budget = _budget_seconds()
    items = order_items(cards, budget_items(budget, usual_seconds(session, user.id)))
    _insert_refreshers(
        session,
        [
            {
                "user_id": user.id,
                "local_date": day,
                "kind": "daily",
                "round": 0,
                "item_ids": items,
                "budget_seconds": budget,
                "planned_at": now,
                "recall_before": skill_recall(cards),
                "correct": 0,
                "total": 0,
            }
        ],
    )
    session.commit()
    return todays_refresher(session, user, now)


def _insert_refreshers(session: Session, rows: list[dict]) -> None:
    """Insert, skipping any learner-day another process planned first."""
    if not rows:
        return
    # Core INSERT on the table (one executemany), not the ORM's bulk insert, which builds a
    # state for every row: the nightly job inserts a row per learner.
    stmt = insert_skipping_duplicates(session, Refresher.__table__)
    session.flush()  # what the session holds goes first, as the ORM's autoflush would do
    session.connection().execute(stmt, rows)


@dataclass(frozen=True)
class Shards:
    """What the `plan-refreshers` job did with a task queue: planning handed out in shards."""

    tasks: int
    learners: int
    days: int  # local calendar days the learners' time zones are in now

    def __str__(self) -> str:
        return (
            f"Planning for {self.learners} learners handed out as {self.tasks} shard tasks "
            f"({self.days} local day{'' if self.days == 1 else 's'})."
        )


def plan_refreshers(
    session: Session,
    now: datetime | None = None,
    batch: int = 5000,
    *,
    learners: tuple[int, int] | None = None,
    zones: list[str] | None = None,
) -> int | Shards:
    """Plan today's refresher for every active learner who has cards due and none planned yet;
    only those with ids in `learners` (first, last) and time zones in `zones`, when given.

    One pass over the due cards in user order, so memory holds one learner's cards at a time
    plus a batch of rows to insert. Safe to run twice, and from two processes at once.
    Returns how many refreshers were planned. With a task queue (BROKER_URL) and no shard
    given, it plans nothing itself: it hands out shards to the workers (`hand_out_shards`).
    """
    from trainer.jobs import queue

    now = now or utcnow()
    if learners is None and zones is None and queue.enabled(current_app.config):
        return hand_out_shards(session, now)
    in_shard = [User.active.is_(True), User.role == "learner"]
    card_filter = []
    if learners is not None:
        in_shard.append(User.id.between(*learners))
        card_filter.append(ReviewCard.user_id.between(*learners))
    if zones is not None:
        in_shard.append(User.timezone.in_(zones))
    learners_rows = session.execute(select(User.id, User.timezone).where(*in_shard)).all()
    zone_days: dict[str, tuple[date, datetime]] = {}
    learner_day: dict[int, tuple[date, datetime]] = {}
    for user_id, tz in learners_rows:
        if tz not in zone_days:
            day = local_date(tz, now)
            zone_days[tz] = (day, end_of_local_day(tz, day))
        learner_day[user_id] = zone_days[tz]
    if not learner_day:
        return 0
    days = {day for day, _ in zone_days.values()}
    in_range = [Refresher.user_id.between(*learners)] if learners is not None else []
    by_range = [Attempt.user_id.between(*learners)] if learners is not None else []
    # (learner, day) pairs: yesterday's refresher in London is not today's in Los Angeles.
    planned = {
        (user_id, day)
        for user_id, day in session.execute(
            select(Refresher.user_id, Refresher.local_date).where(
                Refresher.kind == "daily", Refresher.local_date.in_(days), *in_range
            )
        )
    }
    pace = dict(
        session.execute(
            select(Attempt.user_id, func.avg(Attempt.seconds))
            .where(Attempt.answered_at >= now - timedelta(days=PACE_WINDOW_DAYS), *by_range)
            .group_by(Attempt.user_id)
        ).all()
    )
    retired = set(session.scalars(select(QuizItem.id).where(QuizItem.retired.is_(True))))
    skills = item_skills(session)
    model = RecallModel()
    budget = _budget_seconds()
    latest_horizon = max(h for _, h in zone_days.values())

    # Core rows from the session's connection: the ORM's row processing would double the cost
    # of reading a million due cards.
    rows = session.connection().execute(
        select(ReviewCard.user_id, ReviewCard.item_id, ReviewCard.stability,
               ReviewCard.last_review, ReviewCard.due)
        .where(ReviewCard.due <= latest_horizon, *card_filter)
        .order_by(ReviewCard.user_id)
        .execution_options(yield_per=10000)
    )  # fmt: skip
    pending: list[dict] = []
    count = 0
    recall = model.recall
    for user_id, group in itertools.groupby(rows, key=itemgetter(0)):
        when = learner_day.get(user_id)
        if when is None or (user_id, when[0]) in planned:
            continue
        day, horizon = when
        due = [
            (recall(stab, last, now), item_id)
            for _, item_id, stab, last, card_due in group
            if card_due <= horizon and item_id not in retired
        ]
        if not due:
            continue
        limit = budget_items(budget, float(pace.get(user_id) or DEFAULT_ANSWER_SECONDS))
        # order_items keeps the `limit` weakest by (recall, item_id) before anything else, so
        # giving it just those (as DueCards, which cost more to build) orders them the same.
        weakest = sorted(due)[:limit] if len(due) > limit else due
        cards = [DueCard(item_id, skills.get(item_id, "general"), r) for r, item_id in weakest]
        pending.append(
            {
                "user_id": user_id,
                "local_date": day,
                "kind": "daily",
                "round": 0,
                "item_ids": order_items(cards, limit),
                "budget_seconds": budget,
                "planned_at": now,
                "recall_before": _skill_recall_of(due, skills),
                "correct": 0,
                "total": 0,
            }
        )
        count += 1
        if len(pending) >= batch:
            _insert_refreshers(session, pending)
            pending = []
    _insert_refreshers(session, pending)
    session.commit()
    return count


def hand_out_shards(session: Session, now: datetime) -> Shards:
    """Queue one `plan-refreshers-shard` task per shard: the learners whose time zones are in
    the same local day now, cut by id into ranges of PLANNING_SHARD_LEARNERS. Each shard is
    idempotent (a learner-day planned twice is inserted once), so a shard run twice, or while
    the next run hands out the same one again, plans nothing twice."""
    from trainer.jobs import queue

    size = max(1, current_app.config["PLANNING_SHARD_LEARNERS"])
    learner = (User.active.is_(True), User.role == "learner")
    by_day: dict[date, list[str]] = defaultdict(list)
    for tz in session.scalars(select(User.timezone).where(*learner).distinct()):
        by_day[local_date(tz, now)].append(tz)
    tasks = learners = 0
    for zones in by_day.values():
        numbered = (
            select(User.id, func.row_number().over(order_by=User.id).label("n"))
            .where(*learner, User.timezone.in_(zones))
            .subquery()
        )
        starts = session.scalars(
            select(numbered.c.id).where((numbered.c.n - 1) % size == 0).order_by(numbered.c.id)
        ).all()
        last, count = session.execute(
            select(func.max(User.id), func.count()).where(*learner, User.timezone.in_(zones))
        ).one()
        learners += count
        for index, first in enumerate(starts):
            end = starts[index + 1] - 1 if index + 1 < len(starts) else last
            queue.enqueue(
                "plan-refreshers-shard",
                now=now.isoformat(),
                first_id=first,
                last_id=end,
                zones=sorted(zones),
            )
            tasks += 1
    session.commit()
    return Shards(tasks=tasks, learners=learners, days=len(by_day))


def plan_shard(session: Session, now: str, first_id: int, last_id: int, zones: list[str]) -> int:
    """A worker's planning task: the learners with ids first_id..last_id in `zones`, as the
    `plan-refreshers` run at `now` (ISO, naive UTC) saw them."""
    return plan_refreshers(
        session, datetime.fromisoformat(now), learners=(first_id, last_id), zones=zones
    )
