"""Gateway auth: who may call what (401 without a valid token, 403 for the wrong role or someone else's order)."""
from __future__ import annotations

import subprocess
import sys
from uuid import uuid4

import jwt
import pytest

from tests.integration.gateway_fixtures import SECRET, Gateway, bearer, eager_sagas, gateway  # noqa: F401

ANY_ORDER = f"/api/orders/{uuid4()}"


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code
    return error


@pytest.mark.parametrize("method, path", [("GET", ANY_ORDER), ("POST", "/api/orders"), ("GET", "/api/sagas"),
                                          ("POST", "/api/users"), ("GET", "/api/orders")])
def test_no_token_is_401_with_a_bearer_challenge(gateway: Gateway, method: str, path: str) -> None:
    response = gateway.client.open(path, method=method, json={})
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer ",
                                    bearer(str(uuid4()), "admin", secret="another-secret-of-32-bytes-or-more")
                                    ["Authorization"]])
def test_bad_token_is_401(gateway: Gateway, header: str) -> None:
    response = gateway.client.get(ANY_ORDER, headers={"Authorization": header})
    assert response.status_code == 401


def test_expired_token_is_401(gateway: Gateway) -> None:
    response = gateway.client.get(ANY_ORDER, headers=bearer(str(uuid4()), "admin", ttl=-5))
    _error(response, 401, "token_expired")


@pytest.mark.parametrize("claims", [{"sub": str(uuid4()), "role": "superuser"}, {"sub": "alice", "role": "admin"},
                                    {"role": "admin"}, {"sub": str(uuid4())}])
def test_token_with_bad_claims_is_401(gateway: Gateway, claims: dict) -> None:
    token = jwt.encode({**claims, "exp": 4102444800}, SECRET, algorithm="HS256")
    _error(gateway.client.get(ANY_ORDER, headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")


def test_token_without_expiry_is_401(gateway: Gateway) -> None:
    token = jwt.encode({"sub": str(uuid4()), "role": "admin"}, SECRET, algorithm="HS256")
    _error(gateway.client.get(ANY_ORDER, headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")


@pytest.mark.parametrize("role, method, path", [
    ("runner", "POST", "/api/orders"), ("admin", "POST", "/api/orders"), ("customer", "POST", "/api/users"),
    ("runner", "POST", "/api/users"), ("customer", "GET", "/api/orders"), ("runner", "GET", "/api/sagas"),
    ("customer", "POST", f"/api/sagas/{uuid4()}/retry"), ("customer", "POST", f"{ANY_ORDER}/accept"),
    ("runner", "POST", f"{ANY_ORDER}/cancel"), ("customer", "PUT", f"{ANY_ORDER}/status")])
def test_wrong_role_is_403(gateway: Gateway, role: str, method: str, path: str) -> None:
    response = gateway.client.open(path, method=method, json={}, headers=bearer(str(uuid4()), role))
    _error(response, 403, "forbidden")


def test_someone_elses_order_is_403(gateway: Gateway) -> None:
    owner, stranger = gateway.create_user("customer"), gateway.create_user("customer")
    runner = gateway.create_user("runner")
    order_id = gateway.place_order(owner).get_json()["order_id"]
    path = f"/api/orders/{order_id}"

    assert gateway.client.get(path, headers=owner.auth).status_code == 200
    _error(gateway.client.get(path, headers=stranger.auth), 403, "not_your_order")
    _error(gateway.client.get(path, headers=runner.auth), 403, "not_your_order")  # not assigned to it
    _error(gateway.client.post(f"{path}/cancel", headers=stranger.auth), 403, "not_your_order")
    _error(gateway.client.put(f"{path}/status", json={"status": "PLACED"}, headers=runner.auth), 403)
    _error(gateway.client.post(f"{path}/complete", headers=runner.auth), 403)


def test_token_cli_prints_a_token_the_gateway_accepts(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = str(uuid4())
    monkeypatch.setenv("GATEWAY_JWT_SECRET", SECRET)
    result = subprocess.run([sys.executable, "-m", "api_gateway.token", "--sub", sub, "--role", "admin",
                             "--ttl", "60"], capture_output=True, text=True, check=True, timeout=60)
    token = result.stdout.strip()

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == sub and claims["role"] == "admin" and claims["exp"] - claims["iat"] == 60
    response = gateway.client.get(f"/api/sagas/{uuid4()}", headers={"Authorization": f"Bearer {token}"})
    _error(response, 404, "not_found")


def test_token_cli_refuses_an_unknown_role() -> None:
    result = subprocess.run([sys.executable, "-m", "api_gateway.token", "--sub", str(uuid4()), "--role", "root"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "invalid choice" in result.stderr
