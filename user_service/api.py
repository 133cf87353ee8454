"""HTTP entry points of the user service: parse, call one use case, serialize."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request

from campus_common.idempotency import current_session, idempotent, transactional
from campus_common.service_auth import API_GATEWAY, SAGA_WORKERS
from campus_common.service_guard import allow
from campus_common.validation import parsed
from campus_common.web import json_body
from user_service import commands, service
from user_service.repository import User

bp = Blueprint("users", __name__)


def user_json(user: User) -> dict[str, Any]:
    """The user as the API shows it: never the card token or payout account (only /card and
    /payout-account give those, to the saga steps that need them)."""
    return {"user_id": user.user_id, "name": user.name, "email": user.email, "role": user.role,
            "customer_rating": user.customer_rating, "runner_rating": user.runner_rating,
            "created_at": user.created_at, "updated_at": user.updated_at}


@bp.post("/users")
@allow(API_GATEWAY)  # operators create users through the gateway
@idempotent
def create_user() -> tuple[Response, int]:
    """Register a customer or a runner."""
    new_user = parsed(commands.parse_create_user, json_body())
    user = service.create_user(new_user, current_session())
    return jsonify(user_json(user)), 201


@bp.get("/users")
@allow(SAGA_WORKERS)  # the runners broadcast of create_order
@transactional
def list_users() -> Response:
    """Every user, or those of the role named by ``?role=``."""
    role = parsed(commands.parse_role, request.args.get("role") or None)
    users = service.list_users(role, current_session())
    return jsonify(users=[user_json(user) for user in users])


@bp.get("/users/<uuid:user_id>")
@allow(API_GATEWAY, SAGA_WORKERS)
@transactional
def get_user(user_id: uuid.UUID) -> Response:
    """One user."""
    return jsonify(user_json(service.get_user(user_id, current_session())))


@bp.get("/users/<uuid:user_id>/card")
@allow(SAGA_WORKERS)  # only the payment step needs the card
@transactional
def get_card(user_id: uuid.UUID) -> Response:
    """The customer's card token, for the payment step."""
    return jsonify(user_id=user_id, card_token=service.card_on_file(user_id, current_session()))


@bp.get("/users/<uuid:user_id>/payout-account")
@allow(SAGA_WORKERS)  # only the capture step needs it
@transactional
def get_payout_account(user_id: uuid.UUID) -> Response:
    """The runner's payout account, for the capture step."""
    return jsonify(user_id=user_id, payout_account=service.payout_account(user_id, current_session()))
