"""Static files: content-hashed names, cached for a year, compressed, a favicon, small pages."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from trainer import ROOT
from trainer.assets import IMMUTABLE, Assets

STATIC = ROOT / "static"
LINKED = re.compile(r'<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src)="([^"]+)"')
LESSON = "teller-greeting-at-the-counter"


def _linked(page: str) -> list[str]:
    return LINKED.findall(page)


def test_pages_link_static_files_by_a_name_that_changes_with_their_content(client):
    page = client.get("/login").get_data(as_text=True)
    style = next(url for url in _linked(page) if "style" in url)
    assert re.fullmatch(r"/static/style\.[0-9a-f]{10}\.css", style)

    response = client.get(style)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.data == (STATIC / "style.css").read_bytes()
    assert response.mimetype == "text/css"
    assert response.headers["ETag"]
    # The browser asking again with what it has gets "not modified", no body.
    again = client.get(style, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_a_hash_follows_the_file(tmp_path):
    (tmp_path / "app.js").write_text("console.log(1);\n")
    assets = Assets(tmp_path, watch=True)
    first = assets.url_name("app.js")
    assert re.fullmatch(r"app\.[0-9a-f]{10}\.js", first)
    assert assets.url_name("app.js") == first
    (tmp_path / "app.js").write_text("console.log(2);\n")
    second = assets.url_name("app.js")
    assert second != first and second.startswith("app.")
    assert assets.url_name("missing.js") == "missing.js"


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip, deflate", "gzip", gzip.decompress),
        ("identity", None, lambda data: data),
    ],
)
def test_static_files_are_sent_compressed_as_the_browser_accepts(client, accept, encoding, decode):
    url = next(u for u in _linked(client.get("/login").get_data(as_text=True)) if "style" in u)
    response = client.get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert decode(response.data) == (STATIC / "style.css").read_bytes()
    if encoding:
        assert len(response.data) < len((STATIC / "style.css").read_bytes()) / 3
    # A cache keeps each encoding apart.
    assert response.headers["ETag"].endswith(f'-{encoding or "identity"}"')


def test_plain_and_outdated_names_still_work_but_are_revalidated(client):
    plain = client.get("/static/service-worker.js")
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "public, no-cache"
    outdated = client.get("/static/style.0123456789.css")
    assert outdated.status_code == 200
    assert "immutable" not in outdated.headers["Cache-Control"]
    assert outdated.data == (STATIC / "style.css").read_bytes()
    for missing in (
        "/static/nothing.css",
        "/static/nothing.0123456789.css",
        "/static/../config.py",
        "/static/%2e%2e/config.py",
        "/static/icons/../../config.py",
    ):
        assert client.get(missing).status_code == 404, missing


def test_the_favicon_is_there_and_linked(client):
    from PIL import Image

    from tools import make_icons

    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.data == make_icons.FAVICON.read_bytes()
    with Image.open(make_icons.FAVICON) as icon:
        assert sorted(icon.info["sizes"]) == make_icons.FAVICON_SIZES
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico" sizes="48x48">' in page


def test_signed_in_static_files_stay_cacheable(app, make_user, auth, client):
    make_user()
    auth.login()
    url = next(u for u in _linked(client.get("/").get_data(as_text=True)) if "style" in u)
    assert client.get(url).headers["Cache-Control"] == IMMUTABLE


def _weight(client, url: str) -> int:
    """What a browser downloads for a page: the page, then its scripts and stylesheets, each
    compressed when the server offers it."""
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    page = client.get(url, headers=headers)
    assert page.status_code == 200, url
    total = len(page.data)
    for linked in _linked(page.get_data(as_text=True)):
        response = client.get(linked, headers=headers)
        assert response.status_code == 200, linked
        total += len(response.data)
    return total


def test_a_page_with_its_script_stays_under_30_kb(library_app, make_user, auth, client):
    make_user(job_role="teller")
    auth.login()
    pages = [
        "/",
        f"/lessons/{LESSON}",
        f"/lessons/{LESSON}/quiz/1",
        f"/lessons/{LESSON}/conversation",
    ]
    with_script = 0
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        with_script += any(link.endswith(".js") for link in _linked(page))
        assert _weight(client, url) < 30 * 1024, url
    assert with_script, "none of these pages has a script"
