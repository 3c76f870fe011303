"""Pages rendered in the pseudo-language: every word a person reads must come from a translated
string. People, teams and devices here have marked names too, so only bare English is left.

The pages covered are listed in PAGES; a page whose words are all marked joins the list.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from tests.conftest import make_app
from tests.pseudo_locale import PSEUDO, build_catalog, marked, unmarked
from trainer.auth import cards
from trainer.auth import device as devices
from trainer.extensions import db
from trainer.languages import LANGUAGES
from trainer.models import Team, User
from trainer.notify.tokens import reminder_token
from trainer.people import joining
from trainer.people.services import create_user, get_or_create_team

PASSWORD = "correct horse battery"
TEAM = marked("Copper Pot")
SKIPPED = {"script", "style", "svg", "title"}


class MainText(HTMLParser):
    """The text a person reads inside <main>, with the values of buttons and labels."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.skipping = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.depth += 1
        if tag in SKIPPED:
            self.skipping += 1
        if self.depth and not self.skipping:
            if tag == "input" and attrs.get("type") in {"submit", "button"}:
                self.parts.append(attrs.get("value") or "")
            for name in ("aria-label", "placeholder", "title"):
                if attrs.get(name):
                    self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skipping -= 1
        if tag == "main":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and not self.skipping:
            self.parts.append(data)


def main_text(html: str) -> str:
    parser = MainText()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture(scope="module")
def pseudo_catalog(tmp_path_factory):
    return build_catalog(tmp_path_factory.mktemp("pseudo"))


@pytest.fixture
def world(tmp_path, request, pseudo_catalog, monkeypatch):
    # The pseudo-language is chosen like any other: the browser asks for it.
    monkeypatch.setitem(LANGUAGES, PSEUDO, "Pseudo")
    app = make_app(
        tmp_path,
        "sqlite",
        request,
        BABEL_TRANSLATION_DIRECTORIES=f"{pseudo_catalog};translations",
        DEFAULT_LANGUAGE="en",
    )
    with app.app_context():
        db.create_all()
        s = db.session
        pot = get_or_create_team(s, TEAM)
        get_or_create_team(s, marked("Riverside"))
        maria = create_user(
            s,
            email="maria@example.com",
            name=f"{marked('Maria')} {marked('Lopez')}",
            password=PASSWORD,
            role="manager",
        )
        maria.managed_teams.append(pot)
        maria.managed_teams.append(s.query(Team).filter_by(name=marked("Riverside")).one())
        jo = create_user(
            s, name=f"{marked('Jo')} {marked('Server')}", employee_number="1001", team=TEAM
        )
        s.commit()
        added, enrol_code = devices.add_device(s, pot, marked("Counter tablet"), created_by=maria)
        waiting, _ = devices.add_device(s, pot, marked("Bar tablet"), created_by=maria)
        _, cookie = devices.enrol(s, enrol_code)
        code = joining.create_code(s, pot, by=maria)
        sheet = cards.print_cards(s, pot, [jo.id], made_by=maria)
        world = SimpleNamespace(
            app=app,
            cookie=cookie,
            code=code.code,
            display=code.display,
            code_id=code.id,
            card=sheet[0].written_code,
            card_link=sheet[0].typed_prefix,
            jo=jo.id,
            token=reminder_token(s.get(User, jo.id)),
        )
        return world


def pseudo(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = PSEUDO.replace("_", "-")
    return client


def signed_in_manager(app):
    client = pseudo(app.test_client())
    response = client.post("/login", data={"email": "maria@example.com", "password": PASSWORD})
    assert response.status_code == 302
    return client


def assert_all_marked(page, *allowed: str) -> None:
    html = page.get_data(as_text=True)
    words = unmarked(main_text(html), "Frontline Trainer", *allowed)
    assert words == [], f"{page.request.path}: bare words {words}"


def test_pages_of_the_tablet_the_card_and_joining_are_all_translated(world):
    app = world.app
    tablet = pseudo(app.test_client())
    tablet.set_cookie(app.config["DEVICE_COOKIE_NAME"], world.cookie)
    assert_all_marked(tablet.get("/device"))
    wrong = tablet.post("/device", data={"employee_number": "1001", "pin": "999999"})
    assert_all_marked(wrong)

    visitor = pseudo(app.test_client())
    assert_all_marked(visitor.get("/device"))
    assert_all_marked(visitor.get("/join"))
    assert_all_marked(visitor.post("/join", data={"code": "nope"}))
    assert_all_marked(visitor.get(f"/join/{world.code}"))
    assert_all_marked(visitor.post(f"/join/{world.code}", data={"how": "pin"}))
    assert_all_marked(visitor.get(f"/card/{world.card}"), "1001")
    assert_all_marked(visitor.get("/card/NOPE-NOPE"))
    assert_all_marked(visitor.get("/device/enrol/NOPE-NOPE-NOPE"))
    assert_all_marked(visitor.get(f"/reminders/{world.token}"), "18:00")
    assert_all_marked(visitor.get("/reminders/forged"))
    assert_all_marked(visitor.get("/no/such/page"))


def test_the_managers_tablet_code_and_card_pages_are_all_translated(world):
    client = signed_in_manager(world.app)
    date = r"\d{1,2} \w{3} \d{4}, \d\d:\d\d"
    for path in ("/manage/devices", "/manage/join-codes", "/manage/cards"):
        page = client.get(path)
        dates = re.findall(date, main_text(page.get_data(as_text=True)))
        assert_all_marked(page, world.display, *dates)
    poster = client.get(f"/manage/join-codes/{world.code_id}/poster")
    assert_all_marked(poster, world.display, *re.findall(date, poster.get_data(as_text=True)))
