"""Sign-in throttling: a stranger slows guessing down but never locks the owner out; the counts
hold under concurrent guesses (both databases, a real threaded server)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from trainer.auth.services import BAD_CREDENTIALS
from trainer.extensions import db
from trainer.models import SignInCounter

PASSWORD = "correct horse"
TOO_MANY = "Too many failed sign-ins"


def login(client, email="sam@example.com", password=PASSWORD, address="10.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def make_sam(app, password=PASSWORD) -> int:
    from trainer.people.services import create_user

    with app.app_context():
        user = create_user(db.session, email="sam@example.com", name="Sam", password=password)
        db.session.commit()
        return user.id


def age_counters(app, seconds: int, key_prefix: str = "") -> None:
    """Move counting windows (and any account delay) back in time, as if `seconds` passed."""
    with app.app_context():
        for counter in db.session.scalars(sa.select(SignInCounter)):
            if counter.key.startswith(key_prefix):
                counter.window_start -= timedelta(seconds=seconds)
                if counter.next_check_at:
                    counter.next_check_at -= timedelta(seconds=seconds)
        db.session.commit()


def end_delay(app) -> None:
    with app.app_context():
        db.session.execute(sa.update(SignInCounter).values(next_check_at=None))
        db.session.commit()


# -- a stranger cannot lock anyone out -------------------------------------------------------


def test_wrong_guesses_from_one_address_do_not_lock_out_the_owner_elsewhere(any_db_app):
    make_sam(any_db_app)
    stranger, owner = any_db_app.test_client(), any_db_app.test_client()
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    for _ in range(limit):
        response = login(stranger, password="wrong guess", address="203.0.113.5")
        assert response.status_code == 401 and BAD_CREDENTIALS in text(response)

    refused = login(stranger, address="203.0.113.5")  # even the right password, from there
    assert refused.status_code == 429
    assert TOO_MANY in text(refused) and "Wait 15 minutes" in text(refused)
    assert 890 <= int(refused.headers["Retry-After"]) <= 900  # the rest of the window

    response = login(owner, address="198.51.100.20")  # the owner, anywhere else
    assert response.status_code == 302
    assert owner.get("/").status_code == 200


def test_an_admin_is_never_locked_out_by_guesses_from_many_addresses(any_db_app):
    """Past the daily cap no stranger's guess is checked, but the owner's own browser and the
    addresses the account signed in from before still sign in."""
    any_db_app.config["LOGIN_CHECKS_BEFORE_DELAY"] = 1_000  # the delay has its own test
    make_sam(any_db_app)
    phone = any_db_app.test_client()
    assert login(phone, address="192.0.2.1").status_code == 302  # home, last week
    phone.post("/logout")

    stranger = any_db_app.test_client()
    cap = any_db_app.config["LOGIN_MAX_CHECKS_PER_ACCOUNT_PER_DAY"]
    per_address = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    checked = 0
    for n in range(cap // per_address + 2):
        for _ in range(per_address):
            status = login(stranger, password="wrong guess", address=f"10.9.{n}.1").status_code
            checked += status == 401
    assert checked == cap

    refused = login(stranger, address="10.99.0.1")  # the right password, but a stranger's
    assert refused.status_code == 429
    assert "too many wrong passwords today" in text(refused)

    assert login(phone, address="198.51.100.77").status_code == 302  # her phone, on the road
    laptop = any_db_app.test_client()
    assert login(laptop, address="192.0.2.1").status_code == 302  # a new browser at home


def test_guesses_at_one_account_slow_down_with_a_growing_delay(any_db_app):
    any_db_app.config["LOGIN_CHECKS_BEFORE_DELAY"] = 3
    make_sam(any_db_app)
    stranger = any_db_app.test_client()
    for n in range(3):  # the first few cost nothing
        assert login(stranger, password="wrong", address=f"10.1.{n}.1").status_code == 401
    waits = []
    for n in range(3):  # each further one doubles the wait: 2, 4, 8 seconds
        assert login(stranger, password="wrong", address=f"10.1.{n}.2").status_code == 401
        slowed = login(stranger, password="wrong", address=f"10.1.{n}.3")
        assert slowed.status_code == 429
        assert "each try must wait a little" in text(slowed)
        waits.append(int(slowed.headers["Retry-After"]))
        age_counters(any_db_app, 2 ** (n + 1), "account:")  # as if the wait had passed
    # A second or two may pass between a failure and the next try on a busy machine.
    assert [wait in (2**n - 1, 2**n) for n, wait in zip((1, 2, 3), waits, strict=True)] == [
        True,
        True,
        True,
    ], waits


def test_many_wrong_emails_from_one_address_make_that_address_wait(any_db_app):
    make_sam(any_db_app)
    # Each unknown email costs a full Argon2 check against the dummy hash: keep it small.
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    attacker = any_db_app.test_client()
    for n in range(limit):
        response = login(attacker, email=f"guess{n}@example.com", address="192.0.2.7")
        assert response.status_code == 401

    refused = login(attacker, address="192.0.2.7")
    assert refused.status_code == 429
    assert "Too many failed sign-ins from this network" in text(refused)
    assert login(any_db_app.test_client(), address="198.51.100.3").status_code == 302


def test_a_lockout_ends_with_its_window_however_often_the_stranger_retries(any_db_app):
    make_sam(any_db_app)
    client = any_db_app.test_client()
    window = any_db_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    for _ in range(5):
        login(client, password="wrong guess")
    age_counters(any_db_app, window - 90)
    for _ in range(10):  # still hammering, minutes later
        assert login(client, password="wrong guess").status_code == 429
    refused = login(client)
    assert refused.status_code == 429 and "Wait 2 minutes" in text(refused)

    age_counters(any_db_app, 91)
    assert login(client).status_code == 302


def test_a_success_forgets_the_failures_of_that_address(any_db_app):
    make_sam(any_db_app)
    client = any_db_app.test_client()
    for _ in range(4):
        assert login(client, password="typo typo").status_code == 401
    assert login(client).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert login(client, password="typo typo").status_code == 401
    assert login(client).status_code == 302  # 8 failures in the window, but never 5 in a row


def test_the_email_written_differently_counts_as_the_same_account(any_db_app):
    make_sam(any_db_app)
    client = any_db_app.test_client()
    for _ in range(5):
        login(client, email="SAM@example.com", password="wrong guess")
    assert login(client, email=" sam@EXAMPLE.com ").status_code == 429


# -- the counts hold under concurrent guesses -----------------------------------------------


class Server:
    """The app on a real threaded HTTP server."""

    def __init__(self, app):
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(self.url + path, body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def server(any_db_app):
    live = Server(any_db_app)
    yield live
    live.stop()


def _at_once(count: int, send) -> list[int]:
    barrier = threading.Barrier(count)

    def one(n: int) -> int:
        barrier.wait()
        return send(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_forty_guesses_at_once_check_at_most_five_passwords(any_db_app, server):
    make_sam(any_db_app)
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    statuses = _at_once(
        40, lambda n: server.post("/login", {"email": "sam@example.com", "password": f"x{n}"})
    )
    assert statuses.count(401) <= limit  # a 401 is a checked, wrong password
    assert statuses.count(401) + statuses.count(429) == 40


def test_forty_emails_at_once_from_one_address_check_at_most_its_limit(any_db_app, server):
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    statuses = _at_once(
        40, lambda n: server.post("/login", {"email": f"guess{n}@example.com", "password": "x"})
    )
    assert statuses.count(401) <= limit
    assert statuses.count(401) + statuses.count(429) == 40
