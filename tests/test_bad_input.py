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
