"""Rate limits on the test Redis: per user on state-changing calls, per address on failed authentication."""
from __future__ import annotations

import random
from uuid import uuid4

import pytest

from api_gateway import create_app
from campus_common.config import Settings
from devstack.procs import free_port
from tests.integration.gateway_fixtures import ORDER, SECRET, bearer, eager_sagas  # noqa: F401


@pytest.fixture()
def limited(live_participants, database_url: str, redis_url: str, eager_sagas: None):
    """A gateway with small limits as a test client, calling from an address of its own (fresh counters)."""
    limits = Settings(rate_limit_user_writes="3 per minute", rate_limit_auth_failures="4 per minute")
    client = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET}, settings=limits).test_client()
    client.environ_base["REMOTE_ADDR"] = _fresh_address()
    return client


def _fresh_address() -> str:
    return "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3))


def _assert_429(response) -> None:
    assert response.status_code == 429, response.get_json()
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert set(response.get_json()["error"]) == {"code", "message", "details"}
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_state_changing_calls_are_limited_per_user(limited) -> None:
    admin = bearer(str(uuid4()), "admin")
    customer_ids = []
    for index in range(3):
        body = {"name": "C", "email": f"{uuid4().hex}@campus.test", "role": "customer", "card_token": "tok_visa"}
        response = limited.post("/api/users", json=body, headers=admin)
        assert response.status_code == 201, (index, response.get_json())
        customer_ids.append(response.get_json()["user_id"])
    body = {"name": "C", "email": f"{uuid4().hex}@campus.test", "role": "customer", "card_token": "tok_visa"}
    _assert_429(limited.post("/api/users", json=body, headers=admin))

    assert limited.get("/api/sagas", headers=admin).status_code == 200  # reads are not limited
    customer = bearer(customer_ids[0], "customer")  # another user has a budget of their own
    assert limited.post("/api/orders", json=ORDER, headers=customer).status_code == 202


def test_failed_authentication_is_limited_per_address(limited) -> None:
    for _ in range(4):
        assert limited.get("/api/sagas", headers={"Authorization": "Bearer forged"}).status_code == 401
    _assert_429(limited.get("/api/sagas", headers={"Authorization": "Bearer forged"}))
    # The address is throttled for the window, whatever it presents now.
    _assert_429(limited.get("/api/sagas", headers=bearer(str(uuid4()), "admin")))
    other = {"REMOTE_ADDR": _fresh_address()}
    assert limited.get("/api/sagas", headers=bearer(str(uuid4()), "admin"), environ_base=other).status_code == 200


def test_successful_calls_do_not_count_as_failures(limited) -> None:
    admin = bearer(str(uuid4()), "admin")
    for _ in range(10):
        assert limited.get("/api/sagas", headers=admin).status_code == 200


def test_redis_down_fails_open_not_500(live_participants, database_url: str, eager_sagas: None) -> None:
    client = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET,
                         "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
                        settings=Settings(rate_limit_user_writes="2 per minute")).test_client()
    admin = bearer(str(uuid4()), "admin")
    assert client.get("/api/sagas", headers=admin).status_code == 200
    assert client.get("/api/sagas", headers={"Authorization": "Bearer forged"}).status_code == 401
    statuses = []
    for _ in range(3):
        body = {"name": "C", "email": f"{uuid4().hex}@campus.test", "role": "runner", "payout_account": "acct_1"}
        statuses.append(client.post("/api/users", json=body, headers=admin).status_code)
    # In-memory counters stand in for Redis meanwhile: the limit still holds in this process.
    assert statuses == [201, 201, 429]
