"""Company sign-in with OpenID Connect: the company's own identity provider says who signed in.

The authorization code flow with PKCE (S256), a one-time state and nonce, and the ID token's
signature checked against the provider's published keys (JWKS, from discovery), as well as its
issuer, audience and expiry. Authlib builds the requests. Each step (off to the provider, back
from it) gives up on the provider after OIDC_TIMEOUT_SECONDS in all, so a provider that does not
answer gives a 503 page, never a worker held until the WSGI server kills it.

Who that is here is `company_accounts.person_for`'s business. Every refusal is a
`CompanySignInError`, which the view shows as a plain page; the view ends with `signin.finish`
like every other way of signing in.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask import current_app
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from trainer.languages import gettext as _

PENDING_MINUTES = 10  # a sign-in started at the provider must come back within this
PENDING_MAX = 3  # sign-ins started in other tabs of the same browser that are still allowed
METADATA_SECONDS = 3600  # how long discovery is trusted before it is read again
LEEWAY_SECONDS = 60  # clocks differ a little between the provider and here
# Signatures only a holder of the provider's private key can make: never "none", never a
# secret shared with clients.
SIGNING_ALGORITHMS = frozenset(
    ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
)
SESSION_KEY = "company_sign_in"


class CompanySignInError(Exception):
    """Company sign-in refused; `title` and `detail` are for the person, `status` for HTTP."""

    def __init__(self, title: str, detail: str, status: int = 403, reason: str = ""):
        super().__init__(reason or title)
        self.title = title
        self.detail = detail
        self.status = status


def unreachable(reason: str) -> CompanySignInError:
    return CompanySignInError(
        _("We cannot reach your company's sign-in service just now"),
        _("Try again in a minute, or sign in with your password."),
        503,
        reason,
    )


def untrusted(reason: str) -> CompanySignInError:
    return CompanySignInError(
        _("Your company's sign-in service sent an answer we cannot trust"),
        _("So you are not signed in. Try again; if it keeps happening, tell your administrator."),
        400,
        reason,
    )


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    match_claim: str
    create_users: bool
    default_team: str | None
    timeout: float
    allow_http: bool
    deadline: float | None = None  # time.monotonic() by which this step must be done

    def one_step(self) -> Settings:
        """These settings, with OIDC_TIMEOUT_SECONDS for everything this step asks the provider."""
        return replace(self, deadline=time.monotonic() + self.timeout)

    def seconds_left(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise unreachable("out of time")
        return left

    @classmethod
    def from_config(cls, config) -> Settings | None:
        """The settings, or None when company sign-in is not set up."""
        if not (config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID")):
            return None
        return cls(
            issuer=config["OIDC_ISSUER"],
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config.get("OIDC_CLIENT_SECRET") or None,
            scopes=config.get("OIDC_SCOPES") or "openid email profile",
            match_claim=(config.get("OIDC_MATCH_CLAIM") or "email").strip(),
            create_users=bool(config.get("OIDC_CREATE_USERS")),
            default_team=config.get("OIDC_DEFAULT_TEAM") or None,
            timeout=float(config.get("OIDC_TIMEOUT_SECONDS") or 5),
            allow_http=bool(config.get("OIDC_ALLOW_HTTP")),
        )

    @property
    def matches_email(self) -> bool:
        return self.match_claim == "email"


def settings() -> Settings | None:
    """This app's company sign-in settings, or None when it is not offered."""
    return Settings.from_config(current_app.config)


def check_config(config) -> None:
    """Refuse to start with company sign-in half set up, rather than fail at someone's sign-in."""
    if not config.get("OIDC_ISSUER"):
        return
    if not config.get("OIDC_CLIENT_ID"):
        raise RuntimeError("OIDC_ISSUER is set but OIDC_CLIENT_ID is not: set both, or neither.")
    scheme = urlsplit(config["OIDC_ISSUER"]).scheme
    if scheme != "https" and not (scheme == "http" and config.get("OIDC_ALLOW_HTTP")):
        raise RuntimeError(
            f"OIDC_ISSUER must be an https:// address (it is {config['OIDC_ISSUER']!r})."
        )
    if config.get("OIDC_CREATE_USERS") and not config.get("OIDC_DEFAULT_TEAM"):
        raise RuntimeError("OIDC_CREATE_USERS needs OIDC_DEFAULT_TEAM: the team new people join.")
    if "openid" not in (config.get("OIDC_SCOPES") or "openid").split():
        raise RuntimeError("OIDC_SCOPES must include openid.")


# -- the provider ------------------------------------------------------------------------------


def _client(settings: Settings, redirect_uri: str | None = None, token=None) -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scope=settings.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token=token,
        default_timeout=settings.seconds_left(),
    )


def _get_json(settings: Settings, url: str, what: str, token=None) -> dict:
    if urlsplit(url).scheme != "https" and not settings.allow_http:
        raise unreachable(f"{what} at {url} is not https")
    try:
        with _client(settings, token=token) as client:
            response = client.get(url, withhold_token=token is None)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as error:
        raise unreachable(f"{what} at {url}: {error}") from None
    if not isinstance(data, dict):
        raise unreachable(f"{what} at {url} is not a JSON object")
    return data


def _cache() -> dict:
    return current_app.extensions.setdefault("company_sign_in", {})


def metadata(settings: Settings) -> dict:
    """The provider's discovery document (cached for an hour), which must name the configured
    issuer exactly, as OpenID Connect Discovery requires."""
    cached = _cache().get(settings.issuer)
    if cached and time.monotonic() - cached["loaded"] < METADATA_SECONDS:
        return cached["metadata"]
    url = settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
    data = _get_json(settings, url, "discovery")
    if data.get("issuer") != settings.issuer:
        raise untrusted(f"discovery names issuer {data.get('issuer')!r}, not {settings.issuer!r}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(data.get(key), str):
            raise untrusted(f"discovery has no {key}")
    _cache()[settings.issuer] = {"metadata": data, "loaded": time.monotonic(), "keys": None}
    return data


def _keys(settings: Settings, refresh: bool = False) -> KeySet:
    entry = _cache()[settings.issuer]
    if entry["keys"] is None or refresh:
        document = _get_json(settings, entry["metadata"]["jwks_uri"], "keys")
        try:
            entry["keys"] = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise untrusted(f"the provider's keys cannot be read: {error}") from None
    return entry["keys"]


# -- the flow ----------------------------------------------------------------------------------


@dataclass
class Identity:
    """Who the provider says signed in: its subject and the claims it released."""

    issuer: str
    subject: str
    claims: dict


def begin(settings: Settings, redirect_uri: str, next_path: str | None) -> tuple[str, dict]:
    """Where to send the person (the provider's authorization URL), and what this browser must
    keep until they come back: the state, nonce and PKCE verifier, never sent anywhere else."""
    settings = settings.one_step()
    endpoint = metadata(settings)["authorization_endpoint"]
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    with _client(settings, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            endpoint, state=state, nonce=nonce, code_verifier=verifier
        )
    pending = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_path or "",
        "started": time.time(),
    }
    return url, pending


def remember_pending(store: dict, pending: dict) -> None:
    """Keep a started sign-in in this browser's session, with at most a few others."""
    kept = [p for p in store.get(SESSION_KEY, []) if isinstance(p, dict)]
    store[SESSION_KEY] = (kept + [pending])[-PENDING_MAX:]


def take_pending(store: dict, state: str | None) -> dict | None:
    """The sign-in this browser started with `state`, removed so it can be used once only."""
    kept = [p for p in store.get(SESSION_KEY, []) if isinstance(p, dict)]
    found = None
    for pending in kept:
        if state and hmac.compare_digest(str(pending.get("state", "")), state):
            found = pending
    if found is not None:
        kept.remove(found)
        store[SESSION_KEY] = kept
    return found


def _provider_said_no(error: str, description: str | None) -> CompanySignInError:
    if error == "access_denied":
        return CompanySignInError(
            _("Company sign-in was cancelled"),
            _(
                "You did not finish signing in with your company account. You can try again, or "
                "sign in with your password."
            ),
            403,
            f"access_denied: {description}",
        )
    said = (description or error)[:200]
    return CompanySignInError(
        _("Your company's sign-in service did not sign you in"),
        _(
            "It said: “%(said)s”. Try again; if it keeps happening, tell your administrator.",
            said=said,
        ),
        400,
        f"{error}: {description}",
    )


def complete(settings: Settings, redirect_uri: str, pending: dict | None, args) -> Identity:
    """Check the provider's answer (`args`, the callback's query) against the sign-in this
    browser started (`pending`), exchange the code with the PKCE verifier, and return who signed
    in: the ID token's signature, issuer, audience, expiry and nonce all checked."""
    settings = settings.one_step()
    if args.get("error"):
        raise _provider_said_no(str(args["error"]), args.get("error_description"))
    if pending is None:
        raise CompanySignInError(
            _("This sign-in does not belong to this browser"),
            _(
                "The answer from your company's sign-in service does not match a sign-in "
                "started here, or it was used already. Go back to the sign-in page and start "
                "again."
            ),
            400,
            "state does not match",
        )
    if time.time() - float(pending.get("started", 0)) > PENDING_MINUTES * 60:
        raise CompanySignInError(
            _("This sign-in took too long"),
            _(
                "A company sign-in must be finished within %(minutes)d minutes. Go back to the "
                "sign-in page and start again.",
                minutes=PENDING_MINUTES,
            ),
            400,
            "expired",
        )
    meta = metadata(settings)
    # RFC 9207: the provider names itself in its answer, so an answer from another provider
    # cannot be passed off as this one's.
    named = args.get("iss")
    if named is None and meta.get("authorization_response_iss_parameter_supported"):
        raise untrusted("callback without iss")
    if named is not None and named != meta["issuer"]:
        raise untrusted(f"callback from issuer {named!r}")
    code = args.get("code")
    if not code:
        raise untrusted("no code in the callback")
    token = exchange(settings, redirect_uri, code, pending["verifier"])
    claims = verify_id_token(settings, token.get("id_token"), pending["nonce"], token)
    subject = claims["sub"]
    userinfo = meta.get("userinfo_endpoint")
    if userinfo and token.get("access_token"):
        # Many providers keep profile claims out of the ID token; they come from userinfo, which
        # must be about the same subject (OpenID Connect Core 5.3.2).
        extra = _get_json(settings, userinfo, "userinfo", token={**token})
        if extra.get("sub") != subject:
            raise untrusted("userinfo is about another subject")
        claims = {**extra, **claims}
    return Identity(issuer=meta["issuer"], subject=subject, claims=claims)


def exchange(settings: Settings, redirect_uri: str, code: str, verifier: str) -> dict:
    """The provider's tokens for `code`, proving with the PKCE `verifier` that this is the
    browser the code was made for."""
    meta = metadata(settings)
    if urlsplit(meta["token_endpoint"]).scheme != "https" and not settings.allow_http:
        raise unreachable("token endpoint is not https")
    try:
        with _client(settings, redirect_uri) as client:
            return client.fetch_token(
                meta["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
    except OAuthError as error:
        if error.error == "invalid_grant":  # used already, expired, or not made for us
            raise CompanySignInError(
                _("This sign-in link was used already"),
                _(
                    "A link back from your company's sign-in service works once, for a few "
                    "minutes. Go back to the sign-in page and start again."
                ),
                400,
                f"token endpoint: {error}",
            ) from None
        raise untrusted(f"token endpoint: {error}") from None
    except requests.RequestException as error:
        raise unreachable(f"token endpoint: {error}") from None
    except ValueError as error:  # not a JSON answer
        raise untrusted(f"token endpoint: {error}") from None


def verify_id_token(
    settings: Settings, id_token, nonce: str, token: dict | None = None, now: int | None = None
) -> dict:
    """The ID token's claims, once its signature is verified with the provider's keys and its
    issuer, audience, expiry and nonce are right (and its at_hash, when an access token came
    with it), as of `now` (a Unix time; the clock's when None). Raises `CompanySignInError`
    otherwise."""
    if not isinstance(id_token, str) or not id_token:
        raise untrusted("no ID token")
    meta = metadata(settings)
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in offered if alg in SIGNING_ALGORITHMS]
    try:
        try:
            decoded = jwt.decode(id_token, _keys(settings), algorithms=algorithms)
        except InvalidKeyIdError:  # the provider rotated its keys since we read them
            decoded = jwt.decode(id_token, _keys(settings, refresh=True), algorithms=algorithms)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": meta["issuer"]},
                "aud": {"essential": True, "value": settings.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            {
                "nonce": nonce,
                "client_id": settings.client_id,
                "access_token": (token or {}).get("access_token"),
            },
        )
        claims.validate(now=now, leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError) as error:
        raise untrusted(f"ID token: {error!r}") from None
    return dict(claims)
