"""The one HTTP client classifies what went wrong the way compensation needs it."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from campus_common import http
from campus_common.service_auth import SAGA_WORKERS
from devstack.procs import free_port

@pytest.fixture()
def silent_server() -> Iterator[tuple[int, threading.Event]]:
    """A loopback server that reads each request and then hangs up without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], stop
    stop.set()
    listener.close()


def test_a_refused_connection_is_a_fault_that_surely_did_not_happen():
    with pytest.raises(http.InfrastructureFault) as caught:
        http.call("POST", f"http://127.0.0.1:{free_port()}/x", json={}, timeout=2)
    assert caught.value.outcome_unknown is False


def test_a_request_cut_after_it_was_sent_may_have_happened(silent_server):
    port, _ = silent_server
    with pytest.raises(http.InfrastructureFault) as caught:
        http.call("POST", f"http://127.0.0.1:{port}/x", json={"a": 1}, idempotency_key="k", timeout=2)
    assert caught.value.outcome_unknown is True


def test_refusals_and_server_errors_are_told_apart(participants):
    base = participants.order_service.url
    with pytest.raises(http.BusinessRefusal) as refused:
        http.call("GET", f"{base}/orders/00000000-0000-4000-8000-000000000000", caller=SAGA_WORKERS,
                  audience="order_service")
    assert (refused.value.status, refused.value.code) == (404, "not_found")
    with pytest.raises(http.BusinessRefusal) as invalid:
        http.call("POST", f"{base}/orders", json={"items": []}, caller=SAGA_WORKERS, audience="order_service")
    assert invalid.value.status == 422 and invalid.value.details
