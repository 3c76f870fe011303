"""The learner's home ("Today"): what it puts first (one line per lesson, due dates in words,
a catch-up plan), read in a fixed number of statements however long their history: the
session row, then one each for refreshers, enrolments, lesson runs (with recent coaching
notes) and review cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.learn.services import (
    PATH_ENROLMENT_ORDER,
    PathLesson,
    PathProgress,
    progress_on,
)
from trainer.manage.coaching import NOTE_DAYS
from trainer.models import (
    Attempt,
    Enrolment,
    Lesson,
    LessonRun,
    Path,
    PathStep,
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
    coaching_note: CoachingNote | None
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
    progress, lesson_enrolments = _enrolments(session, user, done, started)
    assigned = merge_assigned(progress, lesson_enrolments)
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


# Today's statements are built once: building a statement costs more than running it.
_TODAYS = and_(Refresher.local_date == bindparam("day"), Refresher.kind == "daily")
_REFRESHERS = select(
    Refresher.id,
    Refresher.completed_at,
    Refresher.correct,
    Refresher.total,
    Refresher.budget_seconds,
    # Only today's items and answers are needed; the other rows say when they ended.
    case((_TODAYS, Refresher.item_ids)).label("item_ids"),
    case(
        (
            _TODAYS,
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.refresher_id == Refresher.id)
            .scalar_subquery(),
        ),
        else_=0,
    ).label("answered"),
    _TODAYS.label("today"),
).where(
    Refresher.user_id == bindparam("user_id"),
    or_(_TODAYS, Refresher.completed_at >= bindparam("since")),
)


def _refreshers(session: Session, user: User, day: date, now: datetime):
    """Today's daily refresher with how many of its items are answered (or None), and when
    the learner finished refreshers within the streak's reach. Plain rows, not objects: a
    learner of a year has hundreds of refreshers, and this runs on every visit."""
    rows = session.execute(
        _REFRESHERS,
        {"user_id": user.id, "day": day, "since": now - timedelta(days=STREAK_DAYS)},
    ).all()
    current = next(((r, r.answered) for r in rows if r.today), None)
    return current, [r.completed_at for r in rows if r.completed_at is not None]


@dataclass(frozen=True)
class LessonLine:
    """What Today shows of a lesson: a line with its title, length and link."""

    id: int
    key: str
    title: str
    minutes: int | None
    translations: dict | None
    retired: bool = False


@dataclass(frozen=True)
class PathLine:
    id: int
    title: str
    translations: dict | None


@dataclass(frozen=True)
class CoachingNote:
    """The newest coaching note on one of the learner's role-plays."""

    coach_comment: str
    coached_at: datetime
    lesson: LessonLine


_LESSON_RUNS = (
    select(
        LessonRun.lesson_id,
        LessonRun.completed_at,
        LessonRun.abandoned_at,
        RolePlayAnswer.id.label("note_id"),
        RolePlayAnswer.coach_comment,
        RolePlayAnswer.coached_at,
        Lesson.key,
        Lesson.title,
        Lesson.minutes,
        Lesson.translations,
    )
    .outerjoin(
        RolePlayAnswer,
        and_(
            RolePlayAnswer.run_id == LessonRun.id,
            RolePlayAnswer.user_id == LessonRun.user_id,
            RolePlayAnswer.coach_comment.is_not(None),
            RolePlayAnswer.coached_at >= bindparam("since"),
        ),
    )
    .outerjoin(RolePlay, RolePlay.id == RolePlayAnswer.roleplay_id)
    .outerjoin(Lesson, Lesson.id == RolePlay.lesson_id)
    .where(LessonRun.user_id == bindparam("user_id"))
)


def _lesson_runs(session: Session, user: User, now: datetime):
    """From the learner's lesson runs: the lessons completed, those open, when runs were
    finished, and the newest coaching note of the last NOTE_DAYS (on a role-play of a run)."""
    rows = session.execute(
        _LESSON_RUNS, {"user_id": user.id, "since": now - timedelta(days=NOTE_DAYS)}
    ).all()
    done = {r.lesson_id for r in rows if r.completed_at is not None}
    started = {r.lesson_id for r in rows if r.completed_at is None and not r.abandoned_at}
    moments = [r.completed_at for r in rows if r.completed_at is not None]
    newest = max(
        (r for r in rows if r.note_id is not None),
        key=lambda r: (r.coached_at, r.note_id),
        default=None,
    )
    note = None
    if newest is not None:
        lesson = LessonLine(
            newest.lesson_id, newest.key, newest.title, newest.minutes, newest.translations
        )
        note = CoachingNote(newest.coach_comment, newest.coached_at, lesson)
    return done, started, moments, note


def _columns(lesson) -> list:
    return [
        lesson.id,
        lesson.key,
        lesson.title,
        lesson.minutes,
        lesson.translations,
        lesson.retired,
    ]


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


_StepLesson = aliased(Lesson)
_OwnLesson = aliased(Lesson)


def _line(row, lesson) -> LessonLine:
    get = row._mapping
    return LessonLine(
        get[lesson.id],
        get[lesson.key],
        get[lesson.title],
        get[lesson.minutes],
        get[lesson.translations],
        get[lesson.retired],
    )


_ENROLMENTS = (
    select(
        Enrolment.id,
        Enrolment.path_id,
        Enrolment.lesson_id,
        Enrolment.start_date,
        Enrolment.due_date,
        Path.title.label("path_title"),
        Path.translations.label("path_translations"),
        PathStep.due_days,
        *_columns(_StepLesson),
        *_columns(_OwnLesson),
    )
    .outerjoin(Path, Path.id == Enrolment.path_id)
    .outerjoin(PathStep, PathStep.path_id == Path.id)
    .outerjoin(_StepLesson, _StepLesson.id == PathStep.lesson_id)
    .outerjoin(_OwnLesson, _OwnLesson.id == Enrolment.lesson_id)
    .where(
        Enrolment.user_id == bindparam("user_id"),
        or_(Path.retired.is_(False), _OwnLesson.retired.is_(False)),
    )
    .order_by(*PATH_ENROLMENT_ORDER, PathStep.position)
)


def _enrolments(session: Session, user: User, done: set[int], started: set[int]):
    """The learner's progress on the path they follow (None: their job role's, read apart) and
    their single-lesson enrolments, from one statement: one row per step of each path
    enrolment, one per lesson enrolment."""
    rows = session.execute(_ENROLMENTS, {"user_id": user.id}).all()
    on_path = next((r for r in rows if r.path_id is not None), None)
    if on_path is None:
        progress = progress_on(session, user, None, done, started)
    else:
        path = PathLine(on_path.path_id, on_path.path_title, on_path.path_translations)
        lessons = []
        for r in rows:
            if r.id != on_path.id or r._mapping[_StepLesson.id] is None:
                continue
            lesson = _line(r, _StepLesson)
            if lesson.retired:
                continue
            lessons.append(
                PathLesson(
                    lesson=lesson,
                    due=on_path.due_date or on_path.start_date + timedelta(days=r.due_days),
                    completed=lesson.id in done,
                    in_progress=lesson.id in started,
                )
            )
        progress = PathProgress(path, lessons)
    assigned = [
        PathLesson(_line(r, _OwnLesson), r.due_date, r.lesson_id in done, r.lesson_id in started)
        for r in rows
        if r.lesson_id is not None
    ]
    return progress, sorted(assigned, key=lambda pl: (pl.completed, pl.due or date.max))
