"""Notification rules with no framework in sight: the types the platform sends."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

NOTIFICATION_TYPES = (
    "ORDER_CREATED", "ORDER_READY_FOR_RUNNER", "PAYMENT_AUTHORIZED", "ORDER_ACCEPTED",
    "ORDER_STATUS_CHANGED", "ORDER_CANCELLED", "ORDER_COMPLETED", "PAYOUT_SENT",
)


def is_known_type(value: Any) -> bool:
    """True when ``value`` names a notification type the platform sends."""
    return isinstance(value, str) and value in NOTIFICATION_TYPES


def money_as_strings(value: Any) -> Any:
    """``value`` with every Decimal as its string ("12.50"): money never becomes a float in storage."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: money_as_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [money_as_strings(item) for item in value]
    return value
