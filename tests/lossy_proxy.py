"""A TCP proxy that loses answers: the request reaches the server and is handled, the answer never comes back.

That is what a weak 2G link does to a phone at the worst moment: the visit is stored, the phone does not
know, and it sends again. The proxy forwards one request per connection (it asks the server to close after
answering), reads the whole answer, and for a share of the requests it chooses (by a seeded random number)
closes the phone's connection instead of passing the answer on.
"""

import contextlib
import random
import socket
import threading
from dataclasses import dataclass, field

HEADER_END = b"\r\n\r\n"
MAX_HEAD = 64 * 1024


@dataclass
class Counts:
    forwarded: int = 0
    lost: int = 0
    lost_paths: list = field(default_factory=list)


class LossyProxy:
    """Listen on 127.0.0.1:port and pass requests to upstream_port, losing `loss` of the answers that `matches`."""

    def __init__(self, upstream_port: int, *, loss: float, seed: int = 1, matches=None):
        self.upstream_port = upstream_port
        self.loss = loss
        self.random = random.Random(seed)
        self.matches = matches or (lambda method, path: True)
        self.counts = Counts()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.running = False
        self.listener.close()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            try:
                request = _read_request(client)
            except (OSError, ValueError):
                return
            if request is None:
                return
            method, path, data = request
            try:
                answer = self._forward(data)
            except OSError:
                return
            with self.lock:
                lose = self.matches(method, path) and self.random.random() < self.loss
                if lose:
                    self.counts.lost += 1
                    self.counts.lost_paths.append(f"{method} {path}")
                else:
                    self.counts.forwarded += 1
            if lose:
                client.shutdown(socket.SHUT_RDWR)  # handled by the server, lost on the way back
                return
            with contextlib.suppress(OSError):  # the phone gave up waiting: as on a real link
                client.sendall(answer)

    def _forward(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=60) as upstream:
            upstream.sendall(data)
            chunks = []
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)


def _read_request(client: socket.socket) -> tuple[str, str, bytes] | None:
    """Read one HTTP request (head and Content-Length body) and return it with Connection: close."""
    data = b""
    while HEADER_END not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_HEAD:
            raise ValueError("request head too large")
    head, body = data.split(HEADER_END, 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = [line for line in lines[1:] if line and not line.lower().startswith(("connection:", "keep-alive:"))]
    length = next((int(line.split(":", 1)[1]) for line in headers if line.lower().startswith("content-length:")), 0)
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            break
        body += chunk
    new_head = "\r\n".join([lines[0], *headers, "Connection: close"]).encode("latin-1")
    return method, path, new_head + HEADER_END + body
