"""Enrolment: who is on which onboarding path, and which lessons were assigned to whom.

New hires are enrolled on their job role's path when they are created (and when a sync adds a
path for a role that already has people). Managers and admins assign paths or lessons with a
due date. Content edits never break an enrolment: it points at the path and lesson rows, which
a sync updates in place and never deletes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.models import Enrolment, Lesson, Path, User, utcnow


def role_path(session: Session, user: User) -> Path | None:
    if user.job_role_id is None:
        return None
    return session.scalar(
        select(Path)
        .where(Path.job_role_id == user.job_role_id, Path.retired.is_(False))
        .order_by(Path.id)
    )


def enrol_by_role(session: Session, user: User) -> Enrolment | None:
    """Put the person on their job role's path, starting at their hire date. Not committed."""
    path = role_path(session, user)
    if path is None:
        return None
    existing = session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.path_id == path.id)
    )
    if existing is not None:
        return existing
    enrolment = Enrolment(
        user_id=user.id,
        path_id=path.id,
        start_date=user.hire_date or utcnow().date(),
        source="auto",
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def enrol_everyone_by_role(session: Session) -> int:
    """Enrol each active learner not yet on their role's path. Returns how many; committed."""
    enrolled = {tuple(row) for row in session.execute(select(Enrolment.user_id, Enrolment.path_id))}
    paths = {
        path.job_role_id: path
        for path in session.scalars(
            select(Path).where(Path.retired.is_(False)).order_by(Path.id.desc())
        )
    }
    count = 0
    for user in session.scalars(
        select(User).where(User.active.is_(True), User.job_role_id.is_not(None))
    ):
        path = paths.get(user.job_role_id)
        if path is not None and (user.id, path.id) not in enrolled:
            session.add(
                Enrolment(
                    user_id=user.id,
                    path_id=path.id,
                    start_date=user.hire_date or user.created_at.date(),
                    source="auto",
                )
            )
            count += 1
    session.commit()
    return count


def assign(
    session: Session,
    assigner: User,
    people: list[User],
    *,
    path: Path | None = None,
    lesson: Lesson | None = None,
    due_date: date | None = None,
) -> list[Enrolment]:
    """Assign a path or a lesson to each person, due on `due_date`. Assigning again updates
    the due date rather than adding a second enrolment. Committed."""
    if (path is None) == (lesson is None):
        raise ValueError("assign exactly one of a path or a lesson")
    result = []
    for person in people:
        column = Enrolment.path_id if path is not None else Enrolment.lesson_id
        target = path.id if path is not None else lesson.id
        enrolment = session.scalar(
            select(Enrolment).where(Enrolment.user_id == person.id, column == target)
        )
        if enrolment is None:
            enrolment = Enrolment(
                user_id=person.id,
                path_id=path.id if path is not None else None,
                lesson_id=lesson.id if lesson is not None else None,
                start_date=utcnow().date(),
                source="assigned",
            )
            session.add(enrolment)
        enrolment.due_date = due_date
        enrolment.assigned_by_id = assigner.id
        result.append(enrolment)
    session.commit()
    return result
