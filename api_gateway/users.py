"""/api/users: operators create customers and runners."""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, jsonify

from api_gateway import clients, schemas
from api_gateway.auth import current_principal, requires
from api_gateway.inputs import IdempotencyHeaders, NewUser, validated
from api_gateway.openapi import documented

bp = Blueprint("users", __name__, url_prefix="/api/users")


@bp.post("")
@requires("admin")
@documented(tags=("users",), json=NewUser, headers=IdempotencyHeaders, errors=(409,),
            ok={"HTTP_201": schemas.User})
def create_user() -> Any:
    """Create a customer or runner in the user service; 201 with the user."""
    key = validated("headers").idempotency_key
    # Scoped to the admin so a client key can never collide with a saga step's key; hashed so the
    # scoped key stays within the participant's 255 characters whatever the client's (up to 255).
    scoped = f"gateway:{current_principal().user_id}:{hashlib.sha256(key.encode()).hexdigest()}" if key else None
    return jsonify(clients.create_user(validated("json").model_dump(exclude_unset=True), key=scoped)), 201
