"""Taking a refresher: answering its items, finishing it, and what the learner sees about
their memory (streak, recall per skill now and in 30 days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from trainer.content import live
from trainer.content.names import skill_name
from trainer.models import (
    Attempt,
    LessonRun,
    QuizItem,
    Refresher,
    ReviewCard,
    User,
    utcnow,
)
from trainer.review.answers import find_by_token, store_attempt
from trainer.review.cards import usual_seconds
from trainer.review.fsrs_cards import RecallModel
from trainer.review.planning import (
    DueCard,
    _budget_seconds,
    _insert_refreshers,
    budget_items,
    item_skills,
    local_date,
    order_items,
    skill_recall,
    zone_of,
)


class RefresherError(ValueError):
    pass


def refresher_items(session: Session, refresher: Refresher) -> list[QuizItem]:
    items = {
        item.id: item
        for item in session.scalars(select(QuizItem).where(QuizItem.id.in_(refresher.item_ids)))
    }
    return [items[i] for i in refresher.item_ids if i in items]


def answer_in_refresher(session: Session, refresher: Refresher, item: QuizItem) -> Attempt | None:
    return session.scalar(
        select(Attempt).where(Attempt.refresher_id == refresher.id, Attempt.item_id == item.id)
    )


def record_refresher_answer(
    session: Session,
    user: User,
    refresher: Refresher,
    item: QuizItem,
    chosen: list[int],
    token: str,
    seconds: float | None,
) -> Attempt:
    """Store one refresher answer (once, however often it is sent) and finish the refresher
    when it was the last one."""
    replay = find_by_token(session, user, token)
    if replay is not None:
        return replay
    earlier = answer_in_refresher(session, refresher, item)
    if earlier is not None:
        return earlier
    if refresher.started_at is None:
        refresher.started_at = utcnow()
    attempt = store_attempt(
        session,
        user,
        item,
        chosen,
        token,
        seconds,
        refresher_id=refresher.id,
        earlier=lambda: answer_in_refresher(session, refresher, item),
    )
    finish(session, refresher)
    return attempt


def finish(session: Session, refresher: Refresher) -> bool:
    """Complete the refresher once every item is answered. True when it is complete."""
    if refresher.completed_at is not None:
        return True
    answered = dict(
        session.execute(
            select(Attempt.item_id, Attempt.correct).where(Attempt.refresher_id == refresher.id)
        ).all()
    )
    live = [i.id for i in refresher_items(session, refresher)]
    if any(item_id not in answered for item_id in live):
        return False
    refresher.total = len(live)
    refresher.correct = sum(1 for item_id in live if answered[item_id])
    refresher.completed_at = utcnow()
    session.commit()
    return True


def learner_cards(session: Session, user: User, now: datetime, skills=None) -> list[tuple]:
    """(item_id, skill, stability, last_review, due) for each live card of the learner."""
    skills = skills if skills is not None else item_skills(session)
    rows = session.execute(
        select(ReviewCard.item_id, ReviewCard.stability, ReviewCard.last_review, ReviewCard.due)
        .join(QuizItem, QuizItem.id == ReviewCard.item_id)
        .where(ReviewCard.user_id == user.id, QuizItem.retired.is_(False))
    )
    return [(i, skills.get(i, "general"), s, lr, d) for i, s, lr, d in rows]


# Built once: the learner's home runs it on every visit.
_LEARNER_CARDS = (
    select(ReviewCard.item_id, ReviewCard.stability, ReviewCard.last_review, ReviewCard.due)
    .join(QuizItem, QuizItem.id == ReviewCard.item_id)
    .where(ReviewCard.user_id == bindparam("user_id"), QuizItem.retired.is_(False))
)


def learner_cards_with_skills(session: Session, user: User) -> list[tuple]:
    """learner_cards() in one statement: each card's skill comes from the items' skills this
    process keeps with the library (`trainer.content.live`), instead of being looked up again
    for every card of every visit."""
    skills = live.item_skills(session)
    rows = session.execute(_LEARNER_CARDS, {"user_id": user.id})
    return [(i, skills.get(i, "general"), s, lr, d) for i, s, lr, d in rows]


def skill_label(skill: str) -> str:
    """A skill as a learner reads it, in the language of the page: its name from the content
    ("Phone greeting"), or "General" for questions that name none."""
    return skill_name(skill)


# How far back a streak is looked for.
STREAK_DAYS = 400


@dataclass
class SkillRecall:
    skill: str
    now: float
    in_30_days: float
    items: int

    @property
    def label(self) -> str:
        return skill_label(self.skill)

    @property
    def now_percent(self) -> int:
        return round(self.now * 100)

    @property
    def later_percent(self) -> int:
        return round(self.in_30_days * 100)


def skill_overview(session: Session, user: User, now: datetime | None = None) -> list[SkillRecall]:
    """Per skill, the mean predicted recall of the learner's items now and 30 days on if they
    do no review at all; weakest first."""
    now = now or utcnow()
    return overview_of(learner_cards(session, user, now), now)


def overview_of(cards: list[tuple], now: datetime) -> list[SkillRecall]:
    """skill_overview() of learner_cards() rows."""
    model = RecallModel()
    later = now + timedelta(days=30)
    per_skill: dict[str, list[tuple[float, float]]] = {}
    for _item, skill, stability, last_review, _due in cards:
        per_skill.setdefault(skill, []).append(
            (model.recall(stability, last_review, now), model.recall(stability, last_review, later))
        )
    result = [
        SkillRecall(
            skill,
            sum(a for a, _ in values) / len(values),
            sum(b for _, b in values) / len(values),
            len(values),
        )
        for skill, values in per_skill.items()
    ]
    return sorted(result, key=lambda s: s.now)


def plan_practice(session: Session, user: User, now: datetime | None = None) -> Refresher | None:
    """ "Practise anyway": a refresher from the learner's weakest skill, due or not."""
    now = now or utcnow()
    overview = skill_overview(session, user, now)
    if not overview:
        return None
    weakest = overview[0].skill
    model = RecallModel()
    cards = [
        DueCard(item, skill, model.recall(stability, last_review, now))
        for item, skill, stability, last_review, _due in learner_cards(session, user, now)
        if skill == weakest
    ]
    day = local_date(user.timezone, now)
    last_round = session.scalar(
        select(func.max(Refresher.round)).where(
            Refresher.user_id == user.id,
            Refresher.local_date == day,
            Refresher.kind == "practice",
        )
    )
    budget = _budget_seconds()
    _insert_refreshers(
        session,
        [
            {
                "user_id": user.id,
                "local_date": day,
                "kind": "practice",
                "round": (last_round or 0) + 1,
                "item_ids": order_items(
                    cards, budget_items(budget, usual_seconds(session, user.id))
                ),
                "budget_seconds": budget,
                "planned_at": now,
                "recall_before": skill_recall(cards),
                "correct": 0,
                "total": 0,
            }
        ],
    )
    session.commit()
    return session.scalar(
        select(Refresher)
        .where(Refresher.user_id == user.id, Refresher.kind == "practice")
        .order_by(Refresher.id.desc())
    )


@dataclass
class Summary:
    refresher: Refresher
    stronger: list[tuple[str, int, int]]  # skill label, recall before %, after %
    another_look: list[tuple[str, int]]  # skill label, questions of it missed
    next_due: date | None
    missed: int = 0  # questions answered wrong in this refresher
    today: date | None = None  # in the learner's zone

    @property
    def improved(self) -> list[tuple[str, int, int]]:
        return self.stronger


def summary(session: Session, user: User, refresher: Refresher) -> Summary:
    """What got stronger, what is worth another look, and the day of the next refresher.

    A skill whose questions were all answered right got stronger (recall when planned, and
    tomorrow); a skill with a question missed is worth another look. The next
    refresher is never before tomorrow (one a day), and may be later when nothing is due.
    """
    now = utcnow()
    model = RecallModel()
    skills = item_skills(session)
    in_refresher = set(refresher.item_ids)
    after: dict[str, list[float]] = {}
    cards = learner_cards(session, user, now, skills)
    for item, skill, stability, last_review, _due in cards:
        if item in in_refresher:
            # Recall a day from now: today's answers have just set every card to ~100%.
            after.setdefault(skill, []).append(
                model.recall(stability, last_review, now + timedelta(days=1))
            )
    before = refresher.recall_before or {}
    missed_items = set(
        session.scalars(
            select(Attempt.item_id).where(
                Attempt.refresher_id == refresher.id, Attempt.correct.is_(False)
            )
        )
    )
    missed_by_skill: dict[str, int] = {}
    for item in missed_items:
        skill = skills.get(item, "general")
        missed_by_skill[skill] = missed_by_skill.get(skill, 0) + 1
    stronger, another_look = [], []
    for skill, values in sorted(after.items()):
        label = skill_label(skill)
        if skill in missed_by_skill:
            another_look.append((label, missed_by_skill[skill]))
        elif skill in before:
            stronger.append(
                (label, round(before[skill] * 100), round(sum(values) / len(values) * 100))
            )
    today = local_date(user.timezone, now)
    next_due = None
    dues = [due for *_rest, due in cards]
    if dues:
        next_due = max(local_date(user.timezone, min(dues)), today + timedelta(days=1))
    if refresher.kind != "daily":
        daily = session.scalar(
            select(Refresher).where(
                Refresher.user_id == user.id,
                Refresher.kind == "daily",
                Refresher.local_date == today,
                Refresher.completed_at.is_(None),
            )
        )
        if daily is not None and daily.item_ids:
            next_due = today  # today's own refresher is still waiting
    return Summary(refresher, stronger, another_look, next_due, len(missed_items), today)


def streak(session: Session, user: User, now: datetime | None = None) -> int:
    """Days in a row, up to today (or yesterday, if today is not done yet), on which the
    learner finished a refresher or a lesson, counted in their own time zone."""
    now = now or utcnow()
    since = now - timedelta(days=STREAK_DAYS)
    moments = list(
        session.scalars(
            select(Refresher.completed_at).where(
                Refresher.user_id == user.id, Refresher.completed_at >= since
            )
        )
    ) + list(
        session.scalars(
            select(LessonRun.completed_at).where(
                LessonRun.user_id == user.id, LessonRun.completed_at >= since
            )
        )
    )
    return streak_of(moments, user.timezone, now)


def streak_of(moments, timezone: str, now: datetime) -> int:
    """streak() of the moments (naive UTC) at which refreshers and lessons were finished."""
    zone = zone_of(timezone)
    utc = zone_of("UTC")
    days = {m.replace(tzinfo=utc).astimezone(zone).date() for m in moments if m}
    return streak_from_days(days, local_date(timezone, now))


def streak_from_days(days: set[date], today: date) -> int:
    """Days in a row up to today (or yesterday, if today is not done yet)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count
