"""Bad input never gets a 5xx: deep JSON, unstorable text, forged cursors, long keys, big or broken bodies,
malformed requests and slow clients; every error answer is the one JSON error format."""
from __future__ import annotations

import base64
import json
import socket
import time
from uuid import uuid4

import pytest
import requests
from flask import Blueprint, Flask, jsonify

from campus_common.idempotency import idempotent
from campus_common.validation import Fields, parsed, required_text
from campus_common.web import body_limit, create_service_app, json_body
from tests.integration.gateway_fixtures import ORDER, Gateway, bearer, eager_sagas, gateway  # noqa: F401
from tests.integration.gunicorn_gateway import ServedGateway, served_gateway  # noqa: F401

NUL, SURROGATE = "bad\u0000text", "bad\ud800text"


def _error(response, *statuses: int) -> dict:
    """The error of a JSON error answer with one of ``statuses``."""
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] and error["message"]
    return error


def _deep(depth: int) -> str:
    return '{"items": ' + "[" * depth + "]" * depth + ', "store_location": "a", "delivery_location": "b"}'


@pytest.mark.parametrize("depth", [40, 1000, 30_000])
def test_deeply_nested_json_is_400(gateway: Gateway, depth: int) -> None:
    customer = gateway.create_user("customer")
    response = gateway.client.post("/api/orders", data=_deep(depth), content_type="application/json",
                                   headers=customer.auth)
    _error(response, 400)


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["NUL", "lone surrogate"])
@pytest.mark.parametrize("field", ["item name", "store_location", "delivery_location", "a key"])
def test_unstorable_text_in_an_order_is_refused(gateway: Gateway, text: str, field: str) -> None:
    customer = gateway.create_user("customer")
    body = json.loads(json.dumps(ORDER))
    if field == "item name":
        body["items"][0]["name"] = text
    elif field == "a key":
        body["items"][0][text] = 1
    else:
        body[field] = text
    _error(gateway.place_order(customer, body), 400, 422)
    assert gateway.client.get("/api/sagas", headers=gateway.admin.auth).get_json()["sagas"] == []


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["NUL", "lone surrogate"])
def test_unstorable_text_in_a_user_or_a_cancel_reason_is_refused(gateway: Gateway, text: str) -> None:
    body = {"name": text, "email": f"{uuid4().hex}@campus.test", "role": "customer", "card_token": "tok_visa"}
    _error(gateway.client.post("/api/users", json=body, headers=gateway.admin.auth), 400, 422)
    customer = gateway.create_user("customer")
    order_id = gateway.place_order(customer).get_json()["order_id"]
    response = gateway.client.post(f"/api/orders/{order_id}/cancel", json={"reason": text}, headers=customer.auth)
    _error(response, 400, 422)
    assert gateway.order(order_id)["status"] == "CREATED"


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize("cursor", ["garbage", "%00", "////", _b64(["2026-01-01T00:00:00", "not-a-uuid"]),
                                    _b64([1, 2]), _b64({"a": 1, "b": 2}), _b64(["x", "y", "z"]), _b64("x"),
                                    _b64(["2026-01-01T00:00:00", 7]), _b64(["2026-01-01\u0000", str(uuid4())])])
@pytest.mark.parametrize("role", ["admin", "customer"])
def test_a_forged_saga_list_cursor_is_4xx(gateway: Gateway, cursor: str, role: str) -> None:
    headers = bearer(str(uuid4()), role)
    _error(gateway.client.get(f"/api/sagas?cursor={cursor}", headers=headers), 400, 422)


def test_idempotency_keys_are_capped_at_255_at_the_gateway(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    assert gateway.place_order(customer, key="k" * 255).status_code == 202
    _error(gateway.place_order(customer, key="k" * 256), 400)
    _error(gateway.place_order(customer, key="k" * 6000), 400)
    _error(gateway.place_order(customer, key="tab\tkey"), 400)
    # A full-length client key still fits the user service once the gateway scopes it to the admin.
    body = {"name": "Kay", "email": f"{uuid4().hex}@campus.test", "role": "runner", "payout_account": "acct_k"}
    headers = {**gateway.admin.auth, "Idempotency-Key": "u" * 255}
    assert gateway.client.post("/api/users", json=body, headers=headers).status_code == 201
    assert gateway.client.post("/api/users", json=body, headers=headers).status_code == 201  # the replay


def test_a_body_above_max_content_length_is_413(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    body = {**ORDER, "store_location": "x" * (64 * 1024)}
    _error(gateway.place_order(customer, body), 413)


# --- every participant: the same rules from campus_common (web.py, validation.py, idempotency.py) ----

def _participant_like(database_url: str) -> Flask:
    """A service built as every participant is (create_service_app), with an idempotent, storing endpoint."""
    bp = Blueprint("probe", __name__)
    parse_name = required_text(50)

    @bp.post("/things")
    @idempotent
    def create_thing():
        body = json_body()

        def parse(data):
            fields = Fields(data)
            name = fields.read("name", parse_name)
            fields.done()
            return name
        return jsonify(name=parsed(parse, body), payload=body.get("payload")), 201

    @bp.post("/batch")
    @body_limit(256 * 1024)
    @idempotent
    def batch():
        return jsonify(size=len(json_body()["items"])), 201

    return create_service_app("probe", "user_service", [bp], {"DATABASE_URL": database_url})


@pytest.mark.parametrize("body", [_deep(1000), json.dumps({"name": "ok", "payload": {"note": NUL}}),
                                  json.dumps({"name": "ok", "payload": {"note": SURROGATE}}),
                                  json.dumps({"name": NUL}), json.dumps({"name": "ok", NUL: 1}), '{"name": "ok"'],
                         ids=["deep", "NUL in payload", "surrogate in payload", "NUL in a field", "NUL in a key",
                              "malformed"])
def test_participants_refuse_bad_bodies_with_4xx(clean_db: str, body: str) -> None:
    client = _participant_like(clean_db).test_client()
    _error(client.post("/things", data=body, content_type="application/json", headers={"Idempotency-Key": "k1"}),
           400, 422)


@pytest.mark.parametrize("key", ["k" * 256, "k" * 6000, "nul\u0000key", " "])
def test_participants_refuse_bad_idempotency_keys_with_400(clean_db: str, key: str) -> None:
    client = _participant_like(clean_db).test_client()
    _error(client.post("/things", json={"name": "ok"}, headers={"Idempotency-Key": key}), 400)
    assert client.post("/things", json={"name": "ok"}, headers={"Idempotency-Key": "k" * 255}).status_code == 201


def test_participants_answer_413_above_max_content_length(clean_db: str) -> None:
    client = _participant_like(clean_db).test_client()
    _error(client.post("/things", data="x" * (64 * 1024 + 1), content_type="application/json"), 413)
    # A view that needs more (the notification batch) says so, and still has a limit.
    assert client.post("/batch", json={"items": ["x" * 1000] * 200}).status_code == 201
    _error(client.post("/batch", json={"items": ["x" * 1000] * 300}), 413)


# --- what only the real server shows --------------------------------------------------------------

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
