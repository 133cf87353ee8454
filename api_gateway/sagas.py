"""/api/sagas: what each saga run did, step by step, and the operator's retry and cancel."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from api_gateway import inputs, saga_runs, schemas
from api_gateway.auth import Principal, current_principal, requires
from api_gateway.inputs import SagaQuery, validated
from api_gateway.openapi import documented
from api_gateway.redaction import saga_for
from campus_common.errors import Forbidden, NotFound, ValidationError
from saga_workers.queries import get_saga, list_sagas

bp = Blueprint("sagas", __name__, url_prefix="/api/sagas")
ACCEPTED = {"HTTP_202": schemas.SagaAction}


@bp.get("")
@requires("admin", "customer")
@documented(tags=("sagas",), query=SagaQuery, ok={"HTTP_200": schemas.SagaPage})
def list_all() -> Any:
    """Sagas newest first, one page at a time; a customer sees only their own."""
    principal, query = current_principal(), validated("query")
    try:
        sagas, next_cursor = list_sagas(**query.filters(), customer_id=None if principal.is_admin else principal.user_id,
                                        limit=query.limit, cursor=query.cursor)
    except ValueError as exc:
        raise ValidationError("cursor is not valid", details={"cursor": str(exc)}) from exc
    return jsonify(sagas=[saga_for(principal, saga) for saga in sagas], next_cursor=next_cursor)


@bp.get("/<saga_id>")
@requires("admin", "customer", "runner")
@documented(tags=("sagas",), ok={"HTTP_200": schemas.Saga})
def get_one(saga_id: str) -> Any:
    """One saga with its step log, for an admin or the customer or runner it concerns."""
    saga = get_saga(inputs.path_id(saga_id, "saga"))
    if saga is None:
        raise NotFound(f"no saga {saga_id}")
    _ensure_concerns(saga, current_principal())
    return jsonify(saga_for(current_principal(), saga))


@bp.post("/<saga_id>/retry")
@requires("admin")
@documented(tags=("sagas",), errors=(409,), ok=ACCEPTED)
def retry(saga_id: str) -> Any:
    """Resume a FAILED saga from where it stopped; 202, the rest happens in the workers."""
    return jsonify(saga_runs.retry(inputs.path_id(saga_id, "saga"))), 202


@bp.post("/<saga_id>/cancel")
@requires("admin")
@documented(tags=("sagas",), errors=(409,), ok=ACCEPTED)
def cancel(saga_id: str) -> Any:
    """Stop a running saga before its pivot and compensate what took effect; 202, 409 past the pivot."""
    return jsonify(saga_runs.cancel(inputs.path_id(saga_id, "saga"))), 202


def _ensure_concerns(saga: dict[str, Any], principal: Principal) -> None:
    if principal.is_admin:
        return
    field = "customer_id" if principal.role == "customer" else "runner_id"
    if str(saga.get(field)) != principal.user_id:  # the read model may hold UUIDs
        raise Forbidden("this saga is not about you", code="not_your_saga")
