"""Notification rules and request parsing, without I/O."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from notification_service.commands import InvalidInput, parse_batch, parse_notify, parse_query
from notification_service.domain import NOTIFICATION_TYPES, money_as_strings

USER = str(uuid.uuid4())
# The types SPEC.md names; a saga that sends a new one adds it to NOTIFICATION_TYPES, not here.
SPEC_TYPES = ("ORDER_CREATED", "ORDER_READY_FOR_RUNNER", "PAYMENT_AUTHORIZED", "ORDER_ACCEPTED", "ORDER_STATUS_CHANGED",
              "ORDER_CANCELLED", "ORDER_COMPLETED", "PAYOUT_SENT")


def test_every_type_of_the_spec_is_accepted() -> None:
    assert [parse_notify({"user_id": USER, "type": t}).type for t in NOTIFICATION_TYPES] == list(NOTIFICATION_TYPES)
    assert set(SPEC_TYPES) <= set(NOTIFICATION_TYPES)


def test_a_notification_without_order_or_payload_gets_defaults() -> None:
    command = parse_notify({"user_id": USER, "type": "PAYOUT_SENT"})

    assert command.order_id is None and command.payload == {}


def test_money_in_a_payload_is_kept_as_exact_strings() -> None:
    payload = {"total": Decimal("16.49"), "items": [{"price": Decimal("2.50")}], "count": 2}

    assert money_as_strings(payload) == {"total": "16.49", "items": [{"price": "2.50"}], "count": 2}


def test_a_batch_names_bad_fields_by_position() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_batch({"notifications": [{"user_id": USER, "type": "ORDER_CREATED"}, "oops",
                                       {"user_id": USER, "type": "order_created"}]})

    assert set(caught.value.details) == {"notifications[1]", "notifications[2].type"}


def test_list_filters_must_be_uuids() -> None:
    assert parse_query({}).user_id is None
    with pytest.raises(InvalidInput) as caught:
        parse_query({"user_id": USER, "order_id": "x"})
    assert set(caught.value.details) == {"order_id"}
