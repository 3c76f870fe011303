"""What a manager learns about a team: predicted recall per person and skill (with their latest
observation grade and conversation ending), the quiz items the team gets wrong most, and the
turns of conversations where they most often pick a weaker line.

Every function here takes the people as a query already limited by `scope.people_query`, so
scope is decided there and only there. Each reads in a fixed number of set-based queries,
however many people the team has.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import pgettext
from sqlalchemy import Float, Select, String, and_, case, cast, func, select
from sqlalchemy.orm import Session

from trainer.content.names import skill_name
from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.manage.paging import ListPage
from trainer.models import (
    Attempt,
    Conversation,
    ConversationRun,
    Lesson,
    Observation,
    ObservationChecklist,
    Quiz,
    QuizItem,
    ReviewCard,
    User,
    utcnow,
)
from trainer.review.fsrs_cards import RecallModel

WEAK_BELOW = 60  # percent: a cell below this is weak (red)
FAIR_BELOW = 80  # below this, fair (amber); from here on, strong (green)
LATER_DAYS = 30
CURVE_DAYS = (0, 7, 14, 21, 30)
NO_SKILL = "general"  # items whose quiz no lesson uses, as the learner's own view names them

WINDOWS = (30, 90, 365)
DEFAULT_WINDOW = 90
MIN_ATTEMPTS = 3
QUESTIONS_PER_PAGE = 20
WEAK_TURNS_SHOWN = 10


def skill_label(skill: str) -> str:
    """A skill as the viewer reads it, in the language of the page."""
    return skill_name(skill)


def ending_word(ending: str) -> str:
    """How a conversation ended, in a word of the reader's language (good, mixed, poor)."""
    words = {
        "good": pgettext("conversation ending", "good"),
        "mixed": pgettext("conversation ending", "mixed"),
        "poor": pgettext("conversation ending", "poor"),
    }
    return words.get(ending, ending)


def recall_band(percent: int | None) -> str:
    """The cell's class: weak, fair, strong, or none without data. Judged on the rounded
    percent shown, so the colour and the number never disagree."""
    if percent is None:
        return "none"
    if percent < WEAK_BELOW:
        return "weak"
    if percent < FAIR_BELOW:
        return "fair"
    return "strong"


def active_people(people: Select) -> Select:
    return people.where(User.active.is_(True))


# -- the skill grid -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One person's (or the team's) recall of one skill, and the latest observation of it."""

    now: float | None = None  # mean predicted recall, 0 to 1; None without cards
    later: float | None = None  # the same in LATER_DAYS days with no review
    items: int = 0  # cards counted (for the team average: people counted)
    grade: str | None = None
    observed_at: datetime | None = None
    ending: str | None = None  # of the latest conversation on the skill that reached one

    def percent(self, later: bool = False) -> int | None:
        value = self.later if later else self.now
        return None if value is None else round(value * 100)

    def band(self, later: bool = False) -> str:
        return recall_band(self.percent(later))


EMPTY = Cell()


@dataclass
class PersonSkills:
    person: User
    cells: dict[str, Cell] = field(default_factory=dict)

    def cell(self, skill: str) -> Cell:
        return self.cells.get(skill, EMPTY)


@dataclass
class SkillGrid:
    skills: list[str]
    rows: list[PersonSkills]
    average: dict[str, Cell]
    # (label, percent): the average person's recall over the next days if no one reviews.
    curve: list[tuple[str, float]]

    def average_cell(self, skill: str) -> Cell:
        return self.average.get(skill, EMPTY)

    def chart_values(self, later: bool = False) -> tuple[list[str], list[list[int | None]]]:
        """Row labels and percents for `charts.heat_grid`: people, then the team average."""
        names = [row.person.name for row in self.rows] + [_("Team average")]
        values = [[row.cell(s).percent(later) for s in self.skills] for row in self.rows]
        values.append([self.average_cell(s).percent(later) for s in self.skills])
        return names, values


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def skill_grid(session: Session, people: Select, now: datetime | None = None) -> SkillGrid:
    """Per active person and skill: the mean predicted recall (FSRS retrievability) of their
    cards on the skill's items (a conversation's decisions among them) now and in LATER_DAYS
    days if they do no review, their latest observation grade on the skill and the ending of
    their latest conversation on it. The team average of a skill is the mean of the people who
    have cards on it, each counting once. Four queries for any team size.
    """
    now = now or utcnow()
    people = active_people(people)
    persons = list(session.scalars(people.order_by(User.name, User.id)))
    ids = people.with_only_columns(User.id)
    model = RecallModel()
    offsets = sorted({*CURVE_DAYS, LATER_DAYS})
    moments = [now + timedelta(days=d) for d in offsets]

    # An item counts for the skill of each lesson that uses its quiz (one, in practice), or of
    # the conversation whose decision it is.
    cards = session.execute(
        select(
            ReviewCard.user_id,
            ReviewCard.item_id,
            func.coalesce(Lesson.skill, Conversation.skill, NO_SKILL),
            ReviewCard.stability,
            ReviewCard.last_review,
        )
        .join(QuizItem, QuizItem.id == ReviewCard.item_id)
        .outerjoin(Lesson, Lesson.quiz_id == QuizItem.quiz_id)
        .outerjoin(Conversation, Conversation.quiz_id == QuizItem.quiz_id)
        .where(ReviewCard.user_id.in_(ids), QuizItem.retired.is_(False))
        .distinct()
    )
    # recall[user][skill] = one list of recalls per moment
    recall: dict[int, dict[str, list[list[float]]]] = defaultdict(dict)
    for user_id, _item, skill, stability, last_review in cards:
        series = recall[user_id].setdefault(skill, [[] for _ in moments])
        for i, at in enumerate(moments):
            series[i].append(model.recall(stability, last_review, at))

    latest = _latest_grades(session, ids)
    endings = _latest_endings(session, ids)
    skills = sorted(
        {s for per in recall.values() for s in per} | {s for _u, s in latest},
        key=skill_label,
    )
    now_at, later_at = offsets.index(0), offsets.index(LATER_DAYS)
    rows = []
    for person in persons:
        cells = {}
        for skill in skills:
            series = recall.get(person.id, {}).get(skill)
            grade, observed_at = latest.get((person.id, skill), (None, None))
            if series is None and grade is None:
                continue
            cells[skill] = Cell(
                now=_mean(series[now_at]) if series else None,
                later=_mean(series[later_at]) if series else None,
                items=len(series[now_at]) if series else 0,
                grade=grade,
                observed_at=observed_at,
                ending=endings.get((person.id, skill)),
            )
        rows.append(PersonSkills(person, cells))

    average = {}
    for skill in skills:
        counted = [r.cells[skill] for r in rows if r.cell(skill).now is not None]
        if counted:
            average[skill] = Cell(
                now=_mean([c.now for c in counted]),
                later=_mean([c.later for c in counted]),
                items=len(counted),
            )

    curve = []
    with_cards = [p for p in persons if p.id in recall]
    for i, days in enumerate(offsets):
        if with_cards and days in CURVE_DAYS:
            means = [
                _mean([v for series in recall[p.id].values() for v in series[i]])
                for p in with_cards
            ]
            label = _("Today") if days == 0 else ngettext("In %(num)d day", "In %(num)d days", days)
            curve.append((label, round(100 * _mean(means), 1)))
    return SkillGrid(skills, rows, average, curve)


def _latest_grades(session: Session, ids: Select) -> dict[tuple[int, str], tuple[str, datetime]]:
    """(person, checklist skill) -> (grade, when) of the latest observation."""
    ranked = (
        select(
            Observation.user_id,
            ObservationChecklist.skill,
            Observation.grade,
            Observation.observed_at,
            func.row_number()
            .over(
                partition_by=(Observation.user_id, ObservationChecklist.skill),
                order_by=(Observation.observed_at.desc(), Observation.id.desc()),
            )
            .label("rank"),
        )
        .join(ObservationChecklist, ObservationChecklist.id == Observation.checklist_id)
        .where(Observation.user_id.in_(ids))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.user_id, ranked.c.skill, ranked.c.grade, ranked.c.observed_at).where(
            ranked.c.rank == 1
        )
    )
    return {(user_id, skill): (grade, at) for user_id, skill, grade, at in rows}


def _latest_endings(session: Session, ids: Select) -> dict[tuple[int, str], str]:
    """(person, skill) -> the ending of their latest conversation on the skill to reach one."""
    ranked = (
        select(
            ConversationRun.user_id,
            Conversation.skill,
            ConversationRun.ending,
            func.row_number()
            .over(
                partition_by=(ConversationRun.user_id, Conversation.skill),
                order_by=(ConversationRun.finished_at.desc(), ConversationRun.id.desc()),
            )
            .label("rank"),
        )
        .join(Conversation, Conversation.id == ConversationRun.conversation_id)
        .where(ConversationRun.user_id.in_(ids), ConversationRun.ending.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.user_id, ranked.c.skill, ranked.c.ending).where(ranked.c.rank == 1)
    )
    return {(user_id, skill): ending for user_id, skill, ending in rows}


# -- the questions missed most -----------------------------------------------------------------


@dataclass
class MissedQuestion:
    item: QuizItem
    lesson_title: str | None
    attempts: int
    wrong: int
    # (choice text as answered, times picked), most picked first. A text of None stands for
    # "only some of the right answers" on a choose-all-that-apply item.
    wrong_choices: list[tuple[str | None, int]]

    @property
    def percent_wrong(self) -> int:
        return round(100 * self.wrong / self.attempts) if self.attempts else 0

    @property
    def right_choices(self) -> list[str]:
        return [c["text"] for c in self.item.right_choices]


def window_days(value: int | None) -> int:
    return value if value in WINDOWS else DEFAULT_WINDOW


def missed_questions(
    session: Session,
    people: Select,
    since: datetime,
    page: int = 1,
    per_page: int = QUESTIONS_PER_PAGE,
) -> ListPage:
    """The live quiz items the people answered wrong since `since`, the largest share wrong
    first, then the most attempts. An item needs MIN_ATTEMPTS attempts and one wrong answer to
    appear. Each comes with the wrong choices picked and how often (people who have left count
    too: their answers still show what the team misunderstands)."""
    ids = people.with_only_columns(User.id)
    in_window = and_(Attempt.user_id.in_(ids), Attempt.answered_at >= since)
    attempts = func.count(Attempt.id)
    wrong = func.sum(case((Attempt.correct.is_(False), 1), else_=0))
    stats = (
        select(Attempt.item_id, attempts.label("attempts"), wrong.label("wrong"))
        .join(QuizItem, QuizItem.id == Attempt.item_id)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        # A conversation's turns have a list of their own: `weak_turns`.
        .where(in_window, QuizItem.retired.is_(False), Quiz.kind == "quiz")
        .group_by(Attempt.item_id)
        .having(and_(attempts >= MIN_ATTEMPTS, wrong > 0))
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(stats)) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    share = cast(stats.c.wrong, Float) / stats.c.attempts
    rows = session.execute(
        select(stats.c.item_id, stats.c.attempts, stats.c.wrong)
        .order_by(share.desc(), stats.c.attempts.desc(), stats.c.item_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if not rows:
        return ListPage([], page, per_page, total)

    item_ids = [row.item_id for row in rows]
    items = {i.id: i for i in session.scalars(select(QuizItem).where(QuizItem.id.in_(item_ids)))}
    titles: dict[int, str] = {}
    lessons = session.execute(
        select(Lesson.quiz_id, Lesson.title)
        .where(Lesson.quiz_id.in_({i.quiz_id for i in items.values()}))
        .order_by(Lesson.retired, Lesson.id)  # a live lesson's title before a retired one's
    )
    for quiz_id, title in lessons:
        titles.setdefault(quiz_id, title)

    picked: dict[int, Counter] = defaultdict(Counter)
    answers = session.execute(
        select(Attempt.item_id, Attempt.chosen_text).where(
            in_window, Attempt.correct.is_(False), Attempt.item_id.in_(item_ids)
        )
    )
    for item_id, chosen_text in answers:
        item = items[item_id]
        right = {c["text"] for c in item.right_choices}
        mistaken = [text for text in chosen_text or [] if text not in right]
        if not mistaken:
            # Right choices only: too few of them ticked, or the item was edited since.
            mistaken = [None] if item.type == "multiple" else list(chosen_text or [])
        picked[item_id].update(mistaken)

    result = [
        MissedQuestion(
            item=items[row.item_id],
            lesson_title=titles.get(items[row.item_id].quiz_id),
            attempts=row.attempts,
            wrong=int(row.wrong),
            wrong_choices=sorted(
                picked[row.item_id].items(), key=lambda pair: (-pair[1], pair[0] or "")
            ),
        )
        for row in rows
    ]
    return ListPage(result, page, per_page, total)


# -- the weak turns of conversations -----------------------------------------------------------


@dataclass
class WeakTurn:
    """A line weaker than the best one, picked at one turn of a conversation, and how often."""

    conversation: str  # its title
    customer: str
    cue: str
    said: str
    times: int
    better: list[str]  # the best lines at that turn


def weak_turns(
    session: Session, people: Select, since: datetime, limit: int = WEAK_TURNS_SHOWN
) -> list[WeakTurn]:
    """The lines scoring less than the best that the people picked most often since `since`,
    at a turn of a conversation or when that turn came back in a refresher; most often first.
    Two queries for any team size."""
    ids = people.with_only_columns(User.id)
    said = cast(Attempt.chosen_text, String)  # JSON cannot be grouped on PostgreSQL; its text can
    times = func.count(Attempt.id)
    rows = session.execute(
        select(Attempt.item_id, said, times)
        .join(QuizItem, QuizItem.id == Attempt.item_id)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .where(
            Attempt.user_id.in_(ids),
            Attempt.answered_at >= since,
            Attempt.correct.is_(False),
            Quiz.kind == "conversation",
            QuizItem.retired.is_(False),
        )
        .group_by(Attempt.item_id, said)
        .order_by(times.desc(), Attempt.item_id, said)
        .limit(limit)
    ).all()
    if not rows:
        return []
    found = session.execute(
        select(QuizItem, Conversation)
        .join(Conversation, Conversation.quiz_id == QuizItem.quiz_id)
        .where(QuizItem.id.in_({row[0] for row in rows}))
    ).all()
    where = {item.id: (item, conversation) for item, conversation in found}
    result = []
    for item_id, text, count in rows:
        item, conversation = where[item_id]
        node = conversation.node(item.key) or {}
        result.append(
            WeakTurn(
                conversation=conversation.title,
                customer=node.get("customer", ""),
                cue=node.get("cue", ""),
                said="; ".join(json.loads(text)),
                times=count,
                better=[choice["text"] for choice in item.right_choices],
            )
        )
    return result
