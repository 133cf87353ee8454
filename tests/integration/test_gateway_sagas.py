"""Saga views, the operator's retry, and the gateway's health check."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from api_gateway import create_app
from devstack.procs import free_port
from tests.integration.gateway_fixtures import SECRET, Gateway, User, eager_sagas, failed_saga, gateway  # noqa: F401


def _place(gateway: Gateway, customer: User) -> dict:
    response = gateway.place_order(customer)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_saga_view_shows_every_step(gateway: Gateway) -> None:
    customer = gateway.create_user("customer")
    started = _place(gateway, customer)

    saga = gateway.client.get(started["status_url"], headers=customer.auth).get_json()
    assert saga["saga_id"] == started["saga_id"] and saga["order_id"] == started["order_id"]
    assert saga["saga_type"] == "create_order" and saga["status"] == "COMPLETED"
    assert {"current_step", "error", "created_at", "updated_at"} <= set(saga)
    assert saga["steps"] and all(step["status"] for step in saga["steps"])
    assert {"name", "phase", "status", "attempts", "started_at", "finished_at", "error"} <= set(saga["steps"][0])


def test_saga_view_is_for_the_people_it_concerns(gateway: Gateway) -> None:
    customer, stranger = gateway.create_user("customer"), gateway.create_user("customer")
    runner, rival = gateway.create_user("runner"), gateway.create_user("runner")
    order_id = _place(gateway, customer)["order_id"]
    accept_url = gateway.client.post(f"/api/orders/{order_id}/accept", headers=runner.auth).get_json()["status_url"]

    assert gateway.client.get(accept_url, headers=runner.auth).get_json()["status"] == "COMPLETED"
    assert gateway.client.get(accept_url, headers=customer.auth).status_code == 200
    assert gateway.client.get(accept_url, headers=gateway.admin.auth).status_code == 200
    assert gateway.client.get(accept_url, headers=stranger.auth).status_code == 403
    assert gateway.client.get(accept_url, headers=rival.auth).status_code == 403


@pytest.mark.parametrize("saga_id", [str(uuid4()), "nope"])
def test_unknown_saga_is_404(gateway: Gateway, saga_id: str) -> None:
    assert gateway.client.get(f"/api/sagas/{saga_id}", headers=gateway.admin.auth).status_code == 404
    assert gateway.client.post(f"/api/sagas/{saga_id}/retry", headers=gateway.admin.auth).status_code == 404


def test_only_a_failed_saga_can_be_retried(gateway: Gateway) -> None:
    saga_id = _place(gateway, gateway.create_user("customer"))["saga_id"]
    response = gateway.client.post(f"/api/sagas/{saga_id}/retry", headers=gateway.admin.auth)
    assert response.status_code == 409


def test_saga_list_pages_newest_first_and_customers_see_their_own(gateway: Gateway) -> None:
    customer, other = gateway.create_user("customer"), gateway.create_user("customer")
    mine = [_place(gateway, customer)["saga_id"] for _ in range(3)]
    theirs = _place(gateway, other)["saga_id"]

    seen, cursor = [], None
    while True:
        query = "/api/sagas?type=create_order&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = gateway.client.get(query, headers=gateway.admin.auth).get_json()
        assert len(page["sagas"]) <= 2
        seen += [saga["saga_id"] for saga in page["sagas"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [theirs, *reversed(mine)]
    own = gateway.client.get("/api/sagas", headers=customer.auth).get_json()
    assert [saga["saga_id"] for saga in own["sagas"]] == list(reversed(mine))


def test_saga_list_filters_by_type_and_status(gateway: Gateway) -> None:
    _place(gateway, gateway.create_user("customer"))
    declined = _place(gateway, gateway.create_user("customer", card_token="tok_chargeDeclined"))["saga_id"]

    def ids(query: str) -> list[str]:
        response = gateway.client.get(f"/api/sagas?{query}", headers=gateway.admin.auth)
        assert response.status_code == 200, response.get_json()
        return [saga["saga_id"] for saga in response.get_json()["sagas"]]

    assert ids("status=COMPENSATED") == [declined]
    assert ids("type=accept_order") == []
    assert len(ids("type=create_order")) == 2
    for query in ("type=nope", "status=DONE", "limit=0", "limit=abc"):
        assert gateway.client.get(f"/api/sagas?{query}", headers=gateway.admin.auth).status_code == 422


def test_healthz_is_cheap_and_readyz_checks_every_dependency(gateway: Gateway) -> None:
    assert gateway.client.get("/healthz").get_json() == {"status": "ok", "service": "api_gateway"}
    response = gateway.client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"] == {name: "ok" for name in (
        "postgres", "redis", "user_service", "order_service", "payment_service", "notification_service")}


def test_readyz_is_503_while_a_participant_is_down(gateway: Gateway, live_participants) -> None:
    with live_participants.payment_service.down():
        response = gateway.client.get("/readyz")
        assert gateway.client.get("/healthz").status_code == 200, "liveness does not depend on others"
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "not_ready" and "payment_service" in error["message"]
    assert error["details"]["payment_service"] == "unavailable" and error["details"]["order_service"] == "ok"


def test_readyz_is_503_when_the_broker_or_postgres_is_down(database_url: str, redis_url: str,
                                                          live_participants) -> None:
    dead_redis = create_app({"DATABASE_URL": database_url, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                             "GATEWAY_JWT_SECRET": SECRET})
    response = dead_redis.test_client().get("/readyz")
    assert response.status_code == 503
    details = response.get_json()["error"]["details"]
    assert (details["redis"], details["postgres"]) == ("unavailable", "ok")
    dead_pg = create_app({"DATABASE_URL": f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none",
                          "GATEWAY_JWT_SECRET": SECRET})
    response = dead_pg.test_client().get("/readyz")
    assert response.status_code == 503
    details = response.get_json()["error"]["details"]
    assert (details["postgres"], details["redis"]) == ("unavailable", "ok")


def test_admin_retries_a_failed_saga_to_its_end(gateway: Gateway, live_participants: Any,
                                                rewire: Callable[..., Any]) -> None:
    saga_id = failed_saga(gateway, live_participants, rewire)

    response = gateway.client.post(f"/api/sagas/{saga_id}/retry", headers=gateway.admin.auth)
    assert response.status_code == 202 and response.get_json()["saga_id"] == saga_id
    assert gateway.saga(saga_id)["status"] == "COMPENSATED"
    assert gateway.client.post(f"/api/sagas/{saga_id}/retry", headers=gateway.admin.auth).status_code == 409


def test_saga_store_outage_is_503(gateway: Gateway) -> None:
    # A gateway whose saga store is out of reach: its URL is the app's, so another app.
    unreachable = create_app({"DATABASE_URL": f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none",
                              "GATEWAY_JWT_SECRET": SECRET, "TESTING": True})
    response = unreachable.test_client().get("/api/sagas", headers=gateway.admin.auth)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "service_unavailable"
