"""A real SMTP server for the tests (aiosmtpd, on 127.0.0.1), optionally refusing the first
messages with a temporary failure, as a mail server that is down for a while does."""

import email
import socket
import threading
import time
from contextlib import contextmanager
from email import policy

from aiosmtpd.controller import Controller


class RecordingHandler:
    def __init__(self, fail_first=0):
        self.fail_first = fail_first
        self.attempts = 0
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return "451 4.3.0 Temporarily unavailable, try again later"
            self.messages.append(
                (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.SMTP))
            )
        return "250 OK"

    def wait_for_messages(self, count=1, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.1)
        raise AssertionError(f"{len(self.messages)} message(s) after {timeout} s")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(fail_first=0):
    """Yields ``(handler, port)``; the server stops on exit."""
    handler = RecordingHandler(fail_first=fail_first)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def pdf_attachments(message):
    return [
        part.get_payload(decode=True)
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]
