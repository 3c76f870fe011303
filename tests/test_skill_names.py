"""Skill and job role names: synced from `lessons/paths.yaml` and its translations, and shown in
the reader's language wherever a skill or role is named (the learner's Today, library, lesson
and refresher summary; the manager's skills, person and join-code pages; the weekly digest)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.test_content_sync import edit, sync, synced
from tests.test_review import _take_refresher, take_quiz
from trainer.extensions import db
from trainer.languages import speaking
from trainer.models import JobRole, Skill, utcnow
from trainer.people.services import create_user, get_or_create_team

PASSWORD = "correct horse"
GREETING = "teller-greeting-at-the-counter"  # skill first-impression
RED_CARPET = "teller-red-carpet-service"  # skill red-carpet


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def world(library_app):
    """The starter library; Valeria, a teller reading Spanish, with answers on two skills;
    Marek, her manager, reading Polish; and Alex, a manager reading English."""
    app = library_app
    with app.app_context():
        get_or_create_team(db.session, "Riverside")
        people = {}
        for email, name, role, language in (
            ("valeria@example.com", "Valeria Ruiz", "learner", "es"),
            ("marek@example.com", "Marek Nowak", "manager", "pl"),
            ("alex@example.com", "Alex Reed", "manager", "en"),
        ):
            people[email] = create_user(
                db.session,
                email=email,
                name=name,
                password=PASSWORD,
                role=role,
                language=language,
                job_role="teller" if role == "learner" else None,
                team="Riverside" if role == "learner" else None,
                hire_date=date.today(),
            )
        team = get_or_create_team(db.session, "Riverside")
        team.managers.extend([people["marek@example.com"], people["alex@example.com"]])
        db.session.commit()
        valeria = people["valeria@example.com"]
        # Answered days ago: her cards are due, and today has a refresher.
        take_quiz(valeria, key=GREETING, when=utcnow() - timedelta(days=12))
        take_quiz(valeria, key=RED_CARPET, when=utcnow() - timedelta(days=6))
        valeria_id = valeria.id
    app.valeria = valeria_id
    return app


# -- sync ----------------------------------------------------------------------------------------


def test_sync_stores_each_skills_name_and_the_role_names_in_each_language(library_app):
    with library_app.app_context():
        skills = {s.key: s for s in db.session.scalars(select(Skill))}
        assert len(skills) == 8
        first = skills["first-impression"]
        assert first.name == "First impression" and not first.retired
        assert first.translations == {
            "es": {"name": "Primera impresión"},
            "pl": {"name": "Pierwsze wrażenie"},
        }
        teller = db.session.scalar(select(JobRole).where(JobRole.key == "teller"))
        assert teller.name == "Bank teller"
        assert teller.translations == {
            "es": {"name": "Cajero o cajera de banco"},
            "pl": {"name": "Kasjer lub kasjerka w banku"},
        }


@pytest.fixture
def content_app(any_db_app, content_dir):
    any_db_app.config["CONTENT_DIR"] = str(content_dir)
    return any_db_app


def test_a_renamed_skill_is_updated_a_removed_one_retired_and_a_resync_changes_nothing(
    content_app, content_dir
):
    assert "  + skill first-impression" in synced(content_app)
    assert synced(content_app)[-1] == "Library is up to date: nothing changed."
    edit(content_dir, "lessons/paths.yaml", "name: Touchpoints", "name: Every touchpoint")
    edit(
        content_dir,
        "lessons/paths.yaml",
        "  - id: phone-greeting\n    name: Phone greeting\n",
        "",
    )
    result = sync(content_app, "--verbose")
    assert result.exit_code == 0, result.output
    assert "  ~ skill touchpoints" in result.output
    assert "  - skill phone-greeting (retired; its history is kept)" in result.output
    with content_app.app_context():
        rows = {s.key: s for s in db.session.scalars(select(Skill))}
        assert rows["touchpoints"].name == "Every touchpoint"
        assert rows["phone-greeting"].retired
        # Without its name the skill reads as its id does, as before skills had names.
        from trainer.content.names import skill_name

        assert skill_name("phone-greeting", "en") == "Phone greeting"
        assert skill_name("touchpoints", "es") == "Every touchpoint"  # no Spanish file here


# -- the learner's pages, in Spanish ------------------------------------------------------------


def test_a_spanish_learners_today_names_her_skills_in_spanish(world):
    client = signed_in(world, "valeria@example.com")
    page = text(client.get("/"))
    assert "Tus habilidades" in page
    skills = page[page.index("Tus habilidades") :]
    assert "Primera impresión" in skills and "Trato VIP" in skills
    assert "First impression" not in page and "Red carpet" not in page


def test_a_spanish_learners_library_and_lesson_name_skills_and_roles_in_spanish(world):
    client = signed_in(world, "valeria@example.com")
    page = text(client.get("/lessons"))
    assert "Primera impresión" in page and "Atender el teléfono" in page
    assert "Camarero o camarera" in page  # the lessons of other roles say whose they are
    assert "Bank teller" not in page and "Wait staff" not in page
    assert "Phone greeting" not in page and "phone greeting" not in page
    # The skill's Spanish name finds its lessons.
    found = text(client.get("/lessons?q=vip"))
    assert "El único cliente de la sala" in found
    scenario = text(client.get(f"/lessons/{GREETING}"))
    assert "Primera impresión" in scenario


def test_a_spanish_learners_refresher_summary_names_skills_in_spanish(world):
    client = signed_in(world, "valeria@example.com")
    page = html.unescape(_take_refresher(world, client, right=False))
    look = page[page.index("Para mirar otra vez") :]
    assert "Primera impresión" in look or "Trato VIP" in look
    assert "First impression" not in page and "Red carpet" not in page


def test_switching_to_polish_renames_the_skills_at_once(world):
    client = signed_in(world, "valeria@example.com")
    client.post("/account/language", data={"language": "pl"})
    page = text(client.get("/"))
    assert "Pierwsze wrażenie" in page and "Pełna uwaga dla klienta" in page
    assert "Primera impresión" not in page


# -- the manager's pages, in Polish -------------------------------------------------------------


def test_a_polish_managers_skills_page_names_the_skills_in_polish(world):
    client = signed_in(world, "marek@example.com")
    page = text(client.get("/manage/skills"))
    header = page[page.index('<table class="skill-grid"') : page.index("</thead>")]
    assert "Pierwsze wrażenie" in header and "Pełna uwaga dla klienta" in header
    assert "First impression" not in page
    # The same page for an English-reading manager of the same team.
    english = text(signed_in(world, "alex@example.com").get("/manage/skills"))
    assert "First impression" in english and "Red carpet treatment" in english
    assert "Pierwsze wrażenie" not in english


def test_a_polish_managers_person_and_join_code_pages_name_the_job_role_in_polish(world):
    client = signed_in(world, "marek@example.com")
    person = text(client.get(f"/manage/people/{world.valeria}"))
    assert "Kasjer lub kasjerka w banku" in person and "Bank teller" not in person
    codes = text(client.get("/manage/join-codes"))
    options = re.findall(r'<option value="(teller|wait-staff)">([^<]*)</option>', codes)
    assert dict(options) == {
        "teller": "Kasjer lub kasjerka w banku",
        "wait-staff": "Kelner lub kelnerka",
    }


# -- the weekly digest, in the manager's language ----------------------------------------------


def test_the_digest_names_the_weakest_skills_in_each_managers_language(world):
    from tests.test_notify import mails, run, utc
    from trainer.notify import jobs

    assert run(world, jobs.manager_digest, utc(2030, 1, 7, 12)) == 2  # a Monday
    digests = {m.to: m.text for m in mails(world, "digest")}
    polish = re.search(r"Najsłabsze umiejętności: (.*)", digests["marek@example.com"])[1]
    english = re.search(r"Weakest skills: (.*)", digests["alex@example.com"])[1]
    assert "Pierwsze wrażenie" in polish and "First impression" not in polish
    assert "First impression" in english


# -- names without a name in the content ------------------------------------------------------


def test_a_skill_without_a_name_reads_as_its_id_and_general_is_translated(world):
    from trainer.content.names import role_name, skill_name

    with world.app_context():
        assert skill_name("made-up-skill", "es") == "Made up skill"
        assert skill_name("first-impression", "pl") == "Pierwsze wrażenie"
        assert skill_name("first-impression", "de") == "First impression"  # no German: English
        with speaking("es"):
            assert skill_name("general") == "General"
            assert skill_name("red-carpet") == "Trato VIP"
            assert role_name("wait-staff") == "Camarero o camarera"
        with speaking("pl"):
            assert skill_name("general") == "Ogólne"
            assert role_name("astronaut") == "Astronaut"
    # Outside the app: named after the id, never an error.
    assert skill_name("first-impression") == "First impression"


def test_names_are_read_once_per_library_version(world):
    from tests.test_query_counts import counted
    from trainer.content.names import skill_name

    with world.app_context():
        skill_name("first-impression")  # read and kept
    with counted(world) as statements, world.app_context():
        assert skill_name("touchpoints", "es") == "Puntos de contacto"
    assert statements == []
    with world.app_context():  # a change to the library is seen at once in this process
        db.session.scalar(select(Skill).where(Skill.key == "touchpoints")).name = "Touch"
        db.session.commit()
        assert skill_name("touchpoints", "en") == "Touch"
