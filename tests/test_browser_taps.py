"""Between customers, on a phone with JavaScript: how many taps a refresher and a lesson take,
where the way on sits, and what the top of the screen holds."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.browser_support import LESSON, PASSWORD, PHONE, VERDICT, audit
from trainer.extensions import db
from trainer.learn import services as learn
from trainer.models import Lesson, Refresher, User, utcnow
from trainer.review.planning import plan_for_user

pytestmark = pytest.mark.browser


class Taps:
    """Every tap the learner makes goes through here, so the test can count them."""

    def __init__(self, page: Page):
        self.page = page
        self.count = 0

    def __call__(self, target: Locator) -> None:
        self.count += 1
        target.click()


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Hello"))).to_be_visible()


def single_choice_refresher(app, email: str, lessons: tuple[str, ...]) -> int:
    """Lessons answered twelve days ago; today's refresher holds only their single-choice
    and true/false questions. Returns how many."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        when = utcnow() - timedelta(days=12)
        for key in lessons:
            lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
            for item in lesson.quiz.live_items:
                pick = [i for i, c in enumerate(item.choices) if c["weight"] > 0]
                chosen = pick if item.type == "multiple" else pick[:1]
                learn.record_answer(
                    db.session, user, lesson, item, chosen, uuid.uuid4().hex, 12.0, when
                )
            run = learn.open_run(db.session, user, lesson)
            run.completed_at = when
            db.session.commit()
        refresher = plan_for_user(db.session, user)
        items = {
            i.id: i for key in lessons for i in learn.live_lesson(db.session, key).quiz.live_items
        }
        singles = [i for i in refresher.item_ids if items[i].type in ("single", "truefalse")]
        refresher = db.session.get(Refresher, refresher.id)
        refresher.item_ids = singles
        db.session.commit()
        return len(singles)


def in_reach(page: Page, target: Locator) -> None:
    """Fully on screen, in the bottom third of a phone's screen: where a thumb is."""
    box = target.bounding_box()
    height = PHONE["height"]
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    assert box["y"] + box["height"] >= height * 2 / 3, box


def test_a_refresher_of_n_single_choice_questions_takes_2n_plus_1_taps(js_page: Page, live_server):
    page = js_page
    email = live_server.learner()
    n = single_choice_refresher(
        live_server.app, email, (LESSON, "teller-red-carpet-service")
    )  # fmt: skip
    assert n >= 3
    log_in(page, email)
    loads = []
    page.on("load", lambda p: loads.append(p.url))
    tap = Taps(page)

    tap(page.get_by_role("link", name="Start refresher"))
    for k in range(1, n + 1):
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Question {k} of {n}")
        check = page.get_by_role("button", name="Check my answer")
        assert check.evaluate("el => el.getBoundingClientRect().width") <= 1  # not shown
        expect(page.get_by_text("Tap an answer to check it.")).to_be_visible()
        loaded = len(loads)
        tap(page.locator("label.choice").nth(k % 2))  # one tap is the answer

        verdict = page.get_by_role("heading", level=2, name=VERDICT)
        expect(verdict).to_be_visible()
        assert len(loads) == loaded, "the feedback came in place, without a page load"
        expect(verdict).to_be_focused()  # a screen reader reads the verdict next
        expect(verdict).to_be_in_viewport()
        expect(page.get_by_role("heading", name="Why")).to_be_attached()
        next_link = page.get_by_role("link", name="Next question" if k < n else "See how you did")
        in_reach(page, next_link)
        audit(page, why="feedback shown in place")
        tap(next_link)

    expect(page.get_by_role("heading", level=1, name="Refresher done")).to_be_visible()
    assert tap.count <= 2 * n + 1, tap.count
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert live_server.attempts(email) >= n
        done = db.session.scalar(
            select(Refresher).where(Refresher.user_id == user.id, Refresher.kind == "daily")
        )
        assert done.completed_at is not None


def test_a_lesson_counts_its_taps_and_keeps_the_check_button_for_several_answers(
    js_page: Page, live_server
):
    page = js_page
    log_in(page, live_server.learner())
    tap = Taps(page)
    with live_server.app.app_context():
        lesson = learn.live_lesson(db.session, LESSON)
        types = [item.type for item in lesson.quiz.live_items]
        roleplays = len(lesson.live_roleplays)
        rubric = [len(rp.rubric) for rp in lesson.live_roleplays]

    tap(page.get_by_role("link", name="Start lesson"))
    tap(page.get_by_role("link", name="Next: key points"))
    tap(page.get_by_role("link", name="Next: the quiz"))
    question_taps = 0
    for n, kind in enumerate(types, start=1):
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Question {n} of {len(types)}")
        before = tap.count
        if kind == "multiple":
            check = page.get_by_role("button", name="Check my answer")
            expect(check).to_be_visible()  # several answers: the learner says when
            expect(page.get_by_text("Choose every answer that is right.")).to_be_visible()
            tap(page.locator("label.choice").first)
            expect(page.get_by_role("heading", level=2, name=VERDICT)).to_have_count(0)
            tap(check)
        else:
            tap(page.locator("label.choice").first)
        expect(page.get_by_role("heading", level=2, name=VERDICT)).to_be_visible()
        next_link = page.locator("nav.step-nav a.primary")
        in_reach(page, next_link)
        tap(next_link)
        question_taps += tap.count - before
        assert tap.count - before == (3 if kind == "multiple" else 2)

    conversation_taps = 0
    if page.locator("button.say-line").count():
        ending = page.get_by_role("heading", level=2, name=re.compile("ending$"))
        line = page.locator("button.say-line:enabled").first
        while True:
            expect(line.or_(ending)).to_be_visible()
            if ending.is_visible():
                break
            tap(line)
            conversation_taps += 1
        tap(page.get_by_role("link", name="Next: role-play"))

    for n in range(1, roleplays + 1):
        expect(page.locator(".bubble.customer")).to_be_visible()
        tap(page.get_by_role("button", name="I said it out loud"))
        expect(page.get_by_role("heading", name="A model answer")).to_be_visible()
        tap(page.locator("label.choice").first)
        tap(page.get_by_role("button", name="Save and continue"))
        expect(
            page.get_by_role("heading", name=f"You covered 1 of {rubric[n - 1]}")
        ).to_be_visible()
        tap(page.get_by_role("link", name="Finish" if n == roleplays else "Next role-play"))

    expect(page.get_by_role("heading", name="Lesson complete")).to_be_visible()
    # Start, two reading steps, the questions, the conversation, four per role-play.
    expected = 3 + question_taps + conversation_taps + (1 if conversation_taps else 0)
    expected += 4 * roleplays
    assert tap.count == expected
    multiple = types.count("multiple")
    assert question_taps == 2 * len(types) + multiple
    # Two fewer than before per single-choice question: no "Check", no extra page to read.
    assert tap.count <= 2 * len(types) + multiple + conversation_taps + 4 * roleplays + 4


def test_the_site_links_fit_one_row_on_a_phone_and_a_lesson_shows_a_compact_bar(
    js_page: Page, live_server
):
    page = js_page
    log_in(page, live_server.learner())
    nav = page.get_by_role("navigation", name="Main")
    items = nav.locator("a, button")
    assert items.count() >= 4
    tops, rights = [], []
    for i in range(items.count()):
        box = items.nth(i).bounding_box()
        tops.append(round(box["y"] + box["height"] / 2))
        rights.append(box["x"] + box["width"])
    assert max(tops) - min(tops) <= 2, f"the links sit on more than one row: {tops}"
    assert max(rights) <= PHONE["width"], f"a link runs off the screen: {rights}"
    hidden = nav.evaluate("el => el.scrollWidth - el.clientWidth")
    assert hidden <= 0, f"{hidden}px of the links are cut off"
    header = page.locator("header.site").bounding_box()
    assert header["height"] <= 64, header
    expect(page.get_by_role("link", name="Frontline Trainer")).to_be_visible()

    page.get_by_role("link", name="Start lesson").click()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("progressbar", name="Lesson progress: Step 1 of 11")).to_be_visible()
    bar = page.locator("header.site.bar").bounding_box()
    assert bar["height"] <= 56, bar
    page.get_by_role("link", name="Exit to Today").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Hello"))).to_be_visible()


CONTRAST = """(el) => {
  const card = el.closest('.choice');
  const parse = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const channel = v => {
    v /= 255;
    return v <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4;
  };
  const lum = rgb => {
    const [r, g, b] = rgb.map(channel);
    return .2126 * r + .7152 * g + .0722 * b;
  };
  const clear = el => getComputedStyle(el).backgroundColor.startsWith('rgba(0, 0, 0, 0');
  let bg = card.parentElement;
  while (bg && clear(bg)) bg = bg.parentElement;
  const ring = lum(parse(getComputedStyle(card).outlineColor));
  const back = lum(parse(getComputedStyle(bg).backgroundColor));
  const s = getComputedStyle(card);
  return {
    width: parseFloat(s.outlineWidth), style: s.outlineStyle,
    ratio: (Math.max(ring, back) + .05) / (Math.min(ring, back) + .05),
  };
}"""


def test_the_focus_ring_goes_round_the_whole_answer_card_with_contrast(js_page: Page, live_server):
    page = js_page
    log_in(page, live_server.learner())
    page.goto(f"/lessons/{LESSON}/quiz/1")
    radio = page.get_by_role("radio").first
    for _ in range(30):
        page.keyboard.press("Tab")
        if radio.evaluate("el => el === document.activeElement"):
            break
    expect(radio).to_be_focused()
    ring = radio.evaluate(CONTRAST)
    assert ring["style"] == "solid" and ring["width"] >= 3, ring
    assert ring["ratio"] >= 3, ring
    # The keyboard still answers: Space picks, Tab reaches "Check my answer", Enter sends.
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Check my answer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name=VERDICT)).to_be_focused()
    audit(page, why="feedback after the keyboard's answer")
