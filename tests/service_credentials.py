"""Service credentials in tests: real key pairs per test session, and clients that present them.

Participants run with real Ed25519 keys (no development mode); the tests' own calls carry the token
of a caller the route allows, so only the authentication tests meet a refusal.
"""
from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException

from campus_common import service_auth
from campus_common.service_guard import ALLOWED_ATTRIBUTE


def install_session_keys() -> dict[str, str]:
    """Fresh key pairs for every caller, exported to the environment (unless already set); the values."""
    values = {}
    for caller in service_auth.CALLERS:
        private = os.environ.get(service_auth.private_key_variable(caller)) or service_auth.generate_private_key()
        values[service_auth.private_key_variable(caller)] = private
        values[service_auth.public_keys_variable(caller)] = service_auth.public_key_of(private)
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return values


def bearer(caller: str, audience: str) -> dict[str, str]:
    """The Authorization header ``caller`` sends to ``audience``."""
    return {"Authorization": f"Bearer {service_auth.token_for(caller, audience)}"}


def allowed_caller(app: Flask, path: str, method: str) -> str:
    """A caller the route of ``method path`` admits (the saga workers for an unknown route)."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path.split("?", 1)[0], method)
    except HTTPException:
        return service_auth.SAGA_WORKERS
    allowed: frozenset[str] = getattr(app.view_functions[endpoint], ALLOWED_ATTRIBUTE, frozenset())
    return next((caller for caller in service_auth.CALLERS if caller in allowed), service_auth.SAGA_WORKERS)


class TrustedClient(FlaskClient):
    """A test client whose requests carry the credential of a caller the route allows (unless given one)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path")
        headers = dict(kwargs.pop("headers", None) or {})
        if isinstance(path, str) and "Authorization" not in headers:
            method = kwargs.get("method", "GET")
            headers.update(bearer(allowed_caller(self.application, path, method), self.application.name))
        return super().open(*args, headers=headers, **kwargs)


def trusted(app: Flask) -> Flask:
    """``app`` whose ``test_client()`` presents valid service credentials."""
    app.test_client_class = TrustedClient
    return app
