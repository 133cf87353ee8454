"""What only the real server (gunicorn) shows: broken chunks, malformed request lines, a 50 MB body
refused before it is sent, and clients that never finish their headers."""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.integration.gunicorn_gateway import ServedGateway, served_gateway  # noqa: F401


def _status_and_body(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"application/json" in head.lower(), raw[:400]
    return int(head.split()[1]), json.loads(body)


def _one_response(sock: socket.socket) -> bytes:
    """One HTTP response read off ``sock`` (its head, then Content-Length bytes), not waiting for EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or pytest.fail(f"connection closed after {data!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536) or pytest.fail("connection closed mid-body")
    return head + b"\r\n\r\n" + body


def test_a_bad_chunk_size_is_400_in_the_error_format(served_gateway: ServedGateway) -> None:
    request = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n")
    status, body = _status_and_body(served_gateway.raw(request))
    assert status == 400 and set(body["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("request_bytes", [b"GARBAGE\r\n\r\n", b"GET /healthz HTTP/9.9\r\n\r\n",
                                           b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                                           b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n"],
                         ids=["request line", "version", "header", "URI too long"])
def test_malformed_requests_get_the_json_error_format_not_an_html_page(served_gateway: ServedGateway,
                                                                       request_bytes: bytes) -> None:
    status, body = _status_and_body(served_gateway.raw(request_bytes))
    assert 400 <= status < 500 and body["error"]["code"]


def test_a_50_mb_body_is_refused_with_413_before_it_is_sent(served_gateway: ServedGateway) -> None:
    with socket.create_connection(("127.0.0.1", served_gateway.port), timeout=10) as sock:
        sock.sendall(b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 52428800\r\n\r\n" + b"[" * 1024)
        started = time.monotonic()
        answer = _one_response(sock)
    assert time.monotonic() - started < 5
    status, body = _status_and_body(answer)
    assert status == 413 and body["error"]["code"]


def test_clients_that_never_finish_their_headers_do_not_block_the_gateway(served_gateway: ServedGateway) -> None:
    stalled = []
    try:
        for _ in range(40):  # one worker: far more than a sync worker (1) or a small thread pool could hold
            sock = socket.create_connection(("127.0.0.1", served_gateway.port), timeout=10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            stalled.append(sock)
        started = time.monotonic()
        assert requests.get(f"{served_gateway.url}/healthz", timeout=5).status_code == 200
        assert time.monotonic() - started < 3
        # The server gives up on them after the header read bound (GUNICORN_KEEPALIVE=2 s here).
        stalled[0].settimeout(10)
        assert stalled[0].recv(1024) == b""
    finally:
        for sock in stalled:
            sock.close()
