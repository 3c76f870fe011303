"""A lesson's conversation in a real headless Chromium on a 360 px phone: without JavaScript and
by keyboard to each kind of ending, in place with JavaScript, and the manager's view of the way
a learner went."""

from __future__ import annotations

import re
import uuid
from collections import deque

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import ARTIFACTS, LESSON
from tests.test_browser import assert_fits, assert_focus_visible, log_in
from trainer.extensions import db
from trainer.learn import conversations
from trainer.learn.services import live_lesson
from trainer.models import User
from trainer.people.services import create_user, get_or_create_team

pytestmark = pytest.mark.browser

PASSWORD = "correct horse"
URL = f"/lessons/{LESSON}/conversation"
OUTCOME = {"good": "A good ending", "mixed": "A mixed ending", "poor": "A poor ending"}


def talk(live_server):
    with live_server.app.app_context():
        conversation = live_lesson(db.session, LESSON).live_conversation
        return conversation.start, conversation.nodes, conversation.best_score


def way_to(live_server, kind: str) -> list[tuple[str, int]]:
    """The shortest way from the start to an ending of `kind`: (node, line) pairs."""
    start, nodes, _best = talk(live_server)
    came_from: dict[str, tuple[str, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        if nodes[key].get("ending") == kind:
            way = []
            while came_from[key] is not None:
                way.append(came_from[key])
                key = came_from[key][0]
            return way[::-1]
        for index, line in enumerate(nodes[key].get("choices", [])):
            if line["next"] not in came_from:
                came_from[line["next"]] = (key, index)
                queue.append(line["next"])
    raise AssertionError(f"no {kind} ending")


def tab_to(page: Page, name: str, role: str = "button") -> None:
    """Press Tab until the control named `name` has the focus."""
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == name:
            break
    expect(page.get_by_role(role, name=name, exact=True)).to_be_focused()
    assert_focus_visible(page)


def play_by_keyboard(page: Page, live_server, kind: str) -> None:
    _start, nodes, best = talk(live_server)
    way = way_to(live_server, kind)
    points = 0
    for turn, (key, index) in enumerate(way):
        node = nodes[key]
        bubble = page.locator(".bubble.customer")
        expect(bubble).to_contain_text(node["customer"])
        if node.get("cue"):
            expect(bubble.locator(".cue")).to_have_text(f"({node['cue']})")
        expect(page.locator("button.say-line")).to_have_count(len(node["choices"]))
        assert_fits(page)
        line = node["choices"][index]
        tab_to(page, f"“{line['say']}”")
        page.keyboard.press("Enter")
        points += line["score"]
        said = page.locator(".said")
        expect(said.locator(".bubble.mine")).to_contain_text(line["say"])
        expect(said.locator(".line-verdict")).to_contain_text(line["feedback"])
        if turn + 1 < len(way):  # then the customer's reaction, with what to say next
            expect(page.locator(".bubble.customer")).to_contain_text(
                nodes[line["next"]]["customer"]
            )
    ending = nodes[way[-1][0]]["choices"][way[-1][1]]["next"]
    expect(page.get_by_role("heading", level=2, name=OUTCOME[kind])).to_be_visible()
    expect(page.locator(".ending")).to_contain_text(nodes[ending]["summary"])
    share = round(100 * points / best)
    expect(page.locator(".ending .score")).to_have_text(
        f"You scored {points} of {best} points: {share}% of the best way through."
    )
    way_taken = page.locator("ol.turns > li")
    expect(way_taken).to_have_count(len(way))
    weaker = sum(
        1
        for key, index in way
        if nodes[key]["choices"][index]["score"] < max(c["score"] for c in nodes[key]["choices"])
    )
    expect(page.locator("ol.turns .better")).to_have_count(weaker)
    assert_fits(page)


def test_a_learner_reaches_each_kind_of_ending_by_keyboard_without_javascript(
    page: Page, live_server
):
    log_in(page, live_server.learner())
    page.goto(URL)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"\w"))
    expect(page.locator(".player")).to_contain_text("Conversation")
    for kind in ("poor", "mixed", "good"):
        play_by_keyboard(page, live_server, kind)
        if kind != "good":
            tab_to(page, "Try again", role="link")
            page.keyboard.press("Enter")
            expect(page.locator(".note")).to_contain_text(f"Last time you reached a {kind} ending")
    tab_to(page, "Next: role-play", role="link")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Role-play")).to_be_visible()


def test_with_javascript_the_conversation_runs_in_place(js_page: Page, live_server):
    page = js_page
    log_in(page, live_server.learner())
    page.goto(URL)
    page.evaluate("window.stillTheSamePage = true")
    _start, nodes, best = talk(live_server)
    way = way_to(live_server, "good")
    for key, index in way:
        line = nodes[key]["choices"][index]
        page.get_by_role("button", name=f"“{line['say']}”", exact=True).click()
        expect(page.locator(".said .bubble.mine")).to_contain_text(line["say"])
        if "choices" in nodes[line["next"]]:
            expect(page.locator("#customer-line")).to_be_focused()
    expect(page.get_by_role("heading", level=2, name="A good ending")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/conversation/runs/\d+$"))
    assert page.evaluate("window.stillTheSamePage") is True  # no page was loaded
    assert_fits(page)

    page.get_by_role("link", name="Try again").click()
    expect(page.locator(".note")).to_contain_text("Last time you reached a good ending")
    expect(page.locator("#customer-line")).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True


def test_the_manager_sees_the_way_a_learner_went(page: Page, live_server):
    email = f"conv-{uuid.uuid4().hex[:6]}@example.com"
    manager = f"manager-{email}"
    with live_server.app.app_context():
        s = db.session
        team = get_or_create_team(s, "Oakfield branch")
        boss = create_user(s, email=manager, name="Ola Okafor", password=PASSWORD, role="manager")
        boss.managed_teams.append(team)
        learner = create_user(
            s, email=email, name="Lee Learner", password=PASSWORD, job_role="teller", team=team.name
        )
        s.commit()
        learner_id = learner.id
    way = way_to(live_server, "mixed")
    _start, nodes, _best = talk(live_server)
    with live_server.app.app_context():
        s = db.session
        user = s.get(User, learner_id)
        lesson = live_lesson(s, LESSON)
        run = None
        for step, (_key, index) in enumerate(way):
            run = conversations.choose(
                s,
                user,
                lesson,
                lesson.live_conversation,
                run_id=run.id if run else None,
                step=step,
                choice=index,
                token=uuid.uuid4().hex,
                seconds=10.0,
            )
        assert run.ending == "mixed"

    log_in(page, manager)
    page.goto(f"/manage/people/{learner_id}")
    section = page.locator("#conversations")
    expect(section.get_by_role("heading", level=3)).to_have_count(1)
    expect(section).to_contain_text("A mixed ending")
    turns = section.locator("ol.turns > li")
    expect(turns).to_have_count(len(way))
    for n, (key, index) in enumerate(way):
        expect(turns.nth(n)).to_contain_text(nodes[key]["customer"])
        expect(turns.nth(n)).to_contain_text(nodes[key]["choices"][index]["say"])
    assert_fits(page)


def test_screenshots_of_a_turn_and_an_ending(page: Page, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, live_server.learner())
    page.goto(URL)
    _start, nodes, _best = talk(live_server)
    way = way_to(live_server, "mixed")
    for n, (key, index) in enumerate(way):
        page.get_by_role("button", name=f"“{nodes[key]['choices'][index]['say']}”").click()
        if n == 0:
            page.screenshot(path=str(ARTIFACTS / "conversation-turn-360.png"), full_page=True)
    expect(page.get_by_role("heading", level=2, name="A mixed ending")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "conversation-ending-360.png"), full_page=True)
    assert (ARTIFACTS / "conversation-ending-360.png").stat().st_size > 0
