"""A local SMTP server that records what it receives and can be told to refuse, for tests and benchmarks.

Tests use the `smtp_sink` fixture of tests/conftest.py, which starts one and points Django at it."""

import asyncio
import re
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>\r\n]+)>", re.IGNORECASE | re.MULTILINE)


class SinkHandler:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []  # (recipients, parsed email.message.Message)
        self.received = Counter()  # recipient address -> copies received
        self.message_ids = Counter()  # Message-ID (without <>) -> copies received
        self.refuse_recipients: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 5.1.1 no such user"
        self.data_replies: list[str] = []  # replies to the next DATA commands, e.g. ["451 4.3.0 try later"]
        self.keep_messages = True
        self.sessions = 0  # SMTP conversations opened (EHLO/HELO seen)
        # An outage: until this time.monotonic() every RCPT is answered with tempfail_reply (a 4xx). Or one of
        # outage_seconds, starting at the first RCPT after it is set.
        self.tempfail_until = 0.0
        self.outage_seconds = 0.0
        self.tempfail_reply = "451 4.3.0 Mail system temporarily unavailable, try again later"
        self.tempfailed = 0  # RCPT commands refused by the outage
        self.refused = Counter()  # address -> RCPT commands refused (refuse_recipients or the outage)
        self.delay = 0.0  # seconds spent on each DATA before accepting it (a slower server)
        self.host, self.port = None, None  # where the sink listens, set by SmtpSink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse_recipients.get(address)
        if self.outage_seconds:
            self.tempfail_until, self.outage_seconds = time.monotonic() + self.outage_seconds, 0.0
        if not reply and time.monotonic() < self.tempfail_until:
            reply = self.tempfail_reply
            self.tempfailed += 1
        if reply:
            self.refused[address] += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)  # before accepting: the message is not counted until it is
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            for address in envelope.rcpt_tos:
                self.received[address] += 1
            found = MESSAGE_ID.search(envelope.content or b"")
            if found:
                self.message_ids[found.group(1).decode(errors="replace")] += 1
            if self.keep_messages:
                parsed = message_from_bytes(envelope.content, policy=policy.default)
                self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    @property
    def total(self) -> int:
        return sum(self.received.values())

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.received.values() if count > 1)


class SmtpSink:
    """with SmtpSink() as sink: ... settings EMAIL_HOST=sink.host, EMAIL_PORT=sink.port."""

    def __init__(self, host="127.0.0.1", port=0):
        self.handler = SinkHandler()
        self.controller = Controller(self.handler, hostname=host, port=port or _free_port(host))
        self.handler.host, self.handler.port = self.host, self.port

    @property
    def host(self):
        return self.controller.hostname

    @property
    def port(self):
        return self.controller.port

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
