"""The team's shared tablet: enrolment links, PIN sign-in only there and only for its team, the
throttle per person and per device (atomic under concurrent guesses), short sessions that end
with the lesson, and the manager's list of devices."""

from __future__ import annotations

import hashlib
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.test_sessions import shift_sessions
from trainer.auth import device as devices
from trainer.extensions import db
from trainer.models import Device, Refresher, SignInCounter, Team, User, UserSession, utcnow
from trainer.people.services import create_user, get_or_create_team

PASSWORD = "correct horse"
JO_PIN = "246810"
WRONG_PIN_TEXT = "That employee number and PIN do not match."
COOKIE = "team_device"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(any_db_app):
    """The Copper Pot (Maria manages it; Jo and Lee serve there) and Riverside (Kim)."""
    app = any_db_app
    with app.app_context():
        s = db.session
        pot = get_or_create_team(s, "The Copper Pot")
        river = get_or_create_team(s, "Riverside")
        maria = create_user(
            s, email="maria@example.com", name="Maria Lopez", password=PASSWORD,
            role="manager", employee_number="9001", pin="975310",
        )  # fmt: skip
        maria.managed_teams.append(pot)
        jo = create_user(
            s, name="Jo Server", employee_number="1001", pin=JO_PIN, password=PASSWORD,
            team="The Copper Pot",
        )  # fmt: skip
        lee = create_user(s, name="Lee Host", employee_number="1002", pin="135792",
                          team="The Copper Pot")  # fmt: skip
        kim = create_user(s, name="Kim Teller", employee_number="2001", pin="864213",
                          team="Riverside")  # fmt: skip
        s.commit()
        return SimpleNamespace(
            app=app, pot=pot.id, river=river.id, maria=maria.id, jo=jo.id, lee=lee.id, kim=kim.id
        )


def make_device(app, team_id: int, label: str = "Counter tablet") -> tuple[int, str]:
    """A device of the team, enrolled; its id and the value of its browser cookie."""
    with app.app_context():
        team = db.session.get(Team, team_id)
        added, code = devices.add_device(db.session, team, label, created_by=None)
        enrolled, cookie = devices.enrol(db.session, code)
        return enrolled.id, cookie


def tablet(app, cookie: str | None):
    client = app.test_client()
    if cookie:
        client.set_cookie(COOKIE, cookie)
    return client


def pin(client, number="1001", code=JO_PIN, address="10.0.0.1"):
    return client.post(
        "/device",
        data={"employee_number": number, "pin": code},
        environ_base={"REMOTE_ADDR": address},
    )


def sessions_of(app, user_id: int) -> list[UserSession]:
    with app.app_context():
        query = sa.select(UserSession).where(UserSession.user_id == user_id)
        rows = list(db.session.scalars(query.order_by(UserSession.id)))
        db.session.expunge_all()
        return rows


def manager(app):
    client = app.test_client()
    assert (
        client.post("/login", data={"email": "maria@example.com", "password": PASSWORD}).status_code
        == 302
    )
    return client


def link_path(link: str) -> str:
    return urllib.parse.urlsplit(link).path


# -- enrolling a device ------------------------------------------------------------------------


def test_an_enrolment_link_works_once_and_only_its_hash_is_stored(world):
    app = world.app
    page = manager(app).post("/manage/devices", data={"team": world.pot, "name": "Bar tablet"})
    assert page.status_code == 200
    link = re.search(r'<a href="([^"]+/device/enrol/[^"]+)"', text(page)).group(1)
    code = link.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert '<svg role="img"' in text(page)  # its QR code, for the tablet's camera
    with app.app_context():
        row = db.session.scalar(sa.select(Device))
        stored = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
        assert row.link_hash == stored and row.enrolled_at is None and row.secret_hash is None

    tab = app.test_client()
    confirm = tab.get(link_path(link))  # a link preview fetching it uses nothing up
    assert confirm.status_code == 200 and "Make this browser the team tablet?" in text(confirm)
    assert "The Copper Pot" in text(confirm) and tab.get_cookie(COOKIE) is None
    enrolled = tab.post(link_path(link))
    assert enrolled.status_code == 303 and enrolled.location == "/device"
    with app.app_context():  # the cookie's secret is kept as a hash only
        _id, secret = devices._serializer().loads(tab.get_cookie(COOKIE).value)
        row = db.session.scalar(sa.select(Device))
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr([getattr(row, c.key) for c in Device.__table__.columns])
    page = text(tab.get("/device"))
    assert "The Copper Pot · Bar tablet" in page
    assert "now The Copper Pot’s tablet “Bar tablet”" in page
    # The same browser opening its link again (a reload, a double tap) is simply the tablet.
    assert tab.post(link_path(link)).location == "/device"
    assert tab.get(link_path(link)).location == "/device"

    other = app.test_client()
    assert other.get(link_path(link)).status_code == 404
    used = other.post(link_path(link))
    assert used.status_code == 404 and "already used or has expired" in text(used)
    assert other.get_cookie(COOKIE) is None
    # Typed in lower case and without the dashes, it is the same (used) link.
    assert other.get("/device/enrol/" + code.replace("-", "").lower()).status_code == 404


def test_an_enrolment_link_expires_after_48_hours(world):
    app = world.app
    with app.app_context():
        team = db.session.get(Team, world.pot)
        added, code = devices.add_device(db.session, team, "Late tablet", created_by=None)
        added.link_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    tab = app.test_client()
    assert tab.get(f"/device/enrol/{code}").status_code == 404
    assert tab.post(f"/device/enrol/{code}").status_code == 404
    assert tab.get_cookie(COOKIE) is None
    listing = text(manager(app).get("/manage/devices"))
    assert "Link expired, never opened" in listing


def test_enrolling_signs_out_whoever_was_signed_in_on_that_browser(world):
    app = world.app
    browser = manager(app)  # Maria, signed in on the tablet to make the link
    known = app.config["KNOWN_BROWSER_COOKIE_NAME"]
    assert browser.get_cookie(known) is not None
    page = browser.post("/manage/devices", data={"team": world.pot, "name": "Till"})
    link = re.search(r'<a href="([^"]+/device/enrol/[^"]+)"', text(page)).group(1)
    assert browser.post(link_path(link)).status_code == 303
    assert [s.end_reason for s in sessions_of(app, world.maria)] == ["signed out"]
    assert browser.get("/").location == "/device"  # no one is signed in on it now
    # Nor is it Maria's own browser any more: guesses at her password here count in full.
    assert browser.get_cookie(known) is None


def test_flask_devices_add_prints_a_working_link(world):
    app = world.app
    runner = app.test_cli_runner()
    result = runner.invoke(args=["devices", "add", "--team", "The Copper Pot", "--name", "Tab 2"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith(app.config["PUBLIC_URL"] + "/device/enrol/")
    tab = app.test_client()
    assert tab.post(link_path(link)).status_code == 303
    assert pin(tab).location == "/"

    listed = runner.invoke(args=["devices", "list"])
    assert re.search(r"\tThe Copper Pot\tTab 2\tenrolled\tlast used", listed.output)
    unknown = runner.invoke(args=["devices", "add", "--team", "Nowhere", "--name", "X"])
    assert unknown.exit_code == 2 and 'there is no team named "Nowhere"' in unknown.output


# -- signing in with a PIN ---------------------------------------------------------------------


def test_jo_signs_in_on_her_teams_tablet_with_employee_number_and_pin(world):
    app = world.app
    device_id, cookie = make_device(app, world.pot)
    tab = tablet(app, cookie)
    form = text(tab.get("/device"))
    assert '<label for="employee_number">Employee number</label>' in form
    assert '<label for="pin">PIN</label>' in form
    assert 'autocomplete="off"' in form  # no suggestions of the last colleague's number

    response = pin(tab)
    assert response.status_code == 303 and response.location == "/"
    assert "Hello, Jo" in text(tab.get("/"))
    [row] = sessions_of(app, world.jo)
    assert row.device_id == device_id and row.remember is False
    # A shared tablet is not remembered as Jo's own browser (which would spare guesses at her
    # password made there from the daily count).
    assert tab.get_cookie(app.config["KNOWN_BROWSER_COOKIE_NAME"]) is None
    with app.app_context():
        assert db.session.get(Device, device_id).last_used_at is not None


def _same_as_wrong_pin(right, wrong) -> None:
    assert right.status_code == wrong.status_code == 401
    assert text(right) == text(wrong)
    assert WRONG_PIN_TEXT in text(right)
    assert "Retry-After" not in right.headers


@pytest.mark.parametrize("where", ["no device", "revoked device", "another team's device"])
def test_a_right_pin_elsewhere_is_refused_exactly_as_a_wrong_one(world, where):
    app = world.app
    cookie = None
    if where == "revoked device":
        device_id, cookie = make_device(app, world.pot)
        with app.app_context():
            devices.revoke(db.session, db.session.get(Device, device_id))
    elif where == "another team's device":
        _device_id, cookie = make_device(app, world.river)
    right = pin(tablet(app, cookie), code=JO_PIN)
    wrong = pin(tablet(app, cookie), code="907531")
    _same_as_wrong_pin(right, wrong)
    assert sessions_of(app, world.jo) == []


def test_a_forged_device_cookie_is_no_device(world):
    app = world.app
    device_id, cookie = make_device(app, world.pot)
    forged = devices.URLSafeSerializer("not the key", salt=devices.COOKIE_SALT).dumps(
        [device_id, "guess"]
    )
    right = pin(tablet(app, forged))
    _same_as_wrong_pin(right, pin(tablet(app, forged), code="907531"))


def test_managers_sign_in_on_the_tablet_with_their_password_not_a_pin(world):
    """A manager's pages show the whole team: not from a PIN on a shared screen."""
    app = world.app
    _device_id, cookie = make_device(app, world.pot)
    refused = pin(tablet(app, cookie), number="9001", code="975310")
    _same_as_wrong_pin(refused, pin(tablet(app, cookie), number="9001", code="907531"))
    # With her password she may, and it is a tablet session like any other there.
    tab = tablet(app, cookie)
    response = tab.post(
        "/login", data={"email": "maria@example.com", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    [row] = sessions_of(app, world.maria)
    assert row.device_id is not None and row.remember is False
    with app.app_context():
        used = db.session.get(Device, row.device_id)
        assert used.last_used_at > used.enrolled_at  # a sign-in there, whichever way


def test_a_pin_that_is_not_six_digits_is_a_field_error(world):
    _device_id, cookie = make_device(world.app, world.pot)
    response = pin(tablet(world.app, cookie), code="12ab")
    assert response.status_code == 400 and "A PIN is 6 digits." in text(response)


# -- the session on the tablet ----------------------------------------------------------------


def test_a_tablet_session_idles_out_after_device_idle_minutes_back_to_the_device_page(world):
    app = world.app
    assert app.config["DEVICE_IDLE_MINUTES"] == 3
    _device_id, cookie = make_device(app, world.pot)
    tab = tablet(app, cookie)
    pin(tab)
    phone = app.test_client()  # Jo's own phone, signed in with her password
    assert phone.post("/login", data={"email": "1001", "password": PASSWORD}).status_code == 302

    shift_sessions(app, minutes=2)
    assert tab.get("/").status_code == 200
    shift_sessions(app, minutes=3, seconds=1)
    response = tab.get("/lessons")
    assert response.status_code == 302 and response.location == "/device"  # not /login?next=
    page = text(tab.get("/device"))
    assert "Jo" not in page.replace("Join", "") and "Please sign in to continue." in page
    assert phone.get("/").status_code == 200  # the phone's session idles for hours, not minutes
    reasons = {row.device_id is not None: row.end_reason for row in sessions_of(app, world.jo)}
    assert reasons == {True: "idle", False: None}


def test_signing_out_on_the_tablet_goes_back_to_the_device_page(world):
    app = world.app
    _device_id, cookie = make_device(app, world.pot)
    tab = tablet(app, cookie)
    pin(tab)
    response = tab.post("/logout")
    assert response.status_code == 303 and response.location == "/device"
    page = text(tab.get("/device"))
    assert "You are signed out." in page
    assert "Jo " not in page and "Jo<" not in page and "1001" not in page
    assert tab.get("/").location == "/device"


def test_revoking_a_device_stops_its_cookie_and_ends_its_session_at_once(world):
    app = world.app
    device_id, cookie = make_device(app, world.pot)
    tab = tablet(app, cookie)
    pin(tab)
    assert tab.get("/").status_code == 200

    boss = manager(app)
    listing = text(boss.get("/manage/devices"))
    assert "Counter tablet" in listing and "In use" in listing
    response = boss.post(f"/manage/devices/{device_id}/revoke")
    assert response.status_code == 303
    assert "Whoever was signed in on it is signed out." in text(boss.get("/manage/devices"))

    assert tab.get("/").location.startswith("/login")  # signed out, and no tablet any more
    assert [s.end_reason for s in sessions_of(app, world.jo)] == ["device revoked"]
    _same_as_wrong_pin(pin(tablet(app, cookie)), pin(tablet(app, cookie), code="907531"))


def test_a_second_enrolment_on_the_same_browser_revokes_the_first_device(world):
    app = world.app
    first_id, cookie = make_device(app, world.pot, "Old tablet")
    tab = tablet(app, cookie)
    with app.app_context():
        team = db.session.get(Team, world.pot)
        _added, code = devices.add_device(db.session, team, "New tablet", created_by=None)
    assert tab.post(f"/device/enrol/{code}").status_code == 303
    with app.app_context():
        assert db.session.get(Device, first_id).revoked_at is not None
    assert pin(tab).location == "/"


# -- the throttle ------------------------------------------------------------------------------


def test_five_wrong_pins_make_that_person_wait_on_that_device_only(world):
    app = world.app
    _pot_tablet, cookie = make_device(app, world.pot)
    _second, other_cookie = make_device(app, world.pot, "Kitchen tablet")
    tab = tablet(app, cookie)
    limit = app.config["PIN_MAX_FAILURES_PER_PERSON_AND_DEVICE"]
    assert limit == 5
    for _ in range(limit):
        assert pin(tab, code="907531").status_code == 401
    refused = pin(tab)  # even the right PIN, now
    assert refused.status_code == 429
    assert "Too many wrong PINs for this employee number. Wait 15 minutes" in text(refused)
    assert refused.headers["Retry-After"] == "900"

    assert pin(tablet(app, cookie), number="1002", code="135792").location == "/"  # Lee, here
    assert pin(tablet(app, other_cookie)).location == "/"  # Jo, on the kitchen tablet
    phone = app.test_client()  # and Jo's own phone never noticed
    assert phone.post("/login", data={"email": "1001", "password": PASSWORD}).status_code == 302


def test_a_device_under_attack_waits_but_no_one_is_locked_out_of_their_phone(world):
    app = world.app
    app.config["PIN_MAX_FAILURES_PER_DEVICE"] = 6  # each guess costs an Argon2 check
    _device_id, cookie = make_device(app, world.pot)
    tab = tablet(app, cookie)
    for n in range(6):
        assert pin(tab, number=f"77{n}", code="907531").status_code == 401
    refused = pin(tab)
    assert refused.status_code == 429
    assert "Too many wrong PINs on this device in a short time." in text(refused)

    with app.app_context():  # PINs are counted apart from passwords
        keys = set(db.session.scalars(sa.select(SignInCounter.key)))
    assert keys and all(":pin:" in key or key.startswith("address:device:") for key in keys)
    phone = app.test_client()
    assert phone.post("/login", data={"email": "1001", "password": PASSWORD}).status_code == 302


def test_a_persons_pins_are_capped_per_day_across_devices(world):
    app = world.app
    app.config["PIN_MAX_CHECKS_PER_PERSON_PER_DAY"] = 4
    cookies = [make_device(app, world.pot, f"Tablet {n}")[1] for n in range(3)]
    checked = [pin(tablet(app, cookies[n % 3]), code="907531").status_code for n in range(6)]
    assert checked == [401] * 4 + [429] * 2
    refused = pin(tablet(app, cookies[2]))
    assert refused.status_code == 429
    assert "Too many wrong PINs for this employee number today." in text(refused)
    # Lee's count is his own.
    assert pin(tablet(app, cookies[0]), number="1002", code="135792").location == "/"


def test_guesses_on_another_teams_tablet_use_up_nothing_of_the_person(world):
    app = world.app
    app.config["PIN_MAX_CHECKS_PER_PERSON_PER_DAY"] = 3
    _river, river_cookie = make_device(app, world.river)
    _pot, pot_cookie = make_device(app, world.pot)
    statuses = [pin(tablet(app, river_cookie), code="907531").status_code for _ in range(5)]
    assert statuses == [401] * 3 + [429] * 2  # counted under the number typed there
    assert pin(tablet(app, pot_cookie)).location == "/"  # Jo's own daily count is untouched


class Server:
    """The app on a real threaded HTTP server, as a tablet with its cookie."""

    def __init__(self, app, cookie: str):
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.cookie = f"{COOKIE}={cookie}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def post(self, path: str, data: dict) -> int:
        request = urllib.request.Request(
            self.url + path, urllib.parse.urlencode(data).encode(), headers={"Cookie": self.cookie}
        )
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _at_once(count: int, send) -> list[int]:
    barrier = threading.Barrier(count)

    def one(n: int) -> int:
        barrier.wait()
        return send(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture
def tablet_server(world):
    _device_id, cookie = make_device(world.app, world.pot)
    server = Server(world.app, cookie)
    yield server
    server.stop()


def test_forty_wrong_pins_at_once_check_at_most_five(world, tablet_server):
    statuses = _at_once(
        40,
        lambda n: tablet_server.post(
            "/device", {"employee_number": "1001", "pin": f"{907000 + n:06d}"}
        ),
    )
    limit = world.app.config["PIN_MAX_FAILURES_PER_PERSON_AND_DEVICE"]
    assert statuses.count(401) <= limit  # a 401 is a PIN checked (and wrong)
    assert statuses.count(401) + statuses.count(429) == 40
    assert pin(tablet(world.app, tablet_server.cookie.split("=", 1)[1])).status_code == 429


def test_forty_numbers_at_once_on_one_device_check_at_most_its_limit(world, tablet_server):
    limit = world.app.config["PIN_MAX_FAILURES_PER_DEVICE"] = 8
    statuses = _at_once(
        40, lambda n: tablet_server.post("/device", {"employee_number": f"5{n}", "pin": "907531"})
    )
    assert statuses.count(401) <= limit
    assert statuses.count(401) + statuses.count(429) == 40


# -- the manager's list ------------------------------------------------------------------------


def test_managers_list_add_and_revoke_only_their_own_teams_devices(world):
    app = world.app
    river_id, _cookie = make_device(app, world.river, "Riverside counter")
    pot_id, _cookie = make_device(app, world.pot, "Pot counter")
    boss = manager(app)
    listing = text(boss.get("/manage/devices"))
    assert "Pot counter" in listing and "Riverside counter" not in listing
    assert '<a href="/manage/devices" aria-current="page">Tablets</a>' in listing

    assert boss.post(f"/manage/devices/{river_id}/revoke").status_code == 404
    refused = boss.post("/manage/devices", data={"team": world.river, "name": "Sneaky"})
    assert refused.status_code == 400 and "Choose one of your teams." in text(refused)
    blank = boss.post("/manage/devices", data={"team": world.pot, "name": "  "})
    assert blank.status_code == 400 and "Give the device a name" in text(blank)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 2
        assert db.session.get(Device, river_id).revoked_at is None

    learner = app.test_client()
    learner.post("/login", data={"email": "1001", "password": PASSWORD})
    assert learner.get("/manage/devices").status_code == 403
    assert learner.post(f"/manage/devices/{pot_id}/revoke").status_code == 403


def test_an_admin_adds_a_device_for_any_team(world):
    app = world.app
    with app.app_context():
        create_user(db.session, email="admin@example.com", name="Alex", password=PASSWORD,
                    role="admin")  # fmt: skip
        db.session.commit()
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    page = admin.post("/manage/devices", data={"team": world.river, "name": "Riverside tab"})
    assert page.status_code == 200 and "/device/enrol/" in text(page)
    with app.app_context():
        made = db.session.scalar(sa.select(Device))
        assert made.team_id == world.river
        assert db.session.get(User, made.created_by_id).name == "Alex"


# -- the end of a lesson or refresher on the tablet ------------------------------------------


def test_the_end_of_a_lesson_or_refresher_says_done_sign_out_on_the_tablet_only(library_app):
    from tests.test_review import LESSON, answer_item, take_quiz

    app = library_app
    with app.app_context():
        pot = get_or_create_team(db.session, "The Copper Pot")
        jo = create_user(
            db.session, name="Jo Server", employee_number="1001", pin=JO_PIN, password=PASSWORD,
            team="The Copper Pot", job_role="teller",
        )  # fmt: skip
        db.session.commit()
        take_quiz(jo, when=utcnow() - timedelta(days=12))  # a lesson done; its questions due
        pot_id = pot.id
    _device_id, cookie = make_device(app, pot_id)
    tab = tablet(app, cookie)
    pin(tab)
    phone = app.test_client()
    phone.post("/login", data={"email": "1001", "password": PASSWORD})

    sign_out = re.compile(
        r'<form method="post" action="/logout" class="step-form">\s*'
        r'(<input (id="csrf_token" )?name="csrf_token" type="hidden" value="[^"]*">)?\s*'
        r'<button type="submit" class="button primary">Done — sign out</button>'
    )
    lesson_done = text(tab.get(f"/lessons/{LESSON}/done"))
    assert "Lesson complete" in lesson_done and sign_out.search(lesson_done)
    assert 'class="button primary">Back to Today' not in lesson_done
    on_phone = text(phone.get(f"/lessons/{LESSON}/done"))
    assert "Done — sign out" not in on_phone
    assert re.search(r'class="button primary" href="/lessons/[a-z0-9-]+">Next: ', on_phone)
    assert 'class="button" href="/">Back to Today' in on_phone

    refresher = tab.get("/refresher").location
    refresher_id = int(re.search(r"/refresher/(\d+)/1$", refresher).group(1))
    with app.app_context():
        count = len(db.session.get(Refresher, refresher_id).item_ids)
    for n in range(1, count + 1):
        assert answer_item(tab, f"/refresher/{refresher_id}/{n}")[0].status_code == 303
    summary = text(tab.get(f"/refresher/{refresher_id}/done"))
    assert "Refresher done" in summary and sign_out.search(summary)
    assert "Done — sign out" not in text(phone.get(f"/refresher/{refresher_id}/done"))

    assert tab.post("/logout").location == "/device"
    assert tab.get(f"/refresher/{refresher_id}/done").location == "/device"
