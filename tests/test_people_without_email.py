"""People without company email: an employee number or a phone number will do, in the admin
forms, the CSV import, `users create` and signing in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trainer.extensions import db
from trainer.models import OutboxMessage, User
from trainer.people.services import PersonError, create_user

PASSWORD = "correct horse"


def text(response) -> str:
    return response.get_data(as_text=True)


def _user(app, email):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.expunge_all()
        return user


# -- the rule: one way to reach each person ----------------------------------------------------


def test_a_person_needs_an_email_an_employee_number_or_a_phone(any_db_app):
    with any_db_app.app_context():
        with pytest.raises(PersonError, match="employee number or a phone number"):
            create_user(db.session, name="Nobody")
        db.session.rollback()
        jo = create_user(db.session, name="Jo Server", employee_number="1001")
        al = create_user(db.session, name="Al Host", phone="07911 123456")  # read in GB
        db.session.commit()
        assert (jo.email, jo.employee_number) == (None, "1001")
        assert al.phone == "+447911123456"

        # The database holds the rule too, whatever writes the row.
        with pytest.raises(IntegrityError):
            db.session.execute(sa.insert(User).values(name="Ghost", role="learner"))
        db.session.rollback()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"employee_number": "1001"}, "employee_number", "someone else's employee number"),
        ({"employee_number": "10 01"}, "employee_number", "no spaces"),
        ({"phone": "12345"}, "phone", "is not a phone number"),
        ({"phone": "+44 7911 123456", "pin": "123456"}, "pin", "too easy to guess"),
        ({"phone": "+44 7911 123456", "pin": "12a456"}, "pin", "exactly 6 digits"),
    ],
)
def test_bad_numbers_and_pins_are_refused_by_field(app, fields, field, message):
    with app.app_context():
        create_user(db.session, name="Jo", employee_number="1001")
        db.session.commit()
        with pytest.raises(PersonError, match=message) as refused:
            create_user(db.session, name="Kim", **fields)
        assert refused.value.field == field


# -- signing in with an employee number or a phone ----------------------------------------------


def test_sign_in_with_an_employee_number_or_a_phone_and_a_password(app, client):
    with app.app_context():
        create_user(
            db.session, name="Jo", employee_number="A-1001", phone="+447911123456",
            password=PASSWORD,
        )  # fmt: skip
        db.session.commit()
    for who in ("A-1001", "07911 123456", "+44 7911 123456"):
        response = client.post("/login", data={"email": who, "password": PASSWORD})
        assert response.status_code == 302, who
        client.post("/logout")
    wrong = client.post("/login", data={"email": "A-1001", "password": "not it at all"})
    assert wrong.status_code == 401


def test_a_phone_two_people_share_signs_in_neither(app, client):
    with app.app_context():
        for number in ("1", "2"):
            create_user(
                db.session, name=f"Twin {number}", employee_number=number,
                phone="+447911123456", password=PASSWORD,
            )  # fmt: skip
        db.session.commit()
    response = client.post("/login", data={"email": "+447911123456", "password": PASSWORD})
    assert response.status_code == 401


# -- the admin forms ----------------------------------------------------------------------------


@pytest.fixture
def admin(app, client, make_user):
    make_user("boss@example.com", role="admin")
    client.post("/login", data={"email": "boss@example.com", "password": PASSWORD})
    return client


def test_an_admin_adds_someone_with_no_email(app, admin):
    data = {
        "name": "Jo Server",
        "email": "",
        "employee_number": "1001",
        "phone": "+44 7911 123456",
        "pin": "246810",
        "role": "learner",
        "job_role": "",
        "team": "",
        "timezone": "Europe/London",
        "reminder_time": "18:00",
    }
    response = admin.post("/admin/people/new", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "tablet with their employee number and PIN" in text(response)
    with app.app_context():
        jo = db.session.scalar(sa.select(User).where(User.employee_number == "1001"))
        assert (jo.email, jo.phone) == (None, "+447911123456")
        assert jo.pin_hash.startswith("$argon2id$")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    listing = text(admin.get("/admin/people?q=1001"))
    assert "Jo Server" in listing and "employee no. 1001" in listing

    # Blank PIN on an edit keeps the one they have; a weak one is refused on its field.
    data.update(pin="")
    with app.app_context():
        jo_id, pin_hash = jo.id, jo.pin_hash
    assert admin.post(f"/admin/people/{jo_id}/edit", data=data).status_code == 303
    with app.app_context():
        assert db.session.get(User, jo_id).pin_hash == pin_hash
    weak = admin.post(f"/admin/people/{jo_id}/edit", data={**data, "pin": "000000"})
    assert weak.status_code == 400 and 'id="pin-error"' in text(weak)


def test_an_admin_is_told_when_nobody_could_reach_the_person(admin):
    data = {"name": "Nobody", "role": "learner", "job_role": "", "team": "",
            "timezone": "Europe/London", "reminder_time": "18:00"}  # fmt: skip
    response = admin.post("/admin/people/new", data=data)
    assert response.status_code == 400
    assert "Give an email address, an employee number or a phone number" in text(response)


# -- the CSV import -----------------------------------------------------------------------------


def _upload(client, body: str):
    boundary = "----people-boundary"
    payload = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="people.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n" + body + f"\r\n--{boundary}--\r\n"
    ).encode()
    return client.post(
        "/admin/people/import",
        data=payload,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_the_import_takes_employee_numbers_and_phones(app, admin):
    with app.app_context():
        create_user(db.session, name="Old Hand", employee_number="900")
        db.session.commit()
    body = (
        "name,employee_number,phone,email\n"
        "Jo Server,1001,07911 123456,\n"
        "Al Host,1002,,\n"
        "No Way,,,\n"
        "Twin A,1003,,\n"
        "Twin B,1003,,\n"
        "Old Again,900,,\n"
        "Bad Phone,1004,12345,\n"
    )
    page = text(_upload(admin, body))
    assert "+447911123456" in page  # read in GB, shown as stored
    assert "employee_number or phone" in page  # No Way
    assert "1003 is also on row" in page
    assert "900 is someone else&#39;s employee number" in page
    assert "is not a phone number" in page

    good = "name,employee_number,phone\nJo Server,1001,07911 123456\nAl Host,1002,\n"
    page = text(_upload(admin, good))
    payload = page.split('name="payload" type="hidden" value="')[1].split('"')[0]
    response = admin.post(
        "/admin/people/import/confirm", data={"payload": payload, "expected": "2", "choice": "all"}
    )
    assert response.status_code == 303
    with app.app_context():
        jo = db.session.scalar(sa.select(User).where(User.employee_number == "1001"))
        assert jo.phone == "+447911123456" and jo.email is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# -- `flask users create` -------------------------------------------------------------------------


def test_users_create_makes_someone_with_an_employee_number_and_a_pin(app, runner):
    args = ["users", "create", "--name", "Jo Server", "--role", "learner",
            "--employee-number", "1001", "--phone", "+447911123456", "--pin", "246810"]  # fmt: skip
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Created learner employee no. 1001." in result.output
    with app.app_context():
        jo = db.session.scalar(sa.select(User).where(User.employee_number == "1001"))
        assert jo.password_hash is None and jo.pin_hash.startswith("$argon2id$")

    weak = runner.invoke(args=[*args[:-2], "--pin", "111111", "--employee-number", "1002"])
    assert weak.exit_code != 0 and "--pin" in weak.output


def test_reminder_jobs_pass_over_people_without_an_address(app):
    """Until a channel can reach them, nothing is queued and nothing is recorded as told."""
    from trainer.models import Notification
    from trainer.notify.once import notify_once

    with app.app_context():
        jo = create_user(db.session, name="Jo", employee_number="1001")
        db.session.commit()
        told = notify_once(
            db.session, jo, "reminder", "2026-11-29", subject="Refresher", text="Hi", html=None
        )
        assert told is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
