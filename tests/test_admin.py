"""The admin pages through the Flask test client: who may reach them, people (add, edit,
deactivate), password links, teams and managers, checklists, and the CSV import on SQLite and
PostgreSQL."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import time, timedelta
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.conftest import sync_starter_library
from trainer.admin import importing, invites
from trainer.admin import people as people_service
from trainer.extensions import db
from trainer.learn.services import live_lesson, record_answer, record_roleplay
from trainer.models import (
    Attempt,
    Enrolment,
    Invitation,
    ObservationChecklist,
    OutboxMessage,
    Path,
    RolePlayAnswer,
    Team,
    User,
    utcnow,
)
from trainer.people.services import create_user, get_or_create_team

PASSWORD = "correct horse"
NEW_PASSWORD = "a brand new one"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/welcome/[A-Za-z0-9_\-]+)")
PAYLOAD_RE = re.compile(r'name="payload" type="hidden" value="([^"]+)"')
EXPECTED_RE = re.compile(r'name="expected" value="(\d+)"')
USED_OR_EXPIRED = "This link was already used or has expired"
LESSON = "teller-greeting-at-the-counter"


# -- helpers ----------------------------------------------------------------------------------


def text(response) -> str:
    return response.get_data(as_text=True)


def location(response) -> str:
    return urlsplit(response.headers["Location"]).path


def login(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def make_world(app) -> SimpleNamespace:
    """An admin, a manager of North branch, and a teller learner in North branch."""
    with app.app_context():
        s = db.session
        north = get_or_create_team(s, "North branch")
        ada = create_user(
            s, email="ada@example.com", name="Ada Admin", password=PASSWORD, role="admin"
        )
        mia = create_user(
            s, email="mia@example.com", name="Mia Manager", password=PASSWORD, role="manager"
        )
        mia.managed_teams.append(north)
        lee = create_user(
            s,
            email="lee@example.com",
            name="Lee Learner",
            password=PASSWORD,
            job_role="teller",
            team="North branch",
        )
        s.commit()
        return SimpleNamespace(
            app=app, admin=ada.id, manager=mia.id, learner=lee.id, north=north.id
        )


@pytest.fixture
def world(library_app):
    return make_world(library_app)


@pytest.fixture
def admin(world, client):
    assert login(client, "ada@example.com").status_code == 302
    return world


def person_data(**changes) -> dict:
    data = {
        "name": "Sam Teller",
        "email": "sam@example.com",
        "role": "learner",
        "job_role": "teller",
        "team": "",
        "hire_date": "2025-03-31",
        "timezone": "Europe/London",
        "reminder_time": "08:30",
    }
    data.update(changes)
    return data


def latest_link(email: str) -> str:
    """The path of the newest password link mailed to this address (inside an app context)."""
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to == email, OutboxMessage.kind == "invitation")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no invitation mail to {email}"
    match = LINK_RE.search(message.text)
    assert match, message.text
    assert match.group(0) in message.html
    return match.group(1)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- who may reach the admin pages ------------------------------------------------------------


def admin_urls(world) -> list[str]:
    return [
        "/admin/",
        "/admin/people",
        "/admin/people/new",
        f"/admin/people/{world.learner}/edit",
        "/admin/people/import",
        "/admin/teams",
        f"/admin/teams/{world.north}",
        "/admin/checklists",
        "/admin/outbox",
    ]


def test_only_admins_reach_admin_pages(world, client):
    urls = admin_urls(world)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert location(response) == "/login", url

    for email in ("mia@example.com", "lee@example.com"):
        assert login(client, email).status_code == 302
        for url in urls:
            assert client.get(url).status_code == 403, (email, url)
        # Buttons too: a manager cannot deactivate anyone or mail links.
        for action in ("deactivate", "invite"):
            response = client.post(f"/admin/people/{world.learner}/{action}")
            assert response.status_code == 403, (email, action)
        assert "/admin/people" not in text(client.get("/"))
        client.post("/logout")

    assert login(client, "ada@example.com").status_code == 302
    for url in urls:
        assert client.get(url).status_code == 200, url
    today = text(client.get("/"))
    assert '<a href="/admin/people"' in today and ">Admin</a>" in today
    index = text(client.get("/admin/"))
    for link in (
        "/admin/people",
        "/admin/teams",
        "/admin/people/import",
        "/admin/outbox",
        "/admin/checklists",
    ):
        assert f'href="{link}"' in index
    with world.app.app_context():
        assert user_by_email("lee@example.com").active  # the refused posts changed nothing


# -- adding a person, and their link ----------------------------------------------------------


def test_new_person_is_saved_enrolled_and_mailed_a_link(admin, client):
    response = client.post("/admin/people/new", data=person_data(team=str(admin.north)))
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Sam Teller is added" in text(page)

    with admin.app.app_context():
        sam = user_by_email("sam@example.com")
        assert (sam.name, sam.role, sam.job_role.key, sam.team.name) == (
            "Sam Teller",
            "learner",
            "teller",
            "North branch",
        )
        assert sam.hire_date.isoformat() == "2025-03-31"
        assert sam.reminder_time == time(8, 30)
        assert sam.password_hash is None and sam.active
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == sam.id))
        path = db.session.get(Path, enrolment.path_id)
        assert path.job_role.key == "teller" and enrolment.source == "auto"

        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to == sam.email))
        assert message.subject == "Set your Frontline Trainer password"
        assert message.user_id == sam.id and message.html
        link = latest_link(sam.email)
        token = link.rsplit("/", 1)[1]
        invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == sam.id))
        # Only the hash is stored, and the link lasts seven days.
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in invitation.token_hash
        lifetime = invitation.expires_at - invitation.created_at
        assert lifetime == timedelta(days=7)
        outbox_id = message.id

    outbox = text(client.get("/admin/outbox"))
    assert "Set your Frontline Trainer password" in outbox and "sam@example.com" in outbox
    assert link in text(client.get(f"/admin/outbox/{outbox_id}"))


def test_person_form_hints_match_their_controls(admin, client):
    page = text(client.get("/admin/people/new"))
    hire = page.split('<label for="hire_date">', 1)[1].split("</div>", 1)[0]
    assert 'type="date"' in hire and "placeholder" not in hire
    assert "Path lessons fall due counting from this day." in hire
    reminder = page.split('<label for="reminder_time">', 1)[1].split("</div>", 1)[0]
    assert 'type="time"' in reminder
    # A picker is not typed into: no written format under it.
    for hint in (hire, reminder):
        assert not re.search(r"2025-03-31|YYYY|24-hour|like 18:00|[Ww]ritten like", hint)
    response = client.post("/admin/people/new", data=person_data(reminder_time=""))
    assert "Choose the time of the reminder." in text(response)
    # Summed up at the top too, with a link to the field.
    assert (
        '<a href="#reminder_time">Daily reminder time: Choose the time of the reminder.</a>'
    ) in text(response)


def test_new_person_with_bad_fields_keeps_what_was_typed(admin, client):
    data = person_data(email="lee@example.com", name="Sam Typed", hire_date="31/03/2025")
    response = client.post("/admin/people/new", data=data)
    assert response.status_code == 400
    page = text(response)
    assert 'id="hire_date-error"' in page and "That is not a date." in page
    assert 'value="Sam Typed"' in page
    # The taken address is reported once the format errors are fixed.
    response = client.post("/admin/people/new", data=person_data(email="LEE@example.com"))
    assert response.status_code == 400
    page = text(response)
    assert 'id="email-error"' in page and "lee@example.com already has an account" in page
    assert 'aria-describedby="email-hint email-error"' in page
    with admin.app.app_context():
        assert count(User) == 3 and count(Invitation) == 0 and count(OutboxMessage) == 0


def test_link_sets_the_password_once_and_signs_in(admin, client):
    client.post("/admin/people/new", data=person_data())
    client.post("/logout")
    with admin.app.app_context():
        link = latest_link("sam@example.com")

    form = client.get(link)
    assert form.status_code == 200
    assert "Welcome, Sam" in text(form) and 'autocomplete="new-password"' in text(form)
    assert 'type="password"' in text(form)

    differ = client.post(link, data={"new": NEW_PASSWORD, "confirm": "something else"})
    assert differ.status_code == 400 and "The two passwords differ." in text(differ)
    short = client.post(link, data={"new": "short", "confirm": "short"})
    assert short.status_code == 400 and "Use at least 12 characters." in text(short)
    assert 'aria-describedby="new-error"' in text(short)

    done = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and location(done) == "/"
    today = client.get("/")
    assert today.status_code == 200 and "Your password is set" in text(today)
    assert "Sign out" in text(today)

    # Single use: a second visit, or a second post, is refused clearly.
    again = client.get(link)
    assert again.status_code == 404 and USED_OR_EXPIRED in text(again)
    replay = client.post(link, data={"new": "another password", "confirm": "another password"})
    assert replay.status_code == 404
    client.post("/logout")
    assert login(client, "sam@example.com", "another password").status_code == 401
    assert login(client, "sam@example.com", NEW_PASSWORD).status_code == 302
    with admin.app.app_context():
        assert db.session.scalar(select(Invitation.used_at)) is not None


def test_expired_or_unknown_link_is_refused(admin, client):
    client.post("/admin/people/new", data=person_data())
    with admin.app.app_context():
        link = latest_link("sam@example.com")
        invitation = db.session.scalar(select(Invitation))
        invitation.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    client.post("/logout")
    for url in (link, "/welcome/not-a-real-token", "/welcome/" + "x" * 300):
        response = client.get(url)
        assert response.status_code == 404, url
        assert USED_OR_EXPIRED in text(response)
    response = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 404
    with admin.app.app_context():
        assert user_by_email("sam@example.com").password_hash is None


def test_a_new_link_replaces_the_old_one(admin, client):
    client.post("/admin/people/new", data=person_data())
    with admin.app.app_context():
        old = latest_link("sam@example.com")
        sam = user_by_email("sam@example.com").id
    page = text(client.get(f"/admin/people/{sam}/edit"))
    assert "Send a new link" in page and "not used yet" in page
    response = client.post(f"/admin/people/{sam}/invite")
    assert response.status_code == 303
    assert "Earlier links no longer work" in text(client.get(response.headers["Location"]))
    with admin.app.app_context():
        new = latest_link("sam@example.com")
        assert count(Invitation) == 2
    assert new != old
    client.post("/logout")
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


# -- editing ----------------------------------------------------------------------------------


def test_edit_with_a_taken_email_shows_the_error_and_changes_nothing(admin, client):
    url = f"/admin/people/{admin.learner}/edit"
    data = person_data(
        name="Lee Renamed", email="MIA@example.com", job_role="teller", team=str(admin.north)
    )
    response = client.post(url, data=data)
    assert response.status_code == 400
    page = text(response)
    assert '<p class="field-error" id="email-error">' in page
    assert "mia@example.com already has an account." in page
    assert 'aria-describedby="email-hint email-error"' in page and 'aria-invalid="true"' in page
    assert 'value="Lee Renamed"' in page  # what was typed is still there
    with admin.app.app_context():
        lee = db.session.get(User, admin.learner)
        assert (lee.name, lee.email) == ("Lee Learner", "lee@example.com")


def test_edit_saves_every_field(admin, client):
    with admin.app.app_context():
        south = get_or_create_team(db.session, "South branch").id
        db.session.commit()
    data = person_data(
        name="Lee Waiter",
        email="lee.w@example.com",
        job_role="wait-staff",
        team=str(south),
        timezone="America/New_York",
        reminder_time="07:15",
        hire_date="",
    )
    response = client.post(f"/admin/people/{admin.learner}/edit", data=data)
    assert response.status_code == 303
    with admin.app.app_context():
        lee = db.session.get(User, admin.learner)
        assert (lee.name, lee.email, lee.job_role.key, lee.team.name) == (
            "Lee Waiter",
            "lee.w@example.com",
            "wait-staff",
            "South branch",
        )
        assert (lee.timezone, lee.reminder_time, lee.hire_date) == (
            "America/New_York",
            time(7, 15),
            None,
        )
        # The new job role's path is added; the teller path stays, with its history.
        roles = {
            db.session.get(Path, e.path_id).job_role.key
            for e in db.session.scalars(select(Enrolment).where(Enrolment.user_id == lee.id))
        }
        assert roles == {"teller", "wait-staff"}


def test_edit_refuses_unknown_choices_and_own_demotion(admin, client):
    url = f"/admin/people/{admin.learner}/edit"
    for field, value in (
        ("role", "owner"),
        ("job_role", "pilot"),
        ("team", "999"),
        ("timezone", "Mars/Olympus"),
    ):
        response = client.post(url, data=person_data(**{field: value}))
        assert response.status_code == 400, field
        assert f'id="{field}-error"' in text(response), field
    response = client.post(
        f"/admin/people/{admin.admin}/edit",
        data=person_data(name="Ada Admin", email="ada@example.com", role="manager"),
    )
    assert response.status_code == 400
    assert "You cannot take away your own admin role." in text(response)
    with admin.app.app_context():
        assert db.session.get(User, admin.admin).role == "admin"


def do_some_learning(app, user_id: int) -> tuple[int, int]:
    with app.app_context():
        s = db.session
        user = s.get(User, user_id)
        lesson = live_lesson(s, LESSON)
        record_answer(s, user, lesson, lesson.quiz.live_items[0], [0], uuid.uuid4().hex, 4)
        record_roleplay(s, user, lesson, lesson.live_roleplays[0], "Welcome!", uuid.uuid4().hex)
        s.commit()
        return history(user_id)


def history(user_id: int) -> tuple[int, int]:
    attempts = db.session.scalar(select(func.count(Attempt.id)).where(Attempt.user_id == user_id))
    answers = db.session.scalar(
        select(func.count(RolePlayAnswer.id)).where(RolePlayAnswer.user_id == user_id)
    )
    return attempts, answers


def test_deactivate_keeps_history_and_stops_sign_in(admin, client):
    before = do_some_learning(admin.app, admin.learner)
    assert before == (1, 1)
    learner = admin.app.test_client()
    assert login(learner, "lee@example.com").status_code == 302
    assert learner.get("/").status_code == 200

    response = client.post(f"/admin/people/{admin.learner}/deactivate")
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Lee Learner is deactivated" in page and "Reactivate" in page

    # The open session ends, and signing in again is refused.
    response = learner.get("/")
    assert response.status_code == 302 and location(response) == "/login"
    assert login(learner, "lee@example.com").status_code == 401
    with admin.app.app_context():
        assert db.session.get(User, admin.learner) is not None
        assert history(admin.learner) == before
    # Still listed, among deactivated people.
    assert "Lee Learner" not in text(client.get("/admin/people"))
    assert "Lee Learner" in text(client.get("/admin/people?status=inactive"))

    response = client.post(f"/admin/people/{admin.learner}/reactivate")
    assert response.status_code == 303
    assert login(learner, "lee@example.com").status_code == 302
    assert learner.get("/").status_code == 200


def test_an_admin_cannot_deactivate_themselves(admin, client):
    response = client.post(f"/admin/people/{admin.admin}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in text(response)
    with admin.app.app_context():
        assert db.session.get(User, admin.admin).active


def test_people_list_searches_filters_and_pages(admin, client):
    with admin.app.app_context():
        for n in range(55):
            create_user(
                db.session,
                email=f"p{n:02d}@example.com",
                name=f"Person {n:02d}",
                password=None,
                team="South branch",
            )
        db.session.commit()
        south = db.session.scalar(select(Team.id).where(Team.name == "South branch"))
    first = text(client.get(f"/admin/people?team={south}"))
    assert "55 people" in first and "page 1 of 2" in first
    assert first.count('<th scope="row">') == 50
    second = text(client.get(f"/admin/people?team={south}&page=2"))
    assert second.count('<th scope="row">') == 5
    found = text(client.get("/admin/people?q=P07%40EXAMPLE"))
    assert "Person 07" in found and "Person 08" not in found
    assert "Lee Learner" in text(client.get("/admin/people?role=learner&q=lee"))
    assert "Lee Learner" not in text(client.get("/admin/people?role=manager"))
    nobody = text(client.get("/admin/people?q=50%25"))  # "%" is a character, not a wildcard
    assert "Nobody matches" in nobody


# -- teams ------------------------------------------------------------------------------------


def test_teams_created_renamed_managed_and_deleted_only_when_empty(admin, client):
    response = client.post("/admin/teams", data={"name": "  East   branch "})
    assert response.status_code == 303
    with admin.app.app_context():
        east = db.session.scalar(select(Team).where(Team.name == "East branch")).id
    assert client.post("/admin/teams", data={"name": "east BRANCH"}).status_code == 400

    response = client.post(f"/admin/teams/{east}/managers", data={"managers": [admin.manager]})
    assert response.status_code == 303
    # A learner cannot manage a team: field error, managers unchanged.
    response = client.post(
        f"/admin/teams/{east}/managers", data={"managers": [admin.manager, admin.learner]}
    )
    assert response.status_code == 400 and 'id="managers-error"' in text(response)
    with admin.app.app_context():
        team = db.session.get(Team, east)
        assert [m.id for m in team.managers] == [admin.manager]

    listing = text(client.get("/admin/teams"))
    assert "East branch" in listing and "Mia Manager" in listing

    assert client.post(f"/admin/teams/{east}", data={"name": "East side"}).status_code == 303
    response = client.post(f"/admin/teams/{admin.north}", data={"name": "east side"})
    assert response.status_code == 400 and 'id="name-error"' in text(response)

    response = client.post(f"/admin/teams/{admin.north}/delete")
    assert response.status_code == 400
    assert "North branch cannot be deleted: 1 person is in it." in text(response)
    assert client.post(f"/admin/teams/{east}/delete").status_code == 303
    with admin.app.app_context():
        assert db.session.get(Team, east) is None
        assert db.session.get(Team, admin.north) is not None
        mia = db.session.get(User, admin.manager)
        assert [t.name for t in mia.managed_teams] == ["North branch"]


def test_a_manager_made_learner_stops_managing(admin, client):
    data = person_data(
        name="Mia Manager", email="mia@example.com", role="learner", job_role="", team=""
    )
    assert client.post(f"/admin/people/{admin.manager}/edit", data=data).status_code == 303
    with admin.app.app_context():
        assert db.session.get(Team, admin.north).managers == []


# -- checklists -------------------------------------------------------------------------------


def test_admin_adds_an_observation_checklist(admin, client):
    data = {
        "title": "Drive-through welcome",
        "key": "drive-through-welcome",
        "skill": "first-impression",
        "points": "Greeted within 5 seconds\n\nSmiled\n",
    }
    response = client.post("/admin/checklists", data=data)
    assert response.status_code == 303
    assert "Drive-through welcome" in text(client.get("/admin/checklists"))
    response = client.post("/admin/checklists", data=dict(data, title="Again"))
    assert response.status_code == 400 and 'id="key-error"' in text(response)
    with admin.app.app_context():
        checklist = db.session.scalar(select(ObservationChecklist))
        assert checklist.points == ["Greeted within 5 seconds", "Smiled"]


def test_checklist_skill_is_picked_from_the_known_skills_and_roles_are_ticked(admin, client):
    page = text(client.get("/admin/checklists"))
    picker = page.split('id="skill"', 1)[1].split("</select>", 1)[0]
    assert '<option value="phone-greeting">Phone greeting</option>' in picker
    assert '<option value="collections-call">Talking about money owed</option>' in picker
    assert '<input type="checkbox" name="roles" value="wait-staff"><span>Wait staff' in page
    data = {
        "title": "Bar welcome",
        "key": "bar-welcome",
        "skill": "made-up-skill",
        "points": "Greeted\nSmiled\n",
        "roles": ["wait-staff"],
    }
    response = client.post("/admin/checklists", data=data)
    assert response.status_code == 400
    assert "Choose a skill from the list." in text(response)
    assert 'value="wait-staff" checked>' in text(response)  # what was ticked stays ticked
    response = client.post("/admin/checklists", data=dict(data, roles=["astronaut"]))
    assert response.status_code == 400
    data["skill"] = "first-impression"
    assert "Choose job roles from the list." in text(
        client.post("/admin/checklists", data=dict(data, roles=["astronaut"]))
    )
    assert client.post("/admin/checklists", data=data).status_code == 303
    listing = text(client.get("/admin/checklists"))
    assert "Bar welcome" in listing and "First impression · Wait staff" in listing
    with admin.app.app_context():
        checklist = db.session.scalar(
            select(ObservationChecklist).where(ObservationChecklist.key == "bar-welcome")
        )
        assert (checklist.skill, checklist.roles) == ("first-impression", ["wait-staff"])


# -- the CSV import ---------------------------------------------------------------------------


def test_preview_announces_only_teams_of_rows_that_can_be_imported(admin, client):
    body = (
        HEADER
        + "amy@example.com,Amy Archer,,teller,east branch,,,\n"
        + "bad address,Ben Baker,,teller,Typo Branch,,,\n"  # rejected: its team is not new
        + "cy@example.com,Cy Cole,,teller,East Branch,,,\n"
        + "dee@example.com,Dee Dale,,teller,Typo branch,1 March,,\n"  # rejected too
    )
    preview = upload(client, body)
    page = text(preview)
    assert "New team to add: east branch." in page
    assert "Typo" not in page.split("<h2", 1)[0]  # not above the rows' own listing
    done = confirm(client, preview, choice="valid")
    assert done.status_code == 303
    message = text(client.get("/admin/people"))
    assert "New team: east branch" in message and "Typo" not in message
    with admin.app.app_context():
        assert {t.name for t in db.session.scalars(select(Team))} >= {"east branch"}
        assert db.session.scalar(select(Team).where(Team.name.ilike("typo%"))) is None
        cy = user_by_email("cy@example.com")
        assert cy.team.name == "east branch"  # one team, as the first valid row spells it


HEADER = "email,name,role,job_role,team,hire_date,timezone,reminder_time\n"


def upload(client, body: str | bytes | None, name: str = "people.csv"):
    """Send a file to the import page (None: send the form with no file chosen)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(
        "/admin/people/import",
        data={"file": (BytesIO(data), name)} if data is not None else {},
        content_type="multipart/form-data",
    )


def confirm(client, preview, choice: str = "all", payload: str | None = None):
    page = text(preview)
    return client.post(
        "/admin/people/import/confirm",
        data={
            "payload": payload if payload is not None else PAYLOAD_RE.search(page).group(1),
            "expected": EXPECTED_RE.search(page).group(1),
            "choice": choice,
        },
    )


@pytest.fixture
def import_app(any_db_app):
    sync_starter_library(any_db_app)
    return make_world(any_db_app)


def test_csv_import_previews_then_imports_everyone(import_app):
    app = import_app
    client = app.app.test_client()
    assert login(client, "ada@example.com").status_code == 302
    body = (
        HEADER
        + "amy@example.com,Amy Archer,,teller,West branch,2025-04-01,,\n"
        + "BEN@example.com,Ben Baker,manager,,west BRANCH,,America/Chicago,07:30\n"
        + "cy@example.com,Cy Cole,learner,Wait staff,North branch,,europe/paris,9:05\n"
    )
    preview = upload(client, body)
    assert preview.status_code == 200
    page = text(preview)
    assert "3 rows: 3 ready to import" in page and "Import 3 people" in page
    assert "New team to add: West branch" in page
    with app.app.app_context():
        assert count(User) == 3  # nothing imported yet

    done = confirm(client, preview)
    assert done.status_code == 303 and location(done) == "/admin/people"
    message = text(client.get("/admin/people"))
    assert "Imported 3 people" in message and "New team: West branch" in message
    with app.app.app_context():
        amy, ben, cy = (
            user_by_email(e) for e in ("amy@example.com", "ben@example.com", "cy@example.com")
        )
        assert (amy.role, amy.job_role.key, amy.team.name, amy.timezone) == (
            "learner",
            "teller",
            "West branch",
            "Europe/London",
        )
        assert amy.hire_date.isoformat() == "2025-04-01" and amy.reminder_time == time(18, 0)
        assert (ben.role, ben.team_id, ben.timezone, ben.reminder_time) == (
            "manager",
            amy.team_id,
            "America/Chicago",
            time(7, 30),
        )
        assert (cy.job_role.key, cy.team.name, cy.timezone, cy.reminder_time) == (
            "wait-staff",
            "North branch",
            "Europe/Paris",
            time(9, 5),
        )
        assert db.session.scalar(select(func.count(Team.id))) == 2
        enrolled = db.session.scalars(select(Enrolment.user_id)).all()
        assert amy.id in enrolled and cy.id in enrolled and ben.id not in enrolled
        for person in (amy, ben, cy):
            assert latest_link(person.email)
        assert count(Invitation) == 3
        link = latest_link("amy@example.com")

    # The same signed rows sent again import nobody twice.
    again = confirm(client, preview)
    assert again.status_code == 400 and "already has an account" in text(again)
    client.post("/logout")
    assert client.get(link).status_code == 200


def test_csv_with_one_bad_row_imports_nothing_unless_asked(import_app):
    app = import_app
    client = app.app.test_client()
    login(client, "ada@example.com")
    body = (
        HEADER
        + "amy@example.com,Amy Archer,,teller,,,,\n"
        + "ben@example.com,Ben Baker,,teller,,31/12/2024,,\n"
        + "\n"  # a blank line still counts in the file's numbering
        + 'cy@example.com,"Cy\nCole",,teller,,,,\n'  # a quoted name over two lines
        + "dee@example.com,Dee Dale,boss,pilot,,,Mars/Base,25:00\n"
    )
    preview = upload(client, body)
    assert preview.status_code == 200
    page = text(preview)
    assert "4 rows: 2 ready to import" in page and "2 with problems" in page
    assert '<a href="#row-3">Row 3</a>, hire date: &#34;31/12/2024&#34; is not a date' in page
    assert '<tr id="row-5">' in page  # Cy starts on line 5
    assert '<a href="#row-7">Row 7</a>, role: unknown role' in page
    for field in (
        "job role: unknown job role",
        "timezone: &#34;Mars/Base&#34;",
        "reminder time: &#34;25:00&#34;",
    ):
        assert f'<a href="#row-7">Row 7</a>, {field}' in page
    assert "Import only the 2 valid rows" in page and 'value="all"' not in page
    # The cells at fault stand out, each saying why to a screen reader; the others do not.
    dee = page.split('<tr id="row-7" class="bad-row">', 1)[1].split("</tr>", 1)[0]
    assert dee.count('class="bad-cell"') == 4  # role, job role, time zone, reminder time
    assert '<td class="bad-cell"><span class="bad-value">boss</span>' in dee
    assert "<td>Dee Dale</td>" in dee
    ben = page.split('<tr id="row-3" class="bad-row">', 1)[1].split("</tr>", 1)[0]
    assert ben.count('class="bad-cell"') == 1 and "31/12/2024</span>" in ben
    assert '<tr id="row-2">' in page  # Amy: nothing marked

    # "Import everyone" is refused while rows have problems, even if sent by hand.
    refused = confirm(client, preview, "all")
    assert refused.status_code == 400 and "Nothing was imported" in text(refused)
    with app.app.app_context():
        assert count(User) == 3 and count(Invitation) == 0

    done = confirm(client, preview, "valid")
    assert done.status_code == 303
    assert "Imported 2 people, leaving out 2 rows" in text(client.get("/admin/people"))
    with app.app.app_context():
        assert {u.email for u in db.session.scalars(select(User))} == {
            "ada@example.com",
            "mia@example.com",
            "lee@example.com",
            "amy@example.com",
            "cy@example.com",
        }
        assert user_by_email("cy@example.com").name == "Cy Cole"
        assert count(Invitation) == 2


def test_csv_duplicate_emails_are_flagged(import_app):
    client = import_app.app.test_client()
    login(client, "ada@example.com")
    body = (
        "name,email\n"  # columns in any order, the others left out
        "Amy Archer,amy@example.com\n"
        "Lee Again,LEE@example.com\n"
        "Amy Twice,Amy@Example.com\n"
        "Bo Brown,bo@example.com\n"
    )
    page = text(upload(client, body))
    assert '<a href="#row-2">Row 2</a>, email: amy@example.com is also on row 4' in page
    assert '<a href="#row-4">Row 4</a>, email: amy@example.com is also on row 2' in page
    assert '<a href="#row-3">Row 3</a>, email: lee@example.com already has an account' in page
    assert "Import only the 1 valid row" in page


def test_csv_with_a_byte_order_mark_works(import_app):
    client = import_app.app.test_client()
    login(client, "ada@example.com")
    body = "\ufeff" + HEADER.replace("\n", "\r\n") + "zoe@example.com,Zoë Ångström,,,,,,\r\n"
    preview = upload(client, body.encode("utf-8"))
    assert preview.status_code == 200 and "Import 1 person" in text(preview)
    assert confirm(client, preview).status_code == 303
    with import_app.app.app_context():
        assert user_by_email("zoe@example.com").name == "Zoë Ångström"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("email,name\nzoé@example.com,Zoé\n".encode("latin-1"), "The file is not UTF-8"),
        (b"amy@example.com,Amy\n", "The first line must name the columns"),
        (b"email,name,shoe_size\na@example.com,A,9\n", "Unknown column: shoe_size"),
        (b"name,team\nAmy,North\n", "The header has no email, employee_number or phone column"),
        (b"email,name\n", "The file has a header but nobody in it."),
        (b"", "The file is empty."),
        (b"\n,,\n", "The file is empty."),
        (None, "Choose a CSV file."),
    ],
)
def test_unreadable_files_get_a_clear_message(admin, client, body, message):
    response = upload(client, body)
    assert response.status_code == 400
    page = text(response)
    assert 'id="file-error"' in page and message in page
    with admin.app.app_context():
        assert count(User) == 3


def test_a_tampered_payload_is_refused(admin, client):
    preview = upload(client, HEADER + "amy@example.com,Amy Archer,,,,,,\n")
    payload = PAYLOAD_RE.search(text(preview)).group(1)
    forged = importing.URLSafeSerializer("not-our-key", salt=importing.SALT).dumps(
        [{"line": 2, "email": "evil@example.com", "name": "Evil", "role": "admin"}]
    )
    for bad in (payload[:-2] + ("AA" if not payload.endswith("AA") else "BB"), forged, ""):
        response = confirm(client, preview, payload=bad)
        assert response.status_code == 400
        assert "This import could not be checked. Upload the file again." in text(response)
    with admin.app.app_context():
        assert count(User) == 3 and user_by_email("evil@example.com") is None
    assert confirm(client, preview).status_code == 303  # the real one still works


def test_import_is_all_or_nothing(world, monkeypatch):
    """A failure on the last person leaves none of the earlier ones behind."""
    rows = importing.read_csv(
        (HEADER + "a@example.com,A,,,New team,,,\nb@example.com,B,,,,,,\n").encode()
    )
    real = invites.send_invitation
    calls = []

    def failing(session, user):
        calls.append(user.email)
        if len(calls) == 2:
            raise people_service.PersonError("email", "b@example.com already has an account")
        return real(session, user)

    monkeypatch.setattr(importing, "send_invitation", failing)
    with world.app.app_context():
        with pytest.raises(importing.ImportBlocked):
            importing.import_people(db.session, rows, default_timezone="Europe/London")
        assert calls == ["a@example.com", "b@example.com"]
        assert count(User) == 3 and count(Invitation) == 0 and count(OutboxMessage) == 0
        assert db.session.scalar(select(Team).where(Team.name == "New team")) is None


# -- in a real browser: a 360 px phone, JavaScript off, CSRF on -------------------------------


def assert_fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide"


@pytest.mark.browser
def test_admin_pages_on_a_phone_without_javascript(page, live_server, tmp_path):
    from playwright.sync_api import expect

    with live_server.app.app_context():
        create_user(
            db.session,
            email="root@example.com",
            name="Rita Root",
            password=PASSWORD,
            role="admin",
            team="Phone branch",
        )
        db.session.commit()
    page.goto("/login")
    page.get_by_label("Email").fill("root@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    for url in (
        "/admin/",
        "/admin/people",
        "/admin/teams",
        "/admin/people/import",
        "/admin/checklists",
        "/admin/people/new",
    ):
        page.goto(url)
        assert_fits(page)

    # Add a person: every control found by its label.
    page.get_by_label("Name").fill("Pat Phone")
    page.get_by_label("Email").fill("pat@example.com")
    page.get_by_label("Job role").select_option("teller")
    page.get_by_label("Team").select_option(label="Phone branch")
    page.get_by_label("Hire date (optional)").fill("2025-05-01")
    page.get_by_label("Time zone").select_option("Europe/Dublin")
    page.get_by_label("Daily reminder time").fill("07:45")
    page.get_by_role("button", name="Add and send the link").click()
    expect(page.get_by_role("status")).to_contain_text("Pat Phone is added")
    assert_fits(page)
    with live_server.app.app_context():
        link = latest_link("pat@example.com")
        assert user_by_email("pat@example.com").reminder_time == time(7, 45)

    # A CSV with a bad row: the preview fits, and only the valid rows go in on request.
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(HEADER + "quin@example.com,Quin Q,,,,,,\nbad-address,Rex R,,,,,,\n")
    page.goto("/admin/people/import")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Row 3", exact=True)).to_be_visible()
    assert_fits(page)
    page.get_by_role("button", name="Import only the 1 valid row").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 1 person")

    # The invited person sets their password and lands on Today.
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    assert_fits(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    assert urlsplit(page.url).path == "/"


def full_link(email: str) -> str:
    """The whole password link mailed to this address, as the outbox shows it."""
    return "http://127.0.0.1:5000" + latest_link(email)


def test_outbox_shows_one_time_links_with_copy_link(admin, client):
    response = client.post("/admin/people/new", data=person_data(email="olly@example.com"))
    assert response.status_code == 303
    with admin.app.app_context():
        link = full_link("olly@example.com")
        message_id = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.to == "olly@example.com")
        )
    outbox = text(client.get("/admin/outbox"))
    assert f'id="link-{message_id}" value="{link}" readonly' in outbox
    assert f'data-copy="link-{message_id}" hidden>Copy link</button>' in outbox
    assert re.search(r'<script src="/static/copy-link\.[0-9a-f]+\.js" defer>', outbox)
    page = text(client.get(f"/admin/outbox/{message_id}"))
    assert f'value="{link}" readonly' in page and 'data-copy="link"' in page
    # A message without a one-time link has neither.
    with admin.app.app_context():
        from trainer.messages.outbox import queue_message

        other = queue_message(
            db.session,
            to="x@example.com",
            subject="Hello",
            text="See http://x.test/a",
            kind="digest",
        )
        db.session.commit()
        other_id = other.id
    page = text(client.get(f"/admin/outbox/{other_id}"))
    assert "Copy link" not in page and "/static/copy-link." not in page


@pytest.mark.browser
def test_copy_link_puts_the_one_time_link_on_the_clipboard(browser, live_server):
    from playwright.sync_api import expect

    from trainer.admin.invites import send_invitation

    with live_server.app.app_context():
        create_user(
            db.session, email="copy-admin@example.com", name="Cora Admin", password=PASSWORD,
            role="admin",
        )  # fmt: skip
        newcomer = create_user(
            db.session, email="nia.new@example.com", name="Nia New", password=None
        )
        send_invitation(db.session, newcomer)
        db.session.commit()
        link = full_link("nia.new@example.com")
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill("copy-admin@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/admin/outbox")
        row = page.get_by_role("row").filter(has_text="nia.new@example.com")
        expect(row.get_by_label("One-time link")).to_have_value(link)
        row.get_by_role("button", name="Copy link").click()
        expect(row.get_by_role("status")).to_have_text("Link copied.")
        assert page.evaluate("navigator.clipboard.readText()") == link
        assert_fits(page)
        row.get_by_role("link", name="Set your Frontline Trainer password").click()
        page.evaluate("navigator.clipboard.writeText('')")
        page.get_by_role("button", name="Copy link").click()
        expect(page.get_by_role("status")).to_have_text("Link copied.")
        assert page.evaluate("navigator.clipboard.readText()") == link
        assert_fits(page)
    finally:
        context.close()
