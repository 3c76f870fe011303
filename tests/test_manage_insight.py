"""The manager's insight pages: the skill grid, the questions missed most, observations."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import pytest
from markupsafe import escape
from sqlalchemy import event, func, select

from tests.conftest import form_token, sync_starter_library
from trainer.extensions import db
from trainer.learn import services as learn
from trainer.manage import insight, observations
from trainer.models import (
    Attempt,
    Lesson,
    Observation,
    ObservationChecklist,
    QuizItem,
    ReviewCard,
    User,
    utcnow,
)
from trainer.people.services import create_user, get_or_create_team
from trainer.review.fsrs_cards import scheduler, to_fsrs

PASSWORD = "correct horse"
GREETING = "teller-greeting-at-the-counter"  # skill first-impression
PHONE = "phone-greeting-first-seconds"  # skill phone-greeting
RED_CARPET = "teller-red-carpet-service"  # skill red-carpet


@dataclass
class World:
    manager: int
    ana: int  # first team, right answers an hour ago: strong
    ben: int  # first team, wrong answers 40 days ago: weak
    cy: int  # first team
    zoe: int  # the other team: never visible to the manager
    team: int
    other_team: int


def choice_indexes(item: QuizItem, right: bool, wrong_pick: int = 0) -> list[int]:
    weights = [c["weight"] for c in item.choices]
    if right:
        if item.type == "multiple":
            return [i for i, w in enumerate(weights) if w > 0]
        return [weights.index(max(weights))]
    wrong = [i for i, w in enumerate(weights) if w <= 0]
    return [wrong[wrong_pick % len(wrong)]]


def answer(user_id: int, lesson_key: str, right, when, wrong_pick=0, only: int | None = None):
    """Answer a lesson's items (or just item `only`); `right` is a bool or a per-item list."""
    session = db.session
    user = session.get(User, user_id)
    lesson = session.scalar(select(Lesson).where(Lesson.key == lesson_key))
    for n, item in enumerate(lesson.quiz.live_items):
        if only is not None and n != only:
            continue
        is_right = right[n] if isinstance(right, list) else right
        learn.record_answer(
            session,
            user,
            lesson,
            item,
            choice_indexes(item, is_right, wrong_pick),
            uuid.uuid4().hex,
            12.0,
            answered_at=when + timedelta(seconds=30 * n),
        )


def person(email, name, team=None, password=None, role="learner", job_role="teller") -> int:
    user = create_user(
        db.session,
        email=email,
        name=name,
        password=password,
        role=role,
        job_role=job_role if role == "learner" else None,
        team=team,
    )
    db.session.commit()
    return user.id


def build_world(app) -> World:
    sync_starter_library(app)
    with app.app_context():
        now = utcnow()
        manager_id = person("maria@example.com", "Maria Lopez", password=PASSWORD, role="manager")
        team = get_or_create_team(db.session, "Riverside")
        other = get_or_create_team(db.session, "Copper Pot")
        manager = db.session.get(User, manager_id)
        manager.managed_teams.append(team)
        db.session.commit()
        ana = person("ana@example.com", "Ana <b>Souza</b>", "Riverside", password=PASSWORD)
        ben = person("ben@example.com", "Ben Okafor", "Riverside")
        cy = person("cy@example.com", "Cy Park", "Riverside")
        zoe = person("zoe@example.com", "Zoe Outsider", "Copper Pot")
        answer(ana, GREETING, True, now - timedelta(hours=1))
        answer(ana, PHONE, True, now - timedelta(days=2))
        answer(ben, GREETING, False, now - timedelta(days=40))
        answer(ben, RED_CARPET, False, now - timedelta(days=3), only=0)
        # Item 0 of the greeting quiz: Cy gets it wrong too, with the same wrong choice as Ben.
        answer(cy, GREETING, [False, True, True, True, True], now - timedelta(days=5))
        answer(ana, RED_CARPET, True, now - timedelta(days=3), only=0)
        # Another team picks a different wrong choice: it must never be counted.
        answer(zoe, GREETING, False, now - timedelta(days=1), wrong_pick=1)
        return World(manager_id, ana, ben, cy, zoe, team.id, other.id)


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def log_in(client, email="maria@example.com"):
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


def row_of(html: str, name: str) -> str:
    """The table row that holds `name`."""
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)
    found = [row for row in rows if name in row]
    assert found, f"no row for {name}"
    return found[0]


def cell(row: str, skill: str) -> tuple[str, str]:
    """(class, text) of the row's cell of a skill."""
    match = re.search(
        rf'<td class="recall ([^"]+)" data-skill="{skill}"[^>]*>(.*?)</td>', row, re.S
    )
    assert match, f"no {skill} cell"
    return match.group(1), re.sub(r"<[^>]+>", " ", match.group(2))


def percent(text: str) -> int:
    return int(re.search(r"(\d+)%", text).group(1))


# -- the skill grid -------------------------------------------------------------------------


def expected_recall(user_id: int, skill: str, at) -> float:
    """Mean retrievability straight from fsrs, over the person's cards of the skill's items."""
    sched = scheduler()
    values = []
    for card in db.session.scalars(select(ReviewCard).where(ReviewCard.user_id == user_id)):
        item = db.session.get(QuizItem, card.item_id)
        skills = db.session.scalars(select(Lesson.skill).where(Lesson.quiz_id == item.quiz_id))
        if skill in set(skills):
            values.append(sched.get_card_retrievability(to_fsrs(card), current_datetime=at))
    assert values
    return sum(values) / len(values)


def test_grid_values_equal_the_mean_retrievability(app, world):
    now = utcnow()
    later = now + timedelta(days=30)
    with app.app_context():
        from trainer.review.fsrs_cards import aware

        grid = insight.skill_grid(
            db.session, select(User).where(User.team_id == world.team), now=now
        )
        rows = {row.person.id: row for row in grid.rows}
        for user_id, skill in ((world.ana, "first-impression"), (world.ben, "first-impression"),
                               (world.ana, "phone-greeting")):  # fmt: skip
            got = rows[user_id].cell(skill)
            assert got.now == pytest.approx(expected_recall(user_id, skill, aware(now)), abs=1e-9)
            assert got.later == pytest.approx(
                expected_recall(user_id, skill, aware(later)), abs=1e-9
            )
            assert got.items == 5  # the lesson's five items
        # The team average is the mean of the people who have cards on the skill.
        people = [rows[i].cell("first-impression").now for i in (world.ana, world.ben, world.cy)]
        average = grid.average_cell("first-impression").now
        assert average == pytest.approx(sum(people) / 3)
        assert [s for s in grid.skills] == ["first-impression", "phone-greeting", "red-carpet"]
        assert world.zoe not in rows
        expected_ana = round(100 * expected_recall(world.ana, "first-impression", aware(now)))

    client = app.test_client()
    log_in(client)
    html = client.get("/manage/skills").get_data(as_text=True)
    css, text = cell(row_of(html, "Ana &lt;b&gt;Souza&lt;/b&gt;"), "first-impression")
    assert percent(text) == expected_ana
    assert "Ana <b>Souza</b>" not in html  # names are escaped, in the table and the chart
    assert "Team average" in row_of(html, "Team average")


def test_weak_cells_stand_out_and_30_days_is_lower(app, world):
    client = app.test_client()
    log_in(client)
    today = client.get("/manage/skills").get_data(as_text=True)
    ana_class, ana_text = cell(row_of(today, "Souza"), "first-impression")
    ben_class, ben_text = cell(row_of(today, "Ben Okafor"), "first-impression")
    assert ana_class == "recall-strong" and percent(ana_text) >= 80
    assert ben_class == "recall-weak" and percent(ben_text) < 60
    assert "!" in ben_text and "weak" in ben_text  # not colour alone
    assert cell(row_of(today, "Cy Park"), "phone-greeting")[0] == "recall-none"
    assert 'role="img"' in today and "heat-grid" in today  # the chart of the same figures
    assert "Ben Okafor: First impression" in today  # ... described in words

    later = client.get("/manage/skills?when=30").get_data(as_text=True)
    assert 'aria-current="page">In 30 days' in later
    for name in ("Souza", "Ben Okafor", "Cy Park"):
        for skill in ("first-impression",):
            assert percent(cell(row_of(later, name), skill)[1]) < percent(
                cell(row_of(today, name), skill)[1]
            )

    with app.app_context():
        grid = insight.skill_grid(db.session, select(User).where(User.team_id == world.team))
        for row in grid.rows:
            for c in row.cells.values():
                if c.now is not None:
                    assert c.later < c.now


def test_names_link_to_the_person_page(app, world):
    client = app.test_client()
    log_in(client)
    html = client.get("/manage/skills").get_data(as_text=True)
    assert f'href="/manage/people/{world.ben}">Ben Okafor</a>' in html


def test_other_teams_are_never_shown(app, world):
    client = app.test_client()
    log_in(client)
    for url in ("/manage/skills", "/manage/skills?when=30", "/manage/questions",
                "/manage/questions?days=365", "/manage/observe"):  # fmt: skip
        html = client.get(url).get_data(as_text=True)
        assert "Zoe" not in html and "Copper Pot" not in html, url
    for url in (
        f"/manage/skills?team={world.other_team}",
        f"/manage/questions?team={world.other_team}",
        f"/manage/observe?person={world.zoe}",
        "/manage/skills?team=9999",
    ):
        assert client.get(url).status_code == 404, url


def test_an_admin_sees_any_team(app, world):
    with app.app_context():
        person("root@example.com", "Alex Admin", password=PASSWORD, role="admin")
    client = app.test_client()
    log_in(client, "root@example.com")
    html = client.get(f"/manage/skills?team={world.other_team}").get_data(as_text=True)
    assert "Zoe Outsider" in html and "Ben Okafor" not in html
    assert '<select id="team" name="team">' in html  # two teams to choose from


def test_observation_grade_shows_in_the_grid(app, world):
    with app.app_context():
        observations.ensure_builtin_checklists(db.session)
        checklist = db.session.scalar(
            select(ObservationChecklist).where(ObservationChecklist.key == "service-recovery")
        )
        manager = db.session.get(User, world.manager)
        ben = db.session.get(User, world.ben)
        for grade, token in (("D", "t1"), ("B", "t2")):
            observations.record_observation(
                db.session, manager, ben, checklist, [0], grade, "", "floor", token
            )
        first = db.session.scalar(select(Observation).where(Observation.token == "t1"))
        first.observed_at -= timedelta(days=3)
        db.session.commit()
    client = app.test_client()
    log_in(client)
    html = client.get("/manage/skills").get_data(as_text=True)
    css, text = cell(row_of(html, "Ben Okafor"), "service-recovery")
    assert css == "recall-none"  # observed, but no quiz answers on the skill
    assert re.search(r"latest observation: grade\s+B", text)
    assert "grade D" not in text


# -- the questions missed most ----------------------------------------------------------------


def test_the_most_missed_question_comes_first_with_its_wrong_choices(app, world):
    client = app.test_client()
    log_in(client)
    html = client.get("/manage/questions").get_data(as_text=True)
    items = re.findall(r'<li class="card" id="item-(\d+)">(.*?)</li>\s*(?=<li|</ol>)', html, re.S)
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == GREETING))
        quiz = lesson.quiz.live_items
        first = quiz[0]
        wrong_text = first.choices[choice_indexes(first, False)[0]]["text"]
        zoe_text = first.choices[choice_indexes(first, False, wrong_pick=1)[0]]["text"]
        assert int(items[0][0]) == first.id  # 2 of 3 wrong: Ben and Cy
        assert {int(i) for i, _ in items} == {item.id for item in quiz}  # 1 of 3 wrong each
        red_carpet = db.session.scalar(select(Lesson).where(Lesson.key == RED_CARPET))
        assert red_carpet.quiz.live_items[0].id not in {int(i) for i, _ in items}  # 2 answers
    top = items[0][1]
    assert "67% wrong" in top and "2 of 3 answers" in top
    assert "The first ten seconds at the counter" in top
    rows = re.findall(r"<td>(.*?)</td>\s*<td class=\"times\">(\d+)</td>", top, re.S)
    assert [(unescape(re.sub(r"<[^>]+>", "", t)).strip(), int(n)) for t, n in rows] == [
        (wrong_text, 2)
    ]
    assert str(escape(zoe_text)) not in top  # the other team's pick


def test_the_window_and_the_attempts_threshold(app, world):
    client = app.test_client()
    log_in(client)
    # In the last 30 days Ben's answers (40 days ago) drop out: only 2 answers per item remain.
    html = client.get("/manage/questions?days=30").get_data(as_text=True)
    assert 'aria-current="page">Last 30 days' in html
    assert 'class="card"' not in html
    assert "No question has been answered wrong" in html
    # An unknown window falls back to 90 days.
    assert 'aria-current="page">Last 90 days' in client.get("/manage/questions?days=7").get_data(
        as_text=True
    )


def test_questions_are_paginated(app, world):
    with app.app_context():
        people = select(User).where(User.team_id == world.team)
        since = utcnow() - timedelta(days=90)
        everything = insight.missed_questions(db.session, people, since)
        assert everything.total == 5 and everything.pages == 1
        page2 = insight.missed_questions(db.session, people, since, page=2, per_page=2)
        assert page2.pages == 3 and page2.has_prev and page2.has_next
        assert [q.item.id for q in page2.items] == [q.item.id for q in everything.items[2:4]]
        beyond = insight.missed_questions(db.session, people, since, page=99, per_page=2)
        assert beyond.page == 3 and len(beyond.items) == 1
    client = app.test_client()
    log_in(client)
    assert client.get("/manage/questions?page=abc").status_code == 200


def test_a_multiple_choice_item_missing_a_right_answer_is_named(app, world):
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == GREETING))
        item = lesson.quiz.live_items[1]
        assert item.type == "multiple"
        right = [i for i, c in enumerate(item.choices) if c["weight"] > 0]
        dee = person("dee@example.com", "Dee", "Riverside")
        eve = person("eve@example.com", "Eve", "Riverside")
        for user_id in (dee, eve):  # ticked one right answer of three, and nothing wrong
            learn.record_answer(
                db.session, db.session.get(User, user_id), lesson, item, right[:1],
                uuid.uuid4().hex, 10.0,
            )  # fmt: skip
        page = insight.missed_questions(
            db.session, select(User).where(User.team_id == world.team), utcnow() - timedelta(1)
        )
        found = next(q for q in page.items if q.item.id == item.id)
        assert (None, 2) in found.wrong_choices


def test_answers_in_a_format_of_their_own_show_in_it_on_the_questions_page(app, world):
    # As a GIFT answer `~[html]Finish <b>counting</b> first` in a markdown item is synced.
    html_text = "Finish <b>counting</b> first"
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == GREETING))
        first = lesson.quiz.live_items[0]
        wrong = choice_indexes(first, False)[0]
        right = choice_indexes(first, True)[0]
        old_text = first.choices[wrong]["text"]
        choices = [dict(c) for c in first.choices]
        choices[wrong].update(text=html_text, format="html")
        choices[right].update(text=f"Look up *and* smile. {choices[right]['text']}")
        first.choices = choices
        for attempt in db.session.scalars(select(Attempt).where(Attempt.item_id == first.id)):
            attempt.chosen_text = [html_text if t == old_text else t for t in attempt.chosen_text]
        db.session.commit()
    client = app.test_client()
    log_in(client)

    html = client.get("/manage/questions").get_data(as_text=True)

    assert f"<td>{html_text}</td>" in html
    assert "Look up <em>and</em> smile" in html  # the item's own format, markdown


# -- observations ---------------------------------------------------------------------------


def checklist_id(app, key: str) -> int:
    with app.app_context():
        observations.ensure_builtin_checklists(db.session)
        return db.session.scalar(
            select(ObservationChecklist.id).where(ObservationChecklist.key == key)
        )


def checklist_options(html: str) -> list[str]:
    select_ = html.split('id="checklist"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option[^>]*>([^<]+)</option>", select_)[1:]


def test_observation_checklists_are_those_of_the_persons_job_role(app, world):
    checklist_id(app, "phone-greeting")
    with app.app_context():
        wait = person("wes@example.com", "Wes Waiter", "Riverside", job_role="wait-staff")
        rep = person("ria@example.com", "Ria Rep", "Riverside", job_role="contact-centre")
        nobody = person("nia@example.com", "Nia New", "Riverside", job_role=None)
    client = app.test_client()
    log_in(client)
    every = checklist_options(client.get("/manage/observe").get_data(as_text=True))
    assert every == [
        "A collections call",
        "Answering the phone",
        "Greeting at the counter or table",
        "Putting a problem right",
    ]
    page = client.get(f"/manage/observe?person={wait}").get_data(as_text=True)
    assert checklist_options(page) == [
        "Answering the phone",
        "Greeting at the counter or table",
        "Putting a problem right",
    ]
    assert "Checklists that fit Wes's job role (Wait staff)." in page
    assert f'href="/manage/observe?person={wait}&amp;all=1">Show every checklist' in page
    assert (
        checklist_options(client.get(f"/manage/observe?person={wait}&all=1").get_data(as_text=True))
        == every
    )
    rep_page = client.get(f"/manage/observe?person={rep}").get_data(as_text=True)
    assert "Greeting at the counter or table" not in checklist_options(rep_page)
    assert "A collections call" in checklist_options(rep_page)
    assert (
        checklist_options(client.get(f"/manage/observe?person={nobody}").get_data(as_text=True))
        == every
    )
    # A checklist chosen from a link stays on offer even when it is not the role's.
    counter = checklist_id(app, "counter-or-table-greeting")
    chosen = client.get(f"/manage/observe?person={rep}&checklist={counter}")
    assert "Greeting at the counter or table" in checklist_options(chosen.get_data(as_text=True))


def test_an_observation_is_recorded_once_with_its_points_and_grade(app, world):
    phone = checklist_id(app, "phone-greeting")
    client = app.test_client()
    log_in(client)
    page = client.get(f"/manage/observe?person={world.ana}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<option selected value="{world.ana}">' in html
    assert 'name="seen"' not in html  # no checklist chosen yet: no points to tick
    assert 'role="alert"' not in html  # preselected from the person page: nothing wrong yet
    incomplete = client.get(f"/manage/observe?person={world.ana}&checklist=")
    assert "Choose a person and a checklist." in incomplete.get_data(as_text=True)

    page = client.get(f"/manage/observe?person={world.ana}&checklist={phone}")
    html = page.get_data(as_text=True)
    assert "Said the company and their own name" in html
    assert 'checked id="channel-1" name="channel" type="radio" value="phone"' in html
    token = form_token(html)
    data = {
        "person": world.ana,
        "checklist": phone,
        "seen": ["0", "2"],
        "grade": "B",
        "channel": "phone",
        "note": "Warm and quick.",
        "token": token,
    }
    first = client.post("/manage/observe", data=data)
    assert first.status_code == 303
    assert first.headers["Location"] == f"/manage/people/{world.ana}"
    with client.session_transaction() as session:
        assert ("success", "Observation recorded") in session["_flashes"]
    again = client.post("/manage/observe", data=data)  # a double submit
    assert again.status_code == 303

    with app.app_context():
        saved = db.session.scalars(select(Observation)).all()
        assert len(saved) == 1
        obs = saved[0]
        points = db.session.get(ObservationChecklist, phone).points
        assert obs.seen == [points[0], points[2]]
        assert obs.points == points
        assert (obs.grade, obs.channel, obs.note) == ("B", "phone", "Warm and quick.")
        assert (obs.user_id, obs.observer_id) == (world.ana, world.manager)

    html = client.get("/manage/skills").get_data(as_text=True)
    _css, text = cell(row_of(html, "Souza"), "phone-greeting")
    assert re.search(r"latest observation: grade\s+B", text)


def test_observation_form_errors_keep_what_was_ticked(app, world):
    phone = checklist_id(app, "phone-greeting")
    client = app.test_client()
    log_in(client)
    html = client.get(f"/manage/observe?person={world.ana}&checklist={phone}").get_data(
        as_text=True
    )
    data = {"person": world.ana, "checklist": phone, "seen": ["1"], "channel": "floor",
            "note": "x" * 2001, "token": form_token(html)}  # fmt: skip
    response = client.post("/manage/observe", data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Choose a grade." in body and "Keep the note under 2,000 characters." in body
    assert 'name="seen" value="1" checked' in body
    data.update(grade="Z", note="")
    assert "Choose a grade from A to F." in client.post("/manage/observe", data=data).get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 0


def test_a_checklist_retired_while_the_form_was_open(app, world):
    phone = checklist_id(app, "phone-greeting")
    client = app.test_client()
    log_in(client)
    html = client.get(f"/manage/observe?person={world.ana}&checklist={phone}").get_data(
        as_text=True
    )
    with app.app_context():
        db.session.get(ObservationChecklist, phone).active = False
        db.session.commit()
    data = {"person": world.ana, "checklist": phone, "seen": ["0"], "grade": "A",
            "channel": "floor", "note": "", "token": form_token(html)}  # fmt: skip
    response = client.post("/manage/observe", data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "That checklist is no longer in use." in body
    assert "Answering the phone" not in body  # no longer offered
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 0


def test_observing_another_teams_person_is_refused(app, world):
    phone = checklist_id(app, "phone-greeting")
    client = app.test_client()
    log_in(client)
    html = client.get(f"/manage/observe?person={world.ana}&checklist={phone}").get_data(
        as_text=True
    )
    data = {"person": world.zoe, "checklist": phone, "seen": ["0"], "grade": "A",
            "channel": "floor", "note": "", "token": form_token(html)}  # fmt: skip
    assert client.post("/manage/observe", data=data).status_code == 404
    assert client.post("/manage/observe", data={**data, "person": "abc"}).status_code == 404
    assert client.get(f"/manage/observe?person={world.zoe}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 0
        # The service refuses on its own, without a request.
        manager, zoe = db.session.get(User, world.manager), db.session.get(User, world.zoe)
        checklist = db.session.get(ObservationChecklist, phone)
        with pytest.raises(observations.OutOfScope):
            observations.record_observation(
                db.session, manager, zoe, checklist, [0], "A", "", "floor", "tok"
            )
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 0


def test_record_observation_validates(app, world):
    phone = checklist_id(app, "phone-greeting")
    with app.app_context():
        manager, ana = db.session.get(User, world.manager), db.session.get(User, world.ana)
        checklist = db.session.get(ObservationChecklist, phone)
        ok = dict(seen=[0], grade="a", note=" fine ", channel="floor", token="t")
        for field, bad in (("seen", [99]), ("grade", "G"), ("channel", "email"),
                           ("note", "x" * 2001), ("token", "")):  # fmt: skip
            with pytest.raises(observations.ObservationError) as error:
                observations.record_observation(
                    db.session, manager, ana, checklist, **{**ok, field: bad}
                )
            assert error.value.field == field
        obs = observations.record_observation(db.session, manager, ana, checklist, **ok)
        assert (obs.grade, obs.note) == ("A", "fine")
        # The same token from someone else's form is not theirs to replay.
        ben = db.session.get(User, world.ben)
        with pytest.raises(observations.ObservationError):
            observations.record_observation(db.session, manager, ben, checklist, **ok)


def test_builtin_checklists_are_idempotent_and_never_overwritten(app, runner):
    with app.app_context():
        assert observations.ensure_builtin_checklists(db.session) == 4
        assert observations.ensure_builtin_checklists(db.session) == 0
        rows = db.session.scalars(select(ObservationChecklist)).all()
        assert {(c.key, c.skill) for c in rows} == {
            ("phone-greeting", "phone-greeting"),
            ("counter-or-table-greeting", "first-impression"),
            ("collections-call", "collections-call"),
            ("service-recovery", "service-recovery"),
        }
        assert all(c.builtin and 4 <= len(c.points) <= 7 for c in rows)
        edited = rows[0]
        edited.title = "Our own phone greeting"
        edited.points = ["Said hello", "Smiled"]
        db.session.commit()
        assert observations.ensure_builtin_checklists(db.session) == 0
        again = db.session.get(ObservationChecklist, edited.id)
        assert (again.title, again.points) == ("Our own phone greeting", ["Said hello", "Smiled"])
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ObservationChecklist)) == 4


def test_content_sync_adds_the_builtin_checklists(app, runner):
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ObservationChecklist)) == 4


def test_create_checklist(app):
    with app.app_context():
        made = observations.create_checklist(
            db.session, "Bar-Welcome", " At the bar ", "first-impression",
            ["Looked up at once", "  ", "Named the  special"],
        )  # fmt: skip
        assert (made.key, made.title, made.builtin) == ("bar-welcome", "At the bar", False)
        assert made.points == ["Looked up at once", "Named the special"]
        cases = [
            ("key", dict(key="bar-welcome")),  # taken
            ("key", dict(key="bar welcome!")),
            ("title", dict(title="  ")),
            ("skill", dict(skill="First impression")),
            ("points", dict(points=["Only one"])),
            ("points", dict(points=[f"Point {n}" for n in range(11)])),
            ("points", dict(points=["Smiled", "smiled"])),
            ("points", dict(points=["Smiled", "x" * 201])),
        ]
        for field, change in cases:
            args = dict(key="new-one", title="T", skill="first-impression", points=["a", "b"])
            args.update(change)
            with pytest.raises(observations.ChecklistError) as error:
                observations.create_checklist(db.session, **args)
            assert isinstance(error.value, ValueError)
            assert error.value.field == field, change


# -- who may see these pages --------------------------------------------------------------


def test_learners_get_403_and_visitors_sign_in(app, world):
    client = app.test_client()
    for url in ("/manage/skills", "/manage/questions", "/manage/observe"):
        assert client.get(url).status_code == 302
    log_in(client, "ana@example.com")
    for url in ("/manage/skills", "/manage/questions", "/manage/observe"):
        assert client.get(url).status_code == 403, url
    assert client.post("/manage/observe", data={"person": world.ana}).status_code == 403
    home = client.get("/").get_data(as_text=True)
    assert "/manage/skills" not in home and "/manage/observe" not in home


def test_the_nav_links_managers_to_these_pages(app, world):
    client = app.test_client()
    log_in(client)
    html = client.get("/manage/questions").get_data(as_text=True)
    assert '<a href="/manage/skills" >Skills</a>' in html
    assert '<a href="/manage/questions" aria-current="page">Questions</a>' in html
    assert '<a href="/manage/observe" >Observe</a>' in html


def test_a_manager_without_a_team(app):
    with app.app_context():
        person("lone@example.com", "Lone Manager", password=PASSWORD, role="manager")
    client = app.test_client()
    log_in(client, "lone@example.com")
    for url in ("/manage/skills", "/manage/questions"):
        assert "You do not manage a team yet" in client.get(url).get_data(as_text=True)
    assert client.get("/manage/observe").status_code == 200


# -- cost ------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_the_team(app):
    sync_starter_library(app)
    with app.app_context():
        observations.ensure_builtin_checklists(db.session)
        manager_id = person("maria@example.com", "Maria Lopez", password=PASSWORD, role="manager")
        manager = db.session.get(User, manager_id)
        checklist = db.session.scalar(select(ObservationChecklist))
        now = utcnow()
        teams = {}
        for name, size in (("Small", 5), ("Large", 40)):
            team = get_or_create_team(db.session, name)
            manager.managed_teams.append(team)
            db.session.commit()
            teams[size] = team.id
            for n in range(size):
                uid = person(f"{name.lower()}{n}@example.com", f"{name} Person {n}", name)
                answer(uid, GREETING, n % 2 == 0, now - timedelta(days=n % 9))
                answer(uid, PHONE, n % 3 == 0, now - timedelta(days=n % 5))
                observations.record_observation(
                    db.session, manager, db.session.get(User, uid), checklist, [0], "C", "",
                    "floor", f"{name}-{n}",
                )  # fmt: skip

    client = app.test_client()
    log_in(client)
    statements: list[str] = []

    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        measured = {}
        for url in ("/manage/skills?team={}", "/manage/skills?team={}&when=30",
                    "/manage/questions?team={}"):  # fmt: skip
            client.get(url.format(teams[5]))  # warm up
            for size, team_id in teams.items():
                statements.clear()
                response = client.get(url.format(team_id))
                assert response.status_code == 200
                measured[url, size] = len(statements)
            assert measured[url, 5] == measured[url, 40], (url, measured)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    html = response.get_data(as_text=True)
    assert "Large Person 39" not in html  # questions page: no names, just items
    assert measured["/manage/skills?team={}", 40] <= 8, measured
    print("queries:", {f"{url.split('?')[0]}{'+30' if 'when' in url else ''} x{size}": n
                       for (url, size), n in measured.items()})  # fmt: skip


# -- both databases -------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_pages_work_on_each_database(any_db_app):
    app = any_db_app
    world = build_world(app)
    phone = checklist_id(app, "phone-greeting")
    client = app.test_client()
    log_in(client)
    skills = client.get("/manage/skills").get_data(as_text=True)
    assert cell(row_of(skills, "Ben Okafor"), "first-impression")[0] == "recall-weak"
    questions = client.get("/manage/questions").get_data(as_text=True)
    assert "67% wrong" in questions
    html = client.get(f"/manage/observe?person={world.ana}&checklist={phone}").get_data(
        as_text=True
    )
    data = {"person": world.ana, "checklist": phone, "seen": ["1"], "grade": "C",
            "channel": "phone", "note": "", "token": form_token(html)}  # fmt: skip
    assert client.post("/manage/observe", data=data).status_code == 303
    assert client.post("/manage/observe", data=data).status_code == 303
    skills = client.get("/manage/skills").get_data(as_text=True)
    assert re.search(r"grade\s+C", cell(row_of(skills, "Souza"), "phone-greeting")[1])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 1
