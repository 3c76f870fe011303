"""The bodies of the scheduled notification jobs. Each takes a session and `now` (naive UTC),
returns how many messages it queued, and is safe to run as often as the scheduler likes, from
several processes at once: every message goes through `notify_once`.

Who is due is worked out with a few set-based queries; only the people who get a mail are then
handled one by one, each in their own transaction, so one person's error is logged and the
others are still told.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from trainer.content.names import skill_name
from trainer.languages import speaking
from trainer.learn.enrolment import Onboarding, onboarding
from trainer.messages import channels
from trainer.models import (
    Attempt,
    Lesson,
    LessonRun,
    Notification,
    QuizItem,
    Refresher,
    ReviewCard,
    Team,
    User,
    team_managers,
)
from trainer.notify.mails import (
    MemberWeek,
    OverdueItem,
    OverdueLesson,
    TeamWeek,
    digest_mail,
    overdue_mail,
    overdue_report_mail,
    reminder_mail,
)
from trainer.notify.once import notify_once, notify_once_for_all
from trainer.notify.tokens import reminder_token
from trainer.review.fsrs_cards import RecallModel
from trainer.review.planning import (
    end_of_local_day,
    item_skills,
    plan_for_user,
    zone_of,
)
from trainer.review.refresher import streak

logger = logging.getLogger(__name__)

REMINDER = "reminder"
OVERDUE = "overdue"
OVERDUE_REPORT = "overdue-report"
DIGEST = "digest"

DIGEST_FROM = time(8, 0)  # Monday, in the manager's own time zone
DIGEST_WINDOW_DAYS = 7
# How long a mail is worth sending once queued (see `queue_message`). A reminder is about
# today's refresher: after the learner's midnight it is wrong, and tomorrow brings its own. A
# digest is about the week just gone: two days late it is stale, and next week's will come.
# Overdue notices and reports never expire: each lesson is told once, so one dropped would
# never be told; late, it is still true while the lesson stays undone.
DIGEST_LIFETIME = timedelta(days=2)
WEAKEST_SHOWN = 3


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def local_now(user_timezone: str, now: datetime) -> datetime:
    """`now` (naive UTC) on the person's own clock."""
    return now.replace(tzinfo=UTC).astimezone(zone_of(user_timezone))


# -- daily refresher reminders ---------------------------------------------------------------


def send_reminders(session: Session, now: datetime) -> int:
    """Remind each active learner, once per day of their own, that their refresher is waiting.

    A learner is reminded when, on their own clock, it is their reminder time or later on a
    day that is not one of their days off, they have not turned reminders off or snoozed them
    past today, today's refresher is not done, and something is due (the refresher is planned
    here if it was not yet); on their own channel, so only if one reaches them. Never before
    the reminder time, never twice for one local day, even from two processes at once.
    """
    sent = 0
    for user_id, day in _reminder_candidates(session, now):
        try:
            sent += _remind(session, user_id, day, now)
        except Exception:
            session.rollback()
            logger.exception("Refresher reminder for user %s failed", user_id)
    return sent


def _reminder_candidates(session: Session, now: datetime) -> list[tuple[int, date]]:
    """(user id, local date) of learners past their reminder time and not yet reminded today,
    whose refresher is not done and who may have something due: a few queries for everyone."""
    rows = session.execute(
        select(
            User.id,
            User.timezone,
            User.reminder_time,
            User.reminders_snoozed_until,
            User.reminder_days_off,
        )
        .where(
            User.active.is_(True),
            User.role == "learner",
            User.reminders_off.is_(False),
            channels.reaches_someone(current_app.config),
        )
        .order_by(User.id)
    ).all()
    day_of: dict[int, date] = {}
    horizons: list[datetime] = []
    for user_id, tz, reminder_time, snoozed_until, days_off in rows:
        local = local_now(tz, now)
        day = local.date()
        if local.time() < reminder_time:
            continue
        if snoozed_until is not None and snoozed_until >= day:
            continue
        if str(day.isoweekday()) in (days_off or ""):
            continue
        day_of[user_id] = day
        horizons.append(end_of_local_day(tz, day))
    if not day_of:
        return []
    days = set(day_of.values())
    reminded = set(
        session.execute(
            select(Notification.user_id, Notification.key).where(
                Notification.kind == REMINDER,
                Notification.key.in_(sorted(d.isoformat() for d in days)),
            )
        ).all()
    )
    planned: dict[tuple[int, date], bool] = {
        (user_id, day): completed is not None
        for user_id, day, completed in session.execute(
            select(Refresher.user_id, Refresher.local_date, Refresher.completed_at).where(
                Refresher.kind == "daily", Refresher.local_date.in_(sorted(days))
            )
        )
    }
    # Anyone with a card due before the latest learner's midnight; plan_for_user decides
    # exactly, this only spares it the learners with nothing due at all.
    with_due_cards = set(
        session.scalars(
            select(ReviewCard.user_id).where(ReviewCard.due <= max(horizons)).distinct()
        )
    )
    return [
        (user_id, day)
        for user_id, day in day_of.items()
        if (user_id, day.isoformat()) not in reminded
        and not planned.get((user_id, day), False)
        and ((user_id, day) in planned or user_id in with_due_cards)
    ]


def _remind(session: Session, user_id: int, day: date, now: datetime) -> bool:
    user = session.get(User, user_id)
    if user is None:
        return False
    refresher = plan_for_user(session, user, now)
    if refresher is None or refresher.completed_at is not None or not refresher.item_ids:
        return False
    answered = session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.refresher_id == refresher.id)
    )
    questions = len(refresher.item_ids) - (answered or 0)
    if questions <= 0:
        return False
    # The same estimate as the Today page, so the mail and the page agree.
    minutes = max(1, round(questions * refresher.budget_seconds / len(refresher.item_ids) / 60))
    base = _public_url()
    with speaking(user):
        mail = reminder_mail(
            first_name=user.first_name,
            questions=questions,
            minutes=minutes,
            started=bool(answered),
            streak=streak(session, user, now),
            reminder_time=user.reminder_time,
            refresher_url=f"{base}/refresher",
            settings_url=f"{base}/reminders/{reminder_token(user)}",
        )
    return notify_once(
        session,
        user,
        REMINDER,
        day.isoformat(),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        short=mail.short,
        url=mail.url,
        expires_at=end_of_local_day(user.timezone, day),
        now=now,
    )


# -- onboarding progress, shared by the overdue job and the digest ---------------------------


@dataclass(frozen=True)
class _Step:
    path_key: str
    lesson_id: int
    lesson_key: str
    title: str
    due_days: int


@dataclass(frozen=True)
class _Learner:
    id: int
    name: str
    timezone: str
    start: date  # hire date, or the day the account was made
    job_role_id: int | None
    team_id: int | None


_LEARNER_COLUMNS = (
    User.id,
    User.name,
    User.timezone,
    User.hire_date,
    User.created_at,
    User.job_role_id,
    User.team_id,
)


def _learners(session: Session, *where: ColumnElement[bool]) -> list[_Learner]:
    rows = session.execute(
        select(*_LEARNER_COLUMNS)
        .where(User.active.is_(True), User.role == "learner", *where)
        .order_by(User.name, User.id)
    )
    return [
        _Learner(uid, name, tz, hire or created.date(), job_role_id, team_id)
        for uid, name, tz, hire, created, job_role_id, team_id in rows
    ]


def _plans(
    session: Session, *where: ColumnElement[bool]
) -> tuple[dict[int, Onboarding], dict[int, tuple[str, str]]]:
    """Each selected learner's path and assigned lessons with due dates (the rule the Today
    page and the team view use), and lesson id -> (key, title)."""
    ids = select(User.id).where(User.active.is_(True), User.role == "learner", *where)
    plans = onboarding(session, ids)
    lessons = {
        lesson_id: (key, title)
        for lesson_id, key, title in session.execute(select(Lesson.id, Lesson.key, Lesson.title))
    }
    return plans, lessons


def _completed_lessons(session: Session, *where: ColumnElement[bool]) -> set[tuple[int, int]]:
    """(user id, lesson id) of every lesson completed by the learners `where` selects."""
    rows = session.execute(
        select(LessonRun.user_id, LessonRun.lesson_id)
        .join(User, User.id == LessonRun.user_id)
        .where(
            LessonRun.completed_at.is_not(None),
            User.active.is_(True),
            User.role == "learner",
            *where,
        )
        .distinct()
    )
    return {(user_id, lesson_id) for user_id, lesson_id in rows}


def _overdue_steps(
    learner: _Learner,
    plan: Onboarding | None,
    completed: set[tuple[int, int]],
    today: date,
    lessons: dict[int, tuple[str, str]],
) -> list[tuple[_Step, date]]:
    """The learner's path and assigned lessons due before their today and not completed."""
    if plan is None:
        return []
    done = {lesson_id for lesson_id, _due in plan.path_lessons + plan.assigned
            if (learner.id, lesson_id) in completed}  # fmt: skip
    return [
        (_Step(where, lesson_id, *lessons[lesson_id], 0), due)
        for where, lesson_id, due in plan.overdue(done, today)
    ]


def _team_managers(session: Session) -> dict[int, list[int]]:
    rows = session.execute(
        select(team_managers.c.team_id, team_managers.c.user_id)
        .join(User, User.id == team_managers.c.user_id)
        .where(User.active.is_(True))
        .order_by(team_managers.c.user_id)
    )
    managers: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in rows:
        managers[team_id].append(user_id)
    return managers


# -- overdue onboarding lessons --------------------------------------------------------------


def flag_overdue(session: Session, now: datetime) -> int:
    """Tell learners about lessons past due and not completed — their path's (due dates as
    their Today page shows them) and lessons a manager assigned — once per lesson; and tell
    each manager of the learner's team once per learner and lesson.

    A person's new items go out in one mail per run, with one Notification row per item
    committed with it. Returns the number of mails queued.
    """
    learners = _learners(session)
    if not learners:
        return 0
    plans, lessons = _plans(session)
    completed = _completed_lessons(session)
    told = set(
        session.execute(
            select(Notification.user_id, Notification.key).where(Notification.kind == OVERDUE)
        ).all()
    )
    reported = set(
        session.execute(
            select(Notification.user_id, Notification.key).where(
                Notification.kind == OVERDUE_REPORT
            )
        ).all()
    )
    managers_of = _team_managers(session)

    for_learner: dict[int, list[tuple[_Step, date]]] = {}
    for_manager: dict[int, list[tuple[_Learner, _Step, date]]] = defaultdict(list)
    for learner in learners:
        today = local_now(learner.timezone, now).date()
        overdue = _overdue_steps(learner, plans.get(learner.id), completed, today, lessons)
        new = [(s, due) for s, due in overdue if (learner.id, _learner_key(s)) not in told]
        if new:
            for_learner[learner.id] = new
        for manager_id in managers_of.get(learner.team_id, []):
            if manager_id == learner.id:
                continue
            for step, due in overdue:
                if (manager_id, _report_key(learner, step)) not in reported:
                    for_manager[manager_id].append((learner, step, due))

    base = _public_url()
    sent = 0
    for learner_id, items in for_learner.items():
        try:
            sent += _tell_learner(session, learner_id, items, base, now)
        except Exception:
            session.rollback()
            logger.exception("Overdue notice for user %s failed", learner_id)
    for manager_id, items in for_manager.items():
        try:
            sent += _tell_manager(session, manager_id, items, base, now)
        except Exception:
            session.rollback()
            logger.exception("Overdue report for manager %s failed", manager_id)
    return sent


def _learner_key(step: _Step) -> str:
    return f"{step.path_key}/{step.lesson_key}"


def _report_key(learner: _Learner, step: _Step) -> str:
    return f"{learner.id}/{step.lesson_key}"


def _tell_learner(
    session: Session, learner_id: int, items: list[tuple[_Step, date]], base: str, now: datetime
) -> bool:
    user = session.get(User, learner_id)
    if user is None:
        return False
    with speaking(user):
        mail = overdue_mail(
            first_name=user.first_name,
            lessons=[
                OverdueLesson(step.title, due, f"{base}/lessons/{step.lesson_key}")
                for step, due in items
            ],
            today_url=f"{base}/",
        )
    return notify_once_for_all(
        session,
        user,
        OVERDUE,
        [_learner_key(step) for step, _due in items],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        short=mail.short,
        url=mail.url,
        now=now,
    )


def _tell_manager(
    session: Session,
    manager_id: int,
    items: list[tuple[_Learner, _Step, date]],
    base: str,
    now: datetime,
) -> bool:
    manager = session.get(User, manager_id)
    if manager is None:
        return False
    with speaking(manager):
        mail = overdue_report_mail(
            first_name=manager.first_name,
            items=[OverdueItem(learner.name, step.title, due) for learner, step, due in items],
            url=f"{base}/",
        )
    return notify_once_for_all(
        session,
        manager,
        OVERDUE_REPORT,
        [_report_key(learner, step) for learner, step, _due in items],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        short=mail.short,
        url=mail.url,
        now=now,
    )


# -- the managers' weekly digest -------------------------------------------------------------


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


DIGESTS_PER_TASK = 50  # managers whose digests one worker's task writes


def manager_digest(
    session: Session, now: datetime, manager_ids: list[int] | None = None
) -> int | str:
    """Once per ISO week, from Monday 08:00 on the manager's own clock, send each active
    manager (or admin) who manages a team a digest of every team they manage: each member's
    onboarding progress and overdue lessons, their daily refreshers done over the last 7 days,
    and the team's weakest skills. Returns the number of mails queued. Only `manager_ids`,
    when given; with a task queue (BROKER_URL) and none given, it writes none itself but hands
    the managers due a digest to the workers, DIGESTS_PER_TASK to a task."""
    from trainer.jobs import queue

    only = [User.id.in_(manager_ids)] if manager_ids is not None else []
    managers = session.execute(
        select(User.id, User.timezone).where(
            User.active.is_(True),
            User.role.in_(("manager", "admin")),
            User.managed_teams.any(),
            *only,
        )
    ).all()
    week_of: dict[int, str] = {}
    for manager_id, tz in managers:
        local = local_now(tz, now)
        if local.isoweekday() == 1 and local.time() < DIGEST_FROM:
            continue
        week_of[manager_id] = iso_week(local.date())
    if not week_of:
        return 0
    sent_before = set(
        session.execute(
            select(Notification.user_id, Notification.key).where(
                Notification.kind == DIGEST, Notification.key.in_(sorted(set(week_of.values())))
            )
        ).all()
    )
    week_of = {m: w for m, w in week_of.items() if (m, w) not in sent_before}
    if not week_of:
        return 0
    if manager_ids is None and queue.enabled(current_app.config):
        due = sorted(week_of)
        chunks = [due[i : i + DIGESTS_PER_TASK] for i in range(0, len(due), DIGESTS_PER_TASK)]
        for chunk in chunks:
            queue.enqueue("manager-digests", now=now.isoformat(), manager_ids=chunk)
        return f"Digests for {len(due)} managers handed out as {len(chunks)} tasks."
    teams_of: dict[int, list[int]] = defaultdict(list)
    for manager_id, team_id in session.execute(
        select(team_managers.c.user_id, team_managers.c.team_id).where(
            team_managers.c.user_id.in_(list(week_of))
        )
    ):
        teams_of[manager_id].append(team_id)
    weeks = _team_weeks(session, {t for ids in teams_of.values() for t in ids}, now)

    base = _public_url()
    sent = 0
    for manager_id, week in week_of.items():
        try:
            sent += _send_digest(session, manager_id, week, teams_of[manager_id], weeks, base, now)
        except Exception:
            session.rollback()
            logger.exception("Weekly digest for manager %s failed", manager_id)
    return sent


def _send_digest(
    session: Session,
    manager_id: int,
    week: str,
    team_ids: list[int],
    weeks: dict[int, TeamWeek],
    base: str,
    now: datetime,
) -> bool:
    manager = session.get(User, manager_id)
    if manager is None or not team_ids:
        return False
    teams = sorted((weeks[t] for t in team_ids if t in weeks), key=lambda team: team.name)
    with speaking(manager):
        # The weakest skills come by key; each is named in the manager's language.
        teams = [
            replace(team, weakest=[(skill_name(skill), pct) for skill, pct in team.weakest])
            for team in teams
        ]
        mail = digest_mail(first_name=manager.first_name, week=week, teams=teams, url=f"{base}/")
    return notify_once(
        session,
        manager,
        DIGEST,
        week,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        short=mail.short,
        url=mail.url,
        expires_at=now + DIGEST_LIFETIME,
        now=now,
    )


def _team_weeks(session: Session, team_ids: set[int], now: datetime) -> dict[int, TeamWeek]:
    """Each team's week, from one query per kind of data for all the teams together. Its
    weakest skills are keys here, named in each manager's language as their digest is written."""
    if not team_ids:
        return {}
    in_teams = User.team_id.in_(sorted(team_ids))
    names = dict(
        session.execute(select(Team.id, Team.name).where(Team.id.in_(sorted(team_ids)))).all()
    )
    members = _learners(session, in_teams)
    plans, lessons = _plans(session, in_teams)
    completed = _completed_lessons(session, in_teams)
    today = {m.id: local_now(m.timezone, now).date() for m in members}

    # The 7 days before today: on Monday morning that is last week, and today's refresher,
    # not yet due to be done, does not count against anyone.
    refreshers: dict[int, list[bool]] = defaultdict(list)
    if members:
        earliest = min(today.values()) - timedelta(days=DIGEST_WINDOW_DAYS)
        rows = session.execute(
            select(Refresher.user_id, Refresher.local_date, Refresher.completed_at)
            .join(User, User.id == Refresher.user_id)
            .where(
                in_teams,
                User.active.is_(True),
                Refresher.kind == "daily",
                Refresher.local_date >= earliest,
            )
        )
        for user_id, day, completed_at in rows:
            last = today.get(user_id)
            if last and last - timedelta(days=DIGEST_WINDOW_DAYS) <= day < last:
                refreshers[user_id].append(completed_at is not None)

    team_of = {m.id: m.team_id for m in members}
    skills = item_skills(session)
    model = RecallModel()
    recall: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    cards = session.execute(
        select(ReviewCard.user_id, ReviewCard.item_id, ReviewCard.stability, ReviewCard.last_review)
        .join(QuizItem, QuizItem.id == ReviewCard.item_id)
        .join(User, User.id == ReviewCard.user_id)
        .where(in_teams, User.active.is_(True), User.role == "learner", QuizItem.retired.is_(False))
    )
    for user_id, item_id, stability, last_review in cards:
        skill = skills.get(item_id, "general")
        recall[team_of[user_id]][skill].append(model.recall(stability, last_review, now))

    by_team: dict[int, list[MemberWeek]] = defaultdict(list)
    for m in members:
        plan = plans.get(m.id)
        path = plan.path_lessons if plan else []
        done = sum(1 for lesson_id, _due in path if (m.id, lesson_id) in completed)
        overdue = len(_overdue_steps(m, plan, completed, today[m.id], lessons))
        days = refreshers.get(m.id, [])
        by_team[m.team_id].append(
            MemberWeek(m.name, done, len(path), overdue, sum(days), len(days))
        )

    result = {}
    for team_id in team_ids:
        if team_id not in names:
            continue
        means = sorted(
            (sum(values) / len(values), skill) for skill, values in recall[team_id].items()
        )
        result[team_id] = TeamWeek(
            names[team_id],
            by_team.get(team_id, []),
            [(skill, round(mean * 100)) for mean, skill in means[:WEAKEST_SHOWN]],
        )
    return result


def digests_for(session: Session, now: str, manager_ids: list[int]) -> int:
    """A worker's digest task: `manager_digest` for these managers, as the run at `now` (ISO,
    naive UTC) saw them. A digest already queued for the week is not queued again."""
    return manager_digest(session, datetime.fromisoformat(now), manager_ids=manager_ids)
