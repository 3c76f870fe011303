"""Enrolment: who is on which onboarding path, and which lessons were assigned to whom.

New hires are enrolled on their job role's path when they are created (and when a sync adds a
path for a role that already has people). Managers and admins assign paths or lessons with a
due date. Content edits never break an enrolment: it points at the path and lesson rows, which
a sync updates in place and never deletes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from trainer.models import Enrolment, Lesson, Path, PathStep, User, utcnow


def role_path(session: Session, user: User) -> Path | None:
    if user.job_role_id is None:
        return None
    return session.scalar(
        select(Path)
        .where(Path.job_role_id == user.job_role_id, Path.retired.is_(False))
        .order_by(Path.id)
        .limit(1)
        .options(joinedload(Path.steps).joinedload(PathStep.lesson))
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
    try:
        return _assign(session, assigner, people, path, lesson, due_date)
    except IntegrityError:
        # Someone assigned the same thing at the same moment: their rows exist now, so the
        # second pass updates them.
        session.rollback()
        return _assign(session, assigner, people, path, lesson, due_date)


def _assign(session, assigner, people, path, lesson, due_date) -> list[Enrolment]:
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


@dataclass
class Onboarding:
    """What one person has to learn and by when: their path's lessons and assigned lessons."""

    path_id: int | None = None
    path_key: str = ""
    path_lessons: list[tuple[int, date]] = field(default_factory=list)  # (lesson id, due)
    assigned: list[tuple[int, date | None]] = field(default_factory=list)

    def overdue(self, completed: set[int], today: date) -> list[tuple[str, int, date]]:
        """(where, lesson id, due) of every lesson past due and not completed; `where` is the
        path's key, or "assigned"."""
        result = [
            (self.path_key, lesson_id, due)
            for lesson_id, due in self.path_lessons
            if lesson_id not in completed and due < today
        ]
        seen = {lesson_id for _where, lesson_id, _due in result}
        result += [
            ("assigned", lesson_id, due)
            for lesson_id, due in self.assigned
            if lesson_id not in completed and lesson_id not in seen and due and due < today
        ]
        return result


def onboarding(
    session: Session,
    user_ids: Select | list[int],
    people: dict[int, tuple[int | None, date]] | None = None,
) -> dict[int, Onboarding]:
    """Each person's path and assigned lessons with due dates, by the rule Today uses
    (`learn.services.path_progress`): their enrolment's path counted from its start date (or
    all due on its own due date), else their job role's path counted from their hire date.
    Three statements whatever the number of people; two when the caller gives `people`
    (id -> (job role id, hire date, else the day they were created))."""
    if people is None:
        people = {
            user_id: (job_role_id, hire_date or created_at.date())
            for user_id, job_role_id, hire_date, created_at in session.execute(
                select(User.id, User.job_role_id, User.hire_date, User.created_at).where(
                    User.id.in_(user_ids)
                )
            )
        }
    result = {user_id: Onboarding() for user_id in people}
    # Path and lesson enrolments at once: "auto" (the role's path) first, as on Today.
    path_of: dict[int, tuple[int, date, date | None]] = {}
    for user_id, path_id, lesson_id, start, due in session.execute(
        select(
            Enrolment.user_id,
            Enrolment.path_id,
            Enrolment.lesson_id,
            Enrolment.start_date,
            Enrolment.due_date,
        )
        .outerjoin(Path, Path.id == Enrolment.path_id)
        .outerjoin(Lesson, Lesson.id == Enrolment.lesson_id)
        .where(
            Enrolment.user_id.in_(user_ids),
            or_(Path.retired.is_(False), Lesson.retired.is_(False)),
        )
        .order_by(Enrolment.source.desc(), Enrolment.id)
    ):
        if path_id is not None:
            path_of.setdefault(user_id, (path_id, start, due))
        elif user_id in result:
            result[user_id].assigned.append((lesson_id, due))

    paths = live_paths(session)
    role_paths: dict[int, int] = {}
    for path in sorted(paths.values(), key=lambda p: p.id):
        if path.job_role_id is not None:
            role_paths.setdefault(path.job_role_id, path.id)
    for user_id, (role_id, start) in people.items():
        if user_id not in path_of and role_id in role_paths:
            path_of[user_id] = (role_paths[role_id], start, None)

    for user_id, (path_id, start, fixed_due) in path_of.items():
        if user_id not in result:
            continue
        plan = result[user_id]
        path = paths.get(path_id)
        plan.path_id, plan.path_key = path_id, path.key if path else ""
        plan.path_lessons = [
            (lesson_id, fixed_due or start + timedelta(days=due_days))
            for lesson_id, due_days in (path.steps if path else [])
        ]
    return result


@dataclass
class LivePath:
    id: int
    key: str
    job_role_id: int | None
    steps: list[tuple[int, int]] = field(default_factory=list)  # (lesson id, due days)


def live_paths(session: Session) -> dict[int, LivePath]:
    """Every path that is not retired, with its live lessons in order, in one statement."""
    paths: dict[int, LivePath] = {}
    for path_id, key, role_id, lesson_id, due_days in session.execute(
        select(Path.id, Path.key, Path.job_role_id, Lesson.id, PathStep.due_days)
        .outerjoin(PathStep, PathStep.path_id == Path.id)
        .outerjoin(Lesson, and_(Lesson.id == PathStep.lesson_id, Lesson.retired.is_(False)))
        .where(Path.retired.is_(False))
        .order_by(Path.id, PathStep.position)
    ):
        path = paths.setdefault(path_id, LivePath(path_id, key, role_id))
        if lesson_id is not None:
            path.steps.append((lesson_id, due_days))
    return paths
