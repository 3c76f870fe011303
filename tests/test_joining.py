"""Team join codes: a poster's code lets new people join from their phone, no email needed."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.conftest import sync_starter_library
from tests.qr_support import decode_qr
from trainer.extensions import db
from trainer.models import Enrolment, JoinCode, Team, User
from trainer.people import joining
from trainer.people.services import create_user

PASSWORD = "correct horse"
LOOK_ALIKES = set("0O1IL")


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(app):
    """The starter library, a wait-staff team with one waiter, its manager, another team."""
    sync_starter_library(app)
    with app.app_context():
        create_user(
            db.session, name="Pat Waiter", email="pat@example.com", job_role="wait-staff",
            team="The Copper Pot", password=PASSWORD,
        )  # fmt: skip
        boss = create_user(
            db.session, name="Maria Boss", email="maria@example.com", role="manager",
            password=PASSWORD,
        )  # fmt: skip
        other = create_user(
            db.session, name="Oli Other", email="oli@example.com", role="manager",
            password=PASSWORD, team="Riverside Bank",
        )  # fmt: skip
        pot = db.session.scalar(sa.select(Team).where(Team.name == "The Copper Pot"))
        pot.managers.append(boss)
        bank = db.session.scalar(sa.select(Team).where(Team.name == "Riverside Bank"))
        bank.managers.append(other)
        db.session.commit()
    return app


def make_code(app, team="The Copper Pot", **kwargs) -> str:
    with app.app_context():
        found = db.session.scalar(sa.select(Team).where(Team.name == team))
        return joining.create_code(db.session, found, by=None, **kwargs).code


def sign_in(client, email):
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


JO = {"name": "Jo Newman", "employee_number": "2001", "how": "pin", "pin": "246810"}


# -- codes ---------------------------------------------------------------------------------------


def test_the_cli_makes_a_code_and_prints_its_join_url(world, runner):
    result = runner.invoke(
        args=["join-codes", "create", "--team", "The Copper Pot", "--days", "7", "--uses", "3"]
    )
    assert result.exit_code == 0, result.output
    code = re.search(r"Code ([A-Z0-9]{4})-([A-Z0-9]{4})", result.output)
    assert code, result.output
    value = code.group(1) + code.group(2)
    assert f"Join URL: http://127.0.0.1:5000/join/{value}" in result.output
    with world.app_context():
        stored = db.session.scalar(sa.select(JoinCode).where(JoinCode.code == value))
        assert (stored.max_uses, stored.job_role.key) == (3, "wait-staff")  # the team's usual
        assert timedelta(days=6, hours=23) < stored.expires_at - stored.created_at
    unknown = runner.invoke(args=["join-codes", "create", "--team", "Nowhere"])
    assert unknown.exit_code != 0 and 'no team named "Nowhere"' in unknown.output


def test_codes_are_long_enough_and_have_no_look_alike_characters():
    codes = {joining.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) >= 8 and not LOOK_ALIKES & set(code) for code in codes)


# -- joining -------------------------------------------------------------------------------------


def test_the_join_page_takes_the_code_as_people_type_it(world, client):
    code = make_code(world)
    page = text(client.get("/join"))
    assert '<label for="code">Code</label>' in page
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    response = client.post("/join", data={"code": typed})
    assert response.status_code == 303 and response.headers["Location"] == f"/join/{code}"

    wrong = client.post("/join", data={"code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 400 and "That code does not work" in text(wrong)


def test_a_newcomer_joins_with_a_pin_and_lands_on_their_first_lesson(world, client):
    code = make_code(world)
    response = client.post(f"/join/{code}", data=JO)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    today = text(client.get("/"))
    assert "Jo" in today
    with world.app_context():
        jo = db.session.scalar(sa.select(User).where(User.employee_number == "2001"))
        assert (jo.team.name, jo.job_role.key, jo.email) == ("The Copper Pot", "wait-staff", None)
        assert jo.pin_hash and jo.password_hash is None and jo.joined_with_code == code
        path = db.session.scalar(sa.select(Enrolment).where(Enrolment.user_id == jo.id))
        assert path is not None
        first = path.path.steps[0].lesson
        uses = db.session.scalar(sa.select(JoinCode.uses).where(JoinCode.code == code))
        assert uses == 1
    assert f"/lessons/{first.key}" in today  # the first lesson, one tap away


def test_a_newcomer_on_their_own_phone_chooses_a_password_and_signs_in_with_their_phone(
    world, client
):
    code = make_code(world)
    data = {"name": "Al Host", "phone": "07911 123456", "how": "password",
            "password": "a strong one here"}  # fmt: skip
    assert client.post(f"/join/{code}", data=data).status_code == 303
    client.post("/logout")
    again = client.post("/login", data={"email": "+447911123456", "password": data["password"]})
    assert again.status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**JO, "employee_number": ""}, "employee_number", "works with your employee number"),
        ({**JO, "pin": "111111"}, "pin", "too easy to guess"),
        ({**JO, "how": "password", "employee_number": "", "pin": ""}, "phone", "mobile number"),
        ({**JO, "how": "password", "password": "short"}, "password", "at least 12"),
        ({**JO, "name": ""}, "name", "Write your name"),
    ],
)
def test_a_bad_join_form_gets_field_errors_and_uses_nothing(world, client, data, field, message):
    code = make_code(world)
    response = client.post(f"/join/{code}", data=data)
    assert response.status_code == 400
    page = text(response)
    assert f'id="{field}-error"' in page and message in page
    with world.app_context():
        assert db.session.scalar(sa.select(JoinCode.uses).where(JoinCode.code == code)) == 0


def test_a_team_can_ask_for_an_employee_number(world, client):
    code = make_code(world)
    with world.app_context():
        db.session.scalar(sa.select(Team).where(Team.name == "The Copper Pot")).__setattr__(
            "joiners_need_employee_number", True
        )
        db.session.commit()
    data = {"name": "Al Host", "phone": "+447911123456", "how": "password",
            "password": "a strong one here"}  # fmt: skip
    response = client.post(f"/join/{code}", data=data)
    assert (
        response.status_code == 400
        and "this team asks for your employee number" in text(response).lower()
    )


@pytest.mark.parametrize("state", ["expired", "revoked", "used up"])
def test_a_code_that_ended_gets_a_clear_page(world, client, state):
    code = make_code(world, uses=1)
    with world.app_context():
        row = db.session.scalar(sa.select(JoinCode).where(JoinCode.code == code))
        if state == "expired":
            row.expires_at = row.created_at
        elif state == "revoked":
            joining.revoke(db.session, row)
        else:
            row.uses = 1
        db.session.commit()
    response = client.get(f"/join/{code}")
    assert response.status_code == 404 and "That code does not work" in text(response)
    assert client.post(f"/join/{code}", data=JO).status_code == 404


def test_guessing_codes_from_one_address_is_stopped(world, client):
    for n in range(30):
        client.post("/join", data={"code": f"WRONG{n:03d}"})
    refused = client.post("/join", data={"code": make_code(world)})
    assert refused.status_code == 429 and "Too many tries" in text(refused)


# -- exactly the number of uses, however many join at once ---------------------------------------


def test_ten_people_joining_at_once_on_a_five_use_code_make_five_accounts(any_db_app):
    sync_starter_library(any_db_app)
    with any_db_app.app_context():
        team = joining_team(any_db_app)
        code = joining.create_code(db.session, team, by=None, uses=5).code
    server = make_server("127.0.0.1", 0, any_db_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    barrier = threading.Barrier(10)

    def join(n: int) -> int:
        body = urllib.parse.urlencode(
            {
                "name": f"Joiner {n}",
                "employee_number": f"30{n:02d}",
                "how": "pin",
                "pin": "246810",
            }  # fmt: skip
        ).encode()
        barrier.wait()
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/join/{code}")
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(join, range(10)))
    finally:
        server.shutdown()
        server.server_close()
    assert statuses.count(303) == 5, statuses
    with any_db_app.app_context():
        joined = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.joined_with_code == code)
        )
        uses = db.session.scalar(sa.select(JoinCode.uses).where(JoinCode.code == code))
    assert (joined, uses) == (5, 5)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def joining_team(app) -> Team:
    team = Team(name="Night Shift")
    db.session.add(team)
    db.session.commit()
    return team


# -- approval ------------------------------------------------------------------------------------


def test_a_team_that_approves_newcomers_keeps_them_waiting_until_a_manager_does(world):
    code = make_code(world)
    with world.app_context():
        db.session.scalar(sa.select(Team).where(Team.name == "The Copper Pot")).__setattr__(
            "joiners_need_approval", True
        )
        db.session.commit()
    jo, manager, stranger = world.test_client(), world.test_client(), world.test_client()
    assert jo.post(f"/join/{code}", data=JO).status_code == 303
    waiting = jo.get("/", follow_redirects=True)
    assert "approves each newcomer" in text(waiting)
    with world.app_context():
        jo_id = db.session.scalar(sa.select(User.id).where(User.employee_number == "2001"))
        assert db.session.scalar(sa.select(Enrolment).where(Enrolment.user_id == jo_id)) is None

    sign_in(stranger, "oli@example.com")  # manages another team
    assert stranger.post(f"/manage/joiners/{jo_id}/approve").status_code == 404
    sign_in(manager, "maria@example.com")
    team_page = text(manager.get("/manage/"))
    assert "Waiting for your approval" in team_page and "Jo Newman" in team_page
    assert manager.post(f"/manage/joiners/{jo_id}/approve").status_code == 303
    assert "Waiting for your approval" not in text(manager.get("/manage/"))
    assert jo.get("/").status_code == 200
    with world.app_context():
        assert db.session.scalar(sa.select(Enrolment).where(Enrolment.user_id == jo_id))


def test_a_turned_away_newcomer_is_signed_out_and_cannot_sign_in(world):
    code = make_code(world)
    with world.app_context():
        db.session.scalar(sa.select(Team).where(Team.name == "The Copper Pot")).__setattr__(
            "joiners_need_approval", True
        )
        db.session.commit()
    jo, manager = world.test_client(), world.test_client()
    jo.post(f"/join/{code}", data=JO)
    with world.app_context():
        jo_id = db.session.scalar(sa.select(User.id).where(User.employee_number == "2001"))
    sign_in(manager, "maria@example.com")
    assert manager.post(f"/manage/joiners/{jo_id}/decline").status_code == 303
    assert jo.get("/").status_code == 302
    with world.app_context():
        assert db.session.get(User, jo_id).active is False


# -- the manager's page and the poster ------------------------------------------------------------


def test_a_manager_makes_a_code_prints_its_poster_and_revokes_it(world, client):
    sign_in(client, "maria@example.com")
    page = text(client.get("/manage/join-codes"))
    assert "Make a code" in page and "Riverside Bank" not in page  # only her own team
    with world.app_context():
        pot = db.session.scalar(sa.select(Team.id).where(Team.name == "The Copper Pot"))
        bank = db.session.scalar(sa.select(Team.id).where(Team.name == "Riverside Bank"))
    made = client.post(
        "/manage/join-codes", data={"team": str(pot), "job_role": "", "days": "14", "uses": "20"}
    )
    assert made.status_code == 303
    not_hers = client.post(
        "/manage/join-codes", data={"team": str(bank), "job_role": "", "days": "14", "uses": "2"}
    )
    assert not_hers.status_code == 400
    with world.app_context():
        code = db.session.scalar(sa.select(JoinCode).where(JoinCode.team_id == pot))
        code_id, value, display = code.id, code.code, code.display

    poster = text(client.get(f"/manage/join-codes/{code_id}/poster"))
    url = f"http://127.0.0.1:5000/join/{value}"
    assert "Join The Copper Pot" in poster and display in poster
    assert 'role="img"' in poster and f'aria-label="QR code: {url}"' in poster
    svg = re.search(r"<svg .*?</svg>", poster, re.S).group(0)
    assert decode_qr(svg) == [url]  # what a phone's camera reads off the poster

    assert client.post(f"/manage/join-codes/{code_id}/revoke").status_code == 303
    assert client.get(f"/join/{value}").status_code == 404


def test_another_teams_manager_sees_no_poster_and_cannot_revoke(world):
    code = make_code(world)
    with world.app_context():
        code_id = db.session.scalar(sa.select(JoinCode.id).where(JoinCode.code == code))
    client = world.test_client()
    sign_in(client, "oli@example.com")
    assert client.get(f"/manage/join-codes/{code_id}/poster").status_code == 404
    assert client.post(f"/manage/join-codes/{code_id}/revoke").status_code == 404
    learner = world.test_client()
    sign_in(learner, "pat@example.com")
    assert learner.get("/manage/join-codes").status_code == 403
