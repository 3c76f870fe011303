"""The task queue: Dramatiq over Redis (BROKER_URL), shared by the scheduler and the workers.

The scheduler stays the clock. With a broker, a job that has much to do hands it out as tasks
(deliver a batch of messages, plan refreshers for a shard of learners, write a few managers'
digests) and `flask --app trainer worker` processes, on any number of machines, do them. With
no BROKER_URL the jobs do their work in the scheduler's process, as they always did.

A queue delivers a task at least once (again after a worker dies, twice if it was enqueued
twice): every task body is safe to run twice, and the database decides what is done. See
docs/architecture.md for why Dramatiq.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app

log = logging.getLogger("trainer.jobs")


@dataclass(frozen=True)
class Task:
    """A kind of task: its body `body(session, **kwargs)` by dotted path, and its queue."""

    name: str
    target: str
    queue: str
    time_limit_seconds: int

    def load(self):
        import importlib

        module, _, attr = self.target.rpartition(".")
        return getattr(importlib.import_module(module), attr)


MESSAGES, PLANNING = "messages", "planning"
QUEUES = (MESSAGES, PLANNING)

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("deliver-messages", "trainer.messages.delivery.deliver_batch", MESSAGES, 10 * 60),
        Task("plan-refreshers-shard", "trainer.review.planning.plan_shard", PLANNING, 30 * 60),
        Task("manager-digests", "trainer.notify.jobs.digests_for", PLANNING, 30 * 60),
    )
}

# A failed task is tried again a few times, soon; past that the next run of its job finds the
# work still undone (every job looks at the database, not at the queue) and hands it out again.
MAX_RETRIES = 3
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 30_000


def enabled(config: Mapping[str, Any] | None = None) -> bool:
    """True when work goes to workers through a broker (BROKER_URL is set)."""
    config = current_app.config if config is None else config
    return bool(config.get("BROKER_URL"))


def describe_broker(config: Mapping[str, Any]) -> str:
    """Where the broker is, without its password."""
    from redis.connection import parse_url

    url = config.get("BROKER_URL")
    if not url:
        return "none"
    parts = parse_url(url)
    host = parts.get("host") or parts.get("path") or "?"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"redis://{host}{port}/{parts.get('db', 0)} (keys {config['BROKER_NAMESPACE']}:*)"


_brokers: dict[tuple[str, str], Any] = {}
_brokers_lock = threading.Lock()


def broker(config: Mapping[str, Any] | None = None):
    """This process's Dramatiq broker for BROKER_URL, with every task declared on it."""
    config = current_app.config if config is None else config
    key = (config["BROKER_URL"], config["BROKER_NAMESPACE"])
    with _brokers_lock:
        found = _brokers.get(key)
        if found is None:
            found = _brokers[key] = _make_broker(*key)
        return found


def _make_broker(url: str, namespace: str):
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import Retries, ShutdownNotifications, TimeLimit

    redis_broker = RedisBroker(
        url=url,
        namespace=namespace,
        middleware=[TimeLimit(), ShutdownNotifications(), Retries()],
    )
    for task in TASKS.values():
        dramatiq.Actor(
            _body_of(task.name),
            broker=redis_broker,
            actor_name=task.name,
            queue_name=task.queue,
            priority=0,
            options={
                "max_retries": MAX_RETRIES,
                "min_backoff": MIN_BACKOFF_MS,
                "max_backoff": MAX_BACKOFF_MS,
                "time_limit": task.time_limit_seconds * 1000,
            },
        )
    return redis_broker


def forget_brokers() -> None:
    """Close this process's broker connections (tests; a worker that stops)."""
    with _brokers_lock:
        for found in _brokers.values():
            found.close()
        _brokers.clear()


def _body_of(name: str):
    def body(**kwargs) -> None:
        perform(name, kwargs)  # its result is in the log; the queue keeps none

    body.__name__ = body.__qualname__ = name.replace("-", "_")
    body.__module__ = __name__
    return body


def enqueue(name: str, count: int = 1, config: Mapping[str, Any] | None = None, **kwargs) -> int:
    """Put `count` tasks `name(**kwargs)` on the queue; returns how many."""
    the_broker = broker(config)
    actor = the_broker.get_actor(name)
    for _ in range(count):
        actor.send_with_options(kwargs=kwargs)
    return count


def perform(name: str, kwargs: dict, app: Flask | None = None) -> Any:
    """Run one task here: its body in a fresh app context with its own database session,
    committed at the end, rolled back and re-raised (for the queue to retry) on failure."""
    from trainer.jobs.runner import get_app, unit_of_work

    task = TASKS[name]
    app = app or get_app()
    started = time.monotonic()
    with unit_of_work(app, f"task {name}") as session:
        result = task.load()(session, **kwargs)
    log.info("task %s done in %.2f s: %s", name, time.monotonic() - started, result)
    return result


# -- what waits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    waiting: int  # tasks in the queue, not yet taken by a worker
    delayed: int  # tasks waiting for their retry time
    oldest: datetime | None  # when the task at the head of the queue was enqueued (UTC)


def depths(config: Mapping[str, Any] | None = None) -> list[QueueDepth]:
    """Each queue's waiting tasks, read from Redis."""
    from dramatiq import Message

    the_broker = broker(config)
    client, namespace = the_broker.client, the_broker.namespace
    found = []
    for queue in QUEUES:
        key = f"{namespace}:{queue}"
        delayed_key = f"{namespace}:{queue}.DQ"
        with client.pipeline() as pipe:
            pipe.llen(key).llen(delayed_key).lindex(key, 0)
            waiting, delayed, head = pipe.execute()
        oldest = None
        if head is not None:
            data = client.hget(f"{key}.msgs", head)
            if data is not None:
                stamp = Message.decode(data).message_timestamp / 1000
                oldest = datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
        found.append(QueueDepth(queue, waiting, delayed, oldest))
    return found


def waiting(queue: str, config: Mapping[str, Any] | None = None) -> int:
    """Tasks waiting in one queue (not yet taken by a worker)."""
    the_broker = broker(config)
    return the_broker.client.llen(f"{the_broker.namespace}:{queue}")
