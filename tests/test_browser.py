"""A real headless Chromium on a phone-sized screen, against a live server.

The learner's walk through a lesson runs with JavaScript off: the product must work without it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import ARTIFACTS, LESSON, PASSWORD, PHONE, VERDICT

pytestmark = pytest.mark.browser


# -- helpers ----------------------------------------------------------------------------------


def assert_fits(page: Page) -> None:
    """No sideways scrolling on a 360px-wide phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    assert_fits(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def assert_focus_visible(page: Page) -> None:
    """The focused element draws an outline (a choice's, round its whole answer card)."""
    style, width = page.evaluate(
        """(() => {
          const el = document.activeElement;
          const s = getComputedStyle(el.closest('.choice') || el);
          return [s.outlineStyle, s.outlineWidth];
        })()"""
    )
    assert style != "none" and width != "0px", (style, width)


def answer_question(page: Page, pick: int) -> str:
    """Pick a choice by clicking its label, submit, and return the verdict shown."""
    labels = page.locator("label.choice")
    texts = [t.strip() for t in labels.all_inner_texts()]
    labels.nth(pick % len(texts)).click()
    page.get_by_role("button", name="Check my answer").click()

    verdict = page.get_by_role("heading", level=2, name=VERDICT)
    expect(verdict).to_be_visible()
    review = page.locator(".choices-review")
    expect(review).to_contain_text("Your answer")
    if texts != ["True", "False"]:  # true/false answers carry no per-choice feedback
        expect(review.locator(".muted").first).to_be_visible()
    expect(page.get_by_role("heading", name="Why")).to_be_visible()
    assert page.locator(".explanation p").first.inner_text().strip()
    assert_fits(page)
    return verdict.inner_text()


# -- tests ------------------------------------------------------------------------------------


def test_whole_lesson_on_a_phone_without_javascript(page: Page, live_server):
    log_in(page, live_server.learner())

    # Today: the teller path, its progress bar, and a way in.
    expect(page.get_by_role("heading", name="Teller onboarding")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Onboarding progress")).to_be_visible()
    lessons = page.locator("ol.path > li").count()
    assert lessons > 1
    expect(page.get_by_text(f"0 of {lessons} lessons done")).to_be_visible()
    assert_fits(page)
    page.get_by_role("link", name="Start lesson").click()

    expect(page.get_by_role("heading", name="The scenario")).to_be_visible()
    expect(page.get_by_role("progressbar", name=re.compile("Lesson progress"))).to_be_visible()
    assert_fits(page)
    page.get_by_role("link", name="Next: key points").click()

    expect(page.locator(".player")).to_contain_text("Step 2 of")
    expect(page.locator(".player")).to_contain_text("Key points")
    expect(page.locator("article.lesson li").first).to_be_visible()
    assert_fits(page)
    page.get_by_role("link", name="Next: the quiz").click()

    heading = page.get_by_role("heading", level=1, name=re.compile(r"Question 1 of \d+"))
    expect(heading).to_be_visible()
    total = int(re.search(r"of (\d+)", heading.inner_text()).group(1))
    assert total > 1
    steps = int(re.search(r"Step 3 of (\d+)", page.locator(".player").inner_text()).group(1))
    # scenario, key points, questions, the conversation, role-plays, done
    roleplays = steps - total - 4
    assert roleplays >= 1
    right = 0
    for n in range(1, total + 1):
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Question {n} of {total}")
        assert_fits(page)
        verdict = answer_question(page, pick=n % 2)  # a mix of right and wrong answers
        right += verdict.endswith(" Right")
        next_name = "Next question" if n < total else "Next: the conversation"
        page.get_by_role("link", name=next_name).click()

    # The conversation: the first line offered each time, until an ending.
    expect(page.locator(".player")).to_contain_text(f"Step {3 + total} of {steps}")
    while not page.get_by_role("heading", level=2, name=re.compile("ending$")).is_visible():
        expect(page.locator(".bubble.customer")).to_be_visible()
        assert_fits(page)
        page.locator("button.say-line").first.click()
        expect(page.locator(".said .line-verdict")).to_be_visible()
    expect(page.locator("ol.turns > li").first).to_be_visible()
    assert_fits(page)
    page.get_by_role("link", name="Next: role-play").click()

    for n in range(1, roleplays + 1):
        expect(page.get_by_role("heading", level=1)).to_have_text("Role-play")
        expect(page.locator(".player")).to_contain_text(f"Step {3 + total + n} of {steps}")
        assert_fits(page)
        page.get_by_label("What would you say?").fill(
            "Good morning! I'm Sam, come on over. I'll be with you in ten seconds."
        )
        page.get_by_role("button", name="Show me the model answer").click()
        expect(page.get_by_role("heading", name="A model answer")).to_be_visible()
        expect(page.locator(".bubble.mine")).to_contain_text("I'm Sam")
        assert_fits(page)
        rubric = page.locator("label.choice")
        assert rubric.count() >= 2
        rubric.nth(0).click()
        rubric.nth(1).click()
        expect(page.get_by_role("checkbox", checked=True)).to_have_count(2)
        page.get_by_role("button", name="Save and continue").click()
        # What the learner covered, before moving on.
        covered = page.get_by_role("heading", name=re.compile(r"You covered 2 of \d+"))
        expect(covered).to_be_visible()
        assert_fits(page)
        last = n == roleplays
        page.get_by_role("link", name="Finish" if last else "Next role-play").click()

    expect(page.get_by_role("heading", name="Lesson complete")).to_be_visible()
    expect(page.locator(".score")).to_contain_text(f"You got {right} of {total}")
    assert_fits(page)

    page.get_by_role("link", name="Back to Today").click()
    expect(page.get_by_text(f"1 of {lessons} lessons done")).to_be_visible()
    expect(page.locator("ol.path li").first).to_contain_text("✓ done")
    expect(page.get_by_role("progressbar", name="Onboarding progress")).to_have_attribute(
        "value", str(round(100 / lessons))
    )
    expect(page.get_by_role("link", name="Start lesson")).to_be_visible()  # the next one
    assert_fits(page)


def test_keyboard_only_and_labels(js_page: Page, live_server):
    page = js_page
    page.goto("/login")
    # Every control on the sign-in page has a label.
    for name in ("Email, phone or employee number", "Password", "Keep me signed in on this device"):
        expect(page.get_by_label(name, exact=True)).to_be_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    # Focus is visible, starting from the first control.
    page.keyboard.press("Tab")  # skip link
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type(live_server.learner())
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Teller onboarding")).to_be_visible()

    page.goto(f"/lessons/{LESSON}/quiz/1")
    radios = page.get_by_role("radio")
    count = radios.count()
    assert count >= 2
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    for i in range(count):
        name = page.locator("label.choice").nth(i).inner_text().strip()
        expect(page.get_by_role("radio", name=name, exact=True)).to_have_count(1)
    group = page.get_by_role("group")
    expect(group).to_have_accessible_name(re.compile(r"\w"))

    for _ in range(20):
        page.keyboard.press("Tab")
        if radios.first.evaluate("el => el === document.activeElement"):
            break
    expect(radios.first).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Space")
    expect(radios.first).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(radios.nth(1)).to_be_focused()
    expect(radios.nth(1)).to_be_checked()
    expect(radios.first).not_to_be_checked()

    page.keyboard.press("Tab")
    submit = page.get_by_role("button", name="Check my answer")
    expect(submit).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name=VERDICT)).to_be_visible()
    expect(page.locator(".choices-review")).to_contain_text("Your answer")
    assert_fits(page)


UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => {
    const labelled = (el.labels && [...el.labels].some(l => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || el.getAttribute('aria-labelledby');
    const own = ['submit', 'button'].includes(el.type) && (el.value || el.textContent).trim();
    return !(labelled || own);
  })
  .map(el => el.outerHTML)
"""


def test_double_submission_keeps_one_attempt(page: Page, live_server):
    email = live_server.learner()
    log_in(page, email)
    expect(page.get_by_role("heading", name="Teller onboarding")).to_be_visible()

    url = f"{live_server.url}/lessons/{LESSON}/quiz/1"
    form_page = page.goto(url).text()  # the form as first served, with its one-time token
    other_tab = page.context.new_page()  # the same question open in a second tab
    other_tab.goto(url)

    page.locator("label.choice").nth(1).click()
    page.get_by_role("button", name="Check my answer").click()
    expect(page.get_by_role("heading", level=2, name=VERDICT)).to_be_visible()
    assert live_server.attempts(email) == 1

    # Chromium fetches the page again on Back: it shows the answer already recorded.
    page.go_back()
    expect(page.get_by_role("heading", level=2, name=VERDICT)).to_be_visible()
    expect(page.get_by_role("button", name="Check my answer")).to_have_count(0)

    # A browser that restores the old page from its cache on Back shows the old form, token
    # and all; the learner answers differently and sends it again.
    page.go_forward()

    def cached_form(route):
        if route.request.method == "GET":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=form_page)
        else:
            route.continue_()

    page.route(url, cached_form)
    page.go_back()
    page.unroute(url, cached_form)
    submit = page.get_by_role("button", name="Check my answer")
    expect(submit).to_be_visible()
    page.locator("label.choice").nth(0).click()
    submit.click()
    expect(page.get_by_role("heading", level=2, name=VERDICT)).to_have_text("✓ Right")
    expect(page.get_by_text("This form expired")).to_have_count(0)

    # The second tab still holds a form with a different token.
    other_tab.locator("label.choice").nth(2).click()
    other_tab.get_by_role("button", name="Check my answer").click()
    expect(other_tab.get_by_role("heading", level=2, name=VERDICT)).to_have_text("✓ Right")
    other_tab.close()

    assert live_server.attempts(email) == 1


def test_wrong_password_shows_the_error(page: Page, live_server):
    email = live_server.learner()
    log_in(page, email, password="not my password")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Those details and that password do not match an active account.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(email)
    assert_fits(page)


def test_screenshots_for_a_person_to_look_at(page: Page, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, live_server.learner())
    expect(page.get_by_role("heading", name="Teller onboarding")).to_be_visible()
    _shot(page, ARTIFACTS / "today-360.png")

    page.goto(f"/lessons/{LESSON}/quiz/1")
    _shot(page, ARTIFACTS / "quiz-360.png")
    answer_question(page, pick=0)
    _shot(page, ARTIFACTS / "feedback-360.png")


def _shot(page: Page, path: Path) -> None:
    assert_fits(page)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
