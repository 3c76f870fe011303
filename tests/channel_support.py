"""Real protocol endpoints for the message channels, started by the tests on this machine.

`PushService` is a Web Push service as browsers' vendors run them: it takes a POST at a
subscription's endpoint, checks the VAPID signature (RFC 8292: an ES256 JWT, and the key it
must match is the one the browser subscribed with) and decrypts the payload (RFC 8291,
aes128gcm) with the browser's own private key and auth secret, written here from the RFC with
`cryptography` rather than with the library the app sends with. `FakeBrowser` is the browser:
a real P-256 key pair and auth secret, and the subscription JSON `pushManager.subscribe()` makes.

`JsonService` takes what Apprise's `json://` scheme posts (a text message's stand-in).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trainer.messages import push

SUBJECT = "mailto:ops@trainer.example"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _point(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


# -- RFC 8291 and RFC 8292, the receiving side --------------------------------------------------


def decrypt(body: bytes, private: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """An aes128gcm Web Push payload (RFC 8291 section 3, RFC 8188 section 2), decrypted."""
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender_point = body[21 : 21 + id_length]
    records = body[21 + id_length :]
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
    shared = private.exchange(ec.ECDH(), sender)
    key_info = b"WebPush: info\x00" + _point(private.public_key()) + sender_point
    ikm = HKDF(hashes.SHA256(), 32, salt=auth_secret, info=key_info).derive(shared)
    cek = HKDF(hashes.SHA256(), 16, salt=salt, info=b"Content-Encoding: aes128gcm\x00").derive(ikm)
    nonce = HKDF(hashes.SHA256(), 12, salt=salt, info=b"Content-Encoding: nonce\x00").derive(ikm)
    plain = b""
    for number, start in enumerate(range(0, len(records), record_size)):
        record_nonce = (int.from_bytes(nonce, "big") ^ number).to_bytes(12, "big")
        record = AESGCM(cek).decrypt(record_nonce, records[start : start + record_size], None)
        record = record.rstrip(b"\x00")  # padding
        assert record[-1:] in (b"\x01", b"\x02"), "no record delimiter"
        plain += record[:-1]
    return plain


def verify_vapid(authorization: str, expected_key: str, audience: str) -> dict:
    """The JWT's claims, once its ES256 signature checks out against `k`, `k` is the key the
    browser subscribed with, and the audience is this push service. Raises ValueError."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "vapid":
        raise ValueError(f"not a VAPID authorization: {scheme!r}")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = fields["t"], fields["k"]
    if key != expected_key:
        raise ValueError("signed with a key the browser did not subscribe with")
    header_part, claims_part, signature_part = token.split(".")
    header = json.loads(unb64(header_part))
    if header.get("alg") != "ES256":
        raise ValueError(f"not ES256: {header}")
    signature = unb64(signature_part)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    try:
        public.verify(
            encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            ),
            f"{header_part}.{claims_part}".encode("ascii"),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        raise ValueError("the VAPID signature does not verify") from None
    claims = json.loads(unb64(claims_part))
    if claims.get("aud") != audience:
        raise ValueError(f"audience {claims.get('aud')!r} is not {audience!r}")
    if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
        raise ValueError("expiry not within the next 24 hours")
    return claims


# -- the fake browser and push service --------------------------------------------------------


@dataclass
class FakeBrowser:
    """A browser's push subscription: its own key pair and auth secret, on a push service."""

    endpoint: str
    server_key: str  # the applicationServerKey it subscribed with (VAPID_PUBLIC_KEY)
    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        """As `JSON.stringify(pushSubscription)` gives it."""
        public = b64(_point(self.private.public_key()))
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": public, "auth": b64(self.auth_secret)},
        }


@dataclass
class Push:
    """One push the service took (or refused): the browser, its claims and its payload."""

    browser: FakeBrowser
    status: int
    headers: dict  # names in lower case
    claims: dict | None = None
    payload: dict | None = None
    error: str | None = None


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = self.server.handle(self.path, headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()


class PushService(Recorder):
    """Answers 201 Created, or what `answers[path]` says (410 for a subscription gone)."""

    def __init__(self):
        super().__init__()
        self.browsers: dict[str, FakeBrowser] = {}
        self.answers: dict[str, int] = {}
        self.pushes: list[Push] = []
        self._ids = itertools.count(1)

    def browser(self, server_key: str) -> FakeBrowser:
        """A new browser subscribed on this service with the app's public key."""
        path = f"/push/{next(self._ids)}"
        browser = FakeBrowser(f"{self.base}{path}", server_key)
        self.browsers[path] = browser
        return browser

    def delivered(self) -> list[Push]:
        return [p for p in self.pushes if p.status == 201]

    def handle(self, path: str, headers: dict, body: bytes) -> int:
        browser = self.browsers.get(path)
        if browser is None:
            return 404
        push = Push(browser, self.answers.get(path, 201), headers)
        try:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(browser.endpoint))
            push.claims = verify_vapid(headers.get("authorization", ""), browser.server_key, origin)
            if headers.get("content-encoding") != "aes128gcm":
                raise ValueError(f"content encoding {headers.get('content-encoding')!r}")
            push.payload = json.loads(decrypt(body, browser.private, browser.auth_secret))
        except Exception as exc:  # recorded for the test to see, and refused as a service would
            push.error, push.status = f"{type(exc).__name__}: {exc}", 401
        with self.lock:
            self.pushes.append(push)
        return push.status


class JsonService(Recorder):
    """Takes Apprise's json:// posts: 200, or what `answers[path]` says."""

    def __init__(self):
        super().__init__()
        self.answers: dict[str, int] = {}
        self.posts: list[tuple[str, int, dict]] = []

    def handle(self, path: str, headers: dict, body: bytes) -> int:
        status = self.answers.get(urlsplit(path).path, 200)
        with self.lock:
            self.posts.append((path, status, json.loads(body)))
        return status

    def taken(self) -> list[dict]:
        return [body for _path, status, body in self.posts if status < 300]

    def sms_url(self, path: str = "/sms") -> str:
        """An Apprise URL that posts to this service, the number in the JSON as "to"."""
        return f"json://127.0.0.1:{self.server_address[1]}{path}?:to={{phone}}"


@pytest.fixture
def push_service():
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def sms_service():
    service = JsonService().start()
    yield service
    service.stop()


def use_push(app, service: PushService, keys: tuple[str, str] | None = None) -> str:
    """Set the app up for Web Push to `service`; returns the public key."""
    public, private = keys or push.new_keys()
    app.config.update(
        VAPID_PUBLIC_KEY=public,
        VAPID_PRIVATE_KEY=private,
        VAPID_SUBJECT=SUBJECT,
        PUSH_SERVICE_HOSTS="127.0.0.1",
    )
    return public


def use_sms(app, service: JsonService, path: str = "/sms") -> None:
    app.config["SMS_URL"] = service.sms_url(path)
