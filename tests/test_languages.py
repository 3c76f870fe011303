"""The interface and the mail in the reader's language: English, Spanish, Polish."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask_babel import force_locale

from tests.conftest import make_app
from tests.pseudo_locale import PSEUDO, build_catalog, extract, marked, unmarked
from trainer import ROOT
from trainer.languages import LANGUAGES, speaking
from trainer.notify import mails
from trainer.notify.mails import MemberWeek, OverdueItem, OverdueLesson, TeamWeek

PASSWORD = "correct horse battery"
CATALOGS = ROOT / "trainer" / "translations"


def catalog(language: str):
    with (CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


# -- the catalogs ------------------------------------------------------------------------------


def extracted(tmp_path: Path) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in extract(tmp_path) if m.id}


@pytest.mark.parametrize("language", ["es", "pl"])
def test_every_string_of_the_code_is_translated(tmp_path, language):
    """`make messages` was run after the last string was added, and a translator filled it."""
    wanted = extracted(tmp_path)
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog(language) if m.id}
    assert sorted(wanted - set(messages)) == [], "run `make messages` and translate"
    untranslated = [
        key
        for key, m in messages.items()
        if key in wanted
        and ("fuzzy" in m.flags or not (m.string if isinstance(m.string, str) else all(m.string)))
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", ["es", "pl"])
def test_translations_keep_every_placeholder(language):
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for m in catalog(language):
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set().union(*(placeholder.findall(i) for i in ids)) - {"%(num)d"}
        for string in strings:
            assert wanted <= set(placeholder.findall(string)), (language, m.id, string)


def test_the_compiled_catalogs_are_there():
    for language in LANGUAGES:
        if language != "en":
            mo = CATALOGS / language / "LC_MESSAGES" / "messages.mo"
            assert mo.exists(), f"{mo} is missing: `make translations` compiles it"


# -- choosing the language ---------------------------------------------------------------------


def test_a_visitor_gets_the_language_their_browser_asks_for(client):
    page = client.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert '<html lang="pl">' in page.text
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es">' in page.text
    page = client.get("/login", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert '<html lang="en">' in page.text


def test_default_language_is_for_browsers_that_ask_for_none_of_ours(tmp_path, request):
    app = make_app(tmp_path, "sqlite", request, DEFAULT_LANGUAGE="es")
    page = app.test_client().get("/login", headers={"Accept-Language": "de"})
    assert '<html lang="es">' in page.text


def test_an_unknown_default_language_stops_the_app_at_start(tmp_path, request):
    with pytest.raises(RuntimeError, match="DEFAULT_LANGUAGE='fr' is not one of en, es, pl"):
        make_app(tmp_path, "sqlite", request, DEFAULT_LANGUAGE="fr")


# -- mail --------------------------------------------------------------------------------------


def every_mail(name: str, day: date) -> dict[str, mails.Mail]:
    """Each mail the platform sends, in its shapes (singular, plural, started or not)."""
    lesson = OverdueLesson(marked("Greeting"), day, "https://t.example/lessons/greeting")
    other = OverdueLesson(marked("Closing"), day, "https://t.example/lessons/closing")
    member = MemberWeek(marked("Ana Ruiz"), 2, 5, 1, 3, 5)
    return {
        "reminder": mails.reminder_mail(
            first_name=name,
            questions=1,
            minutes=1,
            started=False,
            streak=0,
            reminder_time=time(18, 0),
            refresher_url="https://t.example/refresher",
            settings_url="https://t.example/reminders/x",
        ),
        "reminder started": mails.reminder_mail(
            first_name=name,
            questions=7,
            minutes=4,
            started=True,
            streak=3,
            reminder_time=time(18, 0),
            refresher_url="https://t.example/refresher",
            settings_url="https://t.example/reminders/x",
        ),
        "overdue one": mails.overdue_mail(
            first_name=name, lessons=[lesson], today_url="https://t.example/"
        ),
        "overdue two": mails.overdue_mail(
            first_name=name, lessons=[lesson, other], today_url="https://t.example/"
        ),
        "report one": mails.overdue_report_mail(
            first_name=name,
            items=[OverdueItem(marked("Ana Ruiz"), lesson.title, day)],
            url="https://t.example/",
        ),
        "report many": mails.overdue_report_mail(
            first_name=name,
            items=[
                OverdueItem(marked("Ana Ruiz"), lesson.title, day),
                OverdueItem(marked("Bo Lee"), other.title, day),
            ],
            url="https://t.example/",
        ),
        "digest": mails.digest_mail(
            first_name=name,
            week="2026-W48",
            teams=[
                TeamWeek(marked("Counter"), [member], [(marked("Greeting"), 61)]),
                TeamWeek(marked("Floor"), []),
                TeamWeek(marked("Calls"), [MemberWeek(marked("Cy"), 0, 0, 0, 0, 0)]),
            ],
            url="https://t.example/",
        ),
        "nudge lesson": mails.nudge_mail(
            first_name=name,
            manager=marked("Maria Lopez"),
            lesson=lesson.title,
            minutes=4,
            url="https://t.example/lessons/greeting",
        ),
        "nudge refresher": mails.nudge_mail(
            first_name=name,
            manager=marked("Maria Lopez"),
            lesson=None,
            minutes=None,
            url="https://t.example/refresher",
        ),
    }


def visible(html: str) -> str:
    from html.parser import HTMLParser

    parts: list[str] = []

    class Text(HTMLParser):
        def handle_data(self, data):
            parts.append(data)

    Text().feed(html)
    return " ".join(parts)


@pytest.fixture(scope="module")
def pseudo_catalog(tmp_path_factory):
    return build_catalog(tmp_path_factory.mktemp("pseudo"))


@pytest.fixture
def pseudo_app(tmp_path, request, pseudo_catalog):
    directories = f"{pseudo_catalog};translations"
    return make_app(tmp_path, "sqlite", request, BABEL_TRANSLATION_DIRECTORIES=directories)


def test_every_word_of_every_mail_is_translatable(pseudo_app):
    day = date(2026, 12, 1)
    with pseudo_app.app_context(), force_locale(PSEUDO):
        allowed = (mails.day_label(day), "Frontline Trainer", "2026-W48", "18:00", "UTC")
        for kind, mail in every_mail(marked("Jo"), day).items():
            for part, text in [
                ("subject", mail.subject),
                ("text", mail.text),
                ("html", visible(mail.html)),
                ("short", mail.short or ""),
            ]:
                assert unmarked(text, *allowed) == [], f"{kind} {part}: {text}"


def test_the_pseudo_check_sees_a_word_left_in_english(pseudo_app):
    with pseudo_app.app_context(), force_locale(PSEUDO):
        assert unmarked(f"{marked('Hi')} Jo, welcome") == ["Jo", "welcome"]


def test_other_mails_are_translatable_too(pseudo_app):
    from trainer.admin.invites import _mail
    from trainer.auth.reset import _mail as reset_mail
    from trainer.auth.services import password_changed_mail

    class Person:
        first_name = marked("Jo")
        language = PSEUDO

    with pseudo_app.app_context(), force_locale(PSEUDO):
        invitation = _mail(Person(), "https://t.example/welcome/abc")
        reset = reset_mail(Person(), "https://t.example/password/reset/abc")
        now = datetime(2026, 12, 1, 14, 5)
        notices = [
            password_changed_mail(Person.first_name, marked("Chrome on Android"), now),
            password_changed_mail(Person.first_name, "", now),
        ]
        for subject, text, html in [invitation, reset, *notices]:
            for part in (subject, text, visible(html)):
                assert unmarked(part, "Frontline Trainer", "December 1, 2026", "UTC") == [], part


def test_the_reminder_reads_naturally_in_spanish_and_polish(app):
    with app.app_context():
        with speaking("es"):
            mail = mails.reminder_mail(
                first_name="Lucía",
                questions=5,
                minutes=4,
                started=False,
                streak=3,
                reminder_time=time(18, 0),
                refresher_url="https://t.example/refresher",
                settings_url="https://t.example/reminders/x",
            )
        assert mail.subject == "Tu repaso de 4 minutos está listo"
        assert "Tu repaso de hoy está listo: 5 preguntas, unos 4 minutos." in mail.text
        assert "Llevas una racha de 3 días." in mail.text
        assert "Empezar el repaso" in mail.html

        counts = {}
        for n in (1, 3, 5, 22):
            with speaking("pl"):
                counts[n] = mails.reminder_mail(
                    first_name="Kasia",
                    questions=n,
                    minutes=n,
                    started=False,
                    streak=0,
                    reminder_time=time(18, 0),
                    refresher_url="u",
                    settings_url="v",
                ).text
        # Polish has three plural forms: 1 pytanie, 3 pytania, 5 pytań, 22 pytania.
        assert "1 pytanie," in counts[1]
        assert "3 pytania," in counts[3]
        assert "5 pytań," in counts[5]
        assert "22 pytania," in counts[22]
        with speaking("pl"):
            assert mails.day_label(date(2026, 12, 1)) == "wt. 1 gru"
        with speaking("en"):
            assert mails.day_label(date(2026, 12, 1)) == "Tue 1 Dec"


def test_a_mail_is_in_its_readers_language_not_the_senders(app):
    """A Polish-speaking manager's Remind reaches a Spanish-speaking learner in Spanish."""
    with app.test_request_context(headers={"Accept-Language": "pl"}):

        class Learner:
            language = "es"

        with speaking(Learner()):
            mail = mails.nudge_mail(
                first_name="Lucía", manager="Marek", lesson=None, minutes=None, url="u"
            )
        assert mail.subject == "Marek te pide que hagas tu repaso"


# -- each person's language --------------------------------------------------------------------


def test_the_reminder_job_writes_to_each_learner_in_their_language(app):
    from tests.conftest import sync_starter_library
    from tests.test_notify import GREETING, answer_lesson, mails, person, run, utc
    from trainer.notify import jobs

    sync_starter_library(app)
    lucia = person(app, "lucia@example.com", name="Lucía Fernández", language="es")
    kasia = person(app, "kasia@example.com", name="Kasia Nowak", language="pl")
    sam = person(app, "sam@example.com", name="Sam Teller")
    for learner in (lucia, kasia, sam):
        answer_lesson(app, learner, GREETING, utc(2026, 1, 4, 9))
    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18)) == 3
    by_address = {mail.to: mail for mail in mails(app)}
    assert by_address["lucia@example.com"].subject == "Tu repaso de 5 minutos está listo"
    assert by_address["lucia@example.com"].text.startswith("Hola, Lucía:\n")
    assert (
        "Empezar el repaso: http://127.0.0.1:5000/refresher" in by_address["lucia@example.com"].text
    )
    assert by_address["kasia@example.com"].subject == "Twoja powtórka (5 min) jest gotowa"
    assert "Zacznij powtórkę" in by_address["kasia@example.com"].html
    assert by_address["sam@example.com"].subject == "Your 5-minute refresher is ready"


def test_a_persons_own_language_wins_over_their_browser(app, client):
    from trainer.extensions import db
    from trainer.people.services import create_user

    with app.app_context():
        create_user(
            db.session, email="kasia@example.com", name="Kasia Nowak", password=PASSWORD,
            language="pl",
        )  # fmt: skip
        db.session.commit()
    response = client.post("/login", data={"email": "kasia@example.com", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/reminders/forged", headers={"Accept-Language": "es"})
    assert '<html lang="pl">' in page.text
    assert "Ten link wygasł" in page.text


def test_switching_language_on_the_account_page_changes_the_interface(app, client):
    from trainer.extensions import db
    from trainer.models import User
    from trainer.people.services import create_user

    with app.app_context():
        create_user(db.session, email="lu@example.com", name="Lu Ortiz", password=PASSWORD)
        db.session.commit()
    client.post("/login", data={"email": "lu@example.com", "password": PASSWORD})
    assert '<html lang="en">' in client.get("/account").text
    saved = client.post("/account/language", data={"language": "pl"})
    assert saved.status_code == 303
    account = client.get("/account")
    assert '<html lang="pl">' in account.text
    assert "Twój język został zapisany." in account.text and "Zapisz język" in account.text
    # Pages that answer before loading anyone, like this one, know it from the session.
    page = client.get("/no/such/page")
    assert '<html lang="pl">' in page.text
    assert "Pod tym adresem nic nie ma" in page.text
    client.post("/logout")
    assert '<html lang="en">' in client.get("/no/such/page").text
    with app.app_context():
        assert (
            db.session.scalar(sa.select(User.language).where(User.email == "lu@example.com"))
            == "pl"
        )


def test_a_newcomer_gets_the_language_their_browser_asks_for(app):
    from trainer.extensions import db
    from trainer.models import User
    from trainer.people import joining
    from trainer.people.services import get_or_create_team

    with app.app_context():
        team = get_or_create_team(db.session, "Copper Pot")
        db.session.commit()
        code = joining.create_code(db.session, team, by=None).code
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-ES,es;q=0.9"
    form = client.get(f"/join/{code}")
    assert '<html lang="es">' in form.text and "Únete a Copper Pot" in form.text
    joined = client.post(
        f"/join/{code}",
        data={"name": "Lucía Fernández", "employee_number": "4411",
              "how": "pin", "pin": "384756"},
    )  # fmt: skip
    assert joined.status_code == 303, joined.text
    with app.app_context():
        lucia = db.session.scalar(sa.select(User).where(User.employee_number == "4411"))
        assert lucia.language == "es"


def test_admins_set_a_language_in_the_form_the_import_and_the_command(app, runner):
    from trainer.admin.importing import check_rows, read_csv
    from trainer.extensions import db
    from trainer.models import User
    from trainer.people.services import create_user

    result = runner.invoke(
        args=["users", "create", "--employee-number", "7001", "--name", "Ola Kowalska",
              "--pin", "482915", "--role", "learner", "--language", "pl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bad = runner.invoke(
        args=["users", "create", "--employee-number", "7002", "--name", "X Y",
              "--pin", "482916", "--role", "learner", "--language", "fr"],
    )  # fmt: skip
    assert bad.exit_code != 0 and "must be one of en, es, pl" in bad.output

    csv = (
        "name,employee_number,language\nAna Ruiz,7101,Español\nBo Lee,7102,\nCy Dunn,7103,fr\n"
    ).encode()
    with app.app_context():
        preview = check_rows(db.session, read_csv(csv), "Europe/London")
        assert [row.language for row in preview.rows] == ["es", None, None]
        [error] = preview.errors
        assert (error.line, error.field) == (4, "language")
        assert '"fr" is not one of our languages' in error.message
        assert (
            db.session.scalar(sa.select(User.language).where(User.employee_number == "7001"))
            == "pl"
        )

    with app.app_context():
        create_user(
            db.session, email="ada@example.com", name="Ada", password=PASSWORD, role="admin"
        )
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    form = client.get("/admin/people/new")
    assert 'name="language"' in form.text and "Español" in form.text
    added = client.post(
        "/admin/people/new",
        data={"name": "Kasia Nowak", "employee_number": "7201",
              "role": "learner", "job_role": "", "team": "", "timezone": "Europe/London",
              "reminder_time": "18:00", "language": "pl"},
    )  # fmt: skip
    assert added.status_code in (302, 303), added.text
    with app.app_context():
        assert (
            db.session.scalar(sa.select(User.language).where(User.employee_number == "7201"))
            == "pl"
        )
