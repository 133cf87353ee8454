"""The order service's rules without I/O: status machine, item validation, fees, request commands."""
from __future__ import annotations

import uuid
from datetime import datetime, UTC
from decimal import Decimal
from itertools import product
from typing import Any

import pytest

from order_service import commands
from order_service.domain import (RUNNER_STEPS, STAMPS, TRANSITIONS, InvalidInput, Item, Order, OrderStatus,
                                  can_transition, compute_fees, validate_items)

S = OrderStatus
LEGAL = {("PENDING", "CREATED"), ("CREATED", "ACCEPTED"), ("ACCEPTED", "PLACED"), ("PLACED", "ON_THE_WAY"),
         ("ON_THE_WAY", "DELIVERED"), ("DELIVERED", "COMPLETED"), ("PENDING", "CANCELLED"),
         ("CREATED", "CANCELLED"), ("ACCEPTED", "CREATED")}


@pytest.mark.parametrize("current, target", list(product(OrderStatus, OrderStatus)))
def test_only_the_specified_transitions_are_legal(current: OrderStatus, target: OrderStatus) -> None:
    assert can_transition(current, target) == ((current.value, target.value) in LEGAL)


def test_completed_and_cancelled_are_final() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] in (S.COMPLETED, S.CANCELLED)]


def test_runner_steps_follow_the_machine_one_step_at_a_time() -> None:
    assert dict(RUNNER_STEPS) == {S.PLACED: S.ACCEPTED, S.ON_THE_WAY: S.PLACED, S.DELIVERED: S.ON_THE_WAY}
    assert all(can_transition(before, after) for after, before in RUNNER_STEPS.items())


def test_each_status_stamps_its_own_timestamp() -> None:
    assert dict(STAMPS) == {S.ACCEPTED: "accepted_at", S.PLACED: "placed_at", S.ON_THE_WAY: "picked_up_at",
                            S.DELIVERED: "delivered_at", S.COMPLETED: "completed_at", S.CANCELLED: "cancelled_at"}


# --- fees ------------------------------------------------------------------------------------


def test_fees_are_exact_decimal_cents() -> None:
    items = [Item("Gum", Decimal("0.10"), 3), Item("Burrito", Decimal("8.50"), 2)]

    fees = compute_fees(items, Decimal("3.99"))

    assert (fees.food_fee, fees.delivery_fee, fees.total) == (Decimal("17.30"), Decimal("3.99"), Decimal("21.29"))
    assert str(fees.total) == "21.29"


def test_delivery_fee_is_rounded_to_cents() -> None:
    fees = compute_fees([Item("Tea", Decimal("2.00"), 1)], Decimal("2.5"))
    assert (str(fees.delivery_fee), str(fees.total)) == ("2.50", "4.50")


# --- items -----------------------------------------------------------------------------------


def test_valid_items_become_items_with_two_place_prices() -> None:
    items = validate_items([{"name": " Pizza ", "price": Decimal("9.5"), "quantity": 2},
                            {"name": "Soda", "price": "1.25", "quantity": 1},
                            {"name": "Fries", "price": 3, "quantity": 1},
                            {"name": "Pie", "price": Decimal("4.500"), "quantity": 1}])

    assert [item.to_json() for item in items] == [
        {"name": "Pizza", "price": "9.50", "quantity": 2}, {"name": "Soda", "price": "1.25", "quantity": 1},
        {"name": "Fries", "price": "3.00", "quantity": 1}, {"name": "Pie", "price": "4.50", "quantity": 1}]


TOO_MANY = [{"name": "x", "price": "1", "quantity": 1}] * 101


@pytest.mark.parametrize("raw", [[], None, "pizza", {"name": "Pizza"}, TOO_MANY])
def test_items_must_be_a_non_empty_list(raw: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_items(raw)
    assert list(caught.value.details) == ["items"]


@pytest.mark.parametrize("field, value", [
    ("price", Decimal("-5")), ("price", 0), ("price", Decimal("9.999")), ("price", "9.999"), ("price", "abc"),
    ("price", "-1.00"), ("price", float("nan")), ("price", float("inf")), ("price", 1.5), ("price", True),
    ("price", None), ("price", Decimal("10000.01")),
    ("quantity", 0), ("quantity", -1), ("quantity", Decimal("1.5")), ("quantity", Decimal("2.0")),
    ("quantity", True), ("quantity", "2"), ("quantity", None), ("quantity", 1001),
    ("name", ""), ("name", "   "), ("name", 7), ("name", None), ("name", "x" * 201),
])
def test_a_bad_item_field_is_named(field: str, value: Any) -> None:
    item = {"name": "Pizza", "price": Decimal("9.50"), "quantity": 1, field: value}

    with pytest.raises(InvalidInput) as caught:
        validate_items([{"name": "Soda", "price": "1.00", "quantity": 1}, item])

    assert list(caught.value.details) == [f"items[1].{field}"]


def test_every_bad_item_field_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_items([{"name": "", "price": 0, "quantity": 0}, "soda"])
    assert set(caught.value.details) == {"items[0].name", "items[0].price", "items[0].quantity", "items[1]"}


# --- request commands ------------------------------------------------------------------------


def _create_body(**overrides: Any) -> dict[str, Any]:
    body = {"order_id": str(uuid.uuid4()), "customer_id": str(uuid.uuid4()), "saga_id": str(uuid.uuid4()),
            "items": [{"name": "Pizza", "price": "9.50", "quantity": 1}], "store_location": "Union",
            "delivery_location": "Dorm B"}
    return body | overrides


def test_create_order_command_parses_ids_and_items() -> None:
    body = _create_body()
    command = commands.create_order(body)
    assert command.order_id == uuid.UUID(body["order_id"])
    assert command.items == (Item("Pizza", Decimal("9.50"), 1),)
    assert (command.store_location, command.delivery_location) == ("Union", "Dorm B")


def test_create_order_command_names_every_bad_field() -> None:
    body = _create_body(customer_id="c-1", saga_id=None, store_location=" ", items=[{"name": "x", "price": 0,
                                                                                      "quantity": 1}])
    del body["order_id"]
    with pytest.raises(InvalidInput) as caught:
        commands.create_order(body)
    assert set(caught.value.details) == {"order_id", "customer_id", "saga_id", "store_location", "items[0].price"}


@pytest.mark.parametrize("status, ok", [("PLACED", True), ("ON_THE_WAY", True), ("DELIVERED", True),
                                        ("ACCEPTED", False), ("COMPLETED", False), ("CANCELLED", False),
                                        ("placed", False), (None, False)])
def test_runners_may_only_set_their_own_steps(status: Any, ok: bool) -> None:
    body = {"status": status, "runner_id": str(uuid.uuid4())}
    if ok:
        assert commands.advance_order(body).status is OrderStatus(status)
    else:
        with pytest.raises(InvalidInput) as caught:
            commands.advance_order(body)
        assert list(caught.value.details) == ["status"]


@pytest.mark.parametrize("expected, ok", [("PENDING", True), ("CREATED", True), ("ACCEPTED", False), (None, False)])
def test_cancel_names_the_status_it_expects(expected: Any, ok: bool) -> None:
    body = {"expected_status": expected}
    if ok:
        assert commands.cancel_order(body) == commands.CancelOrder(reason=None, expected_status=OrderStatus(expected))
    else:
        with pytest.raises(InvalidInput):
            commands.cancel_order(body)


@pytest.mark.parametrize("args, limit", [({}, 50), ({"limit": "7"}, 7), ({"limit": "1000"}, 200),
                                         ({"limit": ""}, 50)])
def test_list_limit_defaults_and_caps(args: dict[str, str], limit: int) -> None:
    assert commands.order_query(args).limit == limit


@pytest.mark.parametrize("args", [{"limit": "0"}, {"limit": "-3"}, {"limit": "ten"}, {"status": "LOST"},
                                  {"customer_id": "42"}, {"runner_id": "x"}])
def test_list_rejects_bad_filters(args: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        commands.order_query(args)
    assert list(caught.value.details) == list(args)


def test_order_json_carries_status_name_and_price_strings() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = Order(order_id=uuid.uuid4(), customer_id=uuid.uuid4(), runner_id=None, saga_id=uuid.uuid4(),
                  items=(Item("Pizza", Decimal("9.50"), 2),), food_fee=Decimal("19.00"),
                  delivery_fee=Decimal("3.99"), total=Decimal("22.99"), store_location="Union",
                  delivery_location="Dorm B", status=S.PENDING, cancel_reason=None, created_at=now, updated_at=now)

    data = order.to_json()

    assert data["status"] == "PENDING" and type(data["status"]) is str
    assert data["items"] == [{"name": "Pizza", "price": "9.50", "quantity": 2}]
    assert data["total"] == Decimal("22.99") and data["cancelled_at"] is None
