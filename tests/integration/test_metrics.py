"""``GET /metrics`` on the gateway: sagas run by a real worker show up as counts, step histograms and gauges."""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from api_gateway import create_app
from api_gateway.metrics import SagaGauges
from campus_common.config import Settings
from campus_common.db import Database
from saga_workers.registry import WORKER_QUEUES
from saga_workers.runtime import runner_for
from tests.integration.gateway_fixtures import ORDER, SECRET, Gateway, User
from tests.integration.saga_helpers import create_user, order_payload, wait_for_saga

Samples = dict[tuple[str, frozenset], float]


def scrape(gateway: Gateway) -> Samples:
    """Every sample of the exposition, by (name, labels)."""
    response = gateway.client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture()
def gateway(worker: Any, database_url: str, redis_url: str) -> Gateway:
    """The gateway in front of a real worker (sagas are not eager here)."""
    app = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET, "TESTING": True},
                     settings=Settings(saga_stall_seconds=2))
    return Gateway(app.test_client(), User(str(uuid.uuid4()), "admin"))


def place(gateway: Gateway, card_token: str) -> str:
    customer = gateway.create_user("customer", card_token=card_token)
    response = gateway.place_order(customer, ORDER)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["saga_id"]


def test_sagas_run_by_a_worker_are_counted_with_their_step_durations(gateway: Gateway):
    before = scrape(gateway)

    assert wait_for_saga(place(gateway, "tok_visa"))["status"] == "COMPLETED"
    assert wait_for_saga(place(gateway, "tok_chargeDeclined"))["status"] == "COMPENSATED"
    after = scrape(gateway)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("campus_saga_started_total", saga_type="create_order") == 2
    assert delta("campus_saga_ended_total", saga_type="create_order", outcome="completed") == 1
    assert delta("campus_saga_ended_total", saga_type="create_order", outcome="compensated") == 1
    authorize = dict(saga_type="create_order", step="authorize_payment", phase="action")
    assert delta("campus_saga_step_duration_seconds_count", **authorize, outcome="done") == 1
    assert delta("campus_saga_step_duration_seconds_count", **authorize, outcome="refused") == 1
    assert delta("campus_saga_step_duration_seconds_count", saga_type="create_order", step="create_order",
                 phase="compensation", outcome="done") == 1
    assert delta("campus_saga_step_duration_seconds_bucket", **authorize, outcome="done", le="+Inf") == 1
    assert value(after, "campus_saga_step_duration_seconds_sum", **authorize, outcome="done") > 0
    assert value(after, "campus_saga_scrape_error", source="postgres") == 0
    assert value(after, "campus_saga_scrape_error", source="redis") == 0


def test_a_failed_saga_shows_in_the_gauge_and_its_retries_are_counted(gateway: Gateway, live_participants: Any):
    before = scrape(gateway)
    assert value(before, "campus_saga_failed", saga_type="create_order") == 0

    with live_participants.notification_service.down():  # the last step, after the pivot, cannot finish
        assert wait_for_saga(place(gateway, "tok_visa"), timeout=60)["status"] == "FAILED"
    after = scrape(gateway)

    assert value(after, "campus_saga_failed", saga_type="create_order") == 1
    assert value(after, "campus_saga_failed", saga_type="accept_order") == 0
    retries = dict(saga_type="create_order", step="notify", phase="action")
    assert value(after, "campus_saga_step_retries_total", **retries) - value(
        before, "campus_saga_step_retries_total", **retries) >= 1
    assert value(after, "campus_saga_ended_total", saga_type="create_order", outcome="failed") - value(
        before, "campus_saga_ended_total", saga_type="create_order", outcome="failed") == 1


def test_a_saga_without_progress_counts_as_stalled(gateway: Gateway):
    customer = create_user("customer")
    # Committed but never published, as when Redis is lost right after the commit.
    runner_for("create_order").store.create(str(uuid.uuid4()), order_payload(customer), None)

    assert value(scrape(gateway), "campus_saga_stalled", saga_type="create_order") == 0
    deadline = time.monotonic() + 10  # SAGA_STALL_SECONDS is 2 here
    while value(scrape(gateway), "campus_saga_stalled", saga_type="create_order") != 1:
        assert time.monotonic() < deadline, "the saga never counted as stalled"
        time.sleep(0.25)


def test_queue_depth_counts_every_priority_level_of_a_queue(database_url: str, redis_url: str):
    # A Redis database of its own, which the test worker does not consume.
    other = redis_url.rsplit("/", 1)[0] + "/7"
    client = redis.Redis.from_url(other)
    client.flushdb()
    client.lpush("accept_order_saga", "m1", "m2")
    client.lpush("accept_order_saga\x06\x163", "m3")  # kombu's list for priority level 3
    gauges = SagaGauges(Database(database_url), other, 120, {})

    families = {family.name: family for family in gauges.collect()}

    depth = {sample.labels["queue"]: sample.value for sample in families["campus_saga_queue_depth"].samples}
    assert depth == {**{queue: 0 for queue in WORKER_QUEUES}, "accept_order_saga": 3}
    client.flushdb()


def test_an_unreachable_source_is_reported_not_a_failed_scrape(database_url: str):
    gauges = SagaGauges(Database(database_url), "redis://127.0.0.1:1/0", 120, {})

    families = {family.name: family for family in gauges.collect()}

    errors = {sample.labels["source"]: sample.value for sample in families["campus_saga_scrape_error"].samples}
    assert errors == {"postgres": 0, "redis": 1}
    assert "campus_saga_queue_depth" not in families and "campus_saga_failed" in families


def test_a_worker_serves_its_own_metrics_on_metrics_port(rewire: Callable[..., Any]):
    import requests

    from devstack.procs import free_port
    from saga_workers import metrics, metrics_server

    port = free_port()
    rewire(metrics_port=port)
    server, _ = metrics_server.serve_metrics()
    try:
        metrics.saga_started("accept_order")
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()

    assert 'campus_saga_started_total{saga_type="accept_order"}' in body
    assert "campus_saga_failed" not in body, "the gauges come from the gateway only"
