"""An SMTP server for the delivery benchmark, in a process of its own: it answers each message
after a delay (as a server across a network does) and counts what it accepted by Message-ID.

    python -m bench.smtp_sink --port 2525 --delay 0.02 --counts counts.json

On SIGTERM it writes {"accepted": n, "distinct": n, "twice": n, "connections": n} and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import threading
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID: *(\S+)", re.MULTILINE | re.IGNORECASE)


class Sink:
    def __init__(self, delay: float):
        self.delay = delay
        self.ids: Counter[bytes] = Counter()
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.connections += 1
        return responses

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        found = MESSAGE_ID.search(envelope.content)
        self.ids[found.group(1) if found else b"(none)"] += 1
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--counts", type=Path, required=True)
    args = parser.parse_args()
    sink = Sink(args.delay)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    args.counts.write_text(
        json.dumps(
            {
                "accepted": sum(sink.ids.values()),
                "distinct": len(sink.ids),
                "twice": sum(1 for n in sink.ids.values() if n > 1),
                "connections": sink.connections,
            }
        )
    )


if __name__ == "__main__":
    main()
