"""A real HTTP receiver on 127.0.0.1 for webhook tests: records every request; ``/fail-twice``
answers 500 to the first two deliveries of each ``webhook-id``, ``/fail`` always 500, ``/slow``
sleeps before answering, anything else 204."""

import http.server
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path):
        return [r for r in list(self.requests) if r.path == path]

    def wait_for(self, condition, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        return condition()


@contextmanager
def running_receiver(slow_seconds=2.0):
    receiver = Receiver(url="")
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with receiver.lock:
                receiver.requests.append(Received(self.path, headers, body))
                key = (self.path, headers.get("webhook-id"))
                seen[key] = seen.get(key, 0) + 1
                count = seen[key]
            if self.path == "/slow":
                time.sleep(slow_seconds)
            failing = self.path == "/fail" or (self.path == "/fail-twice" and count <= 2)
            self.send_response(500 if failing else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
