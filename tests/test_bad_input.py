"""Absurd numbers in URLs and query strings are "not found" or ignored, never a crash."""

from __future__ import annotations

import pytest

BIG = "9" * 30


@pytest.fixture
def demo_client(app, runner, client):
    assert runner.invoke(args=["demo"]).exit_code == 0
    return client


def sign_in(client, email):
    response = client.post("/login", data={"email": email, "password": "demo"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("email", "url"),
    [
        ("manager@example.com", f"/manage/people/{BIG}"),
        ("manager@example.com", f"/manage/people/{2**63}"),
        ("manager@example.com", f"/manage/people/4?page={BIG}"),
        ("manager@example.com", f"/manage/coaching?page={BIG}"),
        ("manager@example.com", f"/manage/?team={BIG}&page={BIG}"),
        ("manager@example.com", f"/manage/skills?team={BIG}"),
        ("manager@example.com", f"/manage/questions?page={BIG}"),
        ("manager@example.com", f"/manage/observe?person={BIG}"),
        ("manager@example.com", f"/manage/observe?person=4&checklist={BIG}"),
        ("learner@example.com", f"/coaching?page={BIG}"),
        ("learner@example.com", f"/refresher/{BIG}/1"),
        ("admin@example.com", f"/admin/outbox?page={BIG}"),
        ("admin@example.com", f"/admin/outbox/{BIG}"),
        ("admin@example.com", f"/admin/people?page={BIG}&team={BIG}&job_role={BIG}"),
        ("admin@example.com", f"/admin/teams/{BIG}"),
    ],
)
def test_huge_numbers_are_not_found_or_ignored(demo_client, email, url):
    sign_in(demo_client, email)
    assert demo_client.get(url).status_code in (200, 302, 404)


# -- Unicode digits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "url"),
    [
        ("manager@example.com", "/manage/people/²"),
        ("manager@example.com", "/manage/people/٣"),
        ("manager@example.com", "/manage/people/4?page=²"),
        ("manager@example.com", "/manage/?team=²&page=²"),
        ("manager@example.com", "/manage/skills?team=³"),
        ("manager@example.com", "/manage/questions?page=¹&days=²"),
        ("manager@example.com", "/manage/observe?person=²&checklist=²"),
        ("manager@example.com", "/manage/assign?person=²"),
        ("learner@example.com", "/coaching?page=²"),
        ("learner@example.com", "/refresher/²/1"),
        ("learner@example.com", "/lessons/teller-greeting-at-the-counter/quiz/²"),
        ("admin@example.com", "/admin/outbox?page=²"),
        ("admin@example.com", "/admin/outbox/²"),
        ("admin@example.com", "/admin/people?page=²&team=²&job_role=²"),
        ("admin@example.com", "/admin/teams/²"),
    ],
)
def test_unicode_digits_are_not_found_or_the_first_page(demo_client, email, url):
    sign_in(demo_client, email)
    assert demo_client.get(url).status_code in (200, 404)


# -- bodies too big to read --------------------------------------------------------------------


def test_a_huge_anonymous_post_is_refused_unread(client):
    body = {"email": "x@example.com", "password": "p" * (2 * 1024 * 1024)}
    response = client.post("/login", data=body)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That is more than can be sent at once" in page and "Frontline Trainer" in page


def _upload(client, content: bytes):
    """POST a file as a browser does (built here: the test client's own encoder leaves its big
    temporary files open)."""
    boundary = "----trainer-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="people.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/admin/people/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_the_csv_import_takes_up_to_5_mb_and_no_more(demo_client):
    sign_in(demo_client, "admin@example.com")
    header = "email,name,role,job_role,team,hire_date,timezone,reminder_time\n"
    row = "ann{n}@example.com,Ann {n},learner,teller,Millbrook,,Europe/London,18:00\n"
    rows = "".join(row.format(n=n) for n in range(20))
    padding = "\n" * (3 * 1024 * 1024)  # blank lines: a 3 MB file with 20 people
    response = _upload(demo_client, (header + rows + padding).encode())
    assert response.status_code == 200
    assert "ann19@example.com" in response.get_data(as_text=True)  # the preview

    response = _upload(demo_client, (header + "\n" * (6 * 1024 * 1024)).encode())
    assert response.status_code == 413


# -- NUL bytes -----------------------------------------------------------------------------------


@pytest.fixture
def any_demo(any_db_app):
    assert any_db_app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    return any_db_app


NUL_REQUESTS = [
    (None, "post", "/login", {"email": "sam\x00@example.com", "password": "demo"}),
    ("learner@example.com", "get", "/lessons/teller\x00", None),
    ("learner@example.com", "get", "/coaching?page=1\x00", None),
    (
        "learner@example.com",
        "post",
        "/lessons/teller-greeting-at-the-counter/roleplay/1",
        {"text": "Good morning\x00", "token": "a" * 32},
    ),
    (
        "learner@example.com",
        "post",
        "/lessons/teller-greeting-at-the-counter/quiz/1",
        {"choice": "0", "token": "b\x00" * 8},
    ),
    ("admin@example.com", "get", "/admin/people?q=sam\x00", None),
    ("admin@example.com", "post", "/admin/teams", {"name": "Night\x00 shift"}),
    (
        "admin@example.com",
        "post",
        "/admin/people/new",
        {"name": "Zed\x00", "email": "zed@example.com", "role": "learner"},
    ),
    ("manager@example.com", "post", "/manage/coaching/1", {"comment": "Nice\x00"}),
    ("manager@example.com", "post", "/manage/observe", {"note": "Good\x00", "person": "4"}),
]


def test_a_nul_byte_in_any_field_is_refused_with_400(any_demo):
    for email, method, url, data in NUL_REQUESTS:
        client = any_demo.test_client()
        if email:
            sign_in(client, email)
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 400, url
        assert "cannot be stored" in response.get_data(as_text=True), url
