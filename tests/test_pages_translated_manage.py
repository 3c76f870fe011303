"""The manager's and the admin's pages in the pseudo-language: every word they read comes from a
translated string. People, teams and the starter library's content are marked here too (as data
is marked in tests/test_pages_translated.py), so only bare English from the code is left.

And a CSV export comes out in the language of the manager who asks for it.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import sync_starter_library
from tests.conversation_support import play_lessons_conversation
from tests.pseudo_locale import PSEUDO, marked, unmarked
from tests.test_pages_translated import (  # noqa: F401  (fixtures)
    PASSWORD,
    TEAM,
    main_text,
    pseudo,
    pseudo_catalog,
    world,
)
from trainer.admin.invites import send_invitation
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
from trainer.manage import coaching, observations, team
from trainer.models import (
    Conversation,
    JobRole,
    Lesson,
    ObservationChecklist,
    Path,
    QuizItem,
    Refresher,
    RolePlay,
    User,
    utcnow,
)
from trainer.notify import nudges
from trainer.people.services import create_user
from trainer.people.zones import timezone_names
from trainer.review.planning import local_date

FIRST = "teller-greeting-at-the-counter"
SECOND = "phone-greeting-first-seconds"
EXTRA = "wrong-dish-recovery"  # not on the teller path
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
# Dates and times as Babel writes them for the pseudo-language (English): data, not words.
DATES = re.compile(rf"\d{{1,2}} {MONTH}(?: \d{{4}})?(?:, \d\d:\d\d)?")
EMAILS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


# -- the content, marked ------------------------------------------------------------------------


def _mark_node(node: dict) -> dict:
    node = dict(node)
    for key in ("customer", "cue"):
        if node.get(key):
            node[key] = marked(node[key])
    node["choices"] = [
        {**line, "say": marked(line["say"]), "feedback": marked(line.get("feedback", ""))}
        for line in node.get("choices") or []
    ]
    return node


def mark_content(session) -> None:
    """Every content text a manager or admin page shows, as a translation would give it."""
    for lesson in session.scalars(select(Lesson)):
        lesson.title, lesson.skill = marked(lesson.title), marked(lesson.skill)
    for path in session.scalars(select(Path)):
        path.title = marked(path.title)
    for job in session.scalars(select(JobRole)):
        job.name = marked(job.name)
    for item in session.scalars(select(QuizItem)):
        item.prompt = marked(item.prompt)
        if item.type != "truefalse":  # True and False are the platform's words: translated
            item.choices = [{**c, "text": marked(c["text"])} for c in item.choices]
    for rp in session.scalars(select(RolePlay)):
        # Short enough that no page cuts it (and its closing mark) off.
        rp.situation, rp.customer = marked(rp.situation[:60]), marked(rp.customer)
        rp.model_answer = marked(rp.model_answer)
        rp.rubric = [marked(point) for point in rp.rubric]
    for talk in session.scalars(select(Conversation)):
        talk.title, talk.skill = marked(talk.title), marked(talk.skill)
        talk.nodes = {key: _mark_node(node) for key, node in talk.nodes.items()}
    observations.ensure_builtin_checklists(session)
    for checklist in session.scalars(select(ObservationChecklist)):
        checklist.title, checklist.skill = marked(checklist.title), marked(checklist.skill)
        checklist.points = [marked(point) for point in checklist.points]
    session.commit()


# -- the people ---------------------------------------------------------------------------------


def right_choices(item: QuizItem) -> list[int]:
    if item.type == "multiple":
        return [i for i, c in enumerate(item.choices) if c["weight"] > 0]
    best = max(c["weight"] for c in item.choices)
    return [next(i for i, c in enumerate(item.choices) if c["weight"] == best)]


def wrong_choice(item: QuizItem) -> list[int]:
    worst = min(c["weight"] for c in item.choices)
    return [next(i for i, c in enumerate(item.choices) if c["weight"] == worst)]


def finish_lesson(session, user: User, key: str) -> None:
    lesson = live_lesson(session, key)
    for item in lesson.quiz.live_items:
        record_answer(session, user, lesson, item, right_choices(item), uuid.uuid4().hex, 5)
    for rp in lesson.live_roleplays:
        answer = record_roleplay(session, user, lesson, rp, marked("Welcome in!"), uuid.uuid4().hex)
        tick_rubric(session, answer, [0])
    if lesson.live_conversation is not None:
        play_lessons_conversation(session, user, lesson)
    assert complete_run(session, open_run(session, user, lesson))


def person(session, name: str, email: str, **fields) -> User:
    first, last = name.split()
    return create_user(
        session,
        email=email,
        name=f"{marked(first)} {marked(last)}",
        password=PASSWORD,
        **fields,
    )


@pytest.fixture
def office(world):  # noqa: F811  (the fixture imported above)
    """The pseudo world with the starter library (marked), and Maria's team in every state:
    Ana far along and overdue, coached and observed; Ben just started, with a wrong answer, a
    weak conversation and a role-play waiting, reminded today; Cy waiting for a note too; Dee
    waiting for approval; Eve switched off. Ada is an admin."""
    app = world.app
    sync_starter_library(app)
    with app.app_context():
        s = db.session
        mark_content(s)
        today = local_date("Europe/London", utcnow())
        maria = s.scalar(select(User).where(User.email == "maria@example.com"))
        ada = person(s, "Ada Admin", "ada@example.com", role="admin")
        teller = dict(job_role="teller", team=TEAM)
        ana = person(s, "Ana Ruiz", "ana@example.com", hire_date=today - timedelta(40), **teller)
        ben = person(s, "Ben Lee", "ben@example.com", hire_date=today - timedelta(2), **teller)
        cy = person(s, "Cy Cole", "cy@example.com", hire_date=today - timedelta(2), **teller)
        dee = person(s, "Dee Dale", "dee@example.com", **teller)
        dee.awaiting_approval = True
        eve = person(s, "Eve Elm", "eve@example.com", **teller)
        eve.active = False
        ben.language = PSEUDO  # the reminder Maria sends him is written in it
        s.commit()

        finish_lesson(s, ana, FIRST)
        assign(s, maria, [ana], lesson=live_lesson(s, EXTRA), due_date=today - timedelta(1))
        for days_ago, done in ((1, True), (2, False), (3, False), (4, False)):
            at = utcnow() - timedelta(days=days_ago)
            s.add(
                Refresher(
                    user_id=ana.id,
                    local_date=today - timedelta(days_ago),
                    kind="daily",
                    round=0,
                    item_ids=[s.scalar(select(QuizItem.id).limit(1))],
                    budget_seconds=300,
                    planned_at=at,
                    completed_at=at if done else None,
                )
            )
        s.commit()
        coached = s.scalars(coaching.waiting_for_comment(s, maria)).first()
        coaching.comment_on(s, maria, coached.id, marked("Lovely warm start."))
        checklist = s.scalars(select(ObservationChecklist)).first()
        observations.record_observation(
            s, maria, ana, checklist, seen=[0], grade="B", note=marked("Good eye contact."),
            channel="floor", token=uuid.uuid4().hex,
        )  # fmt: skip

        lesson = live_lesson(s, FIRST)
        item = lesson.quiz.live_items[0]
        for learner in (ben, cy):
            record_answer(s, learner, lesson, item, wrong_choice(item), uuid.uuid4().hex, 5)
        play_lessons_conversation(s, ben, lesson, best=False)
        waiting = {}
        for learner, tick in ((ben, None), (cy, [0])):
            answer = record_roleplay(
                s, learner, lesson, lesson.live_roleplays[0], marked("Hi there."), uuid.uuid4().hex
            )
            if tick is not None:
                tick_rubric(s, answer, tick)
            waiting[learner.name] = answer.id
        s.commit()
        assert nudges.remind(s, maria, ben) == "sent"
        return SimpleNamespace(
            **vars(world),
            today=today,
            team=maria.managed_teams[0].id,
            ana=ana.id,
            ben=ben.id,
            eve=eve.id,
            ada=ada.id,
            ben_answer=waiting[ben.name],
        )


def signed_in(app, email: str):
    client = pseudo(app.test_client())
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def words_left(page, *allowed: str) -> list[str]:
    text = main_text(page.get_data(as_text=True))
    # Data first: a mail's source may hold marked words inside its markup.
    for value in sorted([*allowed, *DATES.findall(text), *EMAILS.findall(text)], key=len)[::-1]:
        text = text.replace(value, " ") if value else text
    return unmarked(text, "Frontline Trainer")


def assert_all_marked(page, *allowed: str, status: int = 200) -> None:
    assert page.status_code == status, page.request.path
    words = words_left(page, *allowed)
    assert words == [], f"{page.request.path}: bare words {words}"


# -- the manager's pages --------------------------------------------------------------------------


def test_the_team_page_in_every_state_is_all_translated(office):
    client = signed_in(office.app, "maria@example.com")
    page = client.get("/manage/")
    html = page.get_data(as_text=True)
    # The states are all there: waiting for approval, needs attention, reminded, the chart.
    for part in ('id="waiting-title"', 'class="attention-list"', 'class="nudge small"', "<svg"):
        assert part in html, part
    assert_all_marked(page)
    for query in ("?status=overdue&sort=overdue&dir=desc", "?q=nobody", f"?team={office.team}"):
        assert_all_marked(client.get("/manage/" + query))


def test_the_person_page_is_all_translated(office):
    client = signed_in(office.app, "maria@example.com")
    page = client.get(f"/manage/people/{office.ana}")
    html = page.get_data(as_text=True)
    for part in ('class="grade"', 'class="coach-note"', 'class="attempts"', 'class="path"'):
        assert part in html, part
    assert_all_marked(page)
    assert_all_marked(client.get(f"/manage/people/{office.ben}"))  # weak lines, in progress
    assert_all_marked(client.get(f"/manage/people/{office.eve}"))  # switched off, no path


def test_the_insight_pages_are_all_translated(office):
    client = signed_in(office.app, "maria@example.com")
    for url in ("/manage/skills", "/manage/skills?when=30", "/manage/questions"):
        page = client.get(url)
        assert_all_marked(page)
    questions = client.get("/manage/questions").get_data(as_text=True)
    assert 'class="wrong-choices"' in questions and 'id="weak-turns"' in questions


def test_coaching_and_assigning_are_all_translated(office):
    client = signed_in(office.app, "maria@example.com")
    assert_all_marked(client.get("/manage/coaching"))
    assert_all_marked(client.get("/manage/coaching?age=7"))  # nothing matches
    answer = f"/manage/coaching/{office.ben_answer}"
    assert_all_marked(client.get(answer))
    empty = client.post(answer, data={f"a{office.ben_answer}-comment": " "})
    assert 'class="error-summary"' in empty.get_data(as_text=True)
    assert_all_marked(empty, status=400)

    assert_all_marked(client.get(f"/manage/assign?person={office.ana}"))
    wrong = client.post("/manage/assign", data={"what": "", "due_date": "2001-01-01"})
    assert_all_marked(wrong, status=400)


def test_observing_is_all_translated(office):
    client = signed_in(office.app, "maria@example.com")
    assert_all_marked(client.get("/manage/observe"))
    assert_all_marked(client.get(f"/manage/observe?person={office.ana}&checklist="))
    with office.app.app_context():
        checklist = db.session.scalars(select(ObservationChecklist)).first().id
    page = client.get(f"/manage/observe?person={office.ana}&checklist={checklist}")
    assert_all_marked(page)
    assert_all_marked(client.get(f"/manage/observe?person={office.ana}&all=1"))
    token = re.search(r'name="token" type="hidden" value="(\w+)"', page.get_data(as_text=True))
    wrong = client.post(
        "/manage/observe",
        data={"person": office.ana, "checklist": checklist, "token": token.group(1)},
    )
    assert_all_marked(wrong, status=400)


# -- the admin's pages ----------------------------------------------------------------------------


def zones_and_languages() -> list[str]:
    """The choices of the person form that are names, not words: time zones (as the tz
    database spells them) and each language in its own name."""
    zones = [name.replace("_", " ") for name in timezone_names()]
    return [*zones, "UTC", "English", "Español", "Polski", "Pseudo"]


def test_the_people_pages_are_all_translated(office):
    client = signed_in(office.app, "ada@example.com")
    names = zones_and_languages()
    assert_all_marked(client.get("/admin/"))
    for query in ("", "?status=all", "?status=inactive", "?q=nobody"):
        assert_all_marked(client.get("/admin/people" + query))
    assert_all_marked(client.get("/admin/people/new"), *names)
    taken = client.post(
        "/admin/people/new",
        data={"name": marked("Ana Again"), "email": "ana@example.com", "role": "learner",
              "job_role": "", "team": "", "timezone": "Europe/London", "reminder_time": "18:00"},
    )  # fmt: skip
    assert 'id="email-error"' in taken.get_data(as_text=True)
    assert_all_marked(taken, *names, status=400)

    added = client.post(
        "/admin/people/new",
        data={"name": f"{marked('Flo')} {marked('Ford')}", "email": "flo@example.com",
              "role": "learner", "job_role": "teller", "team": "", "timezone": "Europe/London",
              "reminder_time": "18:00"},
    )  # fmt: skip
    assert added.status_code == 303
    edit = client.get(added.headers["Location"])
    assert_all_marked(edit, *names)
    assert_all_marked(client.get(f"/admin/people/{office.eve}/edit"), *names)


def test_the_team_pages_are_all_translated(office):
    client = signed_in(office.app, "ada@example.com")
    assert_all_marked(client.get("/admin/teams"))
    assert_all_marked(client.post("/admin/teams", data={"name": TEAM}), status=400)
    assert_all_marked(client.get(f"/admin/teams/{office.team}"), "maria@example.com")
    refused = client.post(f"/admin/teams/{office.team}/delete", data={})
    assert_all_marked(refused, "maria@example.com", status=400)


def test_the_import_pages_are_all_translated(office):
    client = signed_in(office.app, "ada@example.com")
    page = client.get("/admin/people/import")
    # The file's own words (its column names and values, the example rows) stay as they are.
    example = re.search(r'<pre class="mail-body">(.*?)</pre>', page.get_data(as_text=True), re.S)
    contract = ["email", "employee_number", "phone", "name", "role", "job_role", "team",
                "hire_date", "timezone", "reminder_time", "language", "learner", "manager",
                "admin", "teller", "wait-staff", "contact-centre", "Europe/London", "YYYY-MM-DD",
                "HH:MM", "Español", "Polski", "English", "Pseudo", "GB", "CSV", "UTF-8",
                "Excel"]  # fmt: skip
    assert_all_marked(page, example.group(1), *contract)

    body = (
        "email,name,role,job_role,team,hire_date,timezone,reminder_time\n"
        "gil@example.com,Gil Good,,teller,,,,\n"
        "hal@example.com,Hal Bad,boss,pilot,,31/12/2024,Mars/Base,25:00\n"
    )
    preview = client.post(
        "/admin/people/import",
        data={"file": (io.BytesIO(body.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert 'class="bad-row"' in html
    data = ["gil@example.com", "hal@example.com", "Gil Good", "Hal Bad", "boss", "pilot",
            "31/12/2024", "Mars/Base", "25:00", "teller", "Europe/London", "learner", "admin",
            "manager", "wait-staff", "contact-centre", "YYYY-MM-DD", "HH:MM"]  # fmt: skip
    assert_all_marked(preview, *data)

    wrong = client.post(
        "/admin/people/import",
        data={"file": (io.BytesIO(b"shoe_size\n9\n"), "people.csv")},
        content_type="multipart/form-data",
    )
    assert_all_marked(wrong, example.group(1), *contract, "shoe_size", status=400)


def test_the_outbox_and_checklists_are_all_translated(office):
    client = signed_in(office.app, "ada@example.com")
    with office.app.app_context():
        # Her invitation is written in her language: the pseudo-language.
        ivy = person(db.session, "Ivy Ito", "ivy@example.com", language=PSEUDO)
        send_invitation(db.session, ivy)
        db.session.commit()
    outbox = client.get("/admin/outbox")
    assert_all_marked(outbox, "ivy@example.com", "ben@example.com", "MAIL_SERVER", "VAPID",
                      "SMS_URL")  # fmt: skip
    number = re.search(r'href="/admin/outbox/(\d+)"', outbox.get_data(as_text=True)).group(1)
    with office.app.app_context():
        from trainer.models import OutboxMessage

        message = db.session.get(OutboxMessage, int(number))
        html, sender = message.html or "", office.app.config["MAIL_DEFAULT_SENDER"]
    shown = client.get(f"/admin/outbox/{number}")
    message_id = re.search(r"<code>(.*?)</code>", shown.get_data(as_text=True)).group(1)
    assert_all_marked(shown, "ivy@example.com", html, sender, message_id.replace("&lt;", "<")
                      .replace("&gt;", ">"), "HTML")  # fmt: skip

    assert_all_marked(client.get("/admin/checklists"))
    wrong = client.post("/admin/checklists", data={"title": "", "key": "Bad Key!"})
    assert_all_marked(wrong, status=400)


# -- exports --------------------------------------------------------------------------------------


def test_a_spanish_speaking_manager_downloads_the_team_in_spanish(office):
    with office.app.app_context():
        maria = db.session.scalar(select(User).where(User.email == "maria@example.com"))
        maria.language = "es"
        db.session.commit()
    client = office.app.test_client()
    response = client.post("/login", data={"email": "maria@example.com", "password": PASSWORD})
    assert response.status_code == 302
    export = client.get("/manage/team.csv")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    with office.app.test_request_context(), force_locale("es"):
        spanish = [str(label) for _key, label in team.COLUMNS]
    english = [str(label) for _key, label in team.COLUMNS]
    assert rows[0] == spanish != english
    assert rows[0][:3] == ["Nombre", "Equipo", "Progreso del itinerario"]
    # The cells in words are Spanish too: someone with no path, and no activity yet.
    jo = next(row for row in rows if "Jo" in row[0])
    assert jo[2] == "sin itinerario" and jo[4] == "nunca"
