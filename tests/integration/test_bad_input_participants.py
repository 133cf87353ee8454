"""Every participant refuses bad input the same way: the rules from campus_common (web.py,
validation.py, idempotency.py), on a service built as every participant is."""
from __future__ import annotations

import json

import pytest
from flask import Blueprint, Flask, jsonify

from campus_common.idempotency import idempotent
from campus_common.validation import Fields, parsed, required_text
from campus_common.web import body_limit, create_service_app, json_body
from tests.integration.bad_input import NUL, SURROGATE, deep_json, error_of


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


@pytest.mark.parametrize("body", [deep_json(1000), json.dumps({"name": "ok", "payload": {"note": NUL}}),
                                  json.dumps({"name": "ok", "payload": {"note": SURROGATE}}),
                                  json.dumps({"name": NUL}), json.dumps({"name": "ok", NUL: 1}), '{"name": "ok"'],
                         ids=["deep", "NUL in payload", "surrogate in payload", "NUL in a field", "NUL in a key",
                              "malformed"])
def test_participants_refuse_bad_bodies_with_4xx(clean_db: str, body: str) -> None:
    client = _participant_like(clean_db).test_client()
    error_of(client.post("/things", data=body, content_type="application/json", headers={"Idempotency-Key": "k1"}),
           400, 422)


@pytest.mark.parametrize("key", ["k" * 256, "k" * 6000, "nul\u0000key", " "])
def test_participants_refuse_bad_idempotency_keys_with_400(clean_db: str, key: str) -> None:
    client = _participant_like(clean_db).test_client()
    error_of(client.post("/things", json={"name": "ok"}, headers={"Idempotency-Key": key}), 400)
    assert client.post("/things", json={"name": "ok"}, headers={"Idempotency-Key": "k" * 255}).status_code == 201


def test_participants_answer_413_above_max_content_length(clean_db: str) -> None:
    client = _participant_like(clean_db).test_client()
    error_of(client.post("/things", data="x" * (64 * 1024 + 1), content_type="application/json"), 413)
    # A view that needs more (the notification batch) says so, and still has a limit.
    assert client.post("/batch", json={"items": ["x" * 1000] * 200}).status_code == 201
    error_of(client.post("/batch", json={"items": ["x" * 1000] * 300}), 413)
