"""Personal sign-in cards: for whom, one-time, expiring, stored hashed, a new sheet cancels the
old cards, only for the manager's own teams, and a QR code that decodes to the card's link."""

from __future__ import annotations

import hashlib
import re
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.qr_support import decode_qr
from tests.test_device import make_device, pin, tablet
from trainer.extensions import db
from trainer.models import SignInCard, User, UserSession, utcnow
from trainer.people.services import create_user, get_or_create_team

PASSWORD = "correct horse"
NEW_PASSWORD = "plates stack neatly"
CARD = re.compile(
    r'<article class="signin-card" aria-label="Sign-in card for ([^"]+)">.*?'
    r'(<svg role="img".*?</svg>).*?<p class="card-link">(.*?)</p>',
    re.S,
)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(any_db_app):
    """The Copper Pot (Maria manages it): Ana and Ben have only an employee number and have
    never signed in; Cat has an email, Dan a phone, Eve signed in already, Fay manages the
    floor, Gus left. Riverside: Kim, who needs a card too."""
    app = any_db_app
    with app.app_context():
        s = db.session
        pot = get_or_create_team(s, "The Copper Pot")
        river = get_or_create_team(s, "Riverside")
        maria = create_user(s, email="maria@example.com", name="Maria Lopez", password=PASSWORD,
                            role="manager")  # fmt: skip
        maria.managed_teams.append(pot)
        people = {}
        for name, fields in (
            ("Ana Alves", {"employee_number": "1001"}),
            ("Ben Brook", {"employee_number": "1002", "pin": "246810"}),
            ("Cat Cole", {"employee_number": "1003", "email": "cat@example.com"}),
            ("Dan Dale", {"employee_number": "1004", "phone": "+447911123456"}),
            ("Eve Ember", {"employee_number": "1005", "password": PASSWORD}),
            ("Fay Floor", {"employee_number": "1006", "role": "manager"}),
            ("Gus Gone", {"employee_number": "1007"}),
        ):
            people[name.split()[0].lower()] = create_user(s, name=name, team="The Copper Pot",
                                                          **fields)  # fmt: skip
        people["gus"].active = False
        kim = create_user(s, name="Kim Teller", employee_number="2001", team="Riverside")
        s.commit()
        ids = {key: person.id for key, person in people.items()}
        ids.update(pot=pot.id, river=river.id, kim=kim.id)
    client = app.test_client()
    client.post("/login", data={"email": "1005", "password": PASSWORD})  # Eve signs in once
    return SimpleNamespace(app=app, **ids)


def manager(app):
    client = app.test_client()
    client.post("/login", data={"email": "maria@example.com", "password": PASSWORD})
    return client


def print_sheet(app, team_id: int, people: list[int], client=None):
    client = client or manager(app)
    return client.post(f"/manage/cards?team={team_id}", data={"people": people})


def cards_on(sheet: str) -> dict[str, SimpleNamespace]:
    """The cards of a printed sheet, by person: the QR code's SVG and the link written out."""
    found = {}
    for name, svg, written in CARD.findall(sheet):
        typed = re.sub(r"<[^>]+>", "", written)
        found[name] = SimpleNamespace(svg=svg, typed=typed, path="/" + typed.split("/", 1)[1])
    return found


# -- the sheet ---------------------------------------------------------------------------------


def test_the_sheet_offers_cards_for_learners_without_email_or_phone_who_never_signed_in(world):
    page = text(manager(world.app).get(f"/manage/cards?team={world.pot}"))
    offered = re.findall(r'<label for="people-\d+">([^<]+?)\s*<span', page)
    assert offered == ["Ana Alves", "Ben Brook"]
    assert len(re.findall(r'<input checked id="people-', page)) == 2  # all ticked at first
    assert '<a href="/manage/cards" aria-current="page">Cards</a>' in page

    # A forged id of someone else gets no card.
    sheet = text(print_sheet(world.app, world.pot, [world.ana, world.cat, world.eve, world.kim]))
    assert list(cards_on(sheet)) == ["Ana Alves"]


def test_each_card_has_the_name_team_a_qr_code_of_its_link_and_the_link_to_type(world):
    app = world.app
    response = print_sheet(app, world.pot, [world.ana, world.ben])
    assert response.status_code == 200
    sheet = text(response)
    cards = cards_on(sheet)
    assert list(cards) == ["Ana Alves", "Ben Brook"]
    public = urllib.parse.urlsplit(app.config["PUBLIC_URL"])
    for card in cards.values():
        assert re.fullmatch(
            re.escape(public.netloc) + r"/card/[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", card.typed
        )
        assert decode_qr(card.svg) == [f"{public.scheme}://{card.typed}"]
    assert "The Copper Pot · employee no. 1001" in sheet
    assert "style=" not in sheet and "<script" not in sheet  # the CSP allows neither


def test_cards_are_stored_hashed_and_work_once(world):
    app = world.app
    card = cards_on(text(print_sheet(app, world.pot, [world.ana])))["Ana Alves"]
    code = card.path.rsplit("/", 1)[1].replace("-", "")
    with app.app_context():
        row = db.session.scalar(sa.select(SignInCard))
        assert row.code_hash == hashlib.sha256(code.encode()).hexdigest()
        assert code not in repr([getattr(row, c.key) for c in SignInCard.__table__.columns])
        assert row.expires_at - row.created_at == timedelta(days=14)

    phone = app.test_client()
    page = phone.get(card.path)
    assert page.status_code == 200 and "Welcome, Ana" in text(page)
    assert "Your employee number is <strong>1001</strong>" in text(page)
    response = phone.post(
        card.path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert response.status_code == 303 and response.location == "/"
    today = text(phone.get("/"))
    assert "Hello, Ana" in today
    assert "From now on, sign in with your employee number and password." in today

    stranger = app.test_client()
    assert stranger.get(card.path).status_code == 404
    again = stranger.post(card.path, data={"password": "another long one", "password_again":
                                           "another long one"})  # fmt: skip
    assert again.status_code == 404 and "already used or has expired" in text(again)
    # Ana's password is what she chose; the card no longer signs anyone in.
    assert stranger.post("/login", data={"email": "1001", "password": NEW_PASSWORD}).location == "/"


def test_a_card_can_set_a_pin_for_the_team_tablet(world):
    app = world.app
    card = cards_on(text(print_sheet(app, world.pot, [world.ana])))["Ana Alves"]
    phone = app.test_client()
    response = phone.post(card.path, data={"pin": "135792", "pin_again": "135792"})
    assert response.status_code == 303
    assert "your employee number and PIN on the team tablet" in text(phone.get("/"))
    _device_id, cookie = make_device(app, world.pot)
    assert pin(tablet(app, cookie), number="1001", code="135792").location == "/"


def test_a_bad_choice_is_a_field_error_and_keeps_the_card(world):
    app = world.app
    card = cards_on(text(print_sheet(app, world.pot, [world.ana])))["Ana Alves"]
    phone = app.test_client()
    for data, message in (
        ({}, "Choose a password, a PIN, or both."),
        ({"password": "short", "password_again": "short"}, "Use at least 12 characters."),
        ({"password": NEW_PASSWORD, "password_again": "plates stack"}, "The two passwords differ."),
        ({"pin": "123456", "pin_again": "123456"}, "too easy to guess"),
        ({"pin": "135792", "pin_again": "135793"}, "The two PINs differ."),
    ):
        response = phone.post(card.path, data=data)
        assert response.status_code == 400 and message in text(response), data
    assert phone.get("/").status_code == 302  # not signed in
    assert phone.post(card.path, data={"pin": "135792", "pin_again": "135792"}).status_code == 303


def test_a_card_expires(world):
    app = world.app
    card = cards_on(text(print_sheet(app, world.pot, [world.ana])))["Ana Alves"]
    with app.app_context():
        row = db.session.scalar(sa.select(SignInCard))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert app.test_client().get(card.path).status_code == 404


def test_a_new_sheet_cancels_the_older_unused_cards_of_those_people(world):
    app = world.app
    boss = manager(app)
    first = cards_on(text(print_sheet(app, world.pot, [world.ana, world.ben], boss)))
    listing = text(boss.get(f"/manage/cards?team={world.pot}"))
    assert listing.count("still works") == 2
    second = cards_on(text(print_sheet(app, world.pot, [world.ana], boss)))  # Ana lost hers
    phone = app.test_client()
    assert phone.get(first["Ana Alves"].path).status_code == 404
    assert phone.get(first["Ben Brook"].path).status_code == 200  # Ben's still works
    assert phone.get(second["Ana Alves"].path).status_code == 200


def test_a_card_stops_working_once_its_person_signed_in_another_way(world):
    app = world.app
    card = cards_on(text(print_sheet(app, world.pot, [world.ben])))["Ben Brook"]
    _device_id, cookie = make_device(app, world.pot)
    assert pin(tablet(app, cookie), number="1002", code="246810").location == "/"
    assert app.test_client().get(card.path).status_code == 404  # a found card takes nothing over
    assert "Ben Brook" not in text(manager(app).get(f"/manage/cards?team={world.pot}"))


def test_only_a_manager_of_the_team_prints_its_cards(world):
    app = world.app
    boss = manager(app)
    assert boss.get(f"/manage/cards?team={world.river}").status_code == 404
    assert print_sheet(app, world.river, [world.kim], boss).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInCard)) == 0
    nobody = print_sheet(app, world.pot, [], boss)
    assert nobody.status_code == 400 and "Choose at least one person." in text(nobody)
    learner = app.test_client()
    learner.post("/login", data={"email": "1005", "password": PASSWORD})
    assert learner.get("/manage/cards").status_code == 403


def test_two_tabs_using_one_card_at_once_sign_in_once(world):
    app = world.app
    card = cards_on(text(print_sheet(app, world.pot, [world.ana])))["Ana Alves"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}{card.path}"
    barrier = threading.Barrier(6)

    def use(n: int) -> int:
        import urllib.error
        import urllib.request

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        body = urllib.parse.urlencode(
            {"password": f"tab {n} password long", "password_again": f"tab {n} password long"}
        ).encode()
        barrier.wait()
        try:
            with urllib.request.build_opener(NoRedirect).open(url, body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(use, range(6)))
    finally:
        server.shutdown()
        server.server_close()
    assert statuses.count(303) == 1 and statuses.count(404) == 5
    with app.app_context():
        assert len(list(db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == world.ana)
        ))) == 1  # fmt: skip
        assert db.session.get(User, world.ana).password_hash is not None
