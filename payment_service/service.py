"""Payment use cases: each takes plain arguments and the unit of work's Session."""
from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus_common.errors import ApiError, Conflict, ValidationError, found
from payment_service import domain
from payment_service.commands import Authorize, Capture
from payment_service.repository import ONE_LIVE_PER_ORDER_INDEX, Payment, PaymentRepository

_REFUSALS = {
    "card_declined": (402, "the card was declined"),
    "insufficient_funds": (402, "the card has insufficient funds for this amount"),
}


def authorize_payment(command: Authorize, session: Session, key: str | None = None) -> Payment:
    """Hold the amount on the card (made by the request ``key``); 402 when the card refuses, 409 when the
    order has a live payment."""
    _check_card(command)
    payments = PaymentRepository(session)
    if (live := payments.live_for_order(command.order_id)) is not None:
        raise _already_authorized(live)
    payment = Payment(payment_id=uuid.uuid4(), order_id=command.order_id, customer_id=command.customer_id,
                      amount=command.amount, status=domain.AUTHORIZED, authorize_key=key)
    try:
        # A savepoint: losing the race for the order's one live payment leaves the request usable.
        with session.begin_nested():
            payments.add(payment, domain.hold_movements(command.customer_id, command.amount))
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) != ONE_LIVE_PER_ORDER_INDEX:
            raise
        raise _already_authorized(payments.live_for_order(command.order_id)) from exc
    return payment


def release_payment(order_id: uuid.UUID, session: Session, undoes: str | None = None) -> Payment | None:
    """Void the hold the authorize ``undoes`` made (the order's hold, when None); None when there is
    nothing to release; 409 ``already_captured`` after capture."""
    payments = PaymentRepository(session)
    live = payments.live_for_order(order_id) if undoes is None else _made_by(payments, order_id, undoes)
    if live is not None and live.status == domain.AUTHORIZED:
        released = payments.transition(live, domain.RELEASE_HOLD)
        if released is not None:
            payments.record(released, domain.release_movements(released.customer_id, released.amount))
            return released
        live = payments.get(live.payment_id)  # another request moved it first: answer from its state
    if live is not None and live.status == domain.CAPTURED:
        raise Conflict("the payment was already captured; refund it instead", code="already_captured",
                       details={"payment_id": str(live.payment_id), "status": live.status})
    return None


def capture_payment(command: Capture, session: Session, key: str | None = None) -> Payment:
    """Charge the held amount and pay it to the runner (the request ``key`` did it, for its refund);
    409 ``not_authorized`` when nothing is held."""
    payments = PaymentRepository(session)
    live = payments.live_for_order(command.order_id)
    captured = None
    if live is not None and live.status == domain.AUTHORIZED:
        captured = payments.transition(live, domain.CAPTURE_FUNDS, payout_account=command.payout_account,
                                       capture_key=key)
        live = captured or payments.get(live.payment_id)
    if captured is None:
        raise Conflict("the order has no authorized payment to capture", code="not_authorized",
                       details={"order_id": str(command.order_id), "status": live.status if live else None})
    payments.record(captured, domain.capture_movements(captured.customer_id, captured.amount,
                                                       command.payout_account))
    return captured


def refund_payment(order_id: uuid.UUID, session: Session, undoes: str | None = None) -> Payment | None:
    """Give back the charge the capture ``undoes`` made, and only that one; None when that capture never
    took effect (another saga's capture of the order is not this refund's to undo)."""
    if undoes is None:
        raise ValidationError("a refund names the capture it undoes", details={"undoes": "is required"})
    payments = PaymentRepository(session)
    live = payments.made_by(order_id, "capture_key", undoes)
    if live is None or live.status != domain.CAPTURED:
        return None
    refunded = payments.transition(live, domain.REFUND_CHARGE)
    if refunded is not None:
        payments.record(refunded, domain.refund_movements(refunded.customer_id, refunded.amount))
    return refunded


def get_payment(payment_id: uuid.UUID, session: Session) -> Payment:
    """The payment with ``payment_id``; 404 when unknown."""
    return found(PaymentRepository(session).get(payment_id), "payment", payment_id)


def list_payments(order_id: uuid.UUID | None, session: Session) -> list[Payment]:
    """Payments, of one order when given, oldest first."""
    return PaymentRepository(session).for_order(order_id)


def _made_by(payments: PaymentRepository, order_id: uuid.UUID, authorize_key: str) -> Payment | None:
    """The payment that authorize request made; a hold from before keys were recorded counts as the order's."""
    made = payments.made_by(order_id, "authorize_key", authorize_key)
    if made is None and (live := payments.live_for_order(order_id)) is not None and live.authorize_key is None:
        return live
    return made


def _check_card(command: Authorize) -> None:
    refusal = domain.card_refusal(command.card_token, command.amount)
    if refusal == "unknown_card_token":
        raise ValidationError("unknown card token", code="unknown_card_token",
                              details={"card_token": "is not a known card token"})
    if refusal is not None:
        status, message = _REFUSALS[refusal]
        raise ApiError(message, status=status, code=refusal, details={"amount": str(command.amount)})


def _already_authorized(live: Payment | None) -> Conflict:
    details = {"payment_id": str(live.payment_id), "status": live.status} if live else None
    return Conflict("the order already has a live payment", code="already_authorized", details=details)
