"""Requests to the notification service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notification_service.domain import NOTIFICATION_TYPES, is_known_type, money_as_strings

MAX_BATCH = 5000  # one batch carries every runner (ORDER_READY_FOR_RUNNER)


class InvalidInput(ValueError):
    """Input that breaks the rules; ``details`` maps each bad field to what is wrong with it."""

    def __init__(self, details: dict[str, str]) -> None:
        super().__init__("invalid input: " + ", ".join(sorted(details)))
        self.details = details


@dataclass(frozen=True)
class Notify:
    """A validated notification to record for one user."""

    user_id: uuid.UUID
    type: str
    order_id: uuid.UUID | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class NotificationQuery:
    """Filters of the notification list."""

    user_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None


def parse_notify(data: Any, prefix: str = "") -> Notify:
    """Validate one notification; raise InvalidInput naming every bad field (under ``prefix``)."""
    errors: dict[str, str] = {}
    if not isinstance(data, Mapping):
        raise InvalidInput({prefix.rstrip(".") or "body": "must be an object"})
    user_id = _uuid(data.get("user_id"), f"{prefix}user_id", errors)
    if not is_known_type(data.get("type")):
        errors[f"{prefix}type"] = f"must be one of {', '.join(NOTIFICATION_TYPES)}"
    order_id = None if data.get("order_id") is None else _uuid(data["order_id"], f"{prefix}order_id", errors)
    payload = data.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        errors[f"{prefix}payload"] = "must be an object"
    if errors:
        raise InvalidInput(errors)
    return Notify(user_id, data["type"], order_id, money_as_strings(dict(payload)))  # type: ignore[arg-type]


def parse_batch(data: Mapping[str, Any]) -> list[Notify]:
    """Validate a batch; raise InvalidInput naming every bad field of every item."""
    items = data.get("notifications")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput({"notifications": f"must be a list of 1 to {MAX_BATCH} notifications"})
    errors: dict[str, str] = {}
    parsed: list[Notify] = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse_notify(item, prefix=f"notifications[{index}]."))
        except InvalidInput as exc:
            errors.update(exc.details)
    if errors:
        raise InvalidInput(errors)
    return parsed


def parse_query(args: Mapping[str, str]) -> NotificationQuery:
    """Validate the ``user_id`` / ``order_id`` filters of the list."""
    errors: dict[str, str] = {}
    user_id = _uuid(args["user_id"], "user_id", errors) if args.get("user_id") else None
    order_id = _uuid(args["order_id"], "order_id", errors) if args.get("order_id") else None
    if errors:
        raise InvalidInput(errors)
    return NotificationQuery(user_id, order_id)


def _uuid(value: Any, field: str, errors: dict[str, str]) -> uuid.UUID | None:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    errors[field] = "must be a UUID"
    return None
