"""`flask --app trainer worker`: a Dramatiq worker in this process, or several supervised.

One process runs `threads` tasks at once, each thread keeping its own connections (an SMTP
session per thread, reused from task to task). Several processes are separate `flask worker`
children, each with its own database pool and broker connection; one that dies is started
again.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import click
from flask import Flask

from trainer.jobs import queue
from trainer.jobs.runner import use_app

log = logging.getLogger("trainer.jobs")

STOP_TIMEOUT_MS = 60_000  # how long a stopping worker lets its tasks finish


def serve(app: Flask, threads: int, queues: tuple[str, ...] = ()) -> int:
    """Run tasks until SIGTERM or Ctrl-C; finish the ones under way, then return 0."""
    from dramatiq import Worker

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    use_app(app)
    broker = queue.broker(app.config)
    worker = Worker(broker, queues=set(queues) or None, worker_threads=threads)
    worker.start()
    click.echo(
        f"Worker ready (pid {os.getpid()}, {threads} threads, queues "
        f"{', '.join(queues or queue.QUEUES)}, broker {queue.describe_broker(app.config)}).",
        err=True,
    )
    try:
        while not stop.wait(1):
            pass
    finally:
        click.echo("Worker stopping: finishing the tasks under way...", err=True)
        worker.stop(timeout=STOP_TIMEOUT_MS)
        _close_senders(worker)
        queue.forget_brokers()
        use_app(None)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("Worker stopped.", err=True)
    return 0


def _close_senders(worker) -> None:
    from trainer.messages.delivery import close_thread_senders

    close_thread_senders()


def supervise(processes: int, threads: int, queues: tuple[str, ...] = ()) -> int:
    """Run `processes` single-process workers as children; start again any that dies; on
    SIGTERM or Ctrl-C stop them all (each finishes its tasks) and return 0."""
    command = [sys.executable, "-m", "flask", "--app", "trainer", "worker", "--processes", "1"]
    command += ["--threads", str(threads)]
    for name in queues:
        command += ["--queue", name]
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    children: list[subprocess.Popen] = [subprocess.Popen(command) for _ in range(processes)]
    click.echo(f"Supervising {processes} worker processes (pid {os.getpid()}).", err=True)
    try:
        while not stop.wait(1):
            for index, child in enumerate(children):
                code = child.poll()
                if code is not None:
                    click.echo(
                        f"Worker process {child.pid} ended (status {code}); starting another.",
                        err=True,
                    )
                    time.sleep(1)  # not a tight loop if it cannot start at all
                    children[index] = subprocess.Popen(command)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=STOP_TIMEOUT_MS / 1000 + 10)
            except subprocess.TimeoutExpired:
                child.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
