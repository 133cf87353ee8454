"""Response models of the public API, for the OpenAPI document (fields a client may rely on).

They allow extra fields, so a field added to an answer never turns it into an error.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Open(BaseModel):
    """A response that may carry more than the fields listed."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Open):
    """What went wrong: a stable ``code``, a message for people, and details (e.g. field -> problem)."""

    code: str
    message: str
    details: Any = None


class ErrorBody(Open):
    """Every error answer: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


class SagaStarted(Open):
    """A saga was started (202) or a replayed Idempotency-Key found the one already started (200)."""

    saga_id: str
    order_id: str | None = None
    status_url: str


class SagaHeader(Open):
    """What names a saga and where it stands."""

    saga_id: str
    saga_type: str
    status: str


class SagaAction(SagaHeader):
    """An operator's retry or cancel was accepted; the workers do the rest."""


class SagaStep(Open):
    """One step and phase of a saga's timeline, its latest attempt speaking for it."""

    name: str
    phase: str
    status: str
    attempts: int
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None


class Saga(SagaHeader):
    """A saga with its step timeline."""

    order_id: str | None = None
    current_step: str | None = None
    definition_version: str | None = None
    error: str | None = None
    created_at: str
    updated_at: str
    steps: list[SagaStep] = []


class SagaPage(Open):
    """A page of sagas, newest first; ``next_cursor`` fetches the next page."""

    sagas: list[Open]
    next_cursor: str | None = None


class Order(Open):
    """An order as the order service keeps it (money as two-place strings)."""

    order_id: str
    customer_id: str
    status: str


class OrderWithPayment(Order):
    """An order with its live (or latest) payment's status and amount."""

    payment: Open | None = None


class OrderList(Open):
    """Orders, newest first."""

    orders: list[Order]


class User(Open):
    """A customer or runner."""

    user_id: str
    name: str
    email: str
    role: str
