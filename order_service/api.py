"""The order service's internal HTTP API: parse, call one use case, serialize."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from flask import Blueprint, jsonify, request

from campus_common.errors import NotFound, error_body
from campus_common.idempotency import (current_session, forbid_action, idempotent, transactional,
                                       undone_action_key)
from campus_common.service_auth import API_GATEWAY, SAGA_WORKERS
from campus_common.service_guard import allow
from campus_common.validation import parsed
from campus_common.web import json_body, settings_of_app
from order_service import commands, service
from order_service.domain import Order, OrderStatus

bp = Blueprint("orders", __name__)
INVALID = "the request has invalid fields"


@bp.post("/orders")
@allow(SAGA_WORKERS)
@idempotent
def create_order() -> Any:
    """Create an order PENDING (201)."""
    command = parsed(commands.create_order, json_body(), message=INVALID)
    key = request.headers.get("Idempotency-Key")
    return _order(service.create_order(current_session(), command, settings_of_app().delivery_fee, key), 201)


@bp.get("/orders")
@allow(API_GATEWAY, SAGA_WORKERS)
@transactional
def list_orders() -> Any:
    """Orders filtered by status, customer_id, runner_id; newest first, up to ``limit``."""
    query = parsed(commands.order_query, request.args, message=INVALID)
    return jsonify(orders=[order.to_json() for order in service.list_orders(current_session(), query)])


@bp.get("/orders/<uuid:order_id>")
@allow(API_GATEWAY, SAGA_WORKERS)
@transactional
def get_order(order_id: UUID) -> Any:
    """One order."""
    return _order(service.get_order(current_session(), order_id))


@bp.post("/orders/<uuid:order_id>/mark-created")
@allow(SAGA_WORKERS)
@idempotent
def mark_created(order_id: UUID) -> Any:
    """PENDING -> CREATED."""
    return _order(service.mark_created(current_session(), order_id))


@bp.post("/orders/<uuid:order_id>/cancel")
@allow(SAGA_WORKERS)
@idempotent
def cancel_order(order_id: UUID) -> Any:
    """expected_status -> CANCELLED; with PENDING it compensates create_order."""
    command = parsed(commands.cancel_order, json_body(), message=INVALID)
    if command.expected_status is OrderStatus.PENDING:  # compensation of create_order
        command = replace(command, undoes=undone_action_key(command.undoes))
        # First, before touching the order: if the create is still in flight this waits for it (its key
        # row is locked), so the order it makes is seen and undone here; and it can never run later.
        forbid_action(current_session(), command.undoes)
    return _compensation(lambda: service.cancel_order(current_session(), order_id, command))


@bp.post("/orders/<uuid:order_id>/accept")
@allow(SAGA_WORKERS)
@idempotent
def accept_order(order_id: UUID) -> Any:
    """CREATED -> ACCEPTED by the runner."""
    runner_id = parsed(commands.runner_id, json_body(), message=INVALID)
    return _order(service.accept_order(current_session(), order_id, runner_id,
                                       request.headers.get("Idempotency-Key")))


@bp.post("/orders/<uuid:order_id>/undo-accept")
@allow(SAGA_WORKERS)
@idempotent
def undo_accept(order_id: UUID) -> Any:
    """Compensation of accept: back to CREATED when that runner holds it."""
    runner_id, named = parsed(commands.undo_accept, json_body(), message=INVALID)
    accept_key = undone_action_key(named)
    forbid_action(current_session(), accept_key)  # first, as in cancel_order
    return _compensation(lambda: service.undo_accept(current_session(), order_id, runner_id, accept_key))


@bp.put("/orders/<uuid:order_id>/status")
@allow(API_GATEWAY)  # the runner's own steps, checked by the gateway
@idempotent
def advance_order(order_id: UUID) -> Any:
    """The assigned runner's next status."""
    command = parsed(commands.advance_order, json_body(), message=INVALID)
    return _order(service.advance_order(current_session(), order_id, command))


@bp.post("/orders/<uuid:order_id>/complete")
@allow(SAGA_WORKERS)
@idempotent
def complete_order(order_id: UUID) -> Any:
    """DELIVERED -> COMPLETED."""
    return _order(service.complete_order(current_session(), order_id))


def _order(order: Order, status: int = 200) -> Any:
    return jsonify(order.to_json()), status


def _compensation(undo: Callable[[], Order]) -> Any:
    """Run a compensation; an unknown order is answered 404 without undoing the forbid record.

    Raising would roll back the view's savepoint, and with it the record that refuses the late
    action, so a create that arrives after its compensation could still take effect.
    """
    try:
        return _order(undo())
    except NotFound as exc:
        return jsonify(error_body(exc.code, exc.message, exc.details)), exc.status
