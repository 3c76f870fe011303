"""The task queue's real parts for tests: `flask worker` processes, a Redis of a test's own,
and an SMTP server (aiosmtpd) that counts each message by its Message-ID, answers after a
delay, and can hold every new message at RCPT until released."""

from __future__ import annotations

import asyncio
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from email import policy
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller

from tests.conftest import POSTGRES_URL
from trainer import ROOT

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SENDER = "Frontline Trainer <no-reply@trainer.example>"


def wait_until(check, what: str, timeout: float = 60, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CountingHandler:
    """Counts accepted messages by Message-ID; `delay` seconds before each DATA reply (as a
    server across a network); `hold()` keeps every new RCPT waiting until `release()`."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.ids: Counter[str] = Counter()
        self.connections = 0
        self.in_data = 0
        self.most_at_once = 0
        self.held = 0
        self.refuse: set[str] = set()  # 550 at RCPT: no such mailbox, for good
        self.defer: set[str] = set()  # 451 at RCPT: try again later
        self._gate: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def hold(self) -> None:
        self._loop.call_soon_threadsafe(self._close_gate)

    def _close_gate(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._open_gate)

    def _open_gate(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self._loop = asyncio.get_running_loop()
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._loop = asyncio.get_running_loop()
        if self._gate is not None:
            gate = self._gate
            self.held += 1
            await gate.wait()
            self.held -= 1
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.defer:
            return "451 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.in_data += 1
        self.most_at_once = max(self.most_at_once, self.in_data)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 Connection lost"  # the client is gone: nothing accepted
            parsed = email.message_from_bytes(envelope.content, policy=policy.default)
            with self._lock:
                self.ids[parsed["Message-ID"]] += 1
            return "250 Message accepted for delivery"
        finally:
            self.in_data -= 1

    def total(self) -> int:
        return sum(self.ids.values())

    def twice(self) -> dict[str, int]:
        return {mid: n for mid, n in self.ids.items() if n > 1}


class CountingSMTP:
    def __init__(self, delay: float = 0.0):
        self.handler = CountingHandler(delay)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        self.handler._loop = self.controller.loop  # so that it can hold before the first message
        return self

    def __exit__(self, *exc):
        self.handler.release() if self.handler._loop else None
        self.controller.stop()


class WorkerProcess:
    """`flask --app trainer worker` on a test's PostgreSQL schema and broker namespace."""

    def __init__(self, tmp_path: Path, schema: str, env: dict, threads: int = 4, name="w"):
        self.log = tmp_path / f"worker-{name}-{uuid.uuid4().hex[:6]}.log"
        full_env = {
            **os.environ,
            # Configured from the environment as a deployment's worker is (the test config
            # keeps the message channels off whatever the environment says).
            "FLASK_CONFIG": "development",
            "DATABASE_URL": POSTGRES_URL,
            "PGOPTIONS": f"-csearch_path={schema}",
            "PYTHONUNBUFFERED": "1",
            **{key: str(value) for key, value in env.items()},
        }
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "trainer", "worker",
                 "--threads", str(threads)],
                cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(lambda: "Worker ready" in self.output() or self.process.poll() is not None,
                   "the worker to start")  # fmt: skip
        assert self.process.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class RedisServer:
    """A Redis server of the test's own, started as the machine's is (same executable, same
    settings: no snapshots, no append-only file), so that a test may stop and restart it
    without disturbing anyone else's use of the machine's."""

    def __init__(self, tmp_path: Path):
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            pytest.fail("redis-server is not installed (`make redis`, README 'Tests')")
        self.port = free_port()
        self.dir = tmp_path / f"redis-{self.port}"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        settings = _machine_redis_settings()
        return [
            self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", settings.get("save", ""), "--appendonly", settings.get("appendonly", "no"),
            "--dir", str(self.dir), "--daemonize", "no",
        ]  # fmt: skip

    def start(self) -> None:
        with open(self.dir / "redis.log", "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        with redis.Redis.from_url(self.url) as client:
            wait_until(lambda: _pings(client), "Redis to answer", timeout=20)

    def shutdown(self) -> None:
        """As `redis-cli shutdown nosave`: what it held in memory is gone."""
        with redis.Redis.from_url(self.url) as client:
            client.shutdown(nosave=True)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def _machine_redis_settings() -> dict[str, str]:
    try:
        with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
            return {
                "save": client.config_get("save").get("save", ""),
                "appendonly": client.config_get("appendonly").get("appendonly", "no"),
            }
    except redis.RedisError:
        return {}


def machine_redis() -> None:
    """Fails the test, saying what to do, when the machine's Redis is not there."""
    with redis.Redis.from_url(REDIS_URL) as client:
        if not _pings(client):
            pytest.fail(
                f"Redis is not reachable at {REDIS_URL}: run `make redis` (README, 'Tests')."
            )


def drop_namespace(url: str, namespace: str) -> None:
    with redis.Redis.from_url(url) as client:
        try:
            keys = list(client.scan_iter(f"{namespace}:*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.ConnectionError:
            pass


class SlowTextService:
    """Apprise's json:// posts (a text message service's stand-in), answered after `delay`
    seconds, counting how many it was handling at once."""

    def __init__(self, delay: float):
        from tests.channel_support import JsonService

        outer = self

        class Service(JsonService):
            def handle(self, path, headers, body):
                with self.lock:
                    outer.now += 1
                    outer.most_at_once = max(outer.most_at_once, outer.now)
                time.sleep(delay)
                try:
                    return super().handle(path, headers, body)
                finally:
                    with self.lock:
                        outer.now -= 1

        self.now = self.most_at_once = 0
        self.service = Service()

    def __enter__(self):
        self.service.start()
        return self

    def __exit__(self, *exc):
        self.service.stop()
