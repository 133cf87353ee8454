"""Every participant endpoint refuses callers without a valid service credential (401) and callers the
operation is not for (403), and a refused call changes nothing in any schema."""
from __future__ import annotations

import importlib
import os
import time
import uuid
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import text

from api_gateway.auth import issue_token
from campus_common import service_auth
from campus_common.db import get_engine
from campus_common.service_auth import API_GATEWAY, SAGA_WORKERS
from tests.service_credentials import TrustedClient, bearer

W, G = SAGA_WORKERS, API_GATEWAY
USER, ORDER, PAYMENT = (str(uuid.uuid4()) for _ in range(3))
ORDER_BODY = {"order_id": str(uuid.uuid4()), "customer_id": USER, "saga_id": str(uuid.uuid4()),
              "items": [{"name": "Tea", "price": "2.50", "quantity": 1}], "store_location": "A",
              "delivery_location": "B"}
NOTE = {"user_id": USER, "type": "ORDER_CREATED", "order_id": ORDER, "payload": {}}
# (service, method, path, body, callers allowed): every route of every participant but /healthz.
ENDPOINTS: list[tuple[str, str, str, Any, set[str]]] = [
    ("user_service", "POST", "/users", {"name": "Eve", "email": "eve@campus.test", "role": "runner",
                                        "payout_account": "acct_eve"}, {G}),
    ("user_service", "GET", "/users?role=runner", None, {W}),
    ("user_service", "GET", f"/users/{USER}", None, {G, W}),
    ("user_service", "GET", f"/users/{USER}/card", None, {W}),
    ("user_service", "GET", f"/users/{USER}/payout-account", None, {W}),
    ("order_service", "POST", "/orders", ORDER_BODY, {W}),
    ("order_service", "GET", "/orders", None, {G, W}),
    ("order_service", "GET", f"/orders/{ORDER}", None, {G, W}),
    ("order_service", "POST", f"/orders/{ORDER}/mark-created", None, {W}),
    ("order_service", "POST", f"/orders/{ORDER}/cancel", {"reason": "x", "expected_status": "CREATED"}, {W}),
    ("order_service", "POST", f"/orders/{ORDER}/accept", {"runner_id": USER}, {W}),
    ("order_service", "POST", f"/orders/{ORDER}/undo-accept", {"runner_id": USER}, {W}),
    ("order_service", "PUT", f"/orders/{ORDER}/status", {"status": "PLACED", "runner_id": USER}, {G}),
    ("order_service", "POST", f"/orders/{ORDER}/complete", None, {W}),
    ("payment_service", "POST", "/payments/authorize", {"order_id": ORDER, "customer_id": USER, "amount": "9.99",
                                                        "card_token": "tok_visa"}, {W}),
    ("payment_service", "POST", "/payments/release", {"order_id": ORDER}, {W}),
    ("payment_service", "POST", "/payments/capture", {"order_id": ORDER, "payout_account": "acct_attacker"}, {W}),
    ("payment_service", "POST", "/payments/refund", {"order_id": ORDER, "undoes": "x:capture_payment:action"}, {W}),
    ("payment_service", "GET", f"/payments?order_id={ORDER}", None, {G, W}),
    ("payment_service", "GET", f"/payments/{PAYMENT}", None, {G, W}),
    ("notification_service", "POST", "/notifications", NOTE, {G}),
    ("notification_service", "POST", "/notifications/batch", {"notifications": [NOTE]}, {W}),
    ("notification_service", "GET", f"/notifications?user_id={USER}", None, {G}),
]
IDS = [f"{service}:{method} {path.split('?')[0]}" for service, method, path, _, _ in ENDPOINTS]


@pytest.fixture(scope="module")
def apps(database_url: str) -> dict[str, Flask]:
    return {name: importlib.import_module(name).create_app({"DATABASE_URL": database_url})
            for name in ("user_service", "order_service", "payment_service", "notification_service")}


def fingerprint(database_url: str) -> dict[str, str]:
    """A digest of every row of every participant table, idempotency records included."""
    with get_engine(database_url).connect() as conn:
        tables = conn.execute(text("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname "
                                   "IN ('user_service', 'order_service', 'payment_service', 'notification_service') "
                                   "AND tablename <> 'schema_migrations'")).scalars().all()
        return {t: conn.execute(text(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                                     f"FROM {t} x")).scalar_one() for t in tables}


@pytest.fixture()
def world(apps: dict[str, Flask], clean_db: str) -> dict[str, Any]:
    """A customer, an order CREATED and its payment AUTHORIZED: what a stolen call would move."""
    users = TrustedClient(apps["user_service"], apps["user_service"].response_class)
    customer = users.post("/users", json={"name": "Ada", "email": f"{uuid.uuid4().hex}@campus.test",
                                          "role": "customer", "card_token": "tok_visa"}).get_json()
    orders = TrustedClient(apps["order_service"], apps["order_service"].response_class)
    order = orders.post("/orders", json={**ORDER_BODY, "order_id": ORDER, "customer_id": customer["user_id"]})
    assert orders.post(f"/orders/{ORDER}/mark-created").status_code == 200, order.get_json()
    payments = TrustedClient(apps["payment_service"], apps["payment_service"].response_class)
    assert payments.post("/payments/authorize", json={"order_id": ORDER, "customer_id": customer["user_id"],
                                                      "amount": "6.49", "card_token": "tok_visa"}).status_code == 201
    return {"before": fingerprint(clean_db)}


def send(apps: dict[str, Flask], service: str, method: str, path: str, body: Any,
         headers: dict[str, str]) -> Any:
    client = apps[service].test_client()
    # An admitted call with a key always leaves a trace (its stored answer): "nothing changed" can fail.
    headers = {**headers, "Idempotency-Key": f"probe-{uuid.uuid4().hex}"} if method != "GET" else headers
    return client.open(path, method=method, json=body, headers=headers)


def signed(claims: dict[str, Any], caller: str = SAGA_WORKERS) -> dict[str, str]:
    """A token signed with ``caller``'s real key, with whatever claims the test wants."""
    private = service_auth.load_private_key(service_auth.signing_key_text(caller))
    token = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": service_auth.key_id(private.public_key())})
    return {"Authorization": f"Bearer {token}"}


def allowed(callers: set[str]) -> str:
    return next(c for c in service_auth.CALLERS if c in callers)


def refusals(service: str, callers: set[str]) -> dict[str, dict[str, str]]:
    """Credentials that must each get a 401."""
    caller, now = allowed(callers), int(time.time())
    other = next(name for name in ("user_service", "order_service") if name != service)
    valid = {"iss": caller, "aud": service, "iat": now, "exp": now + 60}
    forger = service_auth.load_private_key(service_auth.generate_private_key())
    user_secret = os.environ.get("GATEWAY_JWT_SECRET") or "a-gateway-user-token-secret-of-40-bytes!"
    forged = jwt.encode(valid, forger, algorithm="EdDSA", headers={"kid": service_auth.key_id(forger.public_key())})
    return {
        "none": {},
        "not bearer": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "wrong audience": bearer(caller, other),
        "expired": signed({**valid, "iat": now - 600, "exp": now - 300}, caller),
        "exp as a string": signed({**valid, "exp": str(now + 60)}, caller),
        "no iat": signed({k: v for k, v in valid.items() if k != "iat"}, caller),
        "too long-lived": signed({**valid, "exp": now + 86400}, caller),
        "issuer not its key's owner": signed({**valid, "iss": ({G, W} - {caller}).pop()}, caller),
        "unknown key": {"Authorization": f"Bearer {forged}"},
        "gateway user token": {"Authorization": "Bearer " + issue_token(str(uuid.uuid4()), "admin", user_secret)},
    }


@pytest.mark.parametrize(("service", "method", "path", "body", "callers"), ENDPOINTS, ids=IDS)
def test_a_call_without_a_valid_service_credential_is_401_and_changes_nothing(
        apps, world, clean_db, service, method, path, body, callers) -> None:
    for what, headers in refusals(service, callers).items():
        response = send(apps, service, method, path, body, headers)
        assert response.status_code == 401, (what, response.get_json())
        error = response.get_json()["error"]
        assert set(error) == {"code", "message", "details"} and error["code"] in (
            "service_credential_required", "invalid_service_token", "service_token_expired"), what
    assert fingerprint(clean_db) == world["before"]


ONE_CALLER = [(endpoint, name) for endpoint, name in zip(ENDPOINTS, IDS) if endpoint[4] != {G, W}]


@pytest.mark.parametrize(("service", "method", "path", "body", "callers"), [e for e, _ in ONE_CALLER],
                         ids=[name for _, name in ONE_CALLER])
def test_a_caller_the_operation_is_not_for_is_403_and_changes_nothing(
        apps, world, clean_db, service, method, path, body, callers) -> None:
    intruder = ({G, W} - callers).pop()
    response = send(apps, service, method, path, body, bearer(intruder, service))
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "caller_not_allowed"
    assert fingerprint(clean_db) == world["before"]


@pytest.mark.parametrize(("service", "method", "path", "body", "callers"), ENDPOINTS, ids=IDS)
def test_an_allowed_caller_gets_through(apps, world, service, method, path, body, callers) -> None:
    for caller in callers:
        response = send(apps, service, method, path, body, bearer(caller, service))
        assert response.status_code not in (401, 403), (caller, response.get_json())


def test_the_table_covers_every_route_and_health_stays_open(apps) -> None:
    routes = {(name, method, rule.rule) for name, app in apps.items() for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"} if rule.endpoint not in ("static", "healthz")}
    covered = set()
    for service, method, path, _, _ in ENDPOINTS:
        endpoint, _ = apps[service].url_map.bind("localhost").match(path.split("?")[0], method)
        covered |= {(service, method, r.rule) for r in apps[service].url_map.iter_rules(endpoint)}
    assert routes == covered
    for app in apps.values():
        assert app.test_client().get("/healthz").status_code == 200


def test_the_gateway_may_not_capture_and_sees_no_card_or_payout_account(apps, world, clean_db) -> None:
    capture = send(apps, "payment_service", "POST", "/payments/capture",
                   {"order_id": ORDER, "payout_account": "acct_attacker"}, bearer(G, "payment_service"))
    users = send(apps, "user_service", "GET", "/users", None, bearer(G, "user_service"))
    listed = send(apps, "user_service", "GET", "/users?role=customer", None, bearer(W, "user_service"))

    assert capture.status_code == 403 and users.status_code == 403
    assert listed.status_code == 200 and listed.get_json()["users"]
    assert all("card_token" not in u and "payout_account" not in u for u in listed.get_json()["users"])
    assert fingerprint(clean_db) == world["before"]
