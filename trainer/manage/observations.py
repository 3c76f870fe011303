"""Observations: what a manager saw on the floor or heard on a call, against a checklist.

The built-in checklists live here as data and are loaded by `ensure_builtin_checklists`
(run by `content sync` and the demo loader). Admins can add their own with `create_checklist`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import format_number
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trainer.languages import gettext as _
from trainer.manage.scope import visible_team_ids
from trainer.models import GRADES, JobRole, Lesson, Observation, ObservationChecklist, User
from trainer.models.base import insert_skipping_duplicates

CHANNELS = ("floor", "phone")
MAX_NOTE = 2000
MIN_POINTS, MAX_POINTS = 2, 10
MAX_POINT = 200
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class BuiltinChecklist:
    key: str
    title: str
    skill: str
    channel: str  # where this moment is usually seen; the form's default
    points: tuple[str, ...]
    roles: tuple[str, ...] = ()  # the job roles it is for; none: every role


BUILTIN_CHECKLISTS = (
    BuiltinChecklist(
        "phone-greeting",
        "Answering the phone",
        "phone-greeting",
        "phone",
        (
            "Answered within three rings",
            "Said the company and their own name",
            "Offered help in the greeting",
            "Sounded warm and unhurried",
            "Asked for the caller's name and used it",
            "Asked before putting the caller on hold, and thanked them after",
        ),
    ),  # every role: tellers, wait staff taking bookings and contact-centre reps all answer
    BuiltinChecklist(
        "counter-or-table-greeting",
        "Greeting at the counter or table",
        "first-impression",
        "floor",
        (
            "Greeted within 5 seconds of the customer arriving",
            "Made eye contact and smiled",
            "Let a waiting customer know they had been seen, even while busy",
            "Gave their own name",
            "Said what happens next or how long the wait will be",
            "Gave the customer their full attention once serving",
        ),
        ("teller", "wait-staff"),
    ),
    BuiltinChecklist(
        "collections-call",
        "A collections call",
        "collections-call",
        "phone",
        (
            "Checked they were speaking to the right person before mentioning the debt",
            "Said why they were calling, plainly and without blame",
            "Let the customer explain their situation without interrupting",
            "Offered a payment plan and checked the customer could afford it",
            "Agreed the next step with an amount and a date",
            "Stayed calm and respectful throughout",
            "Summed up what was agreed before ending the call",
        ),
        ("contact-centre", "teller"),
    ),
    BuiltinChecklist(
        "service-recovery",
        "Putting a problem right",
        "service-recovery",
        "floor",
        (
            "Heard the whole complaint without interrupting or making excuses",
            "Apologised and took ownership, without blaming a colleague",
            "Fixed it, or said exactly what will happen and by when",
            "Offered a small gesture to make up for the trouble, where it fitted",
            "Thanked the customer for telling them",
            "Checked back that the customer was happy with the outcome",
        ),
    ),
)
_DEFAULT_CHANNEL = {c.key: c.channel for c in BUILTIN_CHECKLISTS}
# The roles of the built-in checklists that are not for everyone (migration 0017 has a copy).
BUILTIN_ROLES = {c.key: list(c.roles) for c in BUILTIN_CHECKLISTS if c.roles}


class ChecklistError(ValueError):
    """A checklist field is wrong; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ObservationError(ValueError):
    """An observation field is wrong; `field` names it; `message` is a sentence for the
    person who filled the form, in their language."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OutOfScope(LookupError):
    """The observer may not see this person: answered as 404, nothing is saved."""


def default_channel(checklist: ObservationChecklist) -> str:
    """Where this checklist's moment usually happens: the form's first choice."""
    return _DEFAULT_CHANNEL.get(checklist.key, "floor")


def active_checklists(session: Session) -> list[ObservationChecklist]:
    """The checklists a manager can observe with now, by title."""
    return list(
        session.scalars(
            select(ObservationChecklist)
            .where(ObservationChecklist.active.is_(True))
            .order_by(ObservationChecklist.title, ObservationChecklist.id)
        )
    )


def known_skills(session: Session) -> list[str]:
    """The skills a checklist can count towards: those the live lessons train, and those of
    the checklists in use. What the admin's skill picker offers."""
    lessons = select(Lesson.skill).where(Lesson.retired.is_(False))
    checklists = select(ObservationChecklist.skill).where(ObservationChecklist.active.is_(True))
    return sorted(set(session.scalars(lessons)) | set(session.scalars(checklists)))


def fits(checklist: ObservationChecklist, person: User) -> bool:
    """The checklist is for the person's job role (or for every role), or the person has
    no job role yet."""
    role = person.job_role.key if person.job_role is not None else None
    return role is None or not checklist.roles or role in checklist.roles


def checklists_for(
    person: User, checklists: list[ObservationChecklist]
) -> list[ObservationChecklist]:
    """The checklists that fit the person's job role, in the order given."""
    return [checklist for checklist in checklists if fits(checklist, person)]


def ensure_builtin_checklists(session: Session) -> int:
    """Add the built-in checklists that are missing, by key. A checklist already there is left
    exactly as it is, edited or not. Safe to run twice, and from two processes at once.
    Committed; returns how many were added."""
    keys = [c.key for c in BUILTIN_CHECKLISTS]
    present = set(
        session.scalars(select(ObservationChecklist.key).where(ObservationChecklist.key.in_(keys)))
    )
    missing = [c for c in BUILTIN_CHECKLISTS if c.key not in present]
    if not missing:
        return 0
    # Core, for the row count of each insert.
    stmt = insert_skipping_duplicates(session, ObservationChecklist.__table__)
    added = 0
    for checklist in missing:
        result = session.execute(
            stmt,
            {
                "key": checklist.key,
                "title": checklist.title,
                "skill": checklist.skill,
                "points": list(checklist.points),
                "roles": list(checklist.roles),
                "builtin": True,
                "active": True,
            },
        )
        added += max(result.rowcount, 0)
    session.commit()
    return added


def create_checklist(
    session: Session,
    key: str,
    title: str,
    skill: str,
    points: list[str],
    roles: list[str] | None = None,
) -> ObservationChecklist:
    """Validate and add an admin's own checklist. Committed. Raises `ChecklistError` naming the
    bad field: key (a unique slug like "drive-through-greeting"), title, skill (a slug),
    points (2 to 10 different, non-empty lines), roles (job role keys; none: every role)."""
    key, title, skill = key.strip().lower(), title.strip(), skill.strip().lower()
    if not SLUG.match(key) or len(key) > 120:
        raise ChecklistError(
            "key", _("use lower-case letters, digits and dashes, like bar-welcome")
        )
    taken = select(ObservationChecklist.id).where(ObservationChecklist.key == key)
    if session.scalar(taken) is not None:
        raise ChecklistError("key", _("a checklist “%(key)s” already exists", key=key))
    if not title or len(title) > 200:
        raise ChecklistError("title", _("a title of up to 200 characters is needed"))
    if not SLUG.match(skill) or len(skill) > 64:
        raise ChecklistError("skill", _("use a skill name like phone-greeting"))
    cleaned = [" ".join(p.split()) for p in points if p and p.strip()]
    if not MIN_POINTS <= len(cleaned) <= MAX_POINTS:
        raise ChecklistError(
            "points",
            _("give %(least)d to %(most)d points to look for", least=MIN_POINTS, most=MAX_POINTS),
        )
    if any(len(p) > MAX_POINT for p in cleaned):
        raise ChecklistError(
            "points", _("keep each point under %(count)d characters", count=MAX_POINT)
        )
    if len({p.casefold() for p in cleaned}) != len(cleaned):
        raise ChecklistError("points", _("each point must be different"))
    roles = sorted(set(roles or []))
    if roles:
        known = set(session.scalars(select(JobRole.key).where(JobRole.key.in_(roles))))
        if known != set(roles):
            raise ChecklistError("roles", _("choose job roles from the list"))
    checklist = ObservationChecklist(
        key=key, title=title, skill=skill, points=cleaned, roles=roles, builtin=False, active=True
    )
    session.add(checklist)
    try:
        session.commit()
    except IntegrityError:  # the same key added at the same moment
        session.rollback()
        raise ChecklistError("key", _("a checklist “%(key)s” already exists", key=key)) from None
    return checklist


def in_scope(session: Session, observer: User, person: User) -> bool:
    """The scope rule of `scope.person_in_scope`, as a yes or no for services."""
    if observer.role == "admin":
        return True
    if observer.role != "manager" or person.team_id is None:
        return False
    return person.team_id in visible_team_ids(session, observer)


def _by_token(session: Session, token: str) -> Observation | None:
    return session.scalar(select(Observation).where(Observation.token == token))


def record_observation(
    session: Session,
    observer: User,
    person: User,
    checklist: ObservationChecklist,
    seen: list[int],
    grade: str,
    note: str,
    channel: str,
    token: str,
) -> Observation:
    """Record what the observer saw: `seen` are indexes into the checklist's points, kept as
    text with the points as they are now. The same form sent twice (same token) is recorded
    once. Raises `OutOfScope` when the person is not the observer's to see, `ObservationError`
    naming a bad field. Committed."""
    if not in_scope(session, observer, person):
        raise OutOfScope(person.id)
    if not token or len(token) > 64:
        raise ObservationError("token", _("This form is incomplete; reload the page."))
    replay = _by_token(session, token)
    if replay is not None:
        if replay.observer_id != observer.id or replay.user_id != person.id:
            raise ObservationError("token", _("This form is incomplete; reload the page."))
        return replay
    if not person.active:
        raise ObservationError(
            "person", _("%(name)s no longer has an active account.", name=person.name)
        )
    if not checklist.active:
        raise ObservationError("checklist", _("That checklist is no longer in use."))
    points = list(checklist.points)
    if any(not isinstance(i, int) or not 0 <= i < len(points) for i in seen):
        raise ObservationError("seen", _("Tick only points from this checklist."))
    grade = (grade or "").strip().upper()
    if grade not in GRADES:
        raise ObservationError(
            "grade",
            _("Choose a grade from %(best)s to %(worst)s.", best=GRADES[0], worst=GRADES[-1]),
        )
    if channel not in CHANNELS:
        raise ObservationError("channel", _("Choose on the floor or on the phone."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ObservationError(
            "note", _("Keep the note under %(count)s characters.", count=format_number(MAX_NOTE))
        )
    observation = Observation(
        user_id=person.id,
        observer_id=observer.id,
        checklist_id=checklist.id,
        points=points,
        seen=[points[i] for i in sorted(set(seen))],
        grade=grade,
        note=note,
        channel=channel,
        token=token,
    )
    session.add(observation)
    try:
        session.commit()
    except IntegrityError:  # the same form sent twice at once: the first one counts
        session.rollback()
        found = _by_token(session, token)
        if found is None:
            raise
        return found
    return observation
