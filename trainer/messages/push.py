"""Web Push to the browsers a person turned notifications on in (an installed web app, or any
browser that supports it): VAPID-signed (RFC 8292), each payload encrypted for its browser
alone (RFC 8291, aes128gcm), sent with pywebpush.

Push is offered when VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT are set (make them
with `flask --app trainer push keys`). A browser's push service answering 404 or 410 means the
subscription is gone (notifications turned off, app removed): it is deleted, and with no
browser left the message goes on to the person's next channel.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trainer.messages.tried import Failure, Tried
from trainer.models import OutboxMessage, PushSubscription, User

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
DEFAULT_TTL = timedelta(days=1)  # how long a push service holds a message for a phone that is off
MAX_TTL = timedelta(days=28)
GONE = frozenset({404, 410})  # the subscription no longer exists
# The push service will never take this message (malformed, too big): the next channel may.
REFUSED = frozenset({400, 413})
MAX_TITLE = 120
MAX_BODY = 600  # a push payload is at most about 4 kB once encrypted; this leaves room
MAX_ENDPOINT = 1000  # the column's length


class SubscriptionError(ValueError):
    """A subscription the browser sent that cannot be used; the message says why."""


# -- setup ------------------------------------------------------------------------------------


def mode(config: Mapping[str, Any]) -> str:
    """Send when the VAPID keys and subject are set, else off (push is not offered)."""
    keys = ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT")
    return "send" if all((config.get(name) or "").strip() for name in keys) else "off"


def where(config: Mapping[str, Any]) -> str | None:
    return "web push" if mode(config) == "send" else None


def new_keys() -> tuple[str, str]:
    """A fresh VAPID key pair: (public, private), base64url without padding, as the settings
    and the browser's `applicationServerKey` take them."""
    private = ec.generate_private_key(ec.SECP256R1())
    secret = private.private_numbers().private_value.to_bytes(32, "big")
    return _public_of(private), _b64(secret)


def _public_of(private: ec.EllipticCurvePrivateKey) -> str:
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(point)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def setup_problem(config: Mapping[str, Any]) -> str | None:
    """What is wrong with the VAPID settings, or None. Checked before sending, so that a typo
    says so in the outbox instead of every push service refusing every message."""
    try:
        raw = _unb64(config["VAPID_PRIVATE_KEY"])
        if len(raw) != 32:
            return "VAPID_PRIVATE_KEY is not a 32-byte key (make one with `flask push keys`)"
        private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (binascii.Error, ValueError):
        return "VAPID_PRIVATE_KEY is not a key (make one with `flask push keys`)"
    if _public_of(private) != config["VAPID_PUBLIC_KEY"].strip():
        return "VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY"
    subject = config["VAPID_SUBJECT"].strip()
    if not subject.startswith(("mailto:", "https://")):
        return "VAPID_SUBJECT must be a mailto: address or an https:// URL"
    return None


# -- who it reaches ---------------------------------------------------------------------------


def reaches() -> ColumnElement[bool]:
    """The people push reaches (an SQL condition on User): those with a browser subscribed."""
    return exists(select(PushSubscription.id).where(PushSubscription.user_id == User.id))


def address_of(user: User) -> str | None:
    """Push goes to whichever browsers the person has when it is sent; name the person."""
    return user.handle


def subscriptions(session: Session, user_id: int) -> list[PushSubscription]:
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.id)
        )
    )


# -- a browser subscribing, or stopping ------------------------------------------------------


def subscribe(
    session: Session,
    user: User,
    data: Any,
    device: str,
    config: Mapping[str, Any],
) -> PushSubscription:
    """Store (and commit) the subscription a browser's `pushManager.subscribe()` gave:
    `{"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}`. A browser subscribed before,
    for this person or another, is now this person's. Raises SubscriptionError when it cannot
    be used: not a push service we send to, or keys that are not a browser's."""
    endpoint, p256dh, auth = _check_subscription(data, config)
    for _try in range(2):  # a second request racing this one may insert the endpoint first
        row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
        if row is None:
            row = PushSubscription(endpoint=endpoint)
            session.add(row)
        row.user_id, row.p256dh, row.auth, row.device = user.id, p256dh, auth, device[:120]
        try:
            session.commit()
            return row
        except IntegrityError:
            session.rollback()
    raise SubscriptionError("That browser could not be saved just now. Try again.")


def unsubscribe(session: Session, user: User, subscription_id: int) -> PushSubscription | None:
    """Forget one of the person's browsers (committed); None if it is not theirs."""
    row = session.get(PushSubscription, subscription_id)
    if row is None or row.user_id != user.id:
        return None
    session.delete(row)
    session.commit()
    return row


def _check_subscription(data: Any, config: Mapping[str, Any]) -> tuple[str, str, str]:
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise SubscriptionError("That is not a push subscription.")
    endpoint, keys = data.get("endpoint"), data["keys"]
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(value, str) for value in (endpoint, p256dh, auth)):
        raise SubscriptionError("That is not a push subscription.")
    problem = endpoint_problem(endpoint, config)
    if problem:
        raise SubscriptionError(problem)
    try:
        point = _unb64(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        secret = _unb64(auth)
    except (binascii.Error, ValueError):
        raise SubscriptionError("The browser's keys are not valid.") from None
    if len(point) != 65 or len(secret) != 16:
        raise SubscriptionError("The browser's keys are not valid.")
    return endpoint, _b64(point), _b64(secret)


def endpoint_problem(endpoint: str, config: Mapping[str, Any]) -> str | None:
    """Why we would not send to this endpoint, or None. Only the push services named in
    PUSH_SERVICE_HOSTS: anything else would let a person make this server post to any
    address it can reach. HTTPS only, except on this machine (tests)."""
    if len(endpoint) > MAX_ENDPOINT:
        return "That push address is too long."
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "That is not a push address."
    if parts.scheme not in ("https", "http") or not host:
        return "That is not a push address."
    if parts.scheme == "http" and not _loopback(host):
        return "A push address must use HTTPS."
    allowed = [p.strip().lower() for p in config.get("PUSH_SERVICE_HOSTS", "").split(",")]
    if not any(pattern and fnmatch.fnmatchcase(host, pattern) for pattern in allowed):
        return f"This server does not send to the push service at {host}."
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# -- sending ----------------------------------------------------------------------------------


def payload(message: OutboxMessage) -> str:
    """What the service worker shows: the notification's title and text, and the page a tap
    opens. `tag` makes a newer notification of the same kind replace an older one."""
    return json.dumps(
        {
            "title": message.subject[:MAX_TITLE],
            "body": (message.short or "")[:MAX_BODY],
            "url": message.url or "/",
            "tag": message.kind,
        },
        ensure_ascii=False,
    )


def time_to_live(message: OutboxMessage, now: datetime) -> int:
    """Seconds a push service may hold it for a browser that is offline: until it expires."""
    left = message.expires_at - now if message.expires_at else DEFAULT_TTL
    return int(min(max(left, timedelta(minutes=1)), MAX_TTL).total_seconds())


class Sender:
    """Pushes messages to each of a person's browsers."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.problem = setup_problem(config)
        self.vapid = None
        if self.problem is None:
            from py_vapid import Vapid  # with pywebpush: only loaded by a run that pushes

            self.vapid = Vapid.from_string(config["VAPID_PRIVATE_KEY"].strip())

    def send(
        self, session: Session, message: OutboxMessage, user: User | None, now: datetime
    ) -> Tried:
        """Push to every browser of the person: sent if any took it. Browsers whose push
        service says the subscription is gone are deleted (committed with the outcome);
        with none left, or a message no push service will take, it fails for good here."""
        browsers = subscriptions(session, user.id) if user is not None else []
        to = ", ".join(b.device for b in browsers)[:254] or "no browser"
        if self.problem:
            return Tried(to, Failure(self.problem))
        if not message.short:
            return Tried(to, Failure("this message has no short version for push", True))
        if not browsers:
            return Tried(to, Failure("no browser has notifications turned on", True))
        from pywebpush import WebPushException, webpush

        data = payload(message)
        accepted, errors, temporary = 0, [], False
        for browser in browsers:
            try:
                webpush(
                    {"endpoint": browser.endpoint,
                     "keys": {"p256dh": browser.p256dh, "auth": browser.auth}},
                    data=data,
                    vapid_private_key=self.vapid,
                    vapid_claims={"sub": self.config["VAPID_SUBJECT"].strip()},
                    ttl=time_to_live(message, now),
                    timeout=TIMEOUT_SECONDS,
                    # Topic: a push service holding an earlier copy (a retry after a crash
                    # between its answer and our commit) replaces it instead of adding one.
                    headers={"Urgency": "normal", "Topic": f"outbox-{message.id}"},
                )  # fmt: skip
            except WebPushException as exc:
                status = exc.status_code
                errors.append(f"{browser.device}: {_describe(exc)}")
                if status in GONE:
                    gone = delete(PushSubscription).where(PushSubscription.id == browser.id)
                    session.execute(gone)
                    log.info("Push subscription %s is gone (%s): deleted", browser.id, status)
                elif status not in REFUSED:
                    temporary = True  # 401/403 (our keys), 429, 5xx: worth another try
            except Exception as exc:  # unreachable, timeout, TLS: the push service may come back
                errors.append(f"{browser.device}: {type(exc).__name__}: {exc}")
                temporary = True
            else:
                accepted += 1
                browser.last_sent_at = now
        if accepted:
            return Tried(to)
        return Tried(to, Failure("; ".join(errors), permanent=not temporary))

    def close(self) -> None:
        pass


def _describe(exc) -> str:
    response = exc.response
    if response is None:
        return str(exc.message)
    reason = getattr(response, "reason", "") or ""
    text = (getattr(response, "text", "") or "").strip().replace("\n", " ")[:200]
    return f"{exc.status_code} {reason}{': ' + text if text else ''}".strip()
