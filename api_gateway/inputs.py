"""Public input, checked at the door: request models (they validate and document the API) and path ids.

Each field's rule is the shared parser (order_service.domain, campus_common.validation) run as a
pydantic validator, so the OpenAPI document (api_gateway.openapi) describes exactly what is
enforced, and a parser's message ("must be a non-empty string") is what a client reads.
"""
from __future__ import annotations

from datetime import datetime, UTC
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from flask import request
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from api_gateway.openapi import ensure_json_object
from campus_common.errors import ApiError, NotFound
from campus_common.idempotency import MAX_KEY_LENGTH, checked_key
from campus_common.validation import parse_uuid
from campus_common.orders import (MAX_ITEMS, MAX_NAME, MAX_PRICE, MAX_QUANTITY, MAX_TEXT, RUNNER_STEPS, Item,
                                   OrderStatus, parse_price, parse_quantity, parse_text)
from saga_workers.registry import SAGA_STATUSES, SAGA_TYPES

DEFAULT_LIMIT, MAX_LIMIT = 50, 100
RUNNER_STATUSES = tuple(status.value for status in RUNNER_STEPS)
# The models below spell Literal[...] of these run-time tuples (one source: the registry and the status
# machine); pydantic reads them when the class is built, mypy only takes literals, hence its valid-type ignores.


def _item_list(raw: Any) -> Any:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ITEMS:
        raise ValueError(f"must be a list of 1 to {MAX_ITEMS} items")
    return raw


def _blank_is_absent(value: Any) -> Any:
    return None if value == "" else value


def _limit(value: Any) -> Any:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise ValueError(f"must be an integer from 1 to {MAX_LIMIT}")
    return int(value)


def _optional_uuid(value: Any) -> Any:
    return None if value is None or value == "" else parse_uuid(value)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key(value: Any) -> Any:
    try:
        return checked_key(value)  # the participants' rule: 1 to 255 printable characters
    except ApiError as exc:
        raise ValueError(exc.message) from exc


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), BeforeValidator(parse_text)]
ItemName = Annotated[str, Field(min_length=1, max_length=MAX_NAME),
                     BeforeValidator(lambda value: parse_text(value, MAX_NAME))]
Money = Annotated[Decimal, BeforeValidator(parse_price), WithJsonSchema({
    "type": ["string", "number"], "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["6.50"],
    "description": f"an exact amount greater than 0 and at most {MAX_PRICE}, two decimal places at most"})]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY), BeforeValidator(parse_quantity)]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT), BeforeValidator(_limit)]
Moment = Annotated[datetime, AfterValidator(_utc)]


class OrderItem(BaseModel):
    """One line of an order."""

    name: ItemName
    price: Money
    quantity: Quantity


class NewOrder(BaseModel):
    """``POST /api/orders``: what the customer orders, from where, to where."""

    items: Annotated[list[OrderItem], Field(min_length=1, max_length=MAX_ITEMS), BeforeValidator(_item_list)]
    store_location: Text
    delivery_location: Text

    def payload(self) -> dict[str, Any]:
        """The saga input, as the order service will store it (prices as two-place strings)."""
        items = [Item(item.name, item.price, item.quantity).to_json() for item in self.items]
        return {"items": items, "store_location": self.store_location, "delivery_location": self.delivery_location}


class NewUser(BaseModel):
    """``POST /api/users``: a customer (with ``card_token``) or a runner (with ``payout_account``).

    The user service applies the rest of its rules (lengths, email, the account a role needs).
    """

    model_config = ConfigDict(extra="allow")

    name: str
    email: str
    role: Literal["customer", "runner"]
    card_token: str | None = None
    payout_account: str | None = None


class StatusChange(BaseModel):
    """``PUT /api/orders/<id>/status``: the runner's next status."""

    status: Literal[RUNNER_STATUSES]  # type: ignore[valid-type]


class CancelRequest(BaseModel):
    """``POST /api/orders/<id>/cancel``: an optional reason (the body may be empty)."""

    reason: Annotated[Text | None, BeforeValidator(_blank_is_absent)] = None


class OrderQuery(BaseModel):
    """``GET /api/orders`` parameters."""

    status: Annotated[Literal[tuple(s.value for s in OrderStatus)],  # type: ignore[valid-type]
                      BeforeValidator(lambda value: value or OrderStatus.CREATED.value)] = OrderStatus.CREATED.value
    limit: Limit = DEFAULT_LIMIT


class SagaQuery(BaseModel):
    """``GET /api/sagas`` parameters (and the console's filters): all optional, combined with AND."""

    model_config = ConfigDict(populate_by_name=True)

    type: Annotated[Literal[SAGA_TYPES] | None, BeforeValidator(_blank_is_absent)] = None  # type: ignore[valid-type]
    status: Annotated[Literal[SAGA_STATUSES] | None,  # type: ignore[valid-type]
                      BeforeValidator(_blank_is_absent)] = None
    order_id: Annotated[UUID | None, BeforeValidator(_optional_uuid)] = None
    created_from: Annotated[Moment | None, BeforeValidator(_blank_is_absent),
                            Field(alias="from", description="created at or after this time (UTC without an offset)")] = None
    created_to: Annotated[Moment | None, BeforeValidator(_blank_is_absent),
                          Field(alias="to", description="created before this time (UTC without an offset)")] = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Annotated[str | None, BeforeValidator(_blank_is_absent)] = None

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of ``saga_workers.queries.list_sagas`` (but the customer and the page)."""
        return {"saga_type": self.type, "status": self.status, "order_id": str(self.order_id) if self.order_id else None,
                "created": (self.created_from, self.created_to)}


class IdempotencyHeaders(BaseModel):
    """An optional ``Idempotency-Key``: the same key returns the first answer instead of acting twice."""

    idempotency_key: Annotated[str | None, BeforeValidator(_key), Field(
        alias="Idempotency-Key", max_length=MAX_KEY_LENGTH)] = None


def validated(location: str) -> Any:
    """The model the OpenAPI decorator validated for this request (``json``, ``query`` or ``headers``)."""
    # spectree attaches the validated models to the request at run time; Flask's Request type cannot know.
    return getattr(request.context, location)  # type: ignore[attr-defined]


def cancel_reason(default: str) -> str:
    """The cancel request's ``reason``, or ``default``; a body that is there must be a JSON object."""
    if request.get_data():
        ensure_json_object()
    return validated("json").reason or default


def path_id(value: str, what: str) -> str:
    """A UUID from the path in its canonical spelling; anything else names nothing (404)."""
    try:
        return str(UUID(value))
    except ValueError as exc:
        raise NotFound(f"no {what} {value!r}") from exc
