"""A webhook receiver on loopback for tests: answers from a script and keeps every request it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True, slots=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Receiver:
    url: str
    #: Answers given in order; the last one repeats.
    script: list[Answer] = field(default_factory=lambda: [Answer()])
    #: (path, headers, body) of every request, in order.
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def hits(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for p, h, b in self.requests if p == path]


@contextmanager
def receiver(*answers: Answer) -> Iterator[Receiver]:
    state = Receiver(url="", script=list(answers) or [Answer()])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = state.script.pop(0) if len(state.script) > 1 else state.script[0]
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_POST = _answer  # noqa: N815
        do_GET = _answer  # noqa: N815

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
