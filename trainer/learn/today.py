"""The learner's home ("Today"): what it puts first (one line per lesson, due dates in words,
a catch-up plan), read in a fixed number of statements however long their history: the
session row, then one each for refreshers, enrolments, lesson runs (with recent coaching
notes) and review cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from trainer.learn.services import (
    PATH_ENROLMENT_ORDER,
    PATH_WITH_LESSONS,
    PathLesson,
    PathProgress,
    assigned_of,
    progress_on,
)
from trainer.manage.coaching import NOTE_DAYS
from trainer.models import (
    Attempt,
    Enrolment,
    Lesson,
    LessonRun,
    Path,
    Refresher,
    RolePlay,
    RolePlayAnswer,
    User,
    utcnow,
)
from trainer.notify.mails import day_label
from trainer.review.planning import local_date, plan_for_user
from trainer.review.refresher import (
    STREAK_DAYS,
    SkillRecall,
    learner_cards_with_skills,
    overview_of,
    streak_of,
)


@dataclass
class Today:
    refresher: Refresher | None
    remaining: int | None  # questions left in today's refresher, when it is under way
    refresher_minutes: int | None
    progress: PathProgress | None
    assigned: list[PathLesson]
    streak: int
    skills: list[SkillRecall]
    today: date
    coaching_note: RolePlayAnswer | None
    catch_up: CatchUp | None  # how far behind, when the learner is


def today_for(session: Session, user: User, now: datetime | None = None) -> Today:
    """Everything the learner's home shows. Plans today's refresher if the job has not yet."""
    now = now or utcnow()
    day = local_date(user.timezone, now)
    refresher, finished = _refreshers(session, user, day, now)
    answered = 0
    if refresher is None:
        # Normally the plan-refreshers job has planned it already; planning is idempotent.
        refresher = plan_for_user(session, user, now)
    else:
        refresher, answered = refresher
    remaining = minutes = None
    if refresher is not None and refresher.completed_at is None and refresher.item_ids:
        remaining = len(refresher.item_ids) - answered
        # The plan fitted its items into the budget; the rest take their share of it.
        share = remaining / len(refresher.item_ids)
        minutes = max(1, round(share * refresher.budget_seconds / 60))

    done, started, lesson_moments, note = _lesson_runs(session, user, now)
    path_enrolment, lesson_enrolments = _enrolments(session, user)
    progress = progress_on(session, user, path_enrolment, done, started)
    assigned = merge_assigned(progress, assigned_of(lesson_enrolments, done, started))
    return Today(
        refresher=refresher,
        remaining=remaining,
        refresher_minutes=minutes,
        progress=progress,
        assigned=assigned,
        catch_up=catch_up((progress.lessons if progress else []) + assigned, day),
        streak=streak_of(finished + lesson_moments, user.timezone, now),
        skills=overview_of(learner_cards_with_skills(session, user), now),
        today=day,
        coaching_note=note,
    )


def _refreshers(session: Session, user: User, day: date, now: datetime):
    """Today's daily refresher with how many of its items are answered (or None), and when
    the learner finished refreshers within the streak's reach."""
    answered = (
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.refresher_id == Refresher.id)
        .scalar_subquery()
    )
    todays = and_(Refresher.local_date == day, Refresher.kind == "daily")
    rows = session.execute(
        select(Refresher, answered).where(
            Refresher.user_id == user.id,
            or_(todays, Refresher.completed_at >= now - timedelta(days=STREAK_DAYS)),
        )
    ).all()
    current = next(((r, n) for r, n in rows if r.local_date == day and r.kind == "daily"), None)
    return current, [r.completed_at for r, _n in rows if r.completed_at is not None]


def _lesson_runs(session: Session, user: User, now: datetime):
    """From the learner's lesson runs: the lessons completed, those open, when runs were
    finished, and the newest coaching note of the last NOTE_DAYS (on a role-play of a run)."""
    since = now - timedelta(days=NOTE_DAYS)
    rows = session.execute(
        select(LessonRun.lesson_id, LessonRun.completed_at, LessonRun.abandoned_at, RolePlayAnswer)
        .outerjoin(
            RolePlayAnswer,
            and_(
                RolePlayAnswer.run_id == LessonRun.id,
                RolePlayAnswer.user_id == user.id,
                RolePlayAnswer.coach_comment.is_not(None),
                RolePlayAnswer.coached_at >= since,
            ),
        )
        .outerjoin(RolePlay, RolePlay.id == RolePlayAnswer.roleplay_id)
        .outerjoin(Lesson, Lesson.id == RolePlay.lesson_id)
        .options(contains_eager(RolePlayAnswer.roleplay).contains_eager(RolePlay.lesson))
        .where(LessonRun.user_id == user.id)
    ).all()
    done = {lesson for lesson, completed, _a, _n in rows if completed is not None}
    started = {
        lesson for lesson, completed, abandoned, _n in rows if completed is None and not abandoned
    }
    moments = [completed for _l, completed, _a, _n in rows if completed is not None]
    notes = [note for *_run, note in rows if note is not None]
    note = max(notes, key=lambda a: (a.coached_at, a.id), default=None)
    return done, started, moments, note


def _enrolments(session: Session, user: User):
    """The enrolment whose path the learner follows (None: their job role's), and their
    single-lesson enrolments, with paths, steps and lessons, in one statement."""
    rows = (
        session.execute(
            select(Enrolment)
            .outerjoin(Path, Path.id == Enrolment.path_id)
            .outerjoin(Lesson, Lesson.id == Enrolment.lesson_id)
            .where(
                Enrolment.user_id == user.id,
                or_(Path.retired.is_(False), Lesson.retired.is_(False)),
            )
            .order_by(*PATH_ENROLMENT_ORDER)
            .options(PATH_WITH_LESSONS, joinedload(Enrolment.lesson))
        )
        .unique()
        .scalars()
        .all()
    )
    on_path = next((e for e in rows if e.path_id is not None), None)
    return on_path, [e for e in rows if e.lesson_id is not None]


def due_phrase(due: date | None, today: date) -> str:
    """ "due today", "due tomorrow", "2 days late", "due in 3 days", "due Mon 7 Dec", in the
    reader's language."""
    if due is None:
        return ""
    days = (due - today).days
    if days < 0:
        return ngettext("%(num)d day late", "%(num)d days late", -days)
    if days == 0:
        return _("due today")
    if days == 1:
        return _("due tomorrow")
    if days < 7:
        return ngettext("due in %(num)d day", "due in %(num)d days", days)
    return _("due %(day)s", day=day_label(due))


def merge_assigned(progress: PathProgress | None, assigned: list[PathLesson]) -> list[PathLesson]:
    """A lesson both on the path and assigned shows once, on the path, with the earlier date.
    Returns the assigned lessons that are not on the path."""
    on_path = {pl.lesson.id: pl for pl in progress.lessons} if progress else {}
    rest = []
    for al in assigned:
        pl = on_path.get(al.lesson.id)
        if pl is None:
            rest.append(al)
        elif al.due is not None and (pl.due is None or al.due < pl.due):
            pl.due = al.due
    return rest


@dataclass(frozen=True)
class CatchUp:
    lessons: int
    minutes: int

    @property
    def line(self) -> str:
        """ "9 lessons ≈ 40 min — one today"."""
        if self.lessons == 1:
            return _("1 lesson ≈ %(minutes)d min — do it today", minutes=self.minutes)
        return ngettext(
            "%(num)d lesson ≈ %(minutes)d min — one today",
            "%(num)d lessons ≈ %(minutes)d min — one today",
            self.lessons,
            minutes=self.minutes,
        )


def catch_up(lessons: list[PathLesson], today: date) -> CatchUp | None:
    """How far behind the learner is: the late lessons and their minutes, or None."""
    late = [pl for pl in lessons if pl.overdue(today)]
    if not late:
        return None
    return CatchUp(len(late), sum(pl.lesson.minutes or 0 for pl in late))
