"""History is bounded: old finished sagas and expired idempotency keys go; nothing that can still act."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text

from campus_common.config import Settings, load_settings
from campus_common.db import Database
from campus_common.key_retention import purge_expired_keys
from saga_workers import retention
from saga_workers.service import SagaNotRetryable, retry_saga
from tests.integration.test_idempotent_endpoints import make_app


def _db() -> Database:
    return Database(load_settings().database_url)


def saga(schema: str, status: str, days_ago: float, steps: int = 3) -> str:
    """A saga row last changed ``days_ago`` days ago, with one step-log row per step."""
    saga_id = str(uuid.uuid4())
    with _db().unit_of_work() as session:
        session.execute(text(
            f"INSERT INTO {schema}.saga_instances (saga_id, saga_type, status, current_step, payload, "
            "definition_version, created_at, updated_at) VALUES (:id, :type, :status, 0, '{}', '1', "
            "now() - make_interval(secs => :age), now() - make_interval(secs => :age))"),
            {"id": saga_id, "type": schema.removesuffix("_saga"), "status": status, "age": days_ago * 86400})
        session.execute(text(
            f"INSERT INTO {schema}.saga_step_log (saga_id, step_index, step_name, phase, round, attempt, status) "
            "SELECT :id, i, 'step' || i, 'action', 1, 1, 'DONE' FROM generate_series(0, :n - 1) i"),
            {"id": saga_id, "n": steps})
    return saga_id


def remaining(schema: str) -> tuple[set[str], set[str]]:
    """Saga ids left in the instances table and in the step log."""
    with _db().unit_of_work() as session:
        sagas = {str(r[0]) for r in session.execute(text(f"SELECT saga_id FROM {schema}.saga_instances"))}
        logged = {str(r[0]) for r in session.execute(text(f"SELECT DISTINCT saga_id FROM {schema}.saga_step_log"))}
    return sagas, logged


def timer(status: str, days_ago: float) -> str:
    order_id = str(uuid.uuid4())
    with _db().unit_of_work() as session:
        session.execute(text(
            "INSERT INTO saga_timers.accept_timeouts (order_id, saga_id, deadline, status, updated_at) "
            "VALUES (:o, :o, now(), :s, now() - make_interval(secs => :age))"),
            {"o": order_id, "s": status, "age": days_ago * 86400})
    return order_id


@pytest.fixture()
def retention_env(rewire, clean_db):
    rewire(saga_retention_days=30.0, saga_retention_batch=3)
    return rewire


def test_retention_deletes_only_old_finished_sagas_with_their_logs_in_bounded_batches(retention_env):
    schema = "create_order_saga"
    old_finished = {saga(schema, s, 40) for s in ["COMPLETED"] * 5 + ["COMPENSATED"] * 2}
    kept = {saga(schema, s, 400) for s in ("FAILED", "FAILED", "STARTED", "COMPENSATING")}
    kept |= {saga(schema, "COMPLETED", 29), saga(schema, "COMPENSATED", 1)}
    other_type_old = saga("accept_order_saga", "COMPLETED", 31)
    timers_kept = {timer("ARMED", 400), timer("DISARMED", 10)}
    timer("DISARMED", 40), timer("FIRED", 40)

    retention_env(saga_retention_max_batches=1)
    first = retention.purge_finished()
    retention_env(saga_retention_max_batches=10)
    rest = retention.purge_finished()

    assert first[schema] == 3, "one batch per run at most"
    assert rest[schema] == 4 and first["accept_order_saga"] + rest["accept_order_saga"] == 1
    sagas, logged = remaining(schema)
    assert sagas == kept and logged == kept, "FAILED, unfinished and recent sagas stay with their logs"
    assert not old_finished & (sagas | logged)
    assert other_type_old not in remaining("accept_order_saga")[0]
    with _db().unit_of_work() as session:
        timers = {str(r[0]) for r in session.execute(text("SELECT order_id FROM saga_timers.accept_timeouts"))}
    assert timers == timers_kept
    assert retention.purge_finished()[schema] == 0


def test_beat_runs_retention_on_the_maintenance_queue(worker, saga_app, retention_env):
    old = saga("complete_order_saga", "COMPLETED", 45)
    failed = saga("complete_order_saga", "FAILED", 45)
    entry = saga_app.conf.beat_schedule["purge-finished-sagas"]
    assert saga_app.amqp.router.route({}, entry["task"])["queue"].name == "saga_maintenance"

    saga_app.send_task(entry["task"])
    deadline = time.monotonic() + 20
    while old in remaining("complete_order_saga")[0]:
        assert time.monotonic() < deadline, "the worker never ran the retention task"
        time.sleep(0.1)
    assert remaining("complete_order_saga")[0] == {failed}


def age_key(key: str, days: float) -> None:
    with _db().unit_of_work() as session:
        session.execute(text("UPDATE user_service.idempotency_keys SET created_at = now() - make_interval(secs => :a) "
                             "WHERE key = :k"), {"a": days * 86400, "k": key})


def keys() -> set[str]:
    with _db().unit_of_work() as session:
        return {r[0] for r in session.execute(text("SELECT key FROM user_service.idempotency_keys"))}


def test_participants_purge_expired_keys_but_keep_what_a_redelivery_or_retry_can_still_send(
        clean_db, monkeypatch):
    monkeypatch.setenv("IDEMPOTENCY_KEY_RETENTION_DAYS", "90")
    monkeypatch.setenv("IDEMPOTENCY_PURGE_INTERVAL_SECONDS", "0")
    client = make_app(clean_db).test_client()
    for prefix in ("old", "recent"):
        assert client.post("/act", json={}, headers={"Idempotency-Key": f"{prefix}:act:action"}).status_code == 201
        # A compensation that came first leaves a guard: the late action must be refused
        client.post("/undo", json={}, headers={"Idempotency-Key": f"{prefix}-guard:act:compensation"})
    for key in keys():
        age_key(key, 91 if key.startswith("old") else 89)

    response = client.post("/act", json={}, headers={"Idempotency-Key": "recent:act:action"})  # a late redelivery
    response.close()  # the purge runs after the response went out

    assert keys() == {"recent:act:action", "recent-guard:act:action", "recent-guard:act:compensation"}
    assert response.status_code == 201 and response.headers["Idempotent-Replay"] == "true", "answered, not redone"
    late = client.post("/act", json={}, headers={"Idempotency-Key": "recent-guard:act:action"})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "already_compensated"


def test_key_purge_goes_in_batches_and_refuses_a_window_a_retry_could_outlast(clean_db, monkeypatch):
    client = make_app(clean_db).test_client()
    for n in range(7):
        client.post("/act", json={}, headers={"Idempotency-Key": f"k{n}"})
        age_key(f"k{n}", 100)
    db = Database(clean_db)

    assert purge_expired_keys(db, "user_service", load_settings(), batch=3, max_batches=2) == 6
    assert len(keys()) == 1
    monkeypatch.setenv("IDEMPOTENCY_KEY_RETENTION_DAYS", "0.5")
    with pytest.raises(ValueError, match="shorter than a day plus the longest retry"):
        purge_expired_keys(db, "user_service", load_settings())


def test_a_failed_saga_older_than_the_key_window_is_not_retried_blindly(clean_db, rewire):
    rewire(idempotency_key_retention_days=90.0)
    ancient = saga("create_order_saga", "FAILED", 89.5)
    with pytest.raises(SagaNotRetryable, match="too long ago to retry"):
        retry_saga(ancient)


def test_the_gateway_which_keeps_no_idempotency_keys_never_tries_to_purge_them(
        live_participants: object, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from api_gateway import create_app
    from tests.integration.gateway_fixtures import SECRET

    app = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET, "TESTING": True},
                     settings=Settings(idempotency_purge_interval_seconds=0.0))
    with caplog.at_level("INFO", logger="campus_common.key_retention"):
        for _ in range(2):
            app.test_client().get("/healthz").close()
    assert not [r for r in caplog.records if r.name == "campus_common.key_retention"]
