"""Company sign-in with OpenID Connect, against a real certified provider (node-oidc-provider,
started by these tests; tests/oidc_support.py), over real HTTP."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import make_app
from tests.oidc_support import ACCOUNTS, CALLBACK_PATH, CLIENT_ID, TEST_CLIENT_URL, Provider
from tests.oidc_support import sign_in_at_provider as at_provider
from trainer.auth import company_accounts, oidc
from trainer.extensions import db
from trainer.models import CompanyAccount, Team, User, UserSession

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oidc")
    started = Provider(
        folder / "accounts.json", [TEST_CLIENT_URL + CALLBACK_PATH], folder / "provider.log"
    )
    yield started
    started.stop()


@pytest.fixture
def company(provider):
    """The provider, with its people as they were (a test may change someone's claims)."""
    provider.set_accounts(ACCOUNTS)
    return provider


@pytest.fixture
def company_app(tmp_path, request, company):
    """The app on SQLite with company sign-in set up, and Sam (sam@example.com) as a person."""
    yield from _company_app(tmp_path, "sqlite", request, company)


@pytest.fixture(params=["sqlite", "postgresql"])
def company_any_db_app(tmp_path, request, company):
    yield from _company_app(tmp_path, request.param, request, company)


def _company_app(tmp_path, database, request, company, **overrides):
    app = make_app(tmp_path, database, request, **company.config(**overrides))
    with app.app_context():
        db.create_all()
        from trainer.people.services import create_user

        create_user(db.session, email="sam@example.com", name="Sam Teller", password=PASSWORD)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def text(response) -> str:
    return response.get_data(as_text=True)


def start(client, path="/login/company") -> str:
    """Press "Sign in with your company account": the provider's address it sends us to."""
    response = client.get(path)
    assert response.status_code == 303, text(response)
    return response.headers["Location"]


def come_back(client, url: str):
    """The browser arriving back at the app from the provider."""
    assert url.startswith(TEST_CLIENT_URL + CALLBACK_PATH), url
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def company_sign_in(client, login: str):
    return come_back(client, at_provider(start(client), login))


def signed_in_as(client) -> str | None:
    """The email or name on Today, or None when Today sends us to sign in."""
    response = client.get("/")
    if response.status_code != 200:
        return None
    return text(response)


def person(app, **where) -> User | None:
    with app.app_context():
        column, value = next(iter(where.items()))
        user = db.session.scalar(sa.select(User).where(getattr(User, column) == value))
        if user is not None:
            db.session.expunge(user)
        return user


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- the button ----------------------------------------------------------------------------------


def test_the_button_shows_only_when_company_sign_in_is_set_up(app, company_app):
    page = text(app.test_client().get("/login"))
    assert "company account" not in page
    assert app.test_client().get("/login/company").status_code == 404
    assert app.test_client().get(CALLBACK_PATH + "?code=x&state=y").status_code == 404

    page = text(company_app.test_client().get("/login?next=/library"))
    assert "Sign in with your company account" in page
    assert 'href="/login/company?next=/library"' in page


# -- signing in ----------------------------------------------------------------------------------


def test_a_person_signs_in_with_their_company_account(company_any_db_app):
    app = company_any_db_app
    client = app.test_client()
    response = company_sign_in(client, "sam")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Sam" in signed_in_as(client)

    sam = person(app, email="sam@example.com")
    with app.app_context():
        account = db.session.scalar(sa.select(CompanyAccount))
        assert (account.user_id, account.subject) == (sam.id, "co-0001")
        assert account.issuer == app.config["OIDC_ISSUER"]
        sessions = db.session.scalars(sa.select(UserSession)).all()
        assert [s.user_id for s in sessions] == [sam.id]
    assert sam.last_seen_at is not None


def test_the_person_lands_where_they_were_going(company_app):
    client = company_app.test_client()
    url = start(client, "/login/company?next=/library")
    response = come_back(client, at_provider(url, "sam"))
    assert response.headers["Location"] == "/library"

    # Never somewhere else.
    client = company_app.test_client()
    url = start(client, "/login/company?next=https://evil.example/")
    assert come_back(client, at_provider(url, "sam")).headers["Location"] == "/"


def test_a_person_is_matched_by_the_employee_number_claim(company, tmp_path, request):
    app = next(
        _company_app(
            tmp_path,
            "sqlite",
            request,
            company,
            OIDC_MATCH_CLAIM="employee_number",
            OIDC_SCOPES="openid profile employee",
        )
    )
    with app.app_context():
        from trainer.people.services import create_user

        create_user(db.session, name="Kim Server", employee_number="E2002")
        db.session.commit()
    client = app.test_client()
    assert company_sign_in(client, "kim").status_code == 302
    assert "Kim" in signed_in_as(client)
    kim = person(app, employee_number="E2002")
    with app.app_context():
        account = db.session.scalar(sa.select(CompanyAccount))
        assert (account.user_id, account.subject) == (kim.id, "co-0002")


def test_the_account_stays_with_its_person_when_the_email_changes_at_the_company(
    company_app, company
):
    client = company_app.test_client()
    company_sign_in(client, "sam")
    client.post("/logout")

    # Sam's company address changes to one that belongs to someone else here.
    company.change_claims("sam", email="olly@example.com")
    with company_app.app_context():
        from trainer.people.services import create_user

        create_user(db.session, email="olly@example.com", name="Olly Other", password=PASSWORD)
        db.session.commit()
    assert company_sign_in(client, "sam").status_code == 302
    page = signed_in_as(client)
    assert "Sam" in page and "Olly" not in page
    client.post("/logout")

    # Sam's old address is given to a new colleague: it does not open Sam's account.
    company.set_accounts(
        ACCOUNTS
        + [
            {
                "login": "newbie",
                "password": "newbie-at-work",
                "sub": "co-0099",
                "claims": {"email": "sam@example.com", "email_verified": True, "name": "Newbie"},
            }
        ]
    )
    response = come_back(client, at_provider(start(client), "newbie", "newbie-at-work"))
    assert response.status_code == 403
    assert "This account signs in with a different company account" in text(response)
    assert signed_in_as(client) is None
    with company_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CompanyAccount)) == 1


def test_someone_not_set_up_here_is_told_so_and_no_account_is_made(company_app):
    client = company_app.test_client()
    people = count(company_app, User)
    response = company_sign_in(client, "nia")
    assert response.status_code == 403
    page = text(response)
    assert "Your account is not set up here yet" in page
    assert "nia.new@example.com" in page
    assert "Ask your manager or administrator to add you." in page
    assert signed_in_as(client) is None
    assert count(company_app, User) == people
    assert count(company_app, CompanyAccount) == 0


def test_a_company_account_without_the_matching_claim_is_told_why(company_app):
    client = company_app.test_client()
    response = company_sign_in(client, "kim")  # no email at the company; matched by email here
    assert response.status_code == 403
    assert "Your company account did not say who you are" in text(response)
    assert "by their email address" in text(response)
    assert signed_in_as(client) is None


@pytest.fixture(params=["sqlite", "postgresql"])
def creating_app(tmp_path, request, company):
    """Company sign-in that creates new people on the Copper Pot team, matched by employee
    number."""
    yield from _company_app(
        tmp_path,
        request.param,
        request,
        company,
        OIDC_CREATE_USERS=True,
        OIDC_DEFAULT_TEAM="Copper Pot",
        OIDC_MATCH_CLAIM="employee_number",
        OIDC_SCOPES="openid email profile employee",
    )


def test_new_people_are_created_on_the_default_team(creating_app):
    client = creating_app.test_client()
    response = company_sign_in(client, "nia")
    assert response.status_code == 302
    assert "Nia" in signed_in_as(client)
    nia = person(creating_app, employee_number="E3003")
    assert (nia.name, nia.email, nia.role) == ("Nia Newhire", "nia.new@example.com", "learner")
    assert nia.password_hash is None
    with creating_app.app_context():
        assert db.session.get(Team, nia.team_id).name == "Copper Pot"

    # Kim has no company email: the employee number is enough.
    other = creating_app.test_client()
    assert company_sign_in(other, "kim").status_code == 302
    kim = person(creating_app, employee_number="E2002")
    assert (kim.name, kim.email, kim.team_id) == ("Kim Server", None, nia.team_id)

    # Next time Nia is found, not made again.
    client.post("/logout")
    people = count(creating_app, User)
    assert company_sign_in(client, "nia").status_code == 302
    assert count(creating_app, User) == people


def test_the_same_new_person_signing_in_twice_at_once_is_made_once(creating_app):
    with creating_app.app_context():
        settings = oidc.settings()
        issuer = creating_app.config["OIDC_ISSUER"]
    identity = oidc.Identity(issuer, "co-0003", {"employee_number": "E3003", "name": "Nia N"})
    barrier = threading.Barrier(2)
    found, errors = [], []

    def sign_in():
        try:
            with creating_app.app_context():
                barrier.wait()
                found.append(company_accounts.person_for(db.session, settings, identity).id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(found) == 2 and found[0] == found[1]
    assert count(creating_app, CompanyAccount) == 1
    with creating_app.app_context():
        made = sa.select(sa.func.count()).where(User.employee_number == "E3003")
        assert db.session.scalar(made) == 1


def test_a_deactivated_person_cannot_sign_in_this_way(company_app):
    client = company_app.test_client()
    company_sign_in(client, "sam")
    client.post("/logout")
    with company_app.app_context():
        sam = db.session.scalar(sa.select(User).where(User.email == "sam@example.com"))
        sam.active = False
        db.session.commit()
    sessions = count(company_app, UserSession)

    response = company_sign_in(client, "sam")
    assert response.status_code == 403
    assert "Your account here is switched off" in text(response)
    assert signed_in_as(client) is None
    assert count(company_app, UserSession) == sessions


def test_a_deactivated_person_is_not_linked_on_first_sign_in_either(company_app):
    with company_app.app_context():
        sam = db.session.scalar(sa.select(User).where(User.email == "sam@example.com"))
        sam.active = False
        db.session.commit()
    response = company_sign_in(company_app.test_client(), "sam")
    assert response.status_code == 403
    assert "switched off" in text(response)
    assert count(company_app, CompanyAccount) == 0


def test_an_unconfirmed_company_email_is_not_trusted(company_app):
    with company_app.app_context():
        from trainer.people.services import create_user

        create_user(db.session, email="una@example.com", name="Una Verified", password=PASSWORD)
        db.session.commit()
    client = company_app.test_client()
    response = company_sign_in(client, "una")
    assert response.status_code == 403
    assert "Your company email address is not confirmed yet" in text(response)
    assert signed_in_as(client) is None


# -- the protocol's checks -----------------------------------------------------------------------


def test_cancelling_at_the_provider_says_so(company_app):
    client = company_app.test_client()
    response = come_back(client, at_provider(start(client), "sam", cancel=True))
    assert response.status_code == 403
    page = text(response)
    assert "Company sign-in was cancelled" in page
    assert 'href="/login"' in page
    assert signed_in_as(client) is None


def test_a_tampered_or_foreign_state_is_refused(company_app):
    client = company_app.test_client()
    callback = at_provider(start(client), "sam")

    response = come_back(client, with_query(callback, state="forged-state"))
    assert response.status_code == 400
    assert "This sign-in does not belong to this browser" in text(response)
    assert signed_in_as(client) is None

    # Someone else's answer, sent to another browser (forcing a sign-in on a victim): refused.
    victim = company_app.test_client()
    response = come_back(victim, callback)
    assert response.status_code == 400
    assert "does not belong to this browser" in text(response)
    assert signed_in_as(victim) is None


def test_an_answer_naming_another_issuer_is_refused(company_app):
    client = company_app.test_client()
    callback = at_provider(start(client), "sam")
    response = come_back(client, with_query(callback, iss="https://impostor.example"))
    assert response.status_code == 400
    assert "sent an answer we cannot trust" in text(response)
    assert signed_in_as(client) is None

    # This provider always names itself (RFC 9207), so an answer without its name is refused.
    client = company_app.test_client()
    callback = at_provider(start(client), "sam")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "iss"}
    response = come_back(client, urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status_code == 400
    assert "sent an answer we cannot trust" in text(response)
    assert signed_in_as(client) is None


def test_a_callback_works_once(company_app):
    client = company_app.test_client()
    url = start(client)
    cookie = client.get_cookie(company_app.config["SESSION_COOKIE_NAME"]).value
    callback = at_provider(url, "sam")
    assert come_back(client, callback).status_code == 302
    client.post("/logout")

    # The same link again in the same browser: that sign-in is used up.
    response = come_back(client, callback)
    assert response.status_code == 400
    assert "does not belong to this browser" in text(response)
    assert signed_in_as(client) is None

    # Replayed with a copy of the browser's cookie as it was: the provider refuses the code.
    replay = company_app.test_client()
    replay.set_cookie(company_app.config["SESSION_COOKIE_NAME"], cookie)
    response = come_back(replay, callback)
    assert response.status_code == 400
    assert "This sign-in link was used already" in text(response)
    assert signed_in_as(replay) is None


def test_a_sign_in_left_too_long_is_refused(company_app):
    client = company_app.test_client()
    url = start(client)
    with client.session_transaction() as session:
        late = (oidc.PENDING_MINUTES + 1) * 60
        session[oidc.SESSION_KEY] = [
            {**pending, "started": pending["started"] - late}
            for pending in session[oidc.SESSION_KEY]
        ]
    response = come_back(client, at_provider(url, "sam"))
    assert response.status_code == 400
    assert "This sign-in took too long" in text(response)
    assert signed_in_as(client) is None


def test_pkce_is_used_and_the_provider_insists_on_it(company_app):
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    client = company_app.test_client()
    url = start(client)
    query = parse_qs(urlsplit(url).query)
    with client.session_transaction() as session:
        verifier = session[oidc.SESSION_KEY][-1]["verifier"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [create_s256_code_challenge(verifier)]
    assert verifier not in url

    # Without a code challenge the provider refuses, and the person is told plainly.
    parts = urlsplit(url)
    bare = {k: v[0] for k, v in query.items() if not k.startswith("code_challenge")}
    answer = requests.get(
        urlunsplit(parts._replace(query=urlencode(bare))), allow_redirects=False, timeout=10
    )
    callback = answer.headers["Location"]
    assert "error=invalid_request" in callback
    response = come_back(client, callback)
    assert response.status_code == 400
    assert "did not sign you in" in text(response)
    assert "PKCE" in text(response)

    # A code stolen from someone else's sign-in is useless here: it was made for their verifier.
    thief = company_app.test_client()
    theirs = at_provider(start(company_app.test_client()), "sam")
    mine = at_provider(start(thief), "nia")
    stolen = with_query(mine, code=parse_qs(urlsplit(theirs).query)["code"][0])
    response = come_back(thief, stolen)
    assert response.status_code == 400
    assert "This sign-in link was used already" in text(response)
    assert signed_in_as(thief) is None


def test_id_tokens_are_checked(company_app):
    redirect_uri = TEST_CLIENT_URL + CALLBACK_PATH

    def real_tokens(settings):
        url, pending = oidc.begin(settings, redirect_uri, None)
        code = parse_qs(urlsplit(at_provider(url, "sam")).query)["code"][0]
        return oidc.exchange(settings, redirect_uri, code, pending["verifier"]), pending["nonce"]

    with company_app.app_context():
        settings = oidc.settings()
        token, nonce = real_tokens(settings)
        claims = oidc.verify_id_token(settings, token["id_token"], nonce, token)
        assert claims["sub"] == "co-0001"
        assert claims["aud"] == CLIENT_ID

        def refused(id_token, nonce=nonce, **kwargs):
            with pytest.raises(oidc.CompanySignInError) as caught:
                oidc.verify_id_token(settings, id_token, nonce, token, **kwargs)
            assert caught.value.status == 400
            return str(caught.value)

        # Replayed into another sign-in: its nonce is not that sign-in's.
        assert "nonce" in refused(token["id_token"], nonce="another-sign-ins-nonce")
        # Too late.
        assert "exp" in refused(token["id_token"], now=int(time.time()) + 2 * 3600)
        # Changed on the way: the signature no longer matches.
        header, payload, signature = token["id_token"].split(".")
        forged = jwt.decode(token["id_token"], oidc._keys(settings)).claims
        forged["sub"] = "co-0002"
        fake_payload = jwt.encode({"alg": "RS256"}, forged, RSAKey.generate_key(2048)).split(".")
        assert refused(f"{header}.{fake_payload[1]}.{signature}")
        # Signed by someone else's key under the provider's key id.
        kid = jwt.decode(token["id_token"], oidc._keys(settings)).header["kid"]
        assert refused(jwt.encode({"alg": "RS256", "kid": kid}, forged, RSAKey.generate_key(2048)))
        # Unsigned.
        unsigned = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        assert refused(f"{unsigned}.{fake_payload[1]}.")

        # Made by the same provider for another application of the company.
        other = oidc.Settings(**{**settings.__dict__, "client_id": f"{CLIENT_ID}-other"})
        other_token, other_nonce = real_tokens(other)
        assert "aud" in refused(other_token["id_token"], nonce=other_nonce)


# -- a provider that is down, or not who it says -------------------------------------------------


def test_an_unreachable_provider_gives_a_clear_page(company, tmp_path, request):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    silent = socket.socket()  # takes connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        for issuer in (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{silent.getsockname()[1]}"):
            app = make_app(
                tmp_path,
                "sqlite",
                request,
                **company.config(OIDC_ISSUER=issuer, OIDC_TIMEOUT_SECONDS=0.5),
            )
            response = app.test_client().get("/login/company")
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "60"
            assert "We cannot reach your company" in text(response)
            assert "sign in with your password" in text(response)
    finally:
        silent.close()


def test_a_provider_that_stops_answering_halfway_gives_a_clear_page(company, tmp_path, request):
    """Discovery answers, then the token endpoint takes the connection and never replies."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)

    class Discovery(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            issuer = f"http://127.0.0.1:{self.server.server_port}"
            body = json.dumps(
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/auth",
                    "token_endpoint": f"http://127.0.0.1:{silent.getsockname()[1]}/token",
                    "jwks_uri": f"{issuer}/jwks",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        issuer = f"http://127.0.0.1:{server.server_port}"
        app = make_app(
            tmp_path,
            "sqlite",
            request,
            **company.config(OIDC_ISSUER=issuer, OIDC_TIMEOUT_SECONDS=0.5),
        )
        client = app.test_client()
        url = start(client)
        assert url.startswith(f"{issuer}/auth?")
        state = parse_qs(urlsplit(url).query)["state"][0]
        response = client.get(f"{CALLBACK_PATH}?code=a-code&state={state}")
        assert response.status_code == 503
        assert "We cannot reach your company" in text(response)
        assert signed_in_as(client) is None
    finally:
        server.shutdown()
        server.server_close()
        silent.close()


def test_a_provider_that_names_another_issuer_is_not_trusted(company, tmp_path, request):
    other_name = company.issuer.replace("127.0.0.1", "localhost")
    app = make_app(tmp_path, "sqlite", request, **company.config(OIDC_ISSUER=other_name))
    response = app.test_client().get("/login/company")
    assert response.status_code == 400
    assert "sent an answer we cannot trust" in text(response)


# -- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"OIDC_ISSUER": "https://id.example.com"}, "OIDC_CLIENT_ID"),
        ({"OIDC_ISSUER": "http://id.example.com", "OIDC_CLIENT_ID": "x"}, "https://"),
        (
            {
                "OIDC_ISSUER": "https://id.example.com",
                "OIDC_CLIENT_ID": "x",
                "OIDC_CREATE_USERS": 1,
            },
            "OIDC_DEFAULT_TEAM",
        ),
    ],
)
def test_company_sign_in_half_set_up_stops_the_app_at_start(tmp_path, request, settings, message):
    with pytest.raises(RuntimeError, match=message):
        make_app(tmp_path, "sqlite", request, **settings)


def test_production_never_allows_a_provider_on_plain_http():
    from trainer import create_app

    with pytest.raises(RuntimeError, match="OIDC_ALLOW_HTTP"):
        create_app("production", {"SECRET_KEY": "x" * 40, "OIDC_ALLOW_HTTP": True})
