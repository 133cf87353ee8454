"""/api/users: operators create customers and runners."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from api_gateway import clients, inputs
from api_gateway.auth import current_principal, requires
from campus_common.web import json_body

bp = Blueprint("users", __name__, url_prefix="/api/users")


@bp.post("")
@requires("admin")
def create_user() -> Any:
    """Create a customer or runner in the user service; 201 with the user."""
    key = inputs.idempotency_key()
    # Scoped to the admin so a client key can never collide with a saga step's key.
    scoped = f"gateway:{current_principal().user_id}:{key}" if key else None
    return jsonify(clients.create_user(json_body(), key=scoped)), 201
