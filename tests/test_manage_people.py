"""The manager's people pages through the Flask test client: team view, CSV, person, coaching,
assigning, and the scope rule that a manager sees only the people of their own teams."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select
from werkzeug.exceptions import NotFound

from tests.conftest import sync_starter_library
from tests.conversation_support import play_lessons_conversation
from trainer.extensions import db
from trainer.learn.enrolment import assign
from trainer.learn.services import (
    complete_run,
    live_lesson,
    open_run,
    record_answer,
    record_roleplay,
    tick_rubric,
)
from trainer.manage import coaching, team
from trainer.models import (
    Attempt,
    Enrolment,
    LessonRun,
    Observation,
    ObservationChecklist,
    QuizItem,
    Refresher,
    RolePlayAnswer,
    User,
    utcnow,
)
from trainer.people.services import create_user, get_or_create_team
from trainer.review.planning import local_date
from trainer.review.refresher import streak

PASSWORD = "correct horse"
FIRST = "teller-greeting-at-the-counter"
SECOND = "phone-greeting-first-seconds"
EXTRA = "wrong-dish-recovery"  # not on the teller path


# -- helpers ----------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Cell texts of one table's header and body rows: the data, without <progress> fallback
    text or the controls beside it (a "nudge": the Remind button, or "reminded today")."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class = css_class
        self.inside = self.in_progress = False
        self.section = None
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.hidden = 0
        self.nudge: str | None = None  # the tag of a control beside the data, while inside it

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and self.css_class in (attrs.get("class") or "").split():
            self.inside = True
        if not self.inside:
            return
        if tag in ("thead", "tbody"):
            self.section = tag
        elif tag == "tr" and self.section == "tbody":
            self.rows.append([])
        elif tag in ("th", "td"):
            self.cell = []
        elif tag == "progress":
            self.in_progress = True
        elif tag == "span" and attrs.get("aria-hidden") == "true":
            self.hidden += 1
        elif "nudge" in (attrs.get("class") or "").split():
            self.nudge = tag

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "table":
            self.inside = False
        elif tag == "progress":
            self.in_progress = False
        elif tag == self.nudge:
            self.nudge = None
        elif tag == "span" and self.hidden:
            self.hidden -= 1
        elif tag in ("th", "td") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            (self.header if self.section == "thead" else self.rows[-1]).append(text)
            self.cell = None

    def handle_data(self, data):
        data_here = self.inside and self.cell is not None and self.nudge is None
        if data_here and not self.in_progress and not self.hidden:
            self.cell.append(data)


def table(html: str, css_class: str = "team") -> tuple[list[str], list[list[str]]]:
    parser = _Tables(css_class)
    parser.feed(html)
    return parser.header, parser.rows


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def login(client, email: str):
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def right_choices(item: QuizItem) -> list[int]:
    if item.type == "multiple":
        return [i for i, c in enumerate(item.choices) if c["weight"] > 0]
    best = max(c["weight"] for c in item.choices)
    return [next(i for i, c in enumerate(item.choices) if c["weight"] == best)]


def finish_lesson(user: User, key: str) -> None:
    """Answer every question right, play the conversation well, answer every role-play, and
    complete the lesson."""
    session = db.session
    lesson = live_lesson(session, key)
    for item in lesson.quiz.live_items:
        record_answer(session, user, lesson, item, right_choices(item), uuid.uuid4().hex, 5)
    for rp in lesson.live_roleplays:
        answer = record_roleplay(session, user, lesson, rp, "Welcome in!", uuid.uuid4().hex)
        tick_rubric(session, answer, [0])
    play_lessons_conversation(session, user, lesson)
    assert complete_run(session, open_run(session, user, lesson))


def answer_roleplay(user: User, key: str = FIRST, text: str = "Good morning!") -> int:
    session = db.session
    lesson = live_lesson(session, key)
    answer = record_roleplay(
        session, user, lesson, lesson.live_roleplays[0], text, uuid.uuid4().hex
    )
    tick_rubric(session, answer, [0, 1])
    return answer.id


def refresher(user: User, day: date, *, done: bool, kind: str = "daily", round_: int = 0):
    now = utcnow()
    at = now - timedelta(days=(local_date(user.timezone, now) - day).days)
    db.session.add(
        Refresher(
            user_id=user.id,
            local_date=day,
            kind=kind,
            round=round_,
            item_ids=[db.session.scalar(select(QuizItem.id).limit(1))],
            budget_seconds=300,
            planned_at=at,
            completed_at=at if done else None,
        )
    )


@pytest.fixture
def world(library_app):
    """Two teams; Mia manages North only. Ann (North) is well along and overdue, Bob (North)
    started two days ago, Cat is in South. An admin sees everyone."""
    app = library_app
    with app.app_context():
        s = db.session
        today = local_date("Europe/London", utcnow())
        north = get_or_create_team(s, "North branch")
        south = get_or_create_team(s, "South branch")
        mia = create_user(
            s, email="mia@example.com", name="Mia Manager", password=PASSWORD, role="manager"
        )
        mia.managed_teams.append(north)
        admin = create_user(
            s, email="ada@example.com", name="Ada Admin", password=PASSWORD, role="admin"
        )
        ann = create_user(
            s,
            email="ann@example.com",
            name="Ann Archer",
            password=PASSWORD,
            job_role="teller",
            team="North branch",
            hire_date=today - timedelta(30),
        )
        bob = create_user(
            s,
            email="bob@example.com",
            name="Bob Baker",
            password=PASSWORD,
            job_role="teller",
            team="North branch",
            hire_date=today - timedelta(2),
        )
        cat = create_user(
            s,
            email="cat@example.com",
            name="Cat Cole",
            password=PASSWORD,
            job_role="teller",
            team="South branch",
            hire_date=today - timedelta(30),
        )
        s.commit()

        # Ann: two path lessons done today, one extra lesson assigned and overdue.
        finish_lesson(ann, FIRST)
        finish_lesson(ann, SECOND)
        assign(s, mia, [ann], lesson=live_lesson(s, EXTRA), due_date=today - timedelta(1))
        # Refreshers: 3 of 4 past days done in the window; ones that must not count.
        for days_ago, done in ((1, True), (2, True), (3, True), (9, False)):
            refresher(ann, today - timedelta(days_ago), done=done)
        refresher(ann, today, done=False)  # today's, not done yet: the day is not over
        refresher(ann, today - timedelta(31), done=False)  # outside the 30 days
        refresher(ann, today - timedelta(5), done=True, kind="practice", round_=1)
        s.commit()
        cat_answer = answer_roleplay(cat)
        ann_answer = answer_roleplay(ann, SECOND, "Thank you for calling, this is Ann.")
        return SimpleNamespace(
            app=app,
            today=today,
            north=north.id,
            south=south.id,
            mia=mia.id,
            admin=admin.id,
            ann=ann.id,
            bob=bob.id,
            cat=cat.id,
            ann_answer=ann_answer,
            cat_answer=cat_answer,
        )


@pytest.fixture
def manager(world, client):
    login(client, "mia@example.com")
    return world


# -- the team view ----------------------------------------------------------------------------


def test_team_rows_are_exactly_the_managers_people_with_their_figures(world):
    with world.app.app_context():
        mia = db.session.get(User, world.mia)
        rows, chart = team.team_rows(db.session, mia)
        by_name = {row.name: row for row in rows}
        assert set(by_name) == {"Ann Archer", "Bob Baker"}

        ann, bob = by_name["Ann Archer"], by_name["Bob Baker"]
        assert (ann.done, ann.total, ann.percent) == (2, 10, 20)
        assert ann.overdue == 8 + 1  # eight path lessons past due, and the assigned one
        assert ann.last_activity == world.today
        # Lessons today, refreshers the three days before: the learner's own streak count.
        assert ann.streak == 4 == streak(db.session, db.session.get(User, world.ann))
        assert (ann.refreshers_done, ann.refreshers_planned, ann.refresher_percent) == (3, 4, 75)

        # Bob's first lesson was due yesterday, his second is due today.
        assert (bob.done, bob.total, bob.overdue) == (0, 10, 1)
        assert (bob.last_activity, bob.streak, bob.refresher_percent) == (None, 0, None)
        assert bob.cells()[4:] == ["never", "0", "none planned"]

        assert len(chart) == team.CHART_WEEKS
        assert chart[-1][1] == 10.0  # 2 of the 20 path lessons of Ann and Bob
        assert chart[0][1] == 0.0


def test_team_rows_and_coaching_on_each_database(any_db_app):
    """The grouped and unioned queries behave the same on SQLite and PostgreSQL."""
    sync_starter_library(any_db_app)
    with any_db_app.app_context():
        s = db.session
        today = local_date("Europe/London", utcnow())
        north = get_or_create_team(s, "North branch")
        mia = create_user(s, email="mia@example.com", name="Mia", password=None, role="manager")
        mia.managed_teams.append(north)
        ann = create_user(
            s,
            email="ann@example.com",
            name="Ann",
            password=None,
            job_role="teller",
            team="North branch",
            hire_date=today - timedelta(30),
        )
        s.commit()
        finish_lesson(ann, FIRST)
        refresher(ann, today - timedelta(1), done=True)
        refresher(ann, today - timedelta(2), done=False)
        s.commit()
        [row], chart = team.team_rows(s, mia)
        assert (row.done, row.total, row.overdue) == (1, 10, 9)
        assert (row.last_activity, row.streak, row.refresher_percent) == (today, 2, 50)
        assert chart[-1][1] == 10.0
        waiting = s.scalars(coaching.waiting_for_comment(s, mia)).all()
        assert len(waiting) == len(live_lesson(s, FIRST).live_roleplays) > 1
        coaching.comment_on(s, mia, waiting[0].id, "Good")
        assert s.scalars(coaching.waiting_for_comment(s, mia)).all() == waiting[1:]
        assert coaching.latest_note(s, ann).coach_comment == "Good"


def test_team_page_lists_the_managers_people(manager, client):
    response = client.get("/manage/")
    assert response.status_code == 200
    header, rows = table(response.get_data(as_text=True))
    assert header == [label for _key, label in team.COLUMNS]
    assert rows == [
        ["Ann Archer", "North branch", "2 of 10", "9", world_today(manager), "4", "75%"],
        ["Bob Baker", "North branch", "0 of 10", "1", "never", "0", "none planned"],
    ]
    page = response.get_data(as_text=True)
    assert "Cat Cole" not in page
    assert "Completion over time" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and "<title" in page
    assert '<th scope="row">' in page.split("The figures", 1)[1]  # the data as a table too
    assert f'href="/manage/people/{manager.ann}"' in page


def test_team_summary_and_needs_attention_come_first(manager, client):
    with manager.app.app_context():
        view = team.team_view(db.session, db.session.get(User, manager.mia), team.TeamFilters())
        summary = view.summary
        assert (summary.people, summary.overdue, summary.behind) == (2, 2, 2)
        assert (summary.lessons_done, summary.lessons_total, summary.completion) == (2, 20, 10)
        assert summary.refreshers_week == 3  # Ann's three of the last days; day 9 is older
        assert [row.name for row in view.attention] == ["Ann Archer", "Bob Baker"]  # most overdue
        assert view.attention[1].reasons() == ["1 lesson overdue"]

    page = client.get("/manage/?q=bob").get_data(as_text=True)  # filters leave them be
    figures = page.split('<ul class="figures">', 1)[1].split("</ul>", 1)[0]
    words = " ".join(re.sub(r"<[^>]+>", " ", figures).split())
    assert words == (
        "2 overdue 2 behind 10% path completion : 2 of 20 lessons 3 refreshers done this week"
    )
    assert 'href="/manage/?status=overdue"' in figures
    assert 'href="/manage/?status=behind"' in figures
    attention = page.split('id="attention-title"', 1)[1].split("</section>", 1)[0]
    assert attention.index("Ann Archer") < attention.index("Bob Baker")
    assert "9 lessons overdue" in attention and "1 lesson overdue" in attention
    assert attention.count("Remind<span") == 2
    assert f'action="/manage/people/{manager.ann}/remind"' in attention
    assert "Remind everyone overdue" in attention
    assert (
        f'href="/manage/assign?person={manager.ann}&amp;person={manager.bob}">'
        "Assign a lesson to these 2 people"
    ) in attention
    # The figures, then who needs attention, then everyone; the chart last.
    assert (
        page.index('class="figures"')
        < page.index("Needs attention")
        < page.index('id="people-title"')
        < page.index("Completion over time")
    )
    assert '<main id="main" tabindex="-1" class="wide">' in page
    assert table(page)[1][0][0] == "Bob Baker"


def test_needs_attention_names_the_most_urgent_and_links_to_the_rest(manager, client):
    with manager.app.app_context():
        for n in range(10):
            create_user(
                db.session,
                email=f"late{n}@example.com",
                name=f"Late {n}",
                password=None,
                job_role="teller",
                team="North branch",
                hire_date=manager.today - timedelta(days=40),
            )
        db.session.commit()
    page = client.get("/manage/").get_data(as_text=True)
    attention = page.split('<ul class="attention-list">', 1)[1].split("</ul>", 1)[0]
    assert attention.count("<li>") == team.ATTENTION_SHOWN == 8
    # Ten lessons overdue before Ann's nine: the eight most overdue, by name among equals.
    assert "Late 7" in attention and "Late 8" not in attention and "Ann Archer" not in attention
    assert 'href="/manage/?status=behind">See all 12 people behind</a>' in page
    assert len(names(client, "/manage/?status=behind")) == 12


def test_nobody_behind_says_so(manager, client):
    with manager.app.app_context():
        s = db.session
        for user in (s.get(User, manager.ann), s.get(User, manager.bob)):
            user.job_role_id = None  # off the path: nothing can be overdue
            s.execute(Enrolment.__table__.delete().where(Enrolment.user_id == user.id))
        s.execute(Refresher.__table__.delete())
        s.commit()
    page = client.get("/manage/").get_data(as_text=True)
    assert "Nobody is behind." in page
    assert "Remind everyone overdue" not in page


def world_today(world) -> str:
    return world.today.isoformat()


def names(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [row[0] for row in table(response.get_data(as_text=True))[1]]


def test_sort_and_filter_change_the_rows(manager, client):
    assert names(client, "/manage/") == ["Ann Archer", "Bob Baker"]
    assert names(client, "/manage/?sort=name&dir=desc") == ["Bob Baker", "Ann Archer"]
    assert names(client, "/manage/?sort=progress") == ["Bob Baker", "Ann Archer"]
    assert names(client, "/manage/?sort=overdue&dir=desc") == ["Ann Archer", "Bob Baker"]
    assert names(client, "/manage/?sort=activity") == ["Bob Baker", "Ann Archer"]
    assert names(client, "/manage/?sort=streak&dir=desc") == ["Ann Archer", "Bob Baker"]
    assert names(client, "/manage/?sort=refreshers") == ["Bob Baker", "Ann Archer"]
    assert names(client, "/manage/?q=bob") == ["Bob Baker"]
    assert names(client, "/manage/?q=zed") == []
    assert names(client, "/manage/?status=overdue") == ["Ann Archer", "Bob Baker"]
    assert names(client, "/manage/?sort=nonsense&dir=sideways&page=x") == [
        "Ann Archer",
        "Bob Baker",
    ]


def test_behind_means_overdue_or_under_half_of_refreshers(manager, client):
    with manager.app.app_context():
        bob = db.session.get(User, manager.bob)
        finish_lesson(bob, FIRST)  # nothing overdue now
        for days_ago in (1, 2, 3):
            refresher(bob, manager.today - timedelta(days_ago), done=days_ago == 1)
        db.session.commit()
    assert names(client, "/manage/?status=overdue") == ["Ann Archer"]
    assert names(client, "/manage/?status=behind") == ["Ann Archer", "Bob Baker"]  # 1 of 3
    with manager.app.app_context():
        db.session.execute(
            Refresher.__table__.update()
            .where(Refresher.user_id == manager.bob)
            .values(completed_at=utcnow())
        )
        db.session.commit()
    assert names(client, "/manage/?status=behind") == ["Ann Archer"]


def test_csv_has_the_pages_rows_and_columns(manager, client):
    page = client.get("/manage/?sort=overdue&dir=desc").get_data(as_text=True)
    header, rows = table(page)
    response = client.get("/manage/team.csv?sort=overdue&dir=desc")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    filename = f"team-{local_date('Europe/London', utcnow()).isoformat()}.csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert csv_rows(response) == [header, *rows]
    assert '<a href="/manage/team.csv?sort=overdue&amp;dir=desc" download>' in page
    # The filters apply to the export too.
    assert [r[0] for r in csv_rows(client.get("/manage/team.csv?q=ann"))] == ["Name", "Ann Archer"]


def test_csv_export_holds_every_page(world, client):
    with world.app.app_context():
        for n in range(55):
            create_user(
                db.session,
                email=f"p{n}@example.com",
                name=f"Person {n:02}",
                password=None,
                team="North branch",
            )
        db.session.commit()
    login(client, "mia@example.com")
    assert len(names(client, "/manage/")) == team.PER_PAGE == 50  # a team of 50 on one page
    assert names(client, "/manage/?page=2")[-1] == "Person 54"
    assert len(names(client, "/manage/?page=2")) == 57 - team.PER_PAGE
    assert len(csv_rows(client.get("/manage/team.csv?page=2"))) == 1 + 57


def test_csv_neutralises_formulas(world, client):
    with world.app.app_context():
        for n, name in enumerate(('=HYPERLINK("http://x")', "+1 Plus", "-2 Minus", "@Sum")):
            create_user(
                db.session, email=f"f{n}@example.com", name=name, password=None, team="North branch"
            )
        db.session.commit()
    login(client, "mia@example.com")
    exported = [row[0] for row in csv_rows(client.get("/manage/team.csv"))[1:]]
    assert '\'=HYPERLINK("http://x")' in exported
    assert {"'+1 Plus", "'-2 Minus", "'@Sum", "Ann Archer"} <= set(exported)
    assert not any(
        cell[:1] in "=+-@" for row in csv_rows(client.get("/manage/team.csv")) for cell in row
    )


def test_team_picker_shows_one_team_and_admin_sees_all(world, client):
    login(client, "ada@example.com")
    assert names(client, "/manage/") == ["Ann Archer", "Bob Baker", "Cat Cole"]
    assert names(client, f"/manage/?team={world.south}") == ["Cat Cole"]
    page = client.get("/manage/").get_data(as_text=True)
    assert '<label for="team">Team</label>' in page


def test_team_view_asks_the_same_number_of_queries_for_5_and_40_people(library_app, client):
    app = library_app
    with app.app_context():
        s = db.session
        mia = create_user(s, email="mia@example.com", name="Mia", password=PASSWORD, role="manager")
        item = s.scalar(select(QuizItem).limit(1))
        lesson = live_lesson(s, FIRST)
        teams = {}
        for name, size in (("Small", 5), ("Large", 40)):
            teams[size] = get_or_create_team(s, name)
            mia.managed_teams.append(teams[size])
            for n in range(size):
                person = create_user(
                    s,
                    email=f"{name}{n}@example.com",
                    name=f"{name} {n}",
                    password=None,
                    job_role="teller",
                    team=name,
                )
                s.flush()
                # Some of everything the view aggregates, for every person.
                now = utcnow()
                s.add(LessonRun(user_id=person.id, lesson_id=lesson.id, completed_at=now))
                s.add(
                    Attempt(
                        user_id=person.id,
                        item_id=item.id,
                        chosen=[0],
                        chosen_text=["x"],
                        correct=True,
                        score=1.0,
                        token=uuid.uuid4().hex,
                        answered_at=now,
                    )
                )
                refresher(person, local_date(person.timezone, now) - timedelta(1), done=n % 2)
                if n % 3 == 0:
                    assign(s, mia, [person], lesson=live_lesson(s, EXTRA), due_date=date.today())
        s.commit()
        small, large = teams[5].id, teams[40].id
    login(client, "mia@example.com")

    def count_queries(url: str) -> int:
        statements = []
        with app.app_context():
            engine = db.engine

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200
        return len(statements)

    client.get(f"/manage/?team={small}")  # warm up: first-request work is not the view's
    counts = {}
    for label, team_id in (("5", small), ("40", large)):
        counts[label] = count_queries(f"/manage/?team={team_id}")
        counts[f"{label} csv"] = count_queries(f"/manage/team.csv?team={team_id}")
    print("queries:", counts)
    assert counts["5"] == counts["40"]
    assert counts["5 csv"] == counts["40 csv"]
    assert len(names(client, f"/manage/?team={large}")) == 40  # all of them, on one page


# -- one person -------------------------------------------------------------------------------


def test_person_page_shows_their_learning(manager, client):
    with manager.app.app_context():
        s = db.session
        checklist = ObservationChecklist(
            key="greeting",
            title="Greeting at the counter",
            skill="greeting",
            points=["Smiles", "Names self"],
        )
        s.add(checklist)
        s.flush()
        s.add(
            Observation(
                user_id=manager.ann,
                observer_id=manager.mia,
                checklist_id=checklist.id,
                points=checklist.points,
                seen=["Smiles"],
                grade="B",
                note="Warm, but forgot her name badge.",
                token=uuid.uuid4().hex,
            )
        )
        s.commit()
        first_prompt = live_lesson(s, FIRST).quiz.live_items[0].prompt
    page = client.get(f"/manage/people/{manager.ann}").get_data(as_text=True)
    assert "<h1>Ann Archer</h1>" in page
    assert "North branch" in page and "Bank teller" in page
    assert (manager.today - timedelta(30)).strftime("%-d %B %Y") in page
    assert "Teller onboarding" in page and "2 of 10 lessons done" in page
    assert "overdue: was due" in page and "✓ done" in page
    assert "The first ten seconds at the counter" in page  # lesson history
    assert "Recent answers" in page and first_prompt.split()[0] in page
    assert "✓ Right" in page and "lesson: " in page
    assert "Thank you for calling, this is Ann." in page  # role-play answer
    assert "Grade B" in page and "Greeting at the counter" in page
    assert "Warm, but forgot her name badge." in page and "observed by Mia Manager" in page
    assert "Assignments" in page and "Mia Manager" in page
    assert f'href="/manage/assign?person={manager.ann}"' in page


def test_a_run_set_aside_shows_as_not_finished_in_the_lesson_history(manager, client):
    """Older duplicate runs set aside by migration 0007 are neither in progress nor done."""
    url = f"/manage/people/{manager.ann}"
    assert "not finished" not in client.get(url).get_data(as_text=True)
    with manager.app.app_context():
        lesson = live_lesson(db.session, EXTRA)
        db.session.add(LessonRun(user_id=manager.ann, lesson_id=lesson.id, abandoned_at=utcnow()))
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert re.search(r"Putting a wrong or late dish right</th>\s*<td>not finished</td>", page)


def test_person_attempts_are_paged_by_20(manager, client):
    with manager.app.app_context():
        ann = db.session.get(User, manager.ann)
        finish_lesson(ann, "teller-red-carpet-service")
        finish_lesson(ann, "colleagues-are-customers-too")
        total = db.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.user_id == manager.ann)
        )
    assert total > 20
    first = client.get(f"/manage/people/{manager.ann}").get_data(as_text=True)
    assert shown_attempts(first) == 20
    assert f"{total} answers, newest first" in first
    second = client.get(f"/manage/people/{manager.ann}?page=2").get_data(as_text=True)
    assert shown_attempts(second) == total - 20


def shown_attempts(page: str) -> int:
    listing = page.split('<ol class="attempts">', 1)[1].split("</ol>", 1)[0]
    return listing.count('<li class="right">') + listing.count('<li class="wrong">')


# -- scope: another team's people, whatever the URL or form says -------------------------------


def test_manager_cannot_reach_another_teams_person(manager, client):
    assert client.get(f"/manage/people/{manager.cat}").status_code == 404
    assert client.get(f"/manage/people/{manager.cat}?page=2").status_code == 404
    assert client.get("/manage/people/99999").status_code == 404
    assert client.get(f"/manage/team.csv?team={manager.south}").status_code == 404
    assert client.get(f"/manage/?team={manager.south}").status_code == 404
    assert "Cat Cole" not in client.get("/manage/coaching").get_data(as_text=True)


def test_manager_cannot_comment_on_another_teams_answer(manager, client):
    for comment in ("Nice one", ""):
        response = client.post(
            f"/manage/coaching/{manager.cat_answer}",
            data={f"a{manager.cat_answer}-comment": comment},
        )
        assert response.status_code == 404
    assert client.post("/manage/coaching/99999", data={"a99999-comment": "x"}).status_code == 404
    with manager.app.app_context():
        answer = db.session.get(RolePlayAnswer, manager.cat_answer)
        assert (answer.coach_comment, answer.coached_by_id, answer.coached_at) == (None,) * 3
        # The service refuses too, without the view.
        with pytest.raises(NotFound):
            coaching.comment_on(
                db.session, db.session.get(User, manager.mia), manager.cat_answer, "Nice"
            )
        assert db.session.get(RolePlayAnswer, manager.cat_answer).coach_comment is None


def test_manager_cannot_assign_to_another_teams_person(manager, client):
    with manager.app.app_context():
        lesson_id = live_lesson(db.session, EXTRA).id
        before = db.session.scalar(select(func.count()).select_from(Enrolment))
    due = (manager.today + timedelta(7)).isoformat()
    for who in (f"person:{manager.cat}", f"team:{manager.south}"):
        response = client.post(
            "/manage/assign", data={"what": f"lesson:{lesson_id}", "who": who, "due_date": due}
        )
        assert response.status_code == 400
        assert "Choose a person or a team from the list." in response.get_data(as_text=True)
    assert f'value="person:{manager.cat}"' not in client.get("/manage/assign").get_data(
        as_text=True
    )
    with manager.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == before
        mia = db.session.get(User, manager.mia)
        for who in (f"person:{manager.cat}", f"team:{manager.south}"):
            with pytest.raises(NotFound):
                team.assign_work(
                    db.session,
                    mia,
                    what=f"lesson:{lesson_id}",
                    who=who,
                    due_date=manager.today,
                    today=manager.today,
                )
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == before


def test_learner_gets_403_on_every_manage_page(world, client):
    login(client, "ann@example.com")
    rules = [r for r in world.app.url_map.iter_rules() if r.endpoint.startswith("manage.")]
    assert len(rules) >= 6
    for rule in rules:
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code == 403, (method, url)


def test_signed_out_visitor_is_sent_to_sign_in(world, client):
    response = client.get("/manage/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_deactivated_manager_cannot_sign_in(world, client):
    with world.app.app_context():
        db.session.get(User, world.mia).active = False
        db.session.commit()
    response = client.post("/login", data={"email": "mia@example.com", "password": PASSWORD})
    assert response.status_code == 401
    assert client.get("/manage/").status_code == 302


def test_nav_shows_manager_links_only_to_managers(world, client):
    login(client, "ann@example.com")
    assert 'href="/manage/"' not in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, "mia@example.com")
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/manage/" >Team</a>' in page
    assert '<a href="/manage/coaching" >Coaching</a>' in page


# -- coaching ---------------------------------------------------------------------------------


def test_coaching_queue_lists_waiting_answers_of_own_people_oldest_first(manager, client):
    page = client.get("/manage/coaching").get_data(as_text=True)
    queue = page.split('<ol class="coach-queue">', 1)[1].split("</ol>", 1)[0]
    assert "Thank you for calling, this is Ann." in queue
    assert "Good morning!" not in page  # Cat's, in South
    assert "today" in queue and "ticked 2 of" in queue
    assert "<textarea" not in page  # compact: one line an answer, coached one at a time
    with manager.app.app_context():
        bob = db.session.get(User, manager.bob)
        later = answer_roleplay(bob, FIRST, "Hi, I'm Bob.")
    page = client.get("/manage/coaching").get_data(as_text=True)
    assert page.index(f"/manage/coaching/{manager.ann_answer}") < page.index(
        f"/manage/coaching/{later}"
    )
    assert re.search(r'href="/manage/coaching/\d+">Start with Ann', page)

    answer = client.get(f"/manage/coaching/{manager.ann_answer}").get_data(as_text=True)
    assert "A model answer" in answer and "They ticked 2 of" in answer
    assert f'<label for="a{manager.ann_answer}-comment">' in answer
    assert re.search(r"answer \d+ of \d+", answer)
    assert "Save &amp; next" in answer
    assert f'href="/manage/coaching/{later}" class="skip-link">Skip to the next' in answer


def clear_queue_but_one(world) -> None:
    """Only Ann's answer to the second lesson stays waiting."""
    with world.app.app_context():
        db.session.execute(
            RolePlayAnswer.__table__.update()
            .where(RolePlayAnswer.id != world.ann_answer)
            .values(coach_comment="Seen")
        )
        db.session.commit()


def test_coaching_queue_filters_by_person_and_age(manager, client):
    clear_queue_but_one(manager)
    with manager.app.app_context():
        bob = db.session.get(User, manager.bob)
        bobs = answer_roleplay(bob, FIRST, "Hi, I'm Bob.")
        old = db.session.get(RolePlayAnswer, manager.ann_answer)
        old.created_at = utcnow() - timedelta(days=8)
        db.session.commit()

    def listed(url: str) -> list[int]:
        page = client.get(url).get_data(as_text=True)
        if '<ol class="coach-queue">' not in page:
            return []
        queue = page.split('<ol class="coach-queue">', 1)[1].split("</ol>", 1)[0]
        return [int(n) for n in re.findall(r'href="/manage/coaching/(\d+)', queue)]

    assert listed("/manage/coaching") == [manager.ann_answer, bobs]
    assert listed(f"/manage/coaching?person={manager.bob}") == [bobs]
    assert listed("/manage/coaching?age=7") == [manager.ann_answer]
    assert listed("/manage/coaching?age=2") == [manager.ann_answer]
    assert listed("/manage/coaching?age=new") == [bobs]
    assert listed(f"/manage/coaching?person={manager.ann}&age=new") == []
    assert listed(f"/manage/coaching?person={manager.cat}") == []  # not theirs: nothing
    assert listed("/manage/coaching?person=x&age=forever") == [manager.ann_answer, bobs]
    page = client.get("/manage/coaching").get_data(as_text=True)
    assert f'<option value="{manager.ann}">Ann Archer (1)</option>' in page
    assert "Cat Cole" not in page
    assert "No answer waiting matches." in client.get(
        f"/manage/coaching?person={manager.ann}&age=new"
    ).get_data(as_text=True)


def test_save_and_next_opens_the_next_answer_of_the_same_filter(manager, client):
    clear_queue_but_one(manager)
    with manager.app.app_context():
        bob = db.session.get(User, manager.bob)
        first = answer_roleplay(bob, FIRST, "Hi, I'm Bob.")
        second = answer_roleplay(bob, SECOND, "Hello, Bob speaking.")
    url = f"/manage/coaching/{first}?person={manager.bob}"
    response = client.post(url, data={f"a{first}-comment": "Good start", "then": "next"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/coaching/{second}?person={manager.bob}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Coaching note sent to Bob Baker." in page
    assert "Hello, Bob speaking." in page and "answer 1 of 1" in page
    assert "Save &amp; next" not in page  # the last one of Bob's: Save only
    # The last one: back to the queue, saying so.
    response = client.post(
        f"/manage/coaching/{second}?person={manager.bob}",
        data={f"a{second}-comment": "Better", "then": "next"},
    )
    assert response.headers["Location"] == f"/manage/coaching?person={manager.bob}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "That was the last answer waiting." in page
    with manager.app.app_context():
        notes = [db.session.get(RolePlayAnswer, n).coach_comment for n in (first, second)]
        assert notes == ["Good start", "Better"]
    # A coached answer's page goes back to the queue.
    assert client.get(f"/manage/coaching/{first}").status_code == 303
    assert client.get(f"/manage/coaching/{manager.cat_answer}").status_code == 404


def test_coaching_errors_are_summed_up_with_a_link_to_the_field(manager, client):
    response = client.post(
        f"/manage/coaching/{manager.ann_answer}",
        data={f"a{manager.ann_answer}-comment": " ", "then": "next"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#a{manager.ann_answer}-comment">Write a coaching note.</a>' in summary
    assert page.index('class="error-summary"') < page.index("<textarea")
    assert f'id="a{manager.ann_answer}-comment"' in page


def test_comment_is_validated(manager, client):
    url = f"/manage/coaching/{manager.ann_answer}"
    field = f"a{manager.ann_answer}-comment"
    response = client.post(url, data={field: "   "})
    assert response.status_code == 400
    assert "Write a coaching note." in response.get_data(as_text=True)
    response = client.post(url, data={field: "x" * 2001})
    assert response.status_code == 400
    assert "Keep it under 2,000 characters." in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    with manager.app.app_context():
        assert db.session.get(RolePlayAnswer, manager.ann_answer).coach_comment is None


def test_comment_reaches_the_learner(manager, client):
    note = "Lovely warm opening. Next time, give the customer your name straight away."
    response = client.post(
        f"/manage/coaching/{manager.ann_answer}", data={f"a{manager.ann_answer}-comment": note}
    )
    assert response.status_code == 303
    queue = client.get("/manage/coaching").get_data(as_text=True)
    assert "Coaching note sent to Ann Archer." in queue
    assert "Thank you for calling, this is Ann." not in queue  # it left the queue
    with manager.app.app_context():
        answer = db.session.get(RolePlayAnswer, manager.ann_answer)
        assert (answer.coach_comment, answer.coached_by_id) == (note, manager.mia)
        assert answer.coached_at is not None
    # A second note on the same answer does not overwrite the first.
    again = client.post(
        f"/manage/coaching/{manager.ann_answer}", data={f"a{manager.ann_answer}-comment": "Other"}
    )
    assert again.status_code == 303
    assert "already left a coaching note" in client.get("/manage/coaching").get_data(as_text=True)
    empty = client.post(
        f"/manage/coaching/{manager.ann_answer}", data={f"a{manager.ann_answer}-comment": ""}
    )
    assert empty.status_code == 303
    assert "already has a coaching note" in client.get("/manage/coaching").get_data(as_text=True)
    person = client.get(f"/manage/people/{manager.ann}").get_data(as_text=True)
    assert note in person

    client.post("/logout")
    login(client, "ann@example.com")
    today = client.get("/").get_data(as_text=True)
    assert "New coaching note" in today and note in today
    assert 'href="/coaching"' in today
    notes = client.get("/coaching").get_data(as_text=True)
    assert note in notes and "Mia Manager" in notes
    assert "Thank you for calling, this is Ann." in notes


def test_old_coaching_notes_leave_today_but_stay_on_the_coaching_page(manager, client):
    with manager.app.app_context():
        mia = db.session.get(User, manager.mia)
        coaching.comment_on(
            db.session,
            mia,
            manager.ann_answer,
            "Old news",
            now=utcnow() - timedelta(days=coaching.NOTE_DAYS + 1),
        )
    client.post("/logout")
    login(client, "ann@example.com")
    assert "New coaching note" not in client.get("/").get_data(as_text=True)
    assert "Old news" in client.get("/coaching").get_data(as_text=True)


def test_learner_coaching_page_shows_only_their_own_notes(manager, client):
    with manager.app.app_context():
        admin = db.session.get(User, manager.admin)
        coaching.comment_on(db.session, admin, manager.cat_answer, "For Cat only")
    client.post("/logout")
    login(client, "ann@example.com")
    page = client.get("/coaching").get_data(as_text=True)
    assert "For Cat only" not in page
    assert "No coaching notes yet." in page


# -- assigning --------------------------------------------------------------------------------


def test_assign_a_lesson_to_a_person(manager, client):
    with manager.app.app_context():
        lesson_id = live_lesson(db.session, EXTRA).id
    page = client.get(f"/manage/assign?person={manager.bob}").get_data(as_text=True)
    assert f'value="person:{manager.bob}" checked><span>Bob Baker' in page
    assert f'value="person:{manager.ann}"><span>Ann Archer' in page
    assert 'type="date"' in page and f'min="{manager.today.isoformat()}"' in page
    assert "year-month-day" not in page  # a date picker needs no typing hint
    due = manager.today + timedelta(days=7)
    response = client.post(
        "/manage/assign",
        data={"what": f"lesson:{lesson_id}", "who": f"person:{manager.bob}", "due_date": due},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/people/{manager.bob}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"to Bob Baker, due {due:%-d %B %Y}" in page
    with manager.app.app_context():
        enrolment = db.session.scalar(
            select(Enrolment).where(
                Enrolment.user_id == manager.bob, Enrolment.lesson_id == lesson_id
            )
        )
        assert (enrolment.due_date, enrolment.assigned_by_id) == (due, manager.mia)


def test_assign_a_path_to_a_whole_team(manager, client):
    with manager.app.app_context():
        path_id = db.session.scalar(
            select(Enrolment.path_id).where(
                Enrolment.user_id == manager.ann, Enrolment.path_id.is_not(None)
            )
        )
    due = manager.today + timedelta(days=14)
    response = client.post(
        "/manage/assign",
        data={"what": f"path:{path_id}", "who": f"team:{manager.north}", "due_date": due},
    )
    assert response.status_code == 303
    assert "2 people" in client.get(response.headers["Location"]).get_data(as_text=True)
    with manager.app.app_context():
        dues = db.session.scalars(
            select(Enrolment.due_date).where(Enrolment.path_id == path_id)
        ).all()
        assert sorted(dues, key=str) == [due, due, None]  # Ann, Bob; Cat's untouched


def test_assign_to_several_people_and_a_team_at_once(manager, client):
    with manager.app.app_context():
        s = db.session
        lesson_id = live_lesson(s, EXTRA).id
        s.execute(Enrolment.__table__.delete().where(Enrolment.lesson_id == lesson_id))
        create_user(s, email="dan@example.com", name="Dan Dell", password=None, team="North branch")
        s.commit()
    page = client.get(f"/manage/assign?person={manager.ann}&person={manager.bob}").get_data(
        as_text=True
    )
    assert page.count(" checked><span>") == 2
    due = manager.today + timedelta(days=3)
    response = client.post(
        "/manage/assign",
        data={
            "what": f"lesson:{lesson_id}",
            "who": [f"person:{manager.ann}", f"person:{manager.bob}"],
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/"
    assert "to 2 people" in client.get("/manage/").get_data(as_text=True)
    # A team and one of its people together: everyone once.
    response = client.post(
        "/manage/assign",
        data={
            "what": f"lesson:{lesson_id}",
            "who": [f"team:{manager.north}", f"person:{manager.bob}"],
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 303
    assert "to 3 people" in client.get("/manage/").get_data(as_text=True)
    with manager.app.app_context():
        assigned = db.session.scalars(
            select(User.name)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.lesson_id == lesson_id)
            .order_by(User.name)
        ).all()
        assert assigned == ["Ann Archer", "Bob Baker", "Dan Dell"]
    # One person out of scope among others: nothing is assigned to anyone.
    with manager.app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Enrolment))
    response = client.post(
        "/manage/assign",
        data={
            "what": f"lesson:{lesson_id}",
            "who": [f"person:{manager.ann}", f"person:{manager.cat}"],
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 400
    assert '<a href="#who">Choose a person or a team from the list.</a>' in response.get_data(
        as_text=True
    )
    with manager.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == before


@pytest.mark.parametrize(
    "data, field_error, errors",
    [
        ({"what": "", "who": "", "due_date": ""}, "Choose a path or a lesson.", 3),
        ({"what": "lesson:99999"}, "Choose a path or a lesson from the list.", 1),
        ({"who": ""}, "Choose a person or a team.", 1),
        ({"due_date": ""}, "Choose a due date", 1),
        ({"due_date": "yesterday"}, "Choose a due date", 1),
        ({"due_date": "past"}, "The due date cannot be in the past.", 1),
    ],
)
def test_assign_shows_field_errors(manager, client, data, field_error, errors):
    with manager.app.app_context():
        lesson_id = live_lesson(db.session, EXTRA).id
        before = db.session.scalar(select(func.count()).select_from(Enrolment))
    form = {
        "what": f"lesson:{lesson_id}",
        "who": f"person:{manager.bob}",
        "due_date": (manager.today + timedelta(1)).isoformat(),
    }
    form.update(data)
    if form["due_date"] == "past":
        form["due_date"] = (manager.today - timedelta(1)).isoformat()
    response = client.post("/manage/assign", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_error in page
    assert page.count('class="field-error"') == errors
    with manager.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == before
