"""A loopback HTTP proxy in front of one participant that can answer 500 for a share of requests.

The saga workers and the gateway reach the participant through it (its ``*_SERVICE_URL``), so the
production services carry no test-only switch. Pass-through by default; ``fail(rate)`` makes a
share of requests answer 500, half of them before forwarding (nothing happened) and half after
(the participant acted, the caller never learns it: an unknown outcome). When the participant
refuses connections the proxy drops the caller's connection too, so "down" still looks down.
"""
from __future__ import annotations

import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}
FAULT_BODY = b'{"error": {"code": "injected_fault", "message": "chaos proxy answered 500", "details": null}}'


@dataclass
class ProxyStats:
    """What the proxy did, for the run's report."""

    forwarded: int = 0
    failed_before: int = 0
    failed_after: int = 0
    dropped: int = 0
    dropped_after: int = 0
    slowed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)


class FaultProxy:
    """``127.0.0.1:<port>`` forwarding to ``127.0.0.1:<upstream_port>``."""

    def __init__(self, name: str, upstream_port: int, upstream_timeout: float = 60.0) -> None:
        self.name, self.upstream_port, self.upstream_timeout = name, upstream_port, upstream_timeout
        self.error_rate = 0.0
        self.mode = "500"
        self.slow_bodies: dict[bytes, float] = {}  # a request whose body holds one waits that long first
        self.stats = ProxyStats()
        self._rng = random.Random()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"proxy-{name}", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, rate: float, mode: str = "500") -> None:
        """From now on, ``rate`` of the requests fail (0 heals). ``mode`` "500": answer 500, half of them
        before forwarding, half after; "drop_after": forward, then close the caller's connection with
        no answer, as a participant killed between its commit and its response does; "down": close the
        caller's connection without forwarding, as when the participant is not there."""
        self.error_rate, self.mode = rate, mode

    def slow(self, marker: str, seconds: float) -> None:
        """Requests whose body contains ``marker`` (an order id) wait ``seconds`` before they are forwarded:
        a participant slower than its callers' timeout, that still acts after they gave up."""
        self.slow_bodies[marker.encode()] = seconds

    def unslow(self, marker: str) -> None:
        self.slow_bodies.pop(marker.encode(), None)

    def delay_for(self, body: bytes | None) -> float:
        return max((s for marker, s in list(self.slow_bodies.items()) if body and marker in body), default=0.0)

    def verdict(self) -> str:
        """``forward``, ``fail_before``, ``fail_after`` or ``drop_after`` for the next request."""
        if self.error_rate <= 0 or self._rng.random() >= self.error_rate:
            return "forward"
        if self.mode in ("drop_after", "down"):
            return self.mode
        return "fail_before" if self._rng.random() < 0.5 else "fail_after"


class _QuietServer(ThreadingHTTPServer):
    """A caller hanging up mid-request is part of the game, not an error to print."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream: http.client.HTTPConnection | None = None

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if delay := proxy.delay_for(body):
                proxy.stats.add("slowed")
                time.sleep(delay)
            verdict = proxy.verdict()
            if verdict == "fail_before":
                proxy.stats.add("failed_before")
                return self._answer(500, [("Content-Type", "application/json")], FAULT_BODY)
            if verdict == "down":
                proxy.stats.add("dropped")
                self.close_connection = True
                return None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                status, reason_headers, payload = self._forward(body, headers)
            except (TimeoutError, ConnectionError, http.client.HTTPException, OSError):
                self._drop_upstream()
                proxy.stats.add("dropped")
                self.close_connection = True  # the caller sees the connection die, as with the real thing
                return None
            if verdict == "drop_after":
                proxy.stats.add("dropped_after")
                self.close_connection = True
                return None
            if verdict == "fail_after":
                proxy.stats.add("failed_after")
                return self._answer(500, [("Content-Type", "application/json")], FAULT_BODY)
            proxy.stats.add("forwarded")
            return self._answer(status, reason_headers, payload)

        def _forward(self, body: bytes | None, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
            for attempt in (1, 2):  # a kept-alive upstream connection may have died with its worker
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port,
                                                               timeout=proxy.upstream_timeout)
                try:
                    self.upstream.request(self.command, self.path, body=body, headers=headers)
                    response = self.upstream.getresponse()
                    payload = response.read()
                    kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP
                            and k.lower() != "content-length"]
                    return response.status, kept, payload
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    self._drop_upstream()
                    if attempt == 2 or self.command not in ("GET", "HEAD"):
                        raise
            raise ConnectionError("unreachable")

        def _drop_upstream(self) -> None:
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None

        def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            try:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the caller gave up (its timeout) while the participant hung
                self.close_connection = True

        def finish(self) -> None:
            self._drop_upstream()
            super().finish()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

    return Handler
