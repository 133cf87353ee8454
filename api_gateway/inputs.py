"""Public input, checked at the door: a new order's body, path ids, headers and query parameters."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from flask import request

from campus_common.errors import ApiError, NotFound, ValidationError
from campus_common.validation import Fields, parsed
from campus_common.web import json_body
from order_service.domain import parse_text, validate_items

MAX_KEY_LENGTH = 200
DEFAULT_LIMIT, MAX_LIMIT = 50, 100


def new_order(body: Mapping[str, Any]) -> dict[str, Any]:
    """``{items, store_location, delivery_location}`` made canonical; 422 naming every bad field."""
    return parsed(_new_order, body, message="the order is not valid")


def _new_order(body: Mapping[str, Any]) -> dict[str, Any]:
    # The order service's own rules, checked here so a bad order never starts a saga.
    fields = Fields(body)
    items = fields.read("items", validate_items)
    locations = {field: fields.read(field, parse_text) for field in ("store_location", "delivery_location")}
    fields.done()
    return {"items": [item.to_json() for item in items], **locations}


def cancel_reason(default: str) -> str:
    """The optional ``reason`` of a cancel request's JSON body (an empty body is fine)."""
    if not request.get_data():
        return default
    reason = json_body().get("reason")
    if reason is None:
        return default
    try:
        return parse_text(reason)
    except ValueError as exc:
        raise ValidationError("the cancellation is not valid", details={"reason": str(exc)}) from exc


def path_id(value: str, what: str) -> str:
    """A UUID from the path in its canonical spelling; anything else names nothing (404)."""
    try:
        return str(UUID(value))
    except ValueError as exc:
        raise NotFound(f"no {what} {value!r}") from exc


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` header, if any (400 when empty or too long)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ApiError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", code="invalid_idempotency_key")
    return key


def choice(name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    """Query parameter ``name``, one of ``allowed`` (422 otherwise)."""
    value = request.args.get(name) or default
    names = list(allowed)
    if value is not None and value not in names:
        raise ValidationError(f"{name} is not valid", details={name: "must be one of " + ", ".join(names)})
    return value


def limit() -> int:
    """Query parameter ``limit``: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent (422 otherwise)."""
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError("limit is not valid", details={"limit": f"must be an integer from 1 to {MAX_LIMIT}"})
    return int(raw)
