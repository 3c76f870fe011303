"""The end of a lesson: where the learner now stands on their path, and what comes next."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainer.learn.services import assigned_lessons, path_progress
from trainer.models import Attempt, Lesson, LessonRun, QuizItem, User


@dataclass(frozen=True)
class LessonEnd:
    done_before: int | None  # path lessons done before this one was finished; None: not on it
    done_now: int | None
    path_lessons: int
    next_lesson: Lesson | None  # the next lesson to take: the path's, else an assigned one
    missed: int  # questions of the finished pass answered wrong


def lesson_end(session: Session, user: User, lesson: Lesson, run: LessonRun) -> LessonEnd:
    progress = path_progress(session, user)
    done_before = done_now = None
    total = 0
    next_lesson = None
    if progress is not None:
        total = len(progress.lessons)
        if any(pl.lesson.id == lesson.id for pl in progress.lessons):
            done_now = progress.done
            # This pass moved the learner on only if it is their first finish of the lesson.
            finishes = session.scalar(
                select(func.count())
                .select_from(LessonRun)
                .where(
                    LessonRun.user_id == user.id,
                    LessonRun.lesson_id == lesson.id,
                    LessonRun.completed_at.is_not(None),
                )
            )
            done_before = done_now - 1 if finishes == 1 else done_now
        if progress.next is not None:
            next_lesson = progress.next.lesson
    if next_lesson is None:
        waiting = [al for al in assigned_lessons(session, user) if not al.completed]
        next_lesson = waiting[0].lesson if waiting else None
    return LessonEnd(done_before, done_now, total, next_lesson, missed_count(session, run))


def missed_count(session: Session, run: LessonRun) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.run_id == run.id, Attempt.correct.is_(False))
    )


def missed_answers(session: Session, run: LessonRun) -> list[tuple[QuizItem, Attempt]]:
    """The questions of a pass answered wrong (or partly), in the quiz's order."""
    rows = session.execute(
        select(QuizItem, Attempt)
        .join(Attempt, Attempt.item_id == QuizItem.id)
        .where(Attempt.run_id == run.id, Attempt.correct.is_(False))
        .order_by(QuizItem.position, QuizItem.id)
    )
    return [(item, attempt) for item, attempt in rows]
