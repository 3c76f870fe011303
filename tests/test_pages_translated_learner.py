"""The learner's side in the pseudo-language: signing in, the Account page, Today, the library,
every step of a lesson, the conversation, the refresher and the coaching notes. Every word a
learner reads, inside <main> and in the site's header, title and labels around it, must come from
a translated string; the library here is written with marked words, so only bare English fails.

Then the same pages for real: the demo's Spanish-speaking learner reads them in Spanish, and
switching to Polish on the Account page turns them into Polish.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from babel import Locale
from flask import render_template
from sqlalchemy import select

from tests.conftest import form_token, make_app
from tests.conversation_samples import CONVERSATION
from tests.conversation_support import TO_GOOD, TO_POOR, URL, Page, form_of, get
from tests.pseudo_locale import PSEUDO, marked, unmarked
from tests.test_pages_translated import main_text, pseudo, pseudo_catalog  # noqa: F401
from trainer.admin import invites
from trainer.auth import oidc
from trainer.content.library import load_library
from trainer.content.sync import sync_library
from trainer.extensions import db
from trainer.languages import LANGUAGES
from trainer.manage.coaching import comment_on
from trainer.models import ReviewCard, RolePlayAnswer, User
from trainer.people.services import create_user, get_or_create_team

PASSWORD = "correct horse battery"
EMAIL = "jo@example.com"
TEAM = marked("Copper Pot")
SKIPPED = {"script", "style", "svg"}
# Data, not words of ours: the product, its mark, the learner's address, language names (each in
# its own language), the skill and role keys of the content, which the library shows as they are.
ALLOWED = ("Frontline Trainer", "FT", EMAIL, "bo@example.com", "maria@example.com", "English",
           "Español", "Polski", "Pseudo")  # fmt: skip
CONTENT_KEYS = ("Greeting", "greeting", "wait staff", "teller")
# Dates come out of Babel in the page's language: its month and day names are not ours to mark.
_EN = Locale.parse(PSEUDO)
_DATE_WORDS = sorted(
    {
        *_EN.months["format"]["wide"].values(),
        *_EN.months["format"]["abbreviated"].values(),
        *_EN.days["format"]["wide"].values(),
        *_EN.days["format"]["abbreviated"].values(),
        *_EN.days["stand-alone"]["wide"].values(),
    },
    key=len,
    reverse=True,
)
DATE_WORDS = re.compile(r"\b(?:" + "|".join(map(re.escape, _DATE_WORDS)) + r")\b\.?")


# -- the library, in marked words -------------------------------------------------------------


def m(text: str) -> str:
    """A marked YAML scalar."""
    return json.dumps(marked(text), ensure_ascii=False)


PATHS = f"""\
roles:
  - id: teller
    name: {m("Bank teller")}
  - id: wait-staff
    name: {m("Wait staff")}
paths:
  - id: teller-onboarding
    title: {m("Teller onboarding")}
    role: teller
    lessons:
      - lesson: greeting
        due_days: 1
      - lesson: farewell
        due_days: 2
"""

GREETING = f"""\
---
id: greeting
title: {m("Greeting at the counter")}
skill: greeting
roles: [teller]
minutes: 3
quiz: greeting
conversation: third-late-payment
roleplay:
  - id: queue-greeting
    situation: {m("A customer has queued for ten minutes.")}
    customer: {m("Finally. I've been stood here for ages.")}
    rubric:
      - {m("Makes eye contact and smiles")}
      - {m("Thanks them for waiting")}
      - {m("Asks how to help")}
    model_answer: {m("Thanks for waiting. How can I help today?")}
---
## The scenario

{marked("Ama has queued for ten minutes and the teller does not look up.")}

## {marked("What good looks like")}

- {marked("Look up, smile and greet within five seconds.")}
"""

GREETING_QUIZ = f"""\
id: greeting
title: {m("Greeting at the counter")}
items:
  - id: first-words
    type: single
    prompt: {m("What do you say first?")}
    choices:
      - text: {m("Good morning, how can I help?")}
        correct: true
        feedback: {m("Warm, and it opens the door.")}
      - text: {m("Next!")}
        feedback: {m("It sounds like a queue, not a welcome.")}
    explanation: {m("The first words set the tone of the visit.")}
  - id: eye-contact
    type: truefalse
    prompt: {m("Eye contact matters even when you are busy.")}
    answer: true
  - id: what-helps
    type: multiple
    prompt: {m("Which of these help?")}
    choices:
      - text: {m("A smile")}
        correct: true
      - text: {m("Using their name")}
        correct: true
      - text: {m("Finishing your typing first")}
"""


def small_lesson(key: str, title: str, role: str) -> tuple[str, str]:
    lesson = f"""\
---
id: {key}
title: {m(title)}
skill: greeting
roles: [{role}]
minutes: 2
quiz: {key}
roleplay:
  - id: goodbye
    situation: {m("A guest is putting on their coat.")}
    customer: {m("Thanks, that was lovely.")}
    rubric:
      - {m("Smiles")}
      - {m("Thanks them by name")}
      - {m("Invites them back")}
    model_answer: {m("Thank you, Mrs Ruiz. See you soon.")}
---
## The scenario

{marked("A guest is leaving.")}

## {marked("What good looks like")}

- {marked("Thank them by name.")}
"""
    quiz = f"""\
id: {key}
title: {m(title)}
items:
  - id: last-words
    type: single
    prompt: {m("What do you say last?")}
    choices:
      - text: {m("Thanks for coming in.")}
        correct: true
      - text: {m("Bye.")}
"""
    return lesson, quiz


def marked_conversation() -> str:
    """The sample conversation with every line a person reads marked, on the greeting skill."""
    out = []
    for line in CONVERSATION.splitlines():
        found = re.match(r"^(\s*(?:- )?(?:title|customer|cue|say|feedback|summary): )(.*)$", line)
        if found:
            value = found[2]
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            line = found[1] + m(value)
        out.append(line.replace("skill: collections-call", "skill: greeting"))
    return "\n".join(out) + "\n"


def write_library(root) -> None:
    farewell, farewell_quiz = small_lesson("farewell", "The last impression", "teller")
    table, table_quiz = small_lesson("table", "Seating a table", "wait-staff")
    files = {
        "lessons/paths.yaml": PATHS,
        "lessons/greeting.md": GREETING,
        "quizzes/greeting.yaml": GREETING_QUIZ,
        "lessons/farewell.md": farewell,
        "quizzes/farewell.yaml": farewell_quiz,
        "lessons/table.md": table,
        "quizzes/table.yaml": table_quiz,
        "lessons/conversations/third-late-payment.yaml": marked_conversation(),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


# -- what a page shows ---------------------------------------------------------------------------


class AroundMain(HTMLParser):
    """What a person reads outside <main>: the skip link, the site's header and navigation (or
    the lesson's bar), the page's title, and the labels screen readers announce."""

    def __init__(self):
        super().__init__()
        self.in_main = 0
        self.skipping = 0
        self.in_title = False
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main += 1
        if tag in SKIPPED:
            self.skipping += 1
        if tag == "title":
            self.in_title = True
        if not self.in_main and not self.skipping:
            for name in ("aria-label", "title", "placeholder"):
                if attrs.get(name):
                    self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main -= 1
        if tag in SKIPPED:
            self.skipping -= 1
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title or (not self.in_main and not self.skipping):
            self.parts.append(data)


def around_main(html: str) -> str:
    parser = AroundMain()
    parser.feed(html)
    return " ".join(parser.parts)


def _bare(text: str, allowed: tuple[str, ...]) -> list[str]:
    text = DATE_WORDS.sub(" ", text)
    return unmarked(text, *ALLOWED, *CONTENT_KEYS, *allowed)


def assert_all_marked(page, *allowed: str, status: int | None = None) -> str:
    """Every word inside <main> and around it is marked; returns the page's HTML."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    where = "" if isinstance(page, str) else page.request.path
    if status is not None and not isinstance(page, str):
        assert page.status_code == status, (where, page.status_code)
    # The time zones of the Account page are names from the tz database, listed as they are.
    html_for_main = re.sub(r'<select id="timezone".*?</select>', "", html, flags=re.S)
    inside = _bare(main_text(html_for_main), allowed)
    assert inside == [], f"{where}: bare words in <main>: {inside}"
    outside = _bare(around_main(html), allowed)
    assert outside == [], f"{where}: bare words around <main>: {outside}"
    return html


# -- the world -----------------------------------------------------------------------------------


@pytest.fixture
def learner_world(tmp_path, request, pseudo_catalog, monkeypatch):  # noqa: F811
    """The marked library, a learner (Jo, a teller) on its path and Maria, her manager."""
    monkeypatch.setitem(LANGUAGES, PSEUDO, "Pseudo")
    content = tmp_path / "content"
    write_library(content)
    app = make_app(
        tmp_path,
        "sqlite",
        request,
        CONTENT_DIR=str(content),
        BABEL_TRANSLATION_DIRECTORIES=f"{pseudo_catalog};translations",
        DEFAULT_LANGUAGE="en",
    )
    with app.app_context():
        db.create_all()
        library = load_library(content)
        assert library.ok, library.problems
        sync_library(db.session, library)
        s = db.session
        team = get_or_create_team(s, TEAM)
        maria = create_user(
            s,
            email="maria@example.com",
            name=f"{marked('Maria')} {marked('Lopez')}",
            password=PASSWORD,
            role="manager",
        )
        maria.managed_teams.append(team)
        jo = create_user(
            s,
            email=EMAIL,
            name=f"{marked('Jo')} {marked('Server')}",
            password=PASSWORD,
            job_role="teller",
            team=TEAM,
            hire_date=date.today(),
        )
        s.commit()
        ids = SimpleNamespace(jo=jo.id, maria=maria.id)
    yield SimpleNamespace(app=app, **vars(ids))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def signed_in(app, email: str = EMAIL):
    client = pseudo(app.test_client())
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def answer_item(client, n: int, chosen: list[str], key: str = "greeting"):
    # No time on the page is given ("shown"): a refresher's length stays the usual one.
    page = client.get(f"/lessons/{key}/quiz/{n}").get_data(as_text=True)
    return client.post(
        f"/lessons/{key}/quiz/{n}",
        data={"choice": chosen, "token": form_token(page), "shown": ""},
    )


def say(client, choice: int, page: Page | None = None) -> Page:
    """Press the `choice`-th line of the conversation (as tests.conversation_support does)."""
    page = page or get(client)
    data = {**form_of(page, choice), "shown": ""}
    response = client.post(URL, data=data, follow_redirects=True)
    return Page(response.status_code, response.get_data(as_text=True))


def play(client, lines: list[tuple[str, int]]) -> Page:
    page = get(client)
    for _node, choice in lines:
        page = say(client, choice, page)
    return page


def finish_greeting(client, *, wrong_first: bool = False) -> None:
    """Take the greeting lesson to its end: three questions, the conversation, the role-play."""
    answer_item(client, 1, ["1" if wrong_first else "0"])
    answer_item(client, 2, ["0"])
    answer_item(client, 3, ["0", "1"])
    play(client, TO_GOOD)
    url = "/lessons/greeting/roleplay/1"
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"text": marked("Thanks for waiting"), "token": form_token(page)})
    client.post(f"{url}/rubric", data={"ticked": ["0"]})


def best_choices(item) -> list[str]:
    """The right answer to a quiz item or a conversation's turn, as the form sends it."""
    weights = [choice["weight"] for choice in item.choices]
    if item.type == "multiple":
        return [str(n) for n, weight in enumerate(weights) if weight > 0]
    return [str(weights.index(max(weights)))]


def make_cards_due(app, user_id: int) -> None:
    with app.app_context():
        for card in db.session.scalars(select(ReviewCard).where(ReviewCard.user_id == user_id)):
            card.due = card.due - timedelta(days=60)
        db.session.commit()


# -- signing in, passwords, company sign-in ------------------------------------------------------


def test_the_sign_in_and_password_pages_are_all_translated(learner_world):
    app = learner_world.app
    visitor = pseudo(app.test_client())
    assert_all_marked(visitor.get("/login"), status=200)
    wrong = visitor.post("/login", data={"email": EMAIL, "password": "not it at all"})
    assert_all_marked(wrong, status=401)
    assert_all_marked(visitor.post("/login", data={}), status=400)
    # A page that needs signing in sends the visitor here, with a word about why.
    assert_all_marked(visitor.get("/lessons", follow_redirects=True), status=200)

    assert_all_marked(visitor.get("/password/forgot"), status=200)
    assert_all_marked(visitor.post("/password/forgot", data={}), status=400)
    assert_all_marked(visitor.post("/password/forgot", data={"email": EMAIL}), status=200)
    assert_all_marked(visitor.get("/password/reset/not-a-token"), status=404)
    assert_all_marked(visitor.get("/welcome/not-a-token"), status=404)
    with app.app_context():
        jo = db.session.get(User, learner_world.jo)
        _, reset = invites.new_link(db.session, jo, timedelta(hours=1))
        db.session.commit()
    assert_all_marked(visitor.get(f"/password/reset/{reset}"), status=200)
    mismatch = {"new": "a new pass phrase here", "confirm": "another pass phrase"}
    assert_all_marked(visitor.post(f"/password/reset/{reset}", data=mismatch), status=400)
    with app.app_context():
        jo = db.session.get(User, learner_world.jo)
        _, welcome = invites.new_link(db.session, jo, timedelta(days=7))
        db.session.commit()
    assert_all_marked(visitor.get(f"/welcome/{welcome}"), status=200)
    chosen = {"new": "a brand new pass phrase", "confirm": "a brand new pass phrase"}
    welcomed = visitor.post(f"/welcome/{welcome}", data=chosen, follow_redirects=True)
    assert_all_marked(welcomed, status=200)  # Today, with "your password is set"

    signed_out = visitor.post("/logout", follow_redirects=True)
    html = assert_all_marked(signed_out, status=200)
    assert "⟦You are signed out.⟧" in html


def test_the_company_sign_in_problems_are_all_translated(learner_world):
    app = learner_world.app
    with app.test_request_context(headers={"Accept-Language": "en-001"}):
        # Worded when they happen, in the language of the request.
        problems = [
            oidc.unreachable("test"),
            oidc.untrusted("test"),
            oidc._provider_said_no("access_denied", None),
            oidc._provider_said_no("server_error", marked("The service is down")),
        ]
        for problem in problems:
            assert_all_marked(render_template("auth/company_problem.html", problem=problem))


# -- the Account page ----------------------------------------------------------------------------


def test_the_account_page_and_its_messages_are_all_translated(learner_world):
    app = learner_world.app
    client = signed_in(app)
    signed_in(app)  # a second browser: the list of sessions has one to sign out
    date = r"\d{1,2} \w{3} \d{4}, \d\d:\d\d"
    page = client.get("/account")
    html = assert_all_marked(page, status=200)
    assert "⟦Where you are signed in⟧" in html and "⟦Unknown browser⟧" in html

    all_days = {"on": "y", "channel": "email", "reminder_time": "18:00"}
    all_days["timezone"] = "Europe/London"
    refused = client.post("/account/reminders", data={**all_days, "days_off": list("1234567")})
    assert_all_marked(refused, status=400)
    saved = client.post(
        "/account/reminders", data={**all_days, "days_off": ["6", "7"]}, follow_redirects=True
    )
    assert "⟦Your reminder settings are saved.⟧" in assert_all_marked(saved, status=200)
    wrong = client.post(
        "/account/password",
        data={"current": "not my password", "new": "a brand new pass phrase",
              "confirm": "a brand new pass phrase"},
    )  # fmt: skip
    assert_all_marked(wrong, *re.findall(date, wrong.get_data(as_text=True)), status=400)
    ended = client.post("/account/sessions/others", follow_redirects=True)
    assert "⟦Signed out on 1 other device.⟧" in assert_all_marked(ended, status=200)


# -- Today, the library, the coaching notes ------------------------------------------------------


def test_today_for_a_new_hire_and_the_library_are_all_translated(learner_world):
    client = signed_in(learner_world.app)
    html = assert_all_marked(client.get("/"), status=200)
    assert "⟦Start lesson⟧" in html and "⟦due tomorrow⟧" in html
    assert "⟦Start a streak today: finish a refresher or a lesson.⟧" in html
    html = assert_all_marked(client.get("/lessons"), status=200)
    assert "⟦Other roles⟧" in html
    assert_all_marked(client.get("/lessons?q=greeting"), status=200)
    assert_all_marked(client.get("/lessons?q=zzzz"), "zzzz", status=200)
    assert_all_marked(client.get("/coaching"), status=200)
    assert_all_marked(client.get("/refresher"), status=200)  # nothing due yet


def test_today_behind_with_a_catch_up_line_is_all_translated(learner_world):
    app = learner_world.app
    with app.app_context():
        create_user(
            db.session,
            email="bo@example.com",
            name=f"{marked('Bo')} {marked('Late')}",
            password=PASSWORD,
            job_role="teller",
            team=TEAM,
            hire_date=date.today() - timedelta(days=30),
        )
        db.session.commit()
    client = signed_in(app, "bo@example.com")
    html = assert_all_marked(client.get("/"), status=200)
    assert "⟦<strong>Catching up:</strong> ⟦2 lessons ≈ 5 min — one today⟧⟧" in html
    assert re.search(r"⟦\d+ days late⟧", html)


def test_every_step_of_a_lesson_is_all_translated(learner_world):
    app = learner_world.app
    client = signed_in(app)
    html = assert_all_marked(client.get("/lessons/greeting"), status=200)
    assert "⟦Exit" in html  # the lesson's bar in place of the site's header
    assert_all_marked(client.get("/lessons/greeting/key-points"), status=200)
    for n in (1, 2, 3):
        assert_all_marked(client.get(f"/lessons/greeting/quiz/{n}"), status=200)
    empty = client.post(
        "/lessons/greeting/quiz/1",
        data={"token": form_token(client.get("/lessons/greeting/quiz/1").get_data(as_text=True))},
    )
    assert_all_marked(empty, status=400)
    answer_item(client, 1, ["1"])  # wrong
    html = assert_all_marked(client.get("/lessons/greeting/quiz/1"), status=200)
    assert "⟦Not quite⟧" in html and "⟦Right answer:⟧" in html
    answer_item(client, 2, ["0"])
    html = assert_all_marked(client.get("/lessons/greeting/quiz/2"), status=200)
    assert "⟦True⟧" in html and "⟦Right⟧" in html
    answer_item(client, 3, ["0"])  # one of two right choices
    html = assert_all_marked(client.get("/lessons/greeting/quiz/3"), status=200)
    assert "⟦Partly right⟧" in html

    # The conversation: its first turn, a weaker line said, a poor ending, and once more.
    assert_all_marked(get(client).html)
    assert_all_marked(say(client, 1).html)
    assert_all_marked(play(client, TO_POOR[1:]).html)
    again = get(client).html
    assert "⟦Last time you reached a poor ending" in assert_all_marked(again)
    assert_all_marked(play(client, TO_GOOD).html)

    url = "/lessons/greeting/roleplay/1"
    page = client.get(url)
    assert_all_marked(page, status=200)
    token = form_token(page.get_data(as_text=True))
    assert_all_marked(client.post(url, data={"text": "", "token": token}), status=400)
    client.post(url, data={"text": marked("Sorry you waited"), "token": token})
    assert_all_marked(client.get(url), status=200)  # the model answer and the rubric
    client.post(f"{url}/rubric", data={"ticked": ["0"]})
    assert_all_marked(client.get(url), status=200)  # what was covered

    done = client.get("/lessons/greeting/done")
    html = assert_all_marked(done, status=200)
    assert "⟦Lesson complete⟧" in html and "⟦The last impression⟧" in html
    assert_all_marked(client.get("/lessons/greeting/missed"), status=200)
    assert_all_marked(client.get(url), status=200)  # back from the end: the answer, read-only
    assert_all_marked(client.get("/"), status=200)  # one lesson done


def test_the_refresher_from_first_question_to_summary_is_all_translated(learner_world):
    app = learner_world.app
    client = signed_in(app)
    finish_greeting(client, wrong_first=True)
    make_cards_due(app, learner_world.jo)

    first = client.get("/refresher", follow_redirects=True)
    assert_all_marked(first, status=200)
    path = first.request.path
    page = first.get_data(as_text=True)
    client.post(path, data={"choice": ["0"], "token": form_token(page), "shown": ""})
    html = assert_all_marked(client.get(path), status=200)  # the feedback
    assert "⟦Today's refresher⟧" in html
    html = assert_all_marked(client.get("/"), status=200)  # a refresher under way
    assert "⟦Continue refresher⟧" in html and "⟦Your skills⟧" in html

    # The rest answered wrong: the summary has something worth another look.
    for _ in range(20):
        current = client.get("/refresher", follow_redirects=True)
        if "/done" in current.request.path:
            break
        item = current.get_data(as_text=True)
        client.post(
            current.request.path, data={"choice": ["1"], "token": form_token(item), "shown": ""}
        )
    summary = client.get("/refresher", follow_redirects=True)
    html = assert_all_marked(summary, status=200)
    assert "⟦Refresher done⟧" in html and "⟦Worth another look⟧" in html
    assert_all_marked(client.get("/"), status=200)  # done for today

    # Practice, all right: the summary has what got stronger.
    practice = client.post("/refresher/practice", follow_redirects=True)
    assert_all_marked(practice, status=200)
    with app.app_context():
        from trainer.models import QuizItem, Refresher

        refresher = db.session.scalar(
            select(Refresher).where(Refresher.kind == "practice").order_by(Refresher.id.desc())
        )
        items = {i.id: i for i in db.session.scalars(select(QuizItem))}
        right = [best_choices(items[i]) for i in refresher.item_ids]
        refresher_id = refresher.id
    for n, chosen in enumerate(right, start=1):
        url = f"/refresher/{refresher_id}/{n}"
        item = client.get(url).get_data(as_text=True)
        client.post(url, data={"choice": chosen, "token": form_token(item), "shown": ""})
    html = assert_all_marked(client.get(f"/refresher/{refresher_id}/done"), status=200)
    assert "⟦Practice done⟧" in html


def test_the_coaching_notes_are_all_translated(learner_world):
    app = learner_world.app
    client = signed_in(app)
    finish_greeting(client)
    with app.app_context():
        answer = db.session.scalar(select(RolePlayAnswer))
        maria = db.session.get(User, learner_world.maria)
        comment_on(db.session, maria, answer.id, marked("Lovely warm start."))
    html = assert_all_marked(client.get("/"), status=200)
    assert "⟦New coaching note⟧" in html
    html = assert_all_marked(client.get("/coaching"), status=200)
    assert "⟦Lovely warm start.⟧" in html


def test_the_site_navigation_is_all_translated_for_each_role(learner_world):
    app = learner_world.app
    learner = signed_in(app)
    html = assert_all_marked(learner.get("/account"), status=200)
    nav = re.search(r'<nav aria-label="[^"]*">.*?</nav>', html, re.S)[0]
    for word in ("⟦Today⟧", "⟦Lessons⟧", "⟦Notes⟧", "⟦Account⟧", "⟦Sign out⟧"):
        assert word in nav
    manager = signed_in(app, "maria@example.com")
    html = assert_all_marked(manager.get("/lessons"), status=200)
    nav = re.search(r'<nav aria-label="[^"]*">.*?</nav>', html, re.S)[0]
    for word in ("⟦My learning⟧", "⟦Team⟧", "⟦Coaching⟧"):
        assert word in nav


# -- for real: Spanish, then Polish --------------------------------------------------------------


def test_the_demos_spanish_learner_reads_the_interface_in_spanish_then_switches_to_polish(
    app, runner, client
):
    from trainer.people.demo import SPANISH_LEARNER

    assert runner.invoke(args=["demo"]).exit_code == 0
    signed = client.post("/login", data={"email": SPANISH_LEARNER, "password": "demo"})
    assert signed.status_code == 302

    today = client.get("/").get_data(as_text=True)
    assert '<html lang="es">' in today
    assert "Hola, Valeria" in today
    assert "El repaso de hoy" in today
    assert "Lecciones" in today and "Cuenta" in today and "Salir" in today  # the navigation
    assert "lecciones hechas" in today

    with app.app_context():
        from trainer.models import Lesson, LessonRun

        valeria = db.session.scalar(select(User).where(User.email == SPANISH_LEARNER))
        started = select(LessonRun.lesson_id).where(LessonRun.user_id == valeria.id)
        fresh = db.session.scalar(
            select(Lesson.key)
            .where(Lesson.key.startswith("teller-"), Lesson.id.not_in(started))
            .order_by(Lesson.key)
        )
    quiz = client.get(f"/lessons/{fresh}/quiz/1").get_data(as_text=True)
    assert "Pregunta 1 de" in quiz and "Comprobar mi respuesta" in quiz
    assert "Toca una respuesta para comprobarla." in quiz
    assert "Salir" in quiz and "a Hoy" in quiz  # the lesson's bar
    untranslated = client.get("/lessons/closing-the-call").get_data(as_text=True)
    assert "Aún sin traducir (Español): por ahora, esta lección está en inglés." in untranslated

    account = client.get("/account").get_data(as_text=True)
    assert "Tu cuenta" in account and "Avisos" in account
    switched = client.post("/account/language", data={"language": "pl"}, follow_redirects=True)
    polish = switched.get_data(as_text=True)
    assert '<html lang="pl">' in polish and "Twoje konto" in polish
    today = client.get("/").get_data(as_text=True)
    assert '<html lang="pl">' in today
    assert "Cześć, Valeria" in today and "Dzisiejsza powtórka" in today
    assert "Lekcje" in today and "Wyloguj się" in today
    assert "ukończone lekcje" in today
    quiz = client.get(f"/lessons/{fresh}/quiz/1").get_data(as_text=True)
    assert "Pytanie 1 z" in quiz and "Sprawdź odpowiedź" in quiz
