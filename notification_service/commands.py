"""Requests to the notification service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campus_common.validation import Fields, InvalidInput, parse_uuid
from notification_service.domain import NOTIFICATION_TYPES, is_known_type, money_as_strings

MAX_BATCH = 5000  # one batch carries every runner (ORDER_READY_FOR_RUNNER)


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
    if not isinstance(data, Mapping):
        raise InvalidInput({prefix.rstrip(".") or "body": "must be an object"})
    fields = Fields(data, prefix)
    command = Notify(user_id=fields.read("user_id", parse_uuid), type=fields.read("type", _parse_type),
                     order_id=None if data.get("order_id") is None else fields.read("order_id", parse_uuid),
                     payload=fields.read("payload", _parse_payload))
    fields.done()
    return command


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
    fields = Fields(args)
    query = NotificationQuery(user_id=fields.get("user_id", parse_uuid, required=False),
                              order_id=fields.get("order_id", parse_uuid, required=False))
    fields.done()
    return query


def _parse_type(value: Any) -> str:
    if not is_known_type(value):
        raise ValueError(f"must be one of {', '.join(NOTIFICATION_TYPES)}")
    return value


def _parse_payload(value: Any) -> dict[str, Any]:
    # Absent or null is an empty payload; money in it is kept as exact strings.
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("must be an object")
    return money_as_strings(dict(value))
