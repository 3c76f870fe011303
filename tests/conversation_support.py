"""A small library with one conversation (tests/conversation_samples.py) on a lesson, a learner
signed in to it, and ways to play it through the test client or the services."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import form_token
from tests.conversation_samples import CONVERSATION, YAML_PATH
from tests.test_content_check import (
    LESSON,
    LESSON_PATH,
    PATHS,
    PATHS_PATH,
    QUIZ,
    QUIZ_PATH,
    edited,
)
from trainer.content.library import load_library
from trainer.content.sync import sync_library
from trainer.extensions import db
from trainer.learn import conversations
from trainer.models import Conversation, Lesson, User

LESSON_KEY = "greeting"
URL = f"/lessons/{LESSON_KEY}/conversation"
LESSON = edited(LESSON, "quiz: greeting\n", "quiz: greeting\nconversation: third-late-payment\n")
# The lines to say, by node, that lead to each ending: (node, index of the line).
TO_GOOD = [("open", 0), ("listen", 0), ("plan", 0)]
TO_MIXED = [("open", 0), ("listen", 1), ("plan", 1)]
TO_POOR = [("open", 1), ("angry", 1)]


def write_conversation_library(root: Path, conversation: str = CONVERSATION) -> Path:
    files = {
        LESSON_PATH: LESSON,
        QUIZ_PATH: QUIZ,
        PATHS_PATH: PATHS,
        YAML_PATH: conversation,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def load_into(app, root: Path) -> None:
    app.config["CONTENT_DIR"] = str(root)
    with app.app_context():
        library = load_library(root)
        assert library.ok, library.problems
        sync_library(db.session, library)


@dataclass
class Page:
    status: int
    html: str

    @property
    def text(self) -> str:
        """The page's words, tags and entities left out, on one line."""
        plain = re.sub(r"<[^>]+>", " ", self.html)
        plain = plain.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
        return " ".join(plain.split())

    def field(self, name: str) -> str:
        match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', self.html)
        if match is None:
            match = re.search(rf'type="hidden" name="{name}" value="([^"]*)"', self.html)
        assert match, f"no hidden {name} field on the page"
        return match.group(1)


def get(client: FlaskClient, url: str = URL) -> Page:
    response = client.get(url, follow_redirects=True)
    return Page(response.status_code, response.get_data(as_text=True))


def form_of(page: Page, choice: int) -> dict:
    return {
        "choice": str(choice),
        "token": form_token(page.html),
        "shown": "0",
        "run": page.field("run"),
        "step": page.field("step"),
    }


def say(client: FlaskClient, choice: int, page: Page | None = None) -> Page:
    """Press the `choice`-th line on the conversation page (or on `page`, as it was shown)."""
    page = page or get(client)
    response = client.post(URL, data=form_of(page, choice), follow_redirects=True)
    return Page(response.status_code, response.get_data(as_text=True))


def play(client: FlaskClient, lines: list[tuple[str, int]]) -> Page:
    page = get(client)
    for _node, choice in lines:
        page = say(client, choice, page)
    return page


def play_as(
    user_id: int,
    lines: list[tuple[str, int]],
    seconds: float | None = 9.0,
    when: datetime | None = None,
) -> int:
    """Play the conversation through the services, as the player would (a turn a minute from
    `when`, if given); returns the run id."""
    session = db.session
    user = session.get(User, user_id)
    lesson = session.scalar(select(Lesson).where(Lesson.key == LESSON_KEY))
    talk = session.scalar(select(Conversation))
    run = None
    for step, (node, choice) in enumerate(lines):
        assert conversations.position(session, user, talk).key == node
        run = conversations.choose(
            session,
            user,
            lesson,
            talk,
            run_id=run.id if run else None,
            step=step,
            choice=choice,
            token=uuid.uuid4().hex,
            seconds=seconds,
            answered_at=when + timedelta(minutes=step) if when else None,
        )
    return run.id


def play_lessons_conversation(
    session, user: User, lesson: Lesson, when=None, *, best: bool = True
) -> None:
    """Play the lesson's conversation, if it has one, to an ending, saying the best line at
    every turn (or, with `best=False`, the worst); a lesson is complete only once its
    conversation has ended."""
    talk = lesson.live_conversation
    if talk is None:
        return
    run = None
    while run is None or run.ending is None:
        here = conversations.position(session, user, talk)
        lines = here.node["choices"]
        pick = (max if best else min)(range(len(lines)), key=lambda i: lines[i]["score"])
        run = conversations.choose(
            session,
            user,
            lesson,
            talk,
            run_id=here.run.id if here.run else None,
            step=here.step,
            choice=pick,
            token=uuid.uuid4().hex,
            seconds=8.0,
            answered_at=when,
        )
