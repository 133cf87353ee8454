"""/api/sagas: what each saga run did, step by step, and the operator's retry and cancel."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from api_gateway import inputs, saga_runs
from api_gateway.auth import Principal, current_principal, requires
from campus_common.errors import Forbidden, NotFound, ValidationError
from saga_workers.queries import get_saga, list_sagas

bp = Blueprint("sagas", __name__, url_prefix="/api/sagas")
SAGA_TYPES = ("create_order", "accept_order", "cancel_order", "complete_order")
SAGA_STATUSES = ("STARTED", "COMPLETED", "COMPENSATING", "COMPENSATED", "FAILED")


@bp.get("")
@requires("admin", "customer")
def list_all() -> Any:
    """Sagas newest first, one page at a time; a customer sees only their own."""
    principal = current_principal()
    try:
        sagas, next_cursor = list_sagas(
            saga_type=inputs.choice("type", SAGA_TYPES), status=inputs.choice("status", SAGA_STATUSES),
            customer_id=None if principal.is_admin else principal.user_id,
            limit=inputs.limit(), cursor=request.args.get("cursor") or None)
    except ValueError as exc:
        raise ValidationError("cursor is not valid", details={"cursor": str(exc)}) from exc
    return jsonify(sagas=sagas, next_cursor=next_cursor)


@bp.get("/<saga_id>")
@requires("admin", "customer", "runner")
def get_one(saga_id: str) -> Any:
    """One saga with its step log, for an admin or the customer or runner it concerns."""
    saga = get_saga(inputs.path_id(saga_id, "saga"))
    if saga is None:
        raise NotFound(f"no saga {saga_id}")
    _ensure_concerns(saga, current_principal())
    return jsonify(saga)


@bp.post("/<saga_id>/retry")
@requires("admin")
def retry(saga_id: str) -> Any:
    """Resume a FAILED saga from where it stopped; 202, the rest happens in the workers."""
    return jsonify(saga_runs.retry(inputs.path_id(saga_id, "saga"))), 202


@bp.post("/<saga_id>/cancel")
@requires("admin")
def cancel(saga_id: str) -> Any:
    """Stop a running saga before its pivot and compensate what took effect; 202, 409 past the pivot."""
    return jsonify(saga_runs.cancel(inputs.path_id(saga_id, "saga"))), 202


def _ensure_concerns(saga: dict[str, Any], principal: Principal) -> None:
    if principal.is_admin:
        return
    field = "customer_id" if principal.role == "customer" else "runner_id"
    if str(saga.get(field)) != principal.user_id:  # the read model may hold UUIDs
        raise Forbidden("this saga is not about you", code="not_your_saga")
