"""campus_common.idempotency on a real app and schema: replays, key reuse, late actions."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from campus_common.errors import NotFound
from campus_common.idempotency import current_session, forbid_late_action, idempotent
from campus_common.web import create_service_app

CALLS: list[str] = []


def make_app(database_url: str) -> Flask:
    bp = Blueprint("probe", __name__)

    @bp.post("/act")
    @idempotent
    def act():
        CALLS.append("act")
        return jsonify(done=len(CALLS)), 201

    @bp.post("/undo")
    @idempotent
    def undo():
        from flask import request

        forbid_late_action(current_session(), request.headers.get("Idempotency-Key"))
        raise NotFound("nothing to undo")  # a refusal: its rollback must keep the guard

    # The user service's schema has the shared idempotency_keys table.
    return create_service_app("probe", "user_service", [bp], {"DATABASE_URL": database_url})


def test_a_repeat_gets_the_first_answer_and_a_reused_key_is_refused(clean_db):
    CALLS.clear()
    client = make_app(clean_db).test_client()
    first = client.post("/act", json={"a": 1}, headers={"Idempotency-Key": "k1"})
    again = client.post("/act", json={"a": 1}, headers={"Idempotency-Key": "k1"})
    reused = client.post("/act", json={"a": 2}, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replay"] == "true"
    assert CALLS == ["act"], "acted once"
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "idempotency_key_reused"


def test_a_compensation_that_finds_nothing_still_refuses_the_late_action(clean_db):
    CALLS.clear()
    client = make_app(clean_db).test_client()
    undone = client.post("/undo", json={}, headers={"Idempotency-Key": "s1:step:compensation"})
    late = client.post("/act", json={}, headers={"Idempotency-Key": "s1:step:action"})
    assert undone.status_code == 404
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "already_compensated"
    assert CALLS == []
