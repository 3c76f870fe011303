"""Demo accounts and a few weeks of believable history, for trying the product.

Safe to run again: people who already exist are left as they are.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainer.auth.device import add_device, devices_of, enrolment_link
from trainer.auth.device import revoke as revoke_device
from trainer.auth.passwords import hash_password
from trainer.learn import conversations
from trainer.learn import services as learn
from trainer.manage.observations import ensure_builtin_checklists
from trainer.models import JoinCode, Lesson, Path, Team, User, utcnow
from trainer.people.joining import codes_of, create_code, join_url
from trainer.people.services import create_user

DEMO_PASSWORD = "demo"
DEMO_EMPLOYEE_NUMBER = "1001"
DEMO_PIN = "246810"
DEMO_TABLET = "Counter tablet"
FIRST_TEAM = "Riverside Bank, Millbrook branch"
SECOND_TEAM = "The Copper Pot, city centre"


@dataclass(frozen=True)
class DemoPerson:
    email: str | None
    name: str
    role: str
    job_role: str | None
    team: str | None
    timezone: str
    hired_days_ago: int
    lessons_done: int  # how far along their path, for history
    accuracy: float  # share of quiz answers right
    employee_number: str | None = None
    phone: str | None = None
    pin: str | None = None
    language: str | None = None  # None: DEFAULT_LANGUAGE


SPANISH_LEARNER = "valeria.ortiz@example.com"

PEOPLE = [
    DemoPerson("admin@example.com", "Alex Morgan", "admin", None, None, "Europe/London", 400, 0, 0),
    DemoPerson("manager@example.com", "Maria Lopez", "manager", "teller", FIRST_TEAM,
               "Europe/London", 300, 0, 0),
    DemoPerson("floor.manager@example.com", "Tom Becker", "manager", "wait-staff", SECOND_TEAM,
               "Europe/London", 500, 0, 0),
    DemoPerson("learner@example.com", "Sam Taylor", "learner", "teller", FIRST_TEAM,
               "Europe/London", 3, 2, 0.8),
    DemoPerson("ana.souza@example.com", "Ana Souza", "learner", "teller", FIRST_TEAM,
               "Europe/London", 35, 6, 0.9),
    # Reads her lessons in Spanish: the teller path is translated in full.
    DemoPerson(SPANISH_LEARNER, "Valeria Ortiz", "learner", "teller", FIRST_TEAM,
               "Europe/London", 4, 2, 0.8, language="es"),
    DemoPerson("ben.okafor@example.com", "Ben Okafor", "learner", "contact-centre", FIRST_TEAM,
               "America/Los_Angeles", 20, 3, 0.6),
    DemoPerson("chloe.martin@example.com", "Chloe Martin", "learner", "teller", FIRST_TEAM,
               "Europe/London", 60, 1, 0.5),
    DemoPerson("diego.ramos@example.com", "Diego Ramos", "learner", "wait-staff", SECOND_TEAM,
               "Europe/London", 14, 4, 0.75),
    DemoPerson("emma.li@example.com", "Emma Li", "learner", "wait-staff", SECOND_TEAM,
               "Australia/Sydney", 28, 7, 0.85),
    DemoPerson("farah.haddad@example.com", "Farah Haddad", "learner", "wait-staff", SECOND_TEAM,
               "Europe/London", 3, 0, 0.7),
    # No company email: signs in on the restaurant's tablet with employee number and PIN.
    DemoPerson(None, "Kai Nowak", "learner", "wait-staff", SECOND_TEAM, "Europe/London", 5, 1,
               0.7, employee_number=DEMO_EMPLOYEE_NUMBER, phone="+447911123456", pin=DEMO_PIN),
    # New this week, never signed in, no email or phone: the Cards page has them to print for.
    DemoPerson(None, "Lena Fischer", "learner", "wait-staff", SECOND_TEAM, "Europe/London", 1, 0,
               0, employee_number="1002"),
    DemoPerson(None, "Omar Haddou", "learner", "wait-staff", SECOND_TEAM, "Europe/London", 1, 0,
               0, employee_number="1003"),
]  # fmt: skip

ROLEPLAY_ANSWERS = [
    "Good morning, I'm sorry you had to wait. I'm {first} and I'll sort this out for you now.",
    "Thanks for your patience. Let me check that for you straight away and tell you what I find.",
    "I can see why that's frustrating. Here's what I'll do next, and I'll call you back by four.",
]

# What the Spanish-speaking learner wrote, in her own words.
ROLEPLAY_ANSWERS_ES = [
    "Buenos días, perdone la espera. Soy {first} y se lo soluciono ahora mismo.",
    "Gracias por esperar. Lo miro ahora mismo y le digo exactamente lo que encuentre.",
    "Entiendo que le moleste. Esto es lo que voy a hacer, y le llamo antes de las cuatro.",
]


def load_demo(session: Session) -> str:
    """Create the demo people with some lesson history; returns a one-line summary."""
    ensure_builtin_checklists(session)
    if session.scalar(select(Lesson.id).limit(1)) is None:
        from flask import current_app

        from trainer.content.library import load_library
        from trainer.content.sync import sync_library

        sync_library(session, load_library(current_app.config["CONTENT_DIR"]))

    created = 0
    for person in PEOPLE:
        if _exists(session, person):
            continue
        user = create_user(
            session,
            email=person.email,
            employee_number=person.employee_number,
            phone=person.phone,
            pin=person.pin,
            name=person.name,
            password=None,
            role=person.role,
            job_role=person.job_role,
            team=person.team,
            timezone=person.timezone,
            hire_date=date.today() - timedelta(days=person.hired_days_ago),
        )
        user.language = person.language
        if person.email:
            user.password_hash = hash_password(DEMO_PASSWORD)
        elif person.phone:
            user.reminder_channel = "sms"  # no email: reminders come by text message
        if person.role == "manager" and user.team is not None:
            user.managed_teams.append(user.team)
            user.team = None
        session.commit()
        _history(session, user, person)
        created += 1
    if created:
        _manager_activity(session)
    session.commit()
    total = session.scalar(select(func.count()).select_from(User))
    code = _join_code(session)
    return (
        f"Demo data: {created} people created, {total} accounts in all. "
        f"Sign in as learner@example.com, manager@example.com or admin@example.com "
        f"with password '{DEMO_PASSWORD}'; {SPANISH_LEARNER} (same password) reads her lessons "
        "in Spanish.\n"
        f"Join code for {SECOND_TEAM}: {code.display} ({code.max_uses - code.uses} places left), "
        f"join URL {join_url(code)}\n"
        f"{_tablet(session)}\n"
        "Kai's reminders come by text message (with SMS_URL=outbox, as `make run` sets it, they "
        "wait in Admin → Outbox): `flask --app trainer jobs run send-reminders`, then "
        "`flask --app trainer jobs run deliver-mail`, after 18:00 London time."
    )


def _tablet(session: Session) -> str:
    """The restaurant's tablet: enrolled already, or a fresh link to enrol a browser as it
    (only a link's hash is kept, so an unused one cannot be shown again: it is replaced)."""
    team = session.scalar(select(Team).where(Team.name == SECOND_TEAM))
    now = utcnow()
    mine = [d for d in devices_of(session, [team.id]) if d.label == DEMO_TABLET]
    if any(d.status(now) == "enrolled" for d in mine):
        return (
            f"Tablet '{DEMO_TABLET}' is enrolled: sign in there at /device as employee "
            f"{DEMO_EMPLOYEE_NUMBER} with PIN {DEMO_PIN}."
        )
    for stale in mine:
        if stale.status(now) == "waiting":
            revoke_device(session, stale)
    _device, link = add_device(session, team, DEMO_TABLET, created_by=None)
    return (
        f"Tablet '{DEMO_TABLET}': open {enrolment_link(link)} in the browser that plays the "
        f"restaurant's tablet (within 48 hours), then sign in at /device as employee "
        f"{DEMO_EMPLOYEE_NUMBER} with PIN {DEMO_PIN}."
    )


def _exists(session: Session, person: DemoPerson) -> bool:
    if person.email:
        found = select(User.id).where(User.email == person.email)
    else:
        found = select(User.id).where(User.employee_number == person.employee_number)
    return session.scalar(found) is not None


def _join_code(session: Session) -> JoinCode:
    """A code new people can join the restaurant with: the one that works, or a new one."""
    team = session.scalar(select(Team).where(Team.name == SECOND_TEAM))
    now = utcnow()
    for code in codes_of(session, [team.id]):
        if code.usable(now):
            return code
    return create_code(session, team, by=None, days=30, uses=50)


# What the demo manager saw on the floor last week: (person, checklist, points seen, grade, note).
OBSERVATIONS = [
    ("ana.souza@example.com", "phone-greeting", [0, 1, 2, 3], "A",
     "Warm and quick on a busy Monday; the caller relaxed straight away."),
    ("chloe.martin@example.com", "counter-or-table-greeting", [1], "D",
     "Kept counting notes while Mr Reid waited at the window. Look up first."),
    ("ben.okafor@example.com", "collections-call", [0, 2], "C",
     "Checked identity well, but named the amount before the customer was ready."),
]  # fmt: skip


def _manager_activity(session: Session) -> None:
    """Observations by the demo manager and one coaching note, so their pages have a story."""
    from trainer.manage.coaching import comment_on
    from trainer.manage.observations import record_observation
    from trainer.models import ObservationChecklist, RolePlayAnswer

    manager = session.scalar(select(User).where(User.email == "manager@example.com"))
    if manager is None:
        return
    for number, (email, key, seen, grade, note) in enumerate(OBSERVATIONS):
        person = session.scalar(select(User).where(User.email == email))
        checklist = session.scalar(
            select(ObservationChecklist).where(ObservationChecklist.key == key)
        )
        if person is None or checklist is None:
            continue
        observation = record_observation(
            session, manager, person, checklist, seen, grade, note,
            "phone" if "call" in key or "phone" in key else "floor",
            _token(person, "observation", key),
        )  # fmt: skip
        observation.observed_at = utcnow() - timedelta(days=2 + number)
    ana = session.scalar(select(User).where(User.email == "ana.souza@example.com"))
    answer = session.scalar(
        select(RolePlayAnswer).where(RolePlayAnswer.user_id == ana.id).order_by(RolePlayAnswer.id)
    ) if ana else None  # fmt: skip
    if answer is not None and answer.coach_comment is None:
        comment_on(
            session,
            manager,
            answer.id,
            "Good, calm opening. Next time use the customer's name once you have it.",
        )
    session.commit()


def _history(session: Session, user: User, person: DemoPerson) -> None:
    """Complete the first lessons of the person's path, spread over the days since hire."""
    if not person.lessons_done or user.job_role_id is None:
        return
    path = session.scalar(select(Path).where(Path.job_role_id == user.job_role_id))
    if path is None:
        return
    rng = random.Random(person.email or person.employee_number)
    steps = path.steps[: person.lessons_done + 1]  # the last one is left half done
    for number, step in enumerate(steps):
        lesson = step.lesson
        days_ago = max(0, person.hired_days_ago - 1 - number * 2)
        finish = number < person.lessons_done
        _take_lesson(session, user, lesson, rng, person.accuracy, days_ago, finish)


def _token(user: User, *parts: str) -> str:
    """A stable form token, so the demo's answers are as idempotent as a learner's."""
    return hashlib.sha256("/".join((user.handle, *parts)).encode()).hexdigest()[:32]


def _play_conversation(session, user, lesson, rng, accuracy, when) -> None:
    """Play the lesson's conversation to an ending: the best line as often as the person gets
    questions right, a weaker one otherwise."""
    talk = lesson.live_conversation
    if talk is None:
        return
    run = None
    while run is None or run.ending is None:
        here = conversations.position(session, user, talk)
        lines = here.node["choices"]
        best = max(line["score"] for line in lines)
        weaker = [i for i, line in enumerate(lines) if line["score"] < best]
        picks = weaker if weaker and rng.random() >= accuracy else None
        choice = rng.choice(picks) if picks else [line["score"] for line in lines].index(best)
        run = conversations.choose(
            session,
            user,
            lesson,
            talk,
            run_id=here.run.id if here.run else None,
            step=here.step,
            choice=choice,
            token=_token(user, lesson.key, f"talk{here.step}"),
            seconds=rng.uniform(6, 20),
            answered_at=when + timedelta(seconds=30 * here.step),
        )


def _take_lesson(session, user, lesson, rng, accuracy, days_ago, finish) -> None:
    when = utcnow().replace(hour=9, minute=30) - timedelta(days=days_ago)
    items = lesson.quiz.live_items if lesson.quiz else []
    if not finish:
        items = items[:1]
    for n, item in enumerate(items):
        right = [i for i, c in enumerate(item.choices) if item.is_right(c)]
        wrong = [i for i, c in enumerate(item.choices) if not item.is_right(c)]
        chosen = right if (rng.random() < accuracy or not wrong) else [rng.choice(wrong)]
        if item.type != "multiple":
            chosen = chosen[:1]
        learn.record_answer(
            session,
            user,
            lesson,
            item,
            chosen,
            _token(user, lesson.key, item.key),
            rng.uniform(6, 25),
            answered_at=when + timedelta(seconds=40 * (n + 1)),
        )
    if not finish:
        session.commit()
        return
    run = learn.open_run(session, user, lesson)
    _play_conversation(session, user, lesson, rng, accuracy, when + timedelta(minutes=2))
    for n, rp in enumerate(lesson.live_roleplays):
        words = (rp.translations or {}).get(user.language or "")
        answers = ROLEPLAY_ANSWERS_ES if words and user.language == "es" else ROLEPLAY_ANSWERS
        text = answers[rng.randrange(len(answers))].format(first=user.first_name)
        token = _token(user, lesson.key, f"rp{n}")
        rubric = words["rubric"] if words else None
        answer = learn.record_roleplay(session, user, lesson, rp, text, token, rubric=rubric)
        answer.created_at = when + timedelta(minutes=3)
        learn.tick_rubric(session, answer, [i for i in range(len(rp.rubric)) if rng.random() < 0.7])
    run.started_at = when
    learn.complete_run(session, run)
    run.completed_at = when + timedelta(minutes=lesson.minutes)
    session.commit()
