"""A small client for the gateway's public API, shared by the demo and the end-to-end tests."""
from __future__ import annotations

import subprocess
import time
import uuid
from typing import Any

import requests

from devstack.config import REPO_ROOT, python
from saga_workers.engine.status import SagaStatus

TERMINAL_SAGA_STATUSES = frozenset({SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.FAILED})


class GatewayError(RuntimeError):
    """The gateway answered something other than what the caller expected."""

    def __init__(self, response: requests.Response, expected: int) -> None:
        super().__init__(f"{response.request.method} {response.url}: expected {expected}, "
                         f"got {response.status_code}: {response.text[:500]}")
        self.response = response


def mint_token(sub: str, role: str, env: dict[str, str] | None = None) -> str:
    """A JWT for ``sub`` with ``role``, from the gateway's own CLI (``python -m api_gateway.token``)."""
    done = subprocess.run([python(), "-m", "api_gateway.token", "--sub", sub, "--role", role],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"python -m api_gateway.token failed ({done.returncode}): {done.stderr.strip()}")
    return lines[-1]


class Gateway:
    """The gateway at ``base_url``, calling as the holder of ``token``."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout
        self._http = requests.Session()

    def as_user(self, token: str | None) -> Gateway:
        """The same gateway, calling with another token (None: no Authorization header)."""
        return Gateway(self.base_url, token, self.timeout)

    def call(self, method: str, path: str, json: Any = None, *, data: str | bytes | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        """Send one request; the response, whatever its status."""
        sent = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        return self._http.request(method, self.base_url + path, json=json, data=data, headers=sent,
                                  timeout=self.timeout)

    def expect(self, method: str, path: str, status: int, json: Any = None,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Send one request and return its JSON body; raise GatewayError unless it answered ``status``."""
        response = self.call(method, path, json, headers=headers)
        if response.status_code != status:
            raise GatewayError(response, status)
        return response.json() if response.content else {}

    def create_user(self, name: str, role: str, **fields: Any) -> dict[str, Any]:
        """POST /api/users (admin): the created user."""
        email = fields.pop("email", None) or f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:8]}@campus.test"
        body = self.expect("POST", "/api/users", 201, {"name": name, "email": email, "role": role, **fields})
        return body.get("user", body)

    def create_order(self, items: list[dict[str, Any]], idempotency_key: str | None = None,
                     store: str = "Campus Cafe, Main Hall", delivery: str = "Library, 2nd floor") -> dict[str, Any]:
        """POST /api/orders (customer): ``{saga_id, order_id, status_url}``."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.expect("POST", "/api/orders", 202,
                           {"items": items, "store_location": store, "delivery_location": delivery}, headers)

    def order(self, order_id: str) -> dict[str, Any]:
        """GET /api/orders/<id>."""
        body = self.expect("GET", f"/api/orders/{order_id}", 200)
        return body.get("order", body)

    def saga(self, saga_id: str) -> dict[str, Any]:
        """GET /api/sagas/<id>: status and step log."""
        return self.expect("GET", f"/api/sagas/{saga_id}", 200)

    def wait_for_saga(self, saga_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll the saga until it ends (COMPLETED, COMPENSATED or FAILED); its last view."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.saga(saga_id)
            if view.get("status") in TERMINAL_SAGA_STATUSES:
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(f"saga {saga_id} still {view.get('status')} after {timeout:.0f}s: {view}")
            time.sleep(0.2)
