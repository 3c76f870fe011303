"""Forgot password: a one-time link by real mail (aiosmtpd), the same answer for any address,
and a limit on how often it can be asked."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.test_mail import deliver, smtp, smtp_port, use_server  # noqa: F401, F811 (fixtures)
from trainer.extensions import db
from trainer.models import OutboxMessage
from trainer.models import utcnow as now

SAM = "sam@example.com"
ANSWER = "a link to choose a new password is on its way"


def ask(client, email: str):
    assert client.get("/password/forgot").status_code == 200
    return client.post("/password/forgot", data={"email": email})


def queued(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "password-reset")
        )


def test_sign_in_offers_forgot_password(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot">Forgot password?</a>' in page


def test_a_reset_link_by_mail_sets_a_new_password_once(app, client, make_user, smtp):  # noqa: F811
    make_user(SAM, password="correct horse")
    use_server(app, smtp)
    response = ask(client, SAM)
    assert response.status_code == 200
    assert ANSWER in response.get_data(as_text=True)

    with app.app_context():
        report = deliver(app, now=now())
    assert report.sent == 1
    (mail,) = smtp.handler.messages()
    assert mail["To"] == SAM
    assert mail["Subject"] == "Reset your Frontline Trainer password"
    body = mail.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/password/reset/([A-Za-z0-9_\-]+)", body)
    assert link, body
    url = f"/password/reset/{link[1]}"
    # The outbox keeps no working copy of the link once it is sent.
    with app.app_context():
        kept = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "password-reset")
        )
        assert link[1] not in kept.text

    page = client.get(url).get_data(as_text=True)
    assert "Choose a new password" in page
    weak = client.post(url, data={"new": "short", "confirm": "short"})
    assert weak.status_code == 400
    new = "a brand new long phrase"
    done = client.post(url, data={"new": new, "confirm": new})
    assert done.status_code == 303 and done.location.endswith("/")
    assert "Hello, Sam" in client.get("/").get_data(as_text=True)

    client.post("/logout")
    assert client.get(url).status_code == 404  # once only
    old = client.post("/login", data={"email": SAM, "password": "correct horse"})
    assert old.status_code == 401
    assert client.post("/login", data={"email": SAM, "password": new}).status_code == 302


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, client, make_user):
    make_user(SAM)
    known = ask(client, SAM).get_data(as_text=True)
    unknown = ask(client, "nobody@example.com").get_data(as_text=True)
    assert ANSWER in known and ANSWER in unknown
    assert known.replace(SAM, "X") == unknown.replace("nobody@example.com", "X")
    assert queued(app) == 1


def test_asking_again_and_again_is_throttled(app, client, make_user):
    make_user(SAM)
    for _ in range(6):
        assert ask(client, SAM).status_code == 200
    assert queued(app) == 3  # a few links an hour to one address, never a flood
    for n in range(4):
        ask(client, f"someone{n}@example.com")
    refused = ask(client, SAM)  # the eleventh request from this client in the hour
    assert refused.status_code == 429
    assert "Wait" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"]


def test_an_empty_address_gets_a_field_error(app, client):
    response = client.post("/password/forgot", data={"email": " "})
    assert response.status_code == 400
    assert "Write the email you sign in with." in response.get_data(as_text=True)
