"""The manager's team and person views, and assigning work to their people.

The team view is set-based: it asks a fixed number of queries whatever the team size, each
grouped by person over the ids of everyone in scope, and works the figures out in Python.
Every function takes the viewer and goes through `trainer.manage.scope`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    Select,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, selectinload

from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.learn.conversations import OUTCOMES, Turn, turns
from trainer.learn.enrolment import assign, onboarding
from trainer.manage.formatting import day_text
from trainer.manage.paging import ListPage, paginate_list
from trainer.manage.scope import people_query, person_in_scope, team_in_scope
from trainer.models import (
    Attempt,
    ConversationRun,
    Enrolment,
    Lesson,
    LessonRun,
    Notification,
    Observation,
    Path,
    Refresher,
    RolePlayAnswer,
    Team,
    User,
    utcnow,
)
from trainer.notify.nudges import KIND as NUDGE
from trainer.notify.nudges import nudge_key
from trainer.review.planning import local_date, zone_of
from trainer.review.refresher import streak_from_days
from trainer.web import page_number, parse_id

PER_PAGE = 50  # a whole floor's team on one page
REFRESHER_DAYS = 30
ATTENTION_SHOWN = 8  # "Needs attention" names the most urgent; the Behind filter lists them all
WEEK_DAYS = 7  # "refreshers done this week": the last seven days of each person's calendar
STREAK_DAYS = 400  # as far back as trainer.review.refresher.streak looks
CHART_WEEKS = 12
# "Behind": an overdue lesson, or fewer than this share of planned refreshers done.
BEHIND_REFRESHER_PERCENT = 50

STATUSES = {"all": _l("Everyone"), "overdue": _l("Overdue lessons"), "behind": _l("Behind")}
# (sort key, column label): the table's columns, in order; the CSV uses the same labels.
COLUMNS = (
    ("name", _l("Name")),
    ("team", _l("Team")),
    ("progress", _l("Path progress")),
    ("overdue", _l("Overdue lessons")),
    ("activity", _l("Last activity")),
    ("streak", _l("Streak (days)")),
    ("refreshers", _l("Refreshers, last 30 days")),
)
SORTS = tuple(key for key, _label in COLUMNS)
# How a conversation ended, as the manager reads it (the learner's side words its own).
ENDINGS = {
    "good": _l("A good ending"),
    "mixed": _l("A mixed ending"),
    "poor": _l("A poor ending"),
}


class AssignError(ValueError):
    """A field of an assignment is wrong; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- filters, sorting, pages ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamFilters:
    """What the manager asked to see. Unknown values fall back to the defaults."""

    team_id: int | None = None
    status: str = "all"
    q: str = ""
    sort: str = "name"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> TeamFilters:
        team = args.get("team", "")
        status = args.get("status", "all")
        sort = args.get("sort", "name")
        direction = args.get("dir", "asc")
        page = args.get("page", "1")
        return cls(
            team_id=parse_id(team),
            status=status if status in STATUSES else "all",
            q=args.get("q", "").strip()[:120],
            sort=sort if sort in SORTS else "name",
            direction=direction if direction in ("asc", "desc") else "asc",
            page=page_number(page),
        )

    def args(self, **changes) -> dict:
        """Query-string arguments for a link: the current filters with `changes`, defaults
        left out so URLs stay short."""
        merged = replace(self, **changes)
        result = {
            "team": merged.team_id,
            "status": merged.status if merged.status != "all" else None,
            "q": merged.q or None,
            "sort": merged.sort if merged.sort != "name" else None,
            "dir": merged.direction if merged.direction != "asc" else None,
            "page": merged.page if merged.page != 1 else None,
        }
        return {key: value for key, value in result.items() if value is not None}

    def sort_args(self, key: str) -> dict:
        """Link arguments to sort by `key`: ascending first, flipping when already sorted."""
        flip = "desc" if self.sort == key and self.direction == "asc" else "asc"
        return self.args(sort=key, direction=flip, page=1)


# -- the team view ----------------------------------------------------------------------------


@dataclass
class TeamRow:
    """One person's line in the team view. Dates are in the person's own calendar."""

    user_id: int
    name: str
    team: str
    done: int
    total: int
    overdue: int
    last_activity: date | None
    streak: int
    refreshers_done: int
    refreshers_planned: int
    refreshers_week: int = 0  # daily refreshers finished in the last seven days

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def refresher_percent(self) -> int | None:
        if not self.refreshers_planned:
            return None
        return round(100 * self.refreshers_done / self.refreshers_planned)

    @property
    def behind(self) -> bool:
        share = self.refresher_percent
        return self.overdue > 0 or (share is not None and share < BEHIND_REFRESHER_PERCENT)

    def reasons(self) -> list[str]:
        """Why the person needs attention, in a few words each; empty when they do not."""
        found = []
        if self.overdue:
            found.append(
                ngettext("%(num)d lesson overdue", "%(num)d lessons overdue", self.overdue)
            )
        share = self.refresher_percent
        if share is not None and share < BEHIND_REFRESHER_PERCENT:
            found.append(
                ngettext(
                    "%(done)d of %(num)d refresher done in 30 days",
                    "%(done)d of %(num)d refreshers done in 30 days",
                    self.refreshers_planned,
                    done=self.refreshers_done,
                )
            )
        return found

    def cells(self) -> list[str]:
        """The row as text, column by column: what the page shows and the CSV holds."""
        share = self.refresher_percent
        return [
            self.name,
            self.team,
            _("%(done)d of %(total)d", done=self.done, total=self.total)
            if self.total
            else _("no path"),
            str(self.overdue),
            self.last_activity.isoformat() if self.last_activity else _("never"),
            str(self.streak),
            f"{share}%" if share is not None else _("none planned"),
        ]


@dataclass
class TeamSummary:
    """The figures at the top of the team page, over everyone shown (before any filter)."""

    people: int
    overdue: int  # people with an overdue lesson
    behind: int  # people behind (overdue, or under half of their refreshers)
    lessons_done: int  # path lessons completed, everyone together
    lessons_total: int
    refreshers_week: int  # daily refreshers finished in the last seven days

    @property
    def completion(self) -> int | None:
        if not self.lessons_total:
            return None
        return round(100 * self.lessons_done / self.lessons_total)


def summarise(rows: list[TeamRow]) -> TeamSummary:
    return TeamSummary(
        people=len(rows),
        overdue=sum(1 for row in rows if row.overdue),
        behind=sum(1 for row in rows if row.behind),
        lessons_done=sum(row.done for row in rows),
        lessons_total=sum(row.total for row in rows),
        refreshers_week=sum(row.refreshers_week for row in rows),
    )


def needs_attention(rows: list[TeamRow]) -> list[TeamRow]:
    """The people behind, the most overdue first, then the fewest refreshers done."""

    def urgency(row: TeamRow):
        share = row.refresher_percent
        return (-row.overdue, share if share is not None else 101, row.name.casefold())

    return sorted((row for row in rows if row.behind), key=urgency)


@dataclass
class TeamView:
    rows: list[TeamRow]  # filtered and sorted, every page
    page: ListPage
    # (week label, % of the people's path lessons completed by then), oldest week first.
    chart: list[tuple[str, float]] = field(default_factory=list)
    summary: TeamSummary = field(default_factory=lambda: summarise([]))
    attention: list[TeamRow] = field(default_factory=list)  # before the filters
    reminded: set[int] = field(default_factory=set)  # nudged on their own today
    waiting: list[User] = field(default_factory=list)  # joiners waiting for approval


@dataclass
class _Person:
    id: int
    name: str
    team: str
    timezone: str
    today: date
    lessons: list[tuple[int, date | None]] = field(default_factory=list)  # path: (lesson, due)


def team_view(
    session: Session, viewer: User, filters: TeamFilters, now: datetime | None = None
) -> TeamView:
    """The viewer's people (one of their teams with `filters.team_id`, else all of them; 404
    for a team outside their scope), filtered, sorted and paged, with the team's completion
    chart, the summary figures and who needs attention (both over the whole team, whatever
    the filters). Inactive people are left out. Everything the team page shows comes from
    here, in the fixed number of queries of `team_rows`."""
    now = now or utcnow()
    facts = team_facts(session, viewer, team_id=filters.team_id, now=now)
    rows = filter_rows(facts.rows, filters)
    rows = sort_rows(rows, filters.sort, filters.direction)
    waiting = sorted(
        (user for user in facts.people.values() if user.awaiting_approval),
        key=lambda user: (user.created_at, user.id),
    )
    return TeamView(
        rows=rows,
        page=paginate_list(rows, filters.page, PER_PAGE),
        chart=facts.chart,
        summary=summarise(facts.rows),
        attention=needs_attention(facts.rows),
        reminded=facts.reminded,
        waiting=waiting,
    )


def filter_rows(rows: list[TeamRow], filters: TeamFilters) -> list[TeamRow]:
    needle = filters.q.casefold()
    if needle:
        rows = [row for row in rows if needle in row.name.casefold()]
    if filters.status == "overdue":
        rows = [row for row in rows if row.overdue > 0]
    elif filters.status == "behind":
        rows = [row for row in rows if row.behind]
    return rows


_SORT_KEYS = {
    "name": lambda row: row.name.casefold(),
    "team": lambda row: row.team.casefold(),
    "progress": lambda row: (row.percent, row.done),
    "overdue": lambda row: row.overdue,
    "activity": lambda row: row.last_activity or date.min,  # never = longest ago
    "streak": lambda row: row.streak,
    "refreshers": lambda row: -1 if row.refresher_percent is None else row.refresher_percent,
}


def sort_rows(rows: list[TeamRow], sort: str, direction: str = "asc") -> list[TeamRow]:
    """Sorted by `sort`; ties stay in name order whichever the direction (sorts are stable)."""
    by_name = sorted(rows, key=lambda row: (row.name.casefold(), row.user_id))
    return sorted(by_name, key=_SORT_KEYS[sort], reverse=direction == "desc")


def team_rows(
    session: Session, viewer: User, *, team_id: int | None = None, now: datetime | None = None
) -> tuple[list[TeamRow], list[tuple[str, float]]]:
    """A row per active person in scope, and the completion chart."""
    facts = team_facts(session, viewer, team_id=team_id, now=now)
    return facts.rows, facts.chart


@dataclass
class TeamFacts:
    rows: list[TeamRow]
    chart: list[tuple[str, float]]
    people: dict[int, User]  # by id, in the order of the rows
    reminded: set[int]  # who got a nudge on their own today


def team_facts(
    session: Session, viewer: User, *, team_id: int | None = None, now: datetime | None = None
) -> TeamFacts:
    """team_rows(), the people themselves and who was nudged today, in a fixed number of
    statements whatever the team's size or history: the people (with their latest nudge),
    their enrolments, the paths, and one union of everything they did, each over everyone's
    ids at once."""
    now = now or utcnow()
    scope = people_query(session, viewer, team_id).where(User.active.is_(True))
    ids = scope.with_only_columns(User.id)  # a subquery: no long list of ids is sent

    people: dict[int, _Person] = {}
    users: dict[int, User] = {}
    reminded: set[int] = set()
    latest_nudge = (
        select(func.max(Notification.key))
        .where(Notification.user_id == User.id, Notification.kind == NUDGE)
        .scalar_subquery()
    )
    for user, team_name, nudged in session.execute(
        scope.add_columns(Team.name, latest_nudge).join(Team, Team.id == User.team_id)
    ):
        users[user.id] = user
        if nudged is not None and nudged == nudge_key(user, now):
            reminded.add(user.id)
        people[user.id] = _Person(
            user.id, user.name, team_name, user.timezone, local_date(user.timezone, now)
        )
    # Path and assigned lessons by the same rule as the learner's Today page.
    plans = onboarding(
        session,
        ids,
        {u.id: (u.job_role_id, u.hire_date or u.created_at.date()) for u in users.values()},
    )
    for user_id, person in people.items():
        person.lessons = plans[user_id].path_lessons

    facts = _activity(session, ids, people, now)
    first_done = facts.first_done
    rows = []
    for person in people.values():
        done = first_done[person.id]
        overdue = {
            lesson_id
            for _where, lesson_id, _due in plans[person.id].overdue(set(done), person.today)
        }
        last = facts.last_active.get(person.id)
        planned, finished, this_week = facts.refreshers.get(person.id, (0, 0, 0))
        rows.append(
            TeamRow(
                user_id=person.id,
                name=person.name,
                team=person.team,
                done=sum(1 for lesson_id, _due in person.lessons if lesson_id in done),
                total=len(person.lessons),
                overdue=len(overdue),
                last_activity=local_date(person.timezone, last) if last else None,
                streak=streak_from_days(facts.days.get(person.id, set()), person.today),
                refreshers_done=finished,
                refreshers_planned=planned,
                refreshers_week=this_week,
            )
        )
    chart = completion_chart(list(people.values()), first_done, now)
    return TeamFacts(rows, chart, users, reminded)


@dataclass
class _Activity:
    # First completion of each lesson by each person: progress now, and the chart's history.
    first_done: dict[int, dict[int, datetime]] = field(default_factory=lambda: defaultdict(dict))
    # The latest answer, lesson or refresher moment per person.
    last_active: dict[int, datetime] = field(default_factory=dict)
    # The days (their own calendar) on which they finished a refresher or a lesson.
    days: dict[int, set[date]] = field(default_factory=lambda: defaultdict(set))
    # (daily refreshers planned, completed) over their last 30 days, and how many of them
    # were completed in their last seven.
    refreshers: dict[int, tuple[int, int, int]] = field(default_factory=dict)


# The typed NULLs of the union's unused columns, made once (each cast builds its type).
_NO_LESSON = cast(null(), Integer)
_NO_MOMENT = cast(null(), DateTime)
_NO_DAY = cast(null(), Date)
_NO_FLAG = cast(null(), Boolean)


def _fact(kind: str, user_id, lesson_id=None, at=None, day=None, flag=None):
    """One part of _activity's union: (kind, user, lesson, moment, day, yes/no)."""
    return select(
        literal(kind).label("kind"),
        user_id.label("user_id"),
        (lesson_id if lesson_id is not None else _NO_LESSON).label("lesson_id"),
        (at if at is not None else _NO_MOMENT).label("at"),
        (day if day is not None else _NO_DAY).label("day"),
        (flag if flag is not None else _NO_FLAG).label("flag"),
    )


def _activity(
    session: Session, ids: Select, people: dict[int, _Person], now: datetime
) -> _Activity:
    """What the people did, read in one statement: a union of the lessons they first
    completed, their latest moment, what they finished within the streak's reach, and their
    daily refreshers of the last 30 days."""
    sources = [
        (Attempt.user_id, Attempt.answered_at),
        (LessonRun.user_id, LessonRun.started_at),
        (LessonRun.user_id, LessonRun.completed_at),
        (Refresher.user_id, Refresher.completed_at),
        (RolePlayAnswer.user_id, RolePlayAnswer.created_at),
    ]
    # Per person and source, the latest moment as its own little lookup (an index probe for
    # the answers), not an aggregate over everyone's history.
    latest = [
        _fact(
            "last",
            User.id,
            at=select(func.max(at_col)).where(user_col == User.id).scalar_subquery(),
        ).where(User.id.in_(ids))
        for user_col, at_col in sources
    ]
    since = now - timedelta(days=STREAK_DAYS)
    earliest = now.date() - timedelta(days=REFRESHER_DAYS + 1)  # any zone's 30 days
    parts = union_all(
        _fact("done", LessonRun.user_id, LessonRun.lesson_id, func.min(LessonRun.completed_at))
        .where(LessonRun.user_id.in_(ids), LessonRun.completed_at.is_not(None))
        .group_by(LessonRun.user_id, LessonRun.lesson_id),
        *latest,
        _fact("finished", Refresher.user_id, at=Refresher.completed_at).where(
            Refresher.user_id.in_(ids), Refresher.completed_at >= since
        ),
        _fact("finished", LessonRun.user_id, at=LessonRun.completed_at).where(
            LessonRun.user_id.in_(ids), LessonRun.completed_at >= since
        ),
        _fact(
            "daily",
            Refresher.user_id,
            day=Refresher.local_date,
            flag=Refresher.completed_at.is_not(None),
        ).where(
            Refresher.user_id.in_(ids),
            Refresher.kind == "daily",
            Refresher.local_date >= earliest,
        ),
    )
    result = _Activity()
    utc = zone_of("UTC")
    # Fetched whole: row by row, the driver's per-row cost outweighs the work on each.
    for kind, user_id, lesson_id, at, day, flag in session.execute(parts).all():
        person = people.get(user_id)
        if person is None:
            continue
        if kind == "done":
            result.first_done[user_id][lesson_id] = at
        elif kind == "last":
            if at is not None and at > result.last_active.get(user_id, at):
                result.last_active[user_id] = at
            elif at is not None:
                result.last_active.setdefault(user_id, at)
        elif kind == "finished":
            zone = zone_of(person.timezone)
            result.days[user_id].add(at.replace(tzinfo=utc).astimezone(zone).date())
        else:
            # Today's refresher counts once done, or not at all: the day is not over.
            if not person.today - timedelta(days=REFRESHER_DAYS) < day <= person.today:
                continue
            if day == person.today and not flag:
                continue
            planned, finished, week = result.refreshers.get(user_id, (0, 0, 0))
            recent = bool(flag) and day > person.today - timedelta(days=WEEK_DAYS)
            result.refreshers[user_id] = (planned + 1, finished + bool(flag), week + recent)
    return result


def completion_chart(
    people: list[_Person], first_done: dict[int, dict[int, datetime]], now: datetime
) -> list[tuple[str, float]]:
    """Week by week for the last 12 weeks, the share of the people's path lessons completed
    by the end of that week (today's people and paths, looking back). Empty with no path
    lessons at all."""
    total = sum(len(person.lessons) for person in people)
    if not total:
        return []
    times = [
        first_done[person.id][lesson_id]
        for person in people
        for lesson_id, _due in person.lessons
        if lesson_id in first_done[person.id]
    ]
    points = []
    for weeks_ago in range(CHART_WEEKS - 1, -1, -1):
        end = now - timedelta(weeks=weeks_ago)
        completed = sum(1 for at in times if at <= end)
        points.append((day_text(end, "day_month"), round(100 * completed / total, 1)))
    return points


def csv_text(rows: list[TeamRow]) -> str:
    """The rows as CSV, headed by the table's labels (in the reader's language). A cell that a
    spreadsheet would read as a formula gets a leading quote."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(label) for _key, label in COLUMNS])
    for row in rows:
        writer.writerow([_neutralise(cell) for cell in row.cells()])
    return out.getvalue()


def _neutralise(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# -- one person -------------------------------------------------------------------------------


@dataclass
class Assignment:
    enrolment: Enrolment
    assigned_by: str | None


@dataclass
class CoachedAnswer:
    answer: RolePlayAnswer
    coach: str | None


@dataclass
class ConversationPass:
    """One run of a conversation: the way the person went, and how it ended."""

    run: ConversationRun
    turns: list[Turn]

    @property
    def outcome(self) -> str:
        if self.run.ending:
            return str(ENDINGS.get(self.run.ending, OUTCOMES.get(self.run.ending, "")))
        if self.run.is_open:
            return _("Not finished")
        return _("Left unfinished (the conversation changed)")


@dataclass
class PersonFacts:
    """Everything on the person page except the paged attempts."""

    runs: list[LessonRun]
    roleplays: list[CoachedAnswer]
    observations: list[Observation]
    assignments: list[Assignment]
    conversations: list[ConversationPass] = field(default_factory=list)


ROLEPLAYS_SHOWN = 20
CONVERSATIONS_SHOWN = 10


def person_facts(session: Session, viewer: User, person_id: int) -> tuple[User, PersonFacts]:
    """The person (404 when out of the viewer's scope) with their lesson runs, latest
    role-play answers and coaching, latest conversation runs with the way they went,
    observations and assignments, newest first."""
    person = person_in_scope(session, viewer, person_id)
    runs = list(
        session.scalars(
            select(LessonRun)
            .where(LessonRun.user_id == person.id)
            .order_by(LessonRun.started_at.desc(), LessonRun.id.desc())
            .options(selectinload(LessonRun.lesson))
        )
    )
    answers = list(
        session.scalars(
            select(RolePlayAnswer)
            .where(RolePlayAnswer.user_id == person.id)
            .order_by(RolePlayAnswer.created_at.desc(), RolePlayAnswer.id.desc())
            .limit(ROLEPLAYS_SHOWN)
            .options(selectinload(RolePlayAnswer.roleplay))
        )
    )
    observations = list(
        session.scalars(
            select(Observation)
            .where(Observation.user_id == person.id)
            .order_by(Observation.observed_at.desc(), Observation.id.desc())
            .options(selectinload(Observation.checklist), selectinload(Observation.observer))
        )
    )
    enrolments = list(
        session.scalars(
            select(Enrolment)
            .where(Enrolment.user_id == person.id)
            .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
            .options(selectinload(Enrolment.path), selectinload(Enrolment.lesson))
        )
    )
    conversation_runs = session.scalars(
        select(ConversationRun)
        .where(ConversationRun.user_id == person.id)
        .order_by(ConversationRun.started_at.desc(), ConversationRun.id.desc())
        .limit(CONVERSATIONS_SHOWN)
        .options(selectinload(ConversationRun.conversation))
    )
    names = user_names(
        session,
        {a.coached_by_id for a in answers} | {e.assigned_by_id for e in enrolments},
    )
    return person, PersonFacts(
        runs=runs,
        roleplays=[CoachedAnswer(a, names.get(a.coached_by_id)) for a in answers],
        observations=observations,
        assignments=[Assignment(e, names.get(e.assigned_by_id)) for e in enrolments],
        conversations=[ConversationPass(run, turns(session, run)) for run in conversation_runs],
    )


def person_attempts(person: User) -> Select:
    """The person's answers, newest first, as a query to page through."""
    return (
        select(Attempt)
        .where(Attempt.user_id == person.id)
        .order_by(Attempt.answered_at.desc(), Attempt.id.desc())
        .options(selectinload(Attempt.item))
    )


def run_lessons(session: Session, attempts: list[Attempt]) -> dict[int, Lesson]:
    """The lesson of each lesson run the attempts were answered in, by run id."""
    run_ids = {a.run_id for a in attempts if a.run_id is not None}
    return {
        run_id: lesson
        for run_id, lesson in session.execute(
            select(LessonRun.id, Lesson)
            .join(Lesson, Lesson.id == LessonRun.lesson_id)
            .where(LessonRun.id.in_(run_ids))
        )
    }


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# -- assigning --------------------------------------------------------------------------------


def live_paths(session: Session) -> list[Path]:
    return list(session.scalars(select(Path).where(Path.retired.is_(False)).order_by(Path.title)))


def live_lessons(session: Session) -> list[Lesson]:
    return list(
        session.scalars(select(Lesson).where(Lesson.retired.is_(False)).order_by(Lesson.title))
    )


def assignable_people(session: Session, viewer: User) -> list[User]:
    """Active people of the viewer's teams, by name."""
    query = people_query(session, viewer).where(User.active.is_(True)).order_by(User.name)
    return list(session.scalars(query))


@dataclass
class AssignResult:
    title: str
    people: list[User]
    due_date: date


def assign_work(
    session: Session,
    viewer: User,
    *,
    what: str,
    who: str | list[str],
    due_date: date,
    today: date,
) -> AssignResult:
    """Assign a live path or lesson (`what`: "path:ID" or "lesson:ID") to people and whole
    teams of the viewer's at once (`who`: one or more of "person:ID" and "team:ID"; someone
    named twice is assigned once), due on `due_date`. A person or team outside the viewer's
    scope is 404, whatever the form said. Committed."""
    if due_date < today:
        raise AssignError("due_date", _("The due date cannot be in the past."))
    kind, _sep, raw_id = what.partition(":")
    target_id = parse_id(raw_id)
    path = session.get(Path, target_id) if kind == "path" and target_id else None
    lesson = session.get(Lesson, target_id) if kind == "lesson" and target_id else None
    target = path or lesson
    if target is None or target.retired:
        raise AssignError("what", _("Choose a path or a lesson from the list."))

    chosen = [who] if isinstance(who, str) else [value for value in who if value]
    if not chosen:
        raise AssignError("who", _("Choose a person or a team."))
    people: dict[int, User] = {}
    for value in chosen:
        kind, _sep, raw_id = value.partition(":")
        who_id = parse_id(raw_id)
        if who_id is None or kind not in ("person", "team"):
            raise AssignError("who", _("Choose a person or a team from the list."))
        if kind == "person":
            person = person_in_scope(session, viewer, who_id)
            if not person.active:
                raise AssignError("who", _("%(name)s's account is switched off.", name=person.name))
            people[person.id] = person
        else:
            team = team_in_scope(session, viewer, who_id)
            members = session.scalars(
                select(User).where(User.team_id == team.id, User.active.is_(True))
            )
            people.update((member.id, member) for member in members)
    if not people:
        raise AssignError("who", _("That team has nobody in it yet."))
    chosen_people = sorted(people.values(), key=lambda person: (person.name, person.id))
    assign(session, viewer, chosen_people, path=path, lesson=lesson, due_date=due_date)
    return AssignResult(title=target.title, people=chosen_people, due_date=due_date)
