"""A manager's Remind: one tap, at most one reminder per person a day whoever presses it, naming
the manager and linking to the person's next lesson."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import sync_starter_library
from trainer.extensions import db
from trainer.models import Delivery, Notification, OutboxMessage, Team, User, utcnow
from trainer.notify import nudges
from trainer.people.services import create_user

PASSWORD = "correct horse"


def text(response) -> str:
    return response.get_data(as_text=True)


def build(app) -> dict[str, int]:
    """A team of three (one overdue, one without any address), its two managers, a stranger."""
    sync_starter_library(app)
    with app.app_context():
        long_ago = utcnow().date() - timedelta(days=60)
        people = {
            "ann": create_user(
                db.session, name="Ann Archer", email="ann@example.com", job_role="teller",
                team="North", hire_date=long_ago,
            ),
            "bob": create_user(
                db.session, name="Bob Baker", email="bob@example.com", job_role="teller",
                team="North",
            ),
            "cy": create_user(
                db.session, name="Cy Nomail", employee_number="77", job_role="teller",
                team="North", hire_date=long_ago,
            ),
            "mia": create_user(
                db.session, name="Mia Manager", email="mia@example.com", role="manager",
                password=PASSWORD,
            ),
            "max": create_user(
                db.session, name="Max Manager", email="max@example.com", role="manager",
                password=PASSWORD,
            ),
            "oli": create_user(
                db.session, name="Oli Other", email="oli@example.com", role="manager",
                password=PASSWORD, team="South",
            ),
        }  # fmt: skip
        north = db.session.scalar(sa.select(Team).where(Team.name == "North"))
        north.managers += [people["mia"], people["max"]]
        south = db.session.scalar(sa.select(Team).where(Team.name == "South"))
        south.managers.append(people["oli"])
        db.session.commit()
        return {name: user.id for name, user in people.items()}


def signed_in(app, email):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def nudges_to(app, user_id) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(OutboxMessage).where(
                    OutboxMessage.user_id == user_id, OutboxMessage.kind == nudges.KIND
                )
            )
        )
        db.session.expunge_all()
        return rows


def test_remind_names_the_manager_and_links_to_the_next_lesson(app):
    ids = build(app)
    mia = signed_in(app, "mia@example.com")
    response = mia.post(f"/manage/people/{ids['bob']}/remind", follow_redirects=True)
    assert "Reminder sent to Bob Baker." in text(response)
    [mail] = nudges_to(app, ids["bob"])
    assert mail.to == "bob@example.com"
    assert mail.subject == "Mia Manager asks you to do your next lesson"
    with app.app_context():
        from trainer.learn.services import path_progress

        first = path_progress(db.session, db.session.get(User, ids["bob"])).next.lesson
        assert f"/lessons/{first.key}" in mail.text and first.title in mail.text
    assert "Mia Manager asks you" in mail.text
    page = text(mia.get("/manage/"))
    assert "reminded today" in page


def test_a_double_click_or_a_second_manager_sends_nothing_more_today(app):
    ids = build(app)
    mia, max_ = signed_in(app, "mia@example.com"), signed_in(app, "max@example.com")
    mia.post(f"/manage/people/{ids['bob']}/remind")
    again = mia.post(f"/manage/people/{ids['bob']}/remind", follow_redirects=True)
    assert "Bob Baker was already reminded today." in text(again)
    other = max_.post(f"/manage/people/{ids['bob']}/remind", follow_redirects=True)
    assert "already reminded today" in text(other)
    assert len(nudges_to(app, ids["bob"])) == 1


def test_two_managers_pressing_remind_at_the_same_moment_send_one(any_db_app):
    ids = build(any_db_app)
    clients = [signed_in(any_db_app, "mia@example.com"), signed_in(any_db_app, "max@example.com")]
    for _trial in range(5):
        with any_db_app.app_context():
            for table in (Notification, Delivery, OutboxMessage):
                db.session.execute(sa.delete(table))
            db.session.commit()
        statuses = _at_once(clients, f"/manage/people/{ids['bob']}/remind")
        assert statuses == [303, 303]
        assert len(nudges_to(any_db_app, ids["bob"])) == 1


def _at_once(clients, url: str) -> list[int]:
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def press(client):
        barrier.wait()
        statuses.append(client.post(url).status_code)

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_remind_everyone_overdue_nudges_each_overdue_person_once(app):
    ids = build(app)
    mia = signed_in(app, "mia@example.com")
    page = text(mia.get("/manage/"))
    assert "Remind everyone overdue" in page
    response = mia.post("/manage/remind-overdue", follow_redirects=True)
    said = text(response)
    assert "Reminded 1 person" in said and "no way to reach Cy Nomail" in said
    assert len(nudges_to(app, ids["ann"])) == 1
    assert nudges_to(app, ids["bob"]) == []  # not overdue
    again = mia.post("/manage/remind-overdue", follow_redirects=True)
    assert "Reminded 0 people; 1 had been reminded today already" in text(again)
    assert len(nudges_to(app, ids["ann"])) == 1


def test_the_next_day_brings_a_new_chance(app):
    ids = build(app)
    with app.app_context():
        mia = db.session.get(User, ids["mia"])
        ann = db.session.get(User, ids["ann"])
        now = utcnow()
        assert nudges.remind(db.session, mia, ann, now) == "sent"
        assert nudges.remind(db.session, mia, ann, now) == "already"
        assert nudges.remind(db.session, mia, ann, now + timedelta(days=1)) == "sent"
        assert nudges.remind(db.session, mia, db.session.get(User, ids["cy"])) == "unreachable"


def test_only_the_persons_own_managers_may_remind(app):
    ids = build(app)
    oli = signed_in(app, "oli@example.com")
    assert oli.post(f"/manage/people/{ids['bob']}/remind").status_code == 404
    assert nudges_to(app, ids["bob"]) == []


@pytest.mark.parametrize("back", ["person", ""])
def test_remind_from_a_persons_page_comes_back_to_it(app, back):
    ids = build(app)
    mia = signed_in(app, "mia@example.com")
    page = text(mia.get(f"/manage/people/{ids['bob']}"))
    assert ">Remind</button>" in page
    response = mia.post(f"/manage/people/{ids['bob']}/remind", data={"back": back})
    expected = f"/manage/people/{ids['bob']}" if back else "/manage/"
    assert response.headers["Location"] == expected
    assert "Reminded today" in text(mia.get(f"/manage/people/{ids['bob']}"))
