"""HTTP entry points of the payment service: parse, call one use case, serialize."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from campus_common.idempotency import current_session, forbid_action, idempotent, transactional, undone_action_key
from campus_common.service_auth import API_GATEWAY, SAGA_WORKERS
from campus_common.service_guard import allow
from campus_common.validation import parsed
from campus_common.web import json_body
from payment_service import commands, service
from payment_service.repository import Payment

bp = Blueprint("payments", __name__)


def payment_json(payment: Payment) -> dict[str, Any]:
    """The payment as the API shows it."""
    return {"payment_id": payment.payment_id, "order_id": payment.order_id,
            "customer_id": payment.customer_id, "amount": payment.amount, "status": payment.status,
            "payout_account": payment.payout_account, "created_at": payment.created_at,
            "updated_at": payment.updated_at, "authorized_at": payment.authorized_at,
            "released_at": payment.released_at, "captured_at": payment.captured_at,
            "refunded_at": payment.refunded_at}


def _compensate(undo: Callable[[uuid.UUID, Session, str | None], Payment | None]) -> Response:
    """Run ``undo`` for the body's ``order_id`` and the action it ``undoes`` (named in the body, else
    paired with the Idempotency-Key); answer with the payment it changed (None: nothing to undo)."""
    command = parsed(commands.parse_compensation, json_body())
    undoes = undone_action_key(command.undoes)
    # A compensation that comes first makes its action's key refuse to run later (409).
    forbid_action(current_session(), undoes)
    payment = undo(command.order_id, current_session(), undoes)
    return jsonify(order_id=command.order_id, payment=payment_json(payment) if payment else None)


@bp.post("/payments/authorize")
@allow(SAGA_WORKERS)  # only the saga workers move money
@idempotent
def authorize_payment() -> tuple[Response, int]:
    """Hold an order's amount on the customer's card."""
    command = parsed(commands.parse_authorize, json_body())
    key = request.headers.get("Idempotency-Key")
    return jsonify(payment_json(service.authorize_payment(command, current_session(), key))), 201


@bp.post("/payments/release")
@allow(SAGA_WORKERS)
@idempotent
def release_payment() -> Response:
    """Void the order's hold (compensates authorize)."""
    return _compensate(service.release_payment)


@bp.post("/payments/capture")
@allow(SAGA_WORKERS)
@idempotent
def capture_payment() -> Response:
    """Charge the order's hold and pay it to the runner's payout account."""
    command = parsed(commands.parse_capture, json_body())
    key = request.headers.get("Idempotency-Key")
    return jsonify(payment_json(service.capture_payment(command, current_session(), key)))


@bp.post("/payments/refund")
@allow(SAGA_WORKERS)
@idempotent
def refund_payment() -> Response:
    """Give the order's captured charge back (compensates capture)."""
    return _compensate(service.refund_payment)


@bp.get("/payments")
@allow(API_GATEWAY, SAGA_WORKERS)
@transactional
def list_payments() -> Response:
    """Payments, of the order named by ``?order_id=`` when given, oldest first."""
    raw = request.args.get("order_id") or None
    order_id = parsed(commands.parse_order_id, {"order_id": raw}) if raw else None
    return jsonify(payments=[payment_json(p) for p in service.list_payments(order_id, current_session())])


@bp.get("/payments/<uuid:payment_id>")
@allow(API_GATEWAY, SAGA_WORKERS)
@transactional
def get_payment(payment_id: uuid.UUID) -> Response:
    """One payment."""
    return jsonify(payment_json(service.get_payment(payment_id, current_session())))
