"""What a customer or runner may read of a recorded saga error (api_gateway.redaction)."""
from __future__ import annotations

import pytest

from api_gateway.auth import Principal
from api_gateway.redaction import public_error, saga_for


@pytest.mark.parametrize("recorded, shown", [
    ("authorize_payment: BusinessRefusal: 402 card_declined: the card was declined",
     "card_declined: the card was declined"),
    ("InfrastructureFault: POST http://10.0.0.7:3003/payments/authorize timed out after 5.0s",
     "service_unavailable: a service the step needs did not answer in time; it was retried"),
    ("compensating create_order: InfrastructureFault: POST http://order:3002/orders/x/cancel answered 500",
     "service_unavailable: a service the step needs did not answer in time; it was retried"),
    ("check_delivered: StepRefused: the order is not DELIVERED", "step_refused: the order is not DELIVERED"),
    ("notify: KeyError: 'runner_id'", "step_failed: the step failed unexpectedly"),
    ("capture_payment: the step task failed unexpectedly", "step_failed: the step failed unexpectedly"),
    ("x: BusinessRefusal: 409 conflict: see http://internal:3002/orders", "conflict: the step failed unexpectedly"),
    (None, None),
])
def test_public_error(recorded: str | None, shown: str | None) -> None:
    assert public_error(recorded) == shown


def test_admins_see_the_record_and_others_the_redacted_view() -> None:
    saga = {"error": "a: InfrastructureFault: GET http://x/y failed", "steps": [{"name": "a", "error": None}]}
    assert saga_for(Principal("u", "admin"), saga) is saga
    shown = saga_for(Principal("u", "customer"), saga)
    assert shown["error"].startswith("service_unavailable: ") and shown["steps"] == [{"name": "a", "error": None}]
