"""The learner's side: which lessons are theirs, answering, role-play, completing a lesson.

Every write here is safe to repeat: a replayed or double-submitted form finds its token (or
its place in the lesson run) taken and returns what was recorded the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from trainer.content import live
from trainer.content.names import role_name, role_names, skill_name
from trainer.content.translated import language_of, shown
from trainer.languages import gettext as _
from trainer.learn.enrolment import role_path
from trainer.models import (
    Attempt,
    Conversation,
    ConversationRun,
    Enrolment,
    Lesson,
    LessonRun,
    Path,
    PathStep,
    QuizItem,
    RolePlay,
    RolePlayAnswer,
    User,
    utcnow,
)
from trainer.models.base import insert_skipping_duplicates
from trainer.review.answers import find_by_token, store_attempt

# -- what to learn --------------------------------------------------------------------------


@dataclass
class PathLesson:
    lesson: Lesson
    due: date | None
    completed: bool
    in_progress: bool

    def overdue(self, today: date) -> bool:
        return not self.completed and self.due is not None and self.due < today


@dataclass
class PathProgress:
    path: Path
    lessons: list[PathLesson]

    @property
    def done(self) -> int:
        return sum(1 for pl in self.lessons if pl.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.lessons)) if self.lessons else 0

    @property
    def next(self) -> PathLesson | None:
        return next((pl for pl in self.lessons if not pl.completed), None)


def completed_lesson_ids(session: Session, user: User) -> set[int]:
    rows = session.scalars(
        select(LessonRun.lesson_id).where(
            LessonRun.user_id == user.id, LessonRun.completed_at.is_not(None)
        )
    )
    return set(rows)


def open_lesson_ids(session: Session, user: User) -> set[int]:
    rows = session.scalars(
        select(LessonRun.lesson_id).where(LessonRun.user_id == user.id, LessonRun.is_open)
    )
    return set(rows)


# The enrolment whose path a person's progress shows: "auto" (the role's path) first.
PATH_ENROLMENT_ORDER = (Enrolment.source.desc(), Enrolment.id)
# An enrolment's path with its steps and their lessons, in one statement.
PATH_WITH_LESSONS = joinedload(Enrolment.path).joinedload(Path.steps).joinedload(PathStep.lesson)


def path_progress(session: Session, user: User) -> PathProgress | None:
    """The person's onboarding path with a due date per lesson.

    Due dates count from the enrolment's start (the hire date for new hires), or are all the
    enrolment's own due date when a manager assigned the path with one. A person not yet
    enrolled sees their job role's path, counted from their hire date.
    """
    enrolment = session.scalar(
        select(Enrolment)
        .join(Path, Path.id == Enrolment.path_id)
        .where(Enrolment.user_id == user.id, Path.retired.is_(False))
        .order_by(*PATH_ENROLMENT_ORDER)
        .options(PATH_WITH_LESSONS)
    )
    return progress_on(
        session,
        user,
        enrolment,
        completed_lesson_ids(session, user),
        open_lesson_ids(session, user),
    )


def progress_on(
    session: Session, user: User, enrolment: Enrolment | None, done: set[int], started: set[int]
) -> PathProgress | None:
    """path_progress() for an enrolment already loaded (None: the job role's path), given the
    lessons the person completed (`done`) and has open (`started`)."""
    if enrolment is not None:
        path, start, fixed_due = enrolment.path, enrolment.start_date, enrolment.due_date
    else:
        path = role_path(session, user)
        if path is None:
            return None
        start, fixed_due = user.hire_date or user.created_at.date(), None
    lessons = [
        PathLesson(
            lesson=step.lesson,
            due=fixed_due or start + timedelta(days=step.due_days),
            completed=step.lesson_id in done,
            in_progress=step.lesson_id in started,
        )
        for step in path.steps
        if not step.lesson.retired
    ]
    return PathProgress(path, lessons)


def assigned_lessons(session: Session, user: User) -> list[PathLesson]:
    """Single lessons a manager assigned, with their due dates, soonest first."""
    done = completed_lesson_ids(session, user)
    started = open_lesson_ids(session, user)
    rows = session.scalars(
        select(Enrolment)
        .join(Lesson, Lesson.id == Enrolment.lesson_id)
        .where(Enrolment.user_id == user.id, Lesson.retired.is_(False))
    )
    return assigned_of(rows, done, started)


def assigned_of(enrolments, done: set[int], started: set[int]) -> list[PathLesson]:
    """Lesson enrolments as the learner sees them, soonest first."""
    result = [
        PathLesson(e.lesson, e.due_date, e.lesson_id in done, e.lesson_id in started)
        for e in enrolments
    ]
    return sorted(result, key=lambda pl: (pl.completed, pl.due or date.max))


def library_for(session: Session, user: User) -> list[Lesson]:
    """Live lessons, the user's own job role first, then by title."""
    lessons = list(
        session.scalars(select(Lesson).where(Lesson.retired.is_(False)).order_by(Lesson.title))
    )
    role = user.job_role.key if user.job_role else None
    return sorted(lessons, key=lambda lesson: role not in lesson.roles)


@dataclass
class LibraryGroup:
    key: str  # path | role | other
    title: str
    lessons: list[Lesson]


def library_groups(session: Session, user: User, query: str = "") -> list[LibraryGroup]:
    """The live lessons in three groups: the learner's path (in its order), the rest of their
    job role's lessons, and other roles' lessons; only those matching `query` (in the title,
    the skill or a role), and only groups with a lesson in them."""
    words = query.casefold().split()
    language = language_of(user)

    def matches(lesson: Lesson) -> bool:
        # The words as the learner reads them count too: "queja" finds a Spanish title,
        # "primera" the skill "Primera impresión".
        titles = [lesson.title, shown(lesson, language).title]
        named = [skill_name(lesson.skill), *role_names(lesson.roles)]
        text = " ".join([*titles, lesson.skill.replace("-", " "), *lesson.roles, *named])
        return all(word in text.casefold() for word in words)

    lessons = [lesson for lesson in library_for(session, user) if matches(lesson)]
    progress = path_progress(session, user)
    on_path = [pl.lesson for pl in progress.lessons] if progress else []
    path_ids = {lesson.id for lesson in on_path}
    wanted = {lesson.id for lesson in lessons}
    role = user.job_role.key if user.job_role else None
    groups = [
        LibraryGroup(
            "path",
            shown(progress.path, language).title if progress else _("Your path"),
            [lesson for lesson in on_path if lesson.id in wanted],
        ),
        LibraryGroup(
            "role",
            _("More for %(role)s", role=role_name(user.job_role))
            if user.job_role
            else _("For your role"),
            [ls for ls in lessons if ls.id not in path_ids and role in ls.roles],
        ),
        LibraryGroup(
            "other",
            _("Other roles"),
            [ls for ls in lessons if ls.id not in path_ids and role not in ls.roles],
        ),
    ]
    return [group for group in groups if group.lessons]


def live_lesson(session: Session, key: str) -> Lesson | None:
    """The lesson with its quiz items, role-plays and conversation: every step of the player
    needs them to draw its progress bar. Read once per process and library version
    (`trainer.content.live`); the objects are shared, so nothing may change them."""
    return live.live_lesson(session, key)


# -- a pass through a lesson ----------------------------------------------------------------


def open_run(session: Session, user: User, lesson: Lesson) -> LessonRun | None:
    return session.scalar(
        select(LessonRun).where(
            LessonRun.user_id == user.id, LessonRun.lesson_id == lesson.id, LessonRun.is_open
        )
    )


def last_completed_run(session: Session, user: User, lesson: Lesson) -> LessonRun | None:
    return session.scalar(
        select(LessonRun)
        .where(
            LessonRun.user_id == user.id,
            LessonRun.lesson_id == lesson.id,
            LessonRun.completed_at.is_not(None),
        )
        .order_by(LessonRun.completed_at.desc())
    )


def start_run(session: Session, user: User, lesson: Lesson) -> LessonRun:
    """The person's open run of the lesson, started (not committed) if there is none.

    Two requests starting it at the same moment get the same run: the database holds one open
    run per person and lesson, so the later insert is skipped (on PostgreSQL, once the earlier
    request has committed) and the run it found is returned.
    """
    run = open_run(session, user, lesson)
    if run is None:
        session.execute(
            insert_skipping_duplicates(session, LessonRun.__table__).values(
                user_id=user.id, lesson_id=lesson.id
            )
        )
        run = open_run(session, user, lesson)
    return run


# Built once: a question's page asks it on every view.
_RUN_AND_ANSWER = (
    select(LessonRun, Attempt)
    .outerjoin(
        Attempt, and_(Attempt.run_id == LessonRun.id, Attempt.item_id == bindparam("item_id"))
    )
    .where(
        LessonRun.user_id == bindparam("user_id"),
        LessonRun.lesson_id == bindparam("lesson_id"),
        LessonRun.is_open,
    )
)


def run_and_answer(
    session: Session, user: User, lesson: Lesson, item: QuizItem
) -> tuple[LessonRun | None, Attempt | None]:
    """open_run() and answer_in_run() in one statement: what a question's page asks first."""
    found = session.execute(
        _RUN_AND_ANSWER, {"item_id": item.id, "user_id": user.id, "lesson_id": lesson.id}
    ).first()
    return (found[0], found[1]) if found is not None else (None, None)


def answer_in_run(session: Session, run: LessonRun | None, item: QuizItem) -> Attempt | None:
    if run is None:
        return None
    return session.scalar(
        select(Attempt).where(Attempt.run_id == run.id, Attempt.item_id == item.id)
    )


def record_answer(
    session: Session,
    user: User,
    lesson: Lesson,
    item: QuizItem,
    chosen: list[int],
    token: str,
    seconds: float | None,
    answered_at: datetime | None = None,
) -> Attempt:
    """Grade and store one answer during a lesson; the same answer sent twice is stored once."""
    replay = find_by_token(session, user, token)
    if replay is not None:
        return replay
    run = start_run(session, user, lesson)
    earlier = answer_in_run(session, run, item)
    if earlier is not None:
        return earlier
    return store_attempt(
        session,
        user,
        item,
        chosen,
        token,
        seconds,
        run_id=run.id,
        earlier=lambda: answer_in_run(session, open_run(session, user, lesson), item),
        answered_at=answered_at,
    )


def roleplay_answer_in_run(
    session: Session, run: LessonRun | None, roleplay: RolePlay
) -> RolePlayAnswer | None:
    if run is None:
        return None
    return session.scalar(
        select(RolePlayAnswer).where(
            RolePlayAnswer.run_id == run.id, RolePlayAnswer.roleplay_id == roleplay.id
        )
    )


def finished_roleplay_answer(
    session: Session, user: User, roleplay: RolePlay
) -> RolePlayAnswer | None:
    """The answer to the role-play in the person's latest completed pass of its lesson."""
    return session.scalar(
        select(RolePlayAnswer)
        .join(LessonRun, LessonRun.id == RolePlayAnswer.run_id)
        .where(
            RolePlayAnswer.user_id == user.id,
            RolePlayAnswer.roleplay_id == roleplay.id,
            LessonRun.completed_at.is_not(None),
        )
        .order_by(LessonRun.completed_at.desc())
        .limit(1)
    )


def record_roleplay(
    session: Session,
    user: User,
    lesson: Lesson,
    roleplay: RolePlay,
    text: str,
    token: str,
    rubric: list[str] | None = None,
) -> RolePlayAnswer:
    """Keep what the learner would say, for their manager to coach; stored once per run, with
    the rubric as the learner read it (`rubric`, in their language; else the role-play's)."""
    replay = session.scalar(
        select(RolePlayAnswer).where(
            RolePlayAnswer.user_id == user.id, RolePlayAnswer.token == token
        )
    )
    if replay is not None:
        return replay
    run = start_run(session, user, lesson)
    earlier = roleplay_answer_in_run(session, run, roleplay)
    if earlier is not None:
        return earlier
    answer = RolePlayAnswer(
        user_id=user.id,
        roleplay_id=roleplay.id,
        run_id=run.id,
        text=text.strip(),
        rubric=list(rubric if rubric is not None else roleplay.rubric),
        token=token,
    )
    session.add(answer)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        found = roleplay_answer_in_run(session, open_run(session, user, lesson), roleplay)
        if found is None:
            raise
        return found
    return answer


def tick_rubric(session: Session, answer: RolePlayAnswer, ticked: list[int]) -> RolePlayAnswer:
    """Record which rubric points the learner says they covered; the first submission counts."""
    if answer.ticked is None:
        answer.ticked = [
            answer.rubric[i] for i in sorted(set(ticked)) if 0 <= i < len(answer.rubric)
        ]
        answer.ticked_at = utcnow()
        session.commit()
    return answer


def conversation_ended_in(
    session: Session, run: LessonRun, conversation: Conversation
) -> ConversationRun | None:
    """The latest run of the conversation that reached an ending in this pass of the lesson."""
    return session.scalar(
        select(ConversationRun)
        .where(
            ConversationRun.lesson_run_id == run.id,
            ConversationRun.conversation_id == conversation.id,
            ConversationRun.ending.is_not(None),
        )
        .order_by(ConversationRun.finished_at.desc(), ConversationRun.id.desc())
    )


def run_is_finished(session: Session, run: LessonRun) -> bool:
    """Every question answered, the conversation (if any) played to an ending, and every
    role-play's rubric ticked."""
    lesson = run.lesson
    items = lesson.quiz.live_items if lesson.quiz else []
    answered = set(session.scalars(select(Attempt.item_id).where(Attempt.run_id == run.id)))
    if any(item.id not in answered for item in items):
        return False
    conversation = lesson.live_conversation
    if conversation is not None and conversation_ended_in(session, run, conversation) is None:
        return False
    ticked = set(
        session.scalars(
            select(RolePlayAnswer.roleplay_id).where(
                RolePlayAnswer.run_id == run.id, RolePlayAnswer.ticked.is_not(None)
            )
        )
    )
    return all(rp.id in ticked for rp in lesson.live_roleplays)


def complete_run(session: Session, run: LessonRun) -> bool:
    """Mark the run complete with its score once every step is done. True if it is complete."""
    if run.completed_at is not None:
        return True
    if not run_is_finished(session, run):
        return False
    correct, total = session.execute(
        select(
            func.count().filter(Attempt.correct.is_(True)),
            func.count(),
        ).where(Attempt.run_id == run.id)
    ).one()
    run.correct, run.total = correct, total
    run.completed_at = utcnow()
    session.commit()
    return True
