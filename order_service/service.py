"""Use cases of the order service: plain arguments and a Session in, an Order out."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from campus_common.errors import Conflict, Forbidden, found
from order_service import repository
from order_service.commands import AdvanceOrder, CancelOrder, CreateOrder, OrderQuery
from order_service.domain import RUNNER_STEPS, Order, OrderStatus, can_transition, compute_fees

def create_order(session: Session, command: CreateOrder, delivery_fee: Decimal, key: str | None = None) -> Order:
    """Create the order PENDING with its fees (made by the request ``key``); 409 when its id is taken."""
    order = repository.add(session, command, compute_fees(command.items, delivery_fee), key)
    if order is None:
        raise Conflict(f"order {command.order_id} already exists", code="order_exists",
                       details={"order_id": str(command.order_id)})
    return order


def get_order(session: Session, order_id: UUID) -> Order:
    """The order; 404 when unknown."""
    return found(repository.get(session, order_id), "order", order_id)


def list_orders(session: Session, query: OrderQuery) -> list[Order]:
    """Orders matching the filters, newest first."""
    return repository.find(session, query)


def mark_created(session: Session, order_id: UUID) -> Order:
    """PENDING -> CREATED: the payment is held, the order is open to runners."""
    return _transition(session, order_id, OrderStatus.PENDING, OrderStatus.CREATED)


def cancel_order(session: Session, order_id: UUID, command: CancelOrder) -> Order:
    """expected -> CANCELLED with the reason.

    Undoing a PENDING order (a compensation, of the create ``undoes`` names) that is already
    CANCELLED, or that another create made, answers it unchanged; a cancellation of a CREATED order
    that someone else cancelled first is a conflict (one winner).
    """
    undoing = command.expected_status is OrderStatus.PENDING
    order = repository.transition(session, order_id, command.expected_status, OrderStatus.CANCELLED,
                                  create_key=command.undoes if undoing else None,
                                  changes={"cancel_reason": command.reason})
    if order is not None:
        return order
    current = get_order(session, order_id)
    if undoing and current.status in (OrderStatus.CANCELLED, OrderStatus.PENDING):
        return current  # PENDING still: made by another create, not this compensation's to undo
    raise _invalid_transition(current, OrderStatus.CANCELLED)


def accept_order(session: Session, order_id: UUID, runner_id: UUID, accept_key: str | None = None) -> Order:
    """CREATED -> ACCEPTED, assigned to the runner; of racing runners exactly one wins."""
    return _transition(session, order_id, OrderStatus.CREATED, OrderStatus.ACCEPTED,
                       changes={"runner_id": runner_id, "accept_key": accept_key})


def undo_accept(session: Session, order_id: UUID, runner_id: UUID, accept_key: str | None = None) -> Order:
    """ACCEPTED by this runner (through the accept ``accept_key`` names, when given) -> CREATED with no
    runner; any other order is returned unchanged."""
    order = repository.transition(session, order_id, OrderStatus.ACCEPTED, OrderStatus.CREATED,
                                  runner_id=runner_id, accept_key=accept_key,
                                  changes={"runner_id": None, "accepted_at": None, "accept_key": None})
    return order if order is not None else get_order(session, order_id)


def advance_order(session: Session, order_id: UUID, command: AdvanceOrder) -> Order:
    """The assigned runner's next step (PLACED, ON_THE_WAY, DELIVERED), in order only.

    Another runner's order is 403; an order with no runner yet is simply not in a status to advance.
    """
    target = command.status
    order = repository.transition(session, order_id, RUNNER_STEPS[target], target, runner_id=command.runner_id)
    if order is not None:
        return order
    current = get_order(session, order_id)
    if current.runner_id is not None and current.runner_id != command.runner_id:
        raise Forbidden("this order is not assigned to this runner", code="not_your_order",
                        details={"order_id": str(order_id)})
    raise _invalid_transition(current, target)


def complete_order(session: Session, order_id: UUID) -> Order:
    """DELIVERED -> COMPLETED: the payment went to the runner."""
    return _transition(session, order_id, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def _transition(session: Session, order_id: UUID, expected: OrderStatus, target: OrderStatus,
                changes: Mapping[str, Any] | None = None) -> Order:
    assert can_transition(expected, target), f"{expected} -> {target} is not in the status machine"
    order = repository.transition(session, order_id, expected, target, changes=changes)
    if order is None:
        raise _invalid_transition(get_order(session, order_id), target)
    return order


def _invalid_transition(current: Order, target: OrderStatus) -> Conflict:
    return Conflict(f"order {current.order_id} is {current.status.value}, it cannot become {target.value}",
                    code="invalid_transition", details={"status": current.status.value})
