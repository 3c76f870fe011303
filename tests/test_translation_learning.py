"""A learner reads lessons in their language, over the same rows: answers, review cards and
role-play answers are shared by every language.

A copy of the starter library gets a made-up Spanish translation of one lesson, its quiz and its
conversation (every text marked "[es]"), so these tests do not depend on the shipped Spanish
wording; the sync and the pages are then used as a learner would.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tests.conftest import form_token, make_app
from trainer import ROOT
from trainer.content.library import load_library
from trainer.content.sync import sync_library
from trainer.content.translations import source_hash
from trainer.extensions import db
from trainer.models import Attempt, Lesson, QuizItem, ReviewCard, RolePlayAnswer, User

KEY = "phone-greeting-first-seconds"
TALK = "busy-line-greeting"
UNTRANSLATED = "teller-greeting-at-the-counter"


def marked(value):
    """Every text in `value` (a parsed YAML tree) with "[es] " before it; ids, types, weights,
    scores and node names as they are."""
    keep = {"id", "type", "answer", "correct", "score", "next", "skill", "setting", "start"}
    keep |= {"roles", "minutes", "quiz", "conversation", "ending", "format"}
    if isinstance(value, dict):
        return {
            k: (v if k in keep else marked(v)) if k != "nodes" else _nodes(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [marked(v) for v in value]
    if isinstance(value, str):
        return f"[es] {value}"
    return value


def _nodes(nodes: dict) -> dict:
    return {name: marked(node) for name, node in nodes.items()}


def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def write_translations(root: Path) -> None:
    quiz = (root / "quizzes" / f"{KEY}.yaml").read_text(encoding="utf-8")
    data = marked(yaml.safe_load(quiz))
    (root / "quizzes" / f"{KEY}.es.yaml").write_text(
        f"source: {source_hash(quiz)}\n" + dump(data), encoding="utf-8"
    )

    lesson = (root / "lessons" / f"{KEY}.md").read_text(encoding="utf-8")
    front = yaml.safe_load(lesson.split("---\n")[1])
    front = marked(front)
    front["source"] = source_hash(lesson)
    body = (
        "## La situación\n\nEl teléfono suena nueve veces en la sucursal.\n\n"
        "## Lo que funciona\n\n- Di el banco, la sucursal y tu nombre.\n"
    )
    (root / "lessons" / f"{KEY}.es.md").write_text(
        f"---\n{dump(front)}---\n{body}", encoding="utf-8"
    )

    folder = root / "lessons" / "conversations"
    talk = (folder / f"{TALK}.yaml").read_text(encoding="utf-8")
    (folder / f"{TALK}.es.yaml").write_text(
        f"source: {source_hash(talk)}\n" + dump(marked(yaml.safe_load(talk))), encoding="utf-8"
    )


@pytest.fixture
def es_app(tmp_path, request, content_dir):
    shutil.copytree(
        ROOT / "lessons" / "conversations",
        content_dir / "lessons" / "conversations",
        dirs_exist_ok=True,
    )
    for translation in content_dir.glob("**/*.es.*"):
        translation.unlink()  # only this test's own translations
    write_translations(content_dir)
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(content_dir))
    with app.app_context():
        db.create_all()
        library = load_library(content_dir)
        assert library.ok, library.problems
        assert library.warnings == []
        sync_library(db.session, library)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(es_app):
    return es_app.test_client()


def sign_in(app, client, language: str | None, email="ana@example.com") -> int:
    from trainer.people.services import create_user

    with app.app_context():
        user = create_user(
            db.session, email=email, name="Ana", password="correct horse", job_role="teller"
        )
        user.language = language
        db.session.commit()
        user_id = user.id
    assert client.post("/login", data={"email": email, "password": "correct horse"}).status_code
    return user_id


def set_language(app, user_id: int, language: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).language = language
        db.session.commit()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_sync_keeps_the_words_beside_the_rows_and_a_second_sync_changes_nothing(
    es_app, content_dir
):
    with es_app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == KEY))
        es = lesson.translations["es"]
        assert es["title"] == "[es] The first five seconds on the phone"
        assert es["scenario_md"] == "El teléfono suena nueve veces en la sucursal."
        item = next(i for i in lesson.quiz.items if i.key == "best-opening-line")
        assert item.translations["es"]["prompt"].startswith("[es] Which of these")
        # One row per item, whatever the languages: the answer key lives on it once.
        assert db.session.scalar(select(func.count()).select_from(QuizItem)) == sum(
            len(q.items) for q in load_library(content_dir).quizzes.values()
        ) + sum(
            sum(1 for n in c.nodes.values() if not n.is_ending)
            for c in load_library(content_dir).conversations.values()
        )
        decision = next(i for i in lesson.conversation.quiz.items if i.key == "open")
        assert "El cliente dice (fed up)" not in decision.translations["es"]["prompt"]
        assert (
            "El cliente dice ([es] fed up): «[es] Finally!" in decision.translations["es"]["prompt"]
        )
        report = sync_library(db.session, load_library(content_dir))
        assert not report.changed

    # A translation taken away leaves its source as it was, without the words.
    (content_dir / "quizzes" / f"{KEY}.es.yaml").unlink()
    with es_app.app_context():
        report = sync_library(db.session, load_library(content_dir))
        assert f"item {KEY}/best-opening-line" in report.updated
        item = db.session.scalar(select(QuizItem).where(QuizItem.key == "best-opening-line"))
        assert item.translations is None
        assert item.prompt.startswith("Which of these")


def test_a_spanish_learner_reads_the_lesson_in_spanish(es_app, client, content_dir):
    sign_in(es_app, client, "es")
    # The path's title comes from lessons/paths.es.yaml.
    shutil.copy(ROOT / "lessons" / "paths.es.yaml", content_dir / "lessons" / "paths.es.yaml")
    with es_app.app_context():
        sync_library(db.session, load_library(content_dir))
    assert "Primeros pasos en la ventanilla" in page(client, "/")

    scenario = page(client, f"/lessons/{KEY}")
    assert "El teléfono suena nueve veces en la sucursal." in scenario
    assert "[es] The first five seconds on the phone" in scenario
    assert 'lang="es"' in scenario
    assert "Not yet translated" not in scenario
    assert "Margaret Ellison" not in scenario

    key_points = page(client, f"/lessons/{KEY}/key-points")
    assert "Di el banco, la sucursal y tu nombre." in key_points

    quiz = page(client, f"/lessons/{KEY}/quiz/1")
    assert "[es] Which of these is the best way to answer the branch phone?" in quiz
    assert "[es] &#39;Hello?&#39;" in quiz or "[es] 'Hello?'" in quiz


def test_an_english_learner_reads_the_same_lesson_in_english(es_app, client):
    sign_in(es_app, client, None)
    scenario = page(client, f"/lessons/{KEY}")
    assert "Margaret Ellison" in scenario
    assert "[es]" not in scenario
    assert "Not yet translated" not in scenario


def test_a_lesson_without_a_translation_is_in_english_with_a_note(es_app, client):
    sign_in(es_app, client, "es")
    scenario = page(client, f"/lessons/{UNTRANSLATED}")
    # The note is in the learner's language, the interface's words like the rest of the page.
    assert "Aún sin traducir (Español): por ahora, esta lección está en inglés." in scenario
    assert 'lang="en"' in scenario


def right_answer(app, key: str, item_key: str) -> list[str]:
    with app.app_context():
        item = db.session.scalar(
            select(QuizItem).join(QuizItem.quiz).where(QuizItem.key == item_key)
        )
        return [str(i) for i, c in enumerate(item.choices) if item.is_right(c)]


def test_answers_in_spanish_grade_and_schedule_on_the_same_item(es_app, client):
    user_id = sign_in(es_app, client, "es")
    url = f"/lessons/{KEY}/quiz/1"
    token = form_token(page(client, url))
    chosen = right_answer(es_app, KEY, "best-opening-line")
    client.post(url, data={"choice": chosen, "token": token, "shown": "0"})
    feedback = page(client, url)
    assert "✓ Correcto" in feedback  # the interface in Spanish too
    assert "[es] Place, name and an offer of help" in feedback
    assert "[es] A good phone greeting gives the caller three things" in feedback

    with es_app.app_context():
        [attempt] = db.session.scalars(select(Attempt).where(Attempt.user_id == user_id))
        assert attempt.correct and attempt.item.key == "best-opening-line"
        [card] = db.session.scalars(select(ReviewCard).where(ReviewCard.user_id == user_id))
        assert card.item_id == attempt.item_id

    # Switching to English shows the same answer, as answered, on the same row.
    set_language(es_app, user_id, "en")
    english = page(client, url)
    assert "✓ Right" in english
    assert "Place, name and an offer of help" in english and "[es]" not in english


def test_the_role_play_is_in_spanish_and_its_rubric_is_kept_as_read(es_app, client):
    user_id = sign_in(es_app, client, "es")
    url = f"/lessons/{KEY}/roleplay/1"
    form = page(client, url)
    assert "[es] Monday, 08:58, Riverside Bank, Oakfield branch" in form
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', form).group(1)
    client.post(url, data={"text": "Buenos días, Banco Riverside.", "token": token})
    shown = page(client, url)
    assert "[es] Good morning, yes, this is Riverside Bank" in shown
    assert "[es] Names the bank and the branch" in shown
    with es_app.app_context():
        answer = db.session.scalar(select(RolePlayAnswer).where(RolePlayAnswer.user_id == user_id))
        assert answer.rubric[0] == "[es] Names the bank and the branch"
        assert answer.roleplay.key == "lost-card-caller"


def test_the_conversation_is_played_in_spanish(es_app, client):
    sign_in(es_app, client, "es")
    url = f"/lessons/{KEY}/conversation"
    start = page(client, url)
    assert "[es] Finally! I&#39;ve been ringing for ten minutes" in start
    assert "[es] Good morning, Riverside Bank, Millbrook branch, this is Sam." in start
    hidden = dict(re.findall(r'name="(run|step)" type="hidden" value="(\d*)"', start))
    data = {"choice": "0", "token": form_token(start), "shown": "0", **hidden}
    turn = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "[es] Bank, branch, your name and a word about the wait" in turn
    assert "[es] It&#39;s Jean Palmer." in turn


def test_the_refresher_asks_in_spanish_and_the_card_is_shared(es_app, client):
    user_id = sign_in(es_app, client, "es")
    url = f"/lessons/{KEY}/quiz/1"
    token = form_token(page(client, url))
    client.post(url, data={"choice": ["0"], "token": token, "shown": "0"})  # a wrong answer

    response = client.post("/refresher/practice")
    assert response.status_code == 303
    item = page(client, response.headers["Location"])
    assert "[es] Which of these is the best way to answer the branch phone?" in item

    set_language(es_app, user_id, None)
    english = page(client, response.headers["Location"])
    assert "Which of these is the best way to answer the branch phone?" in english
    assert "[es]" not in english
    with es_app.app_context():
        cards = db.session.scalars(select(ReviewCard).where(ReviewCard.user_id == user_id)).all()
        assert len(cards) == 1


def test_the_account_page_sets_the_language_and_keeps_progress(es_app, client):
    user_id = sign_in(es_app, client, None)
    url = f"/lessons/{KEY}/quiz/1"
    token = form_token(page(client, url))
    client.post(url, data={"choice": ["0"], "token": token, "shown": "0"})

    account = page(client, "/account")
    assert '<label for="language-choice">Language</label>' in account
    assert account.count('id="language-choice"') == 1  # the label names the select alone
    assert '<option selected value="en">English</option>' in account
    assert '<option value="es">Español</option>' in account
    assert '<option value="pl">Polski</option>' in account
    refused = client.post("/account/language", data={"language": "xx"})
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)

    saved = client.post("/account/language", data={"language": "es"})
    assert saved.status_code == 303
    with es_app.app_context():
        assert db.session.get(User, user_id).language == "es"
    assert "[es] Which of these" in page(client, url)
    assert "✗ No del todo" in page(client, url)  # the answer given in English still stands
