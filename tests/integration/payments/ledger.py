"""Calls and reads for the payment service's tests: authorize, the other actions, the ledger's entries."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from campus_common.db import get_engine


CUSTOMER_ID = str(uuid.uuid4())


def authorize(client: FlaskClient, order_id: str, amount: str = "12.50", card: str = "tok_visa",
              key: str | None = None) -> TestResponse:
    body = {"order_id": order_id, "customer_id": CUSTOMER_ID, "amount": amount, "card_token": card}
    return client.post("/payments/authorize", json=body, headers={"Idempotency-Key": key} if key else {})


def post(client: FlaskClient, action: str, order_id: str, key: str | None = None, **extra: str) -> TestResponse:
    return client.post(f"/payments/{action}", json={"order_id": order_id, **extra},
                       headers={"Idempotency-Key": key} if key else {})


def ledger(url: str, order_id: str) -> list[tuple[str, str, Decimal]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT e.entry_type, e.account, e.amount FROM payment_service.ledger_entries e "
            "JOIN payment_service.payments p USING (payment_id) WHERE p.order_id = :o"), {"o": order_id})
        return sorted(tuple(row) for row in rows)


def payments_of(client: FlaskClient, order_id: str) -> list[dict[str, Any]]:
    return client.get(f"/payments?order_id={order_id}").get_json()["payments"]


def error_code(response: TestResponse) -> str:
    return response.get_json()["error"]["code"]


def new_order() -> str:
    return str(uuid.uuid4())
