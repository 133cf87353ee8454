"""Starting and retrying sagas through the engine, answered the gateway's way."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from campus_common import jsonutil
from campus_common.errors import ApiError, Conflict, NotFound
from saga_workers.service import (SagaInProgress, SagaNotCancellable, SagaNotFound, SagaNotRetryable, cancel_saga,
                                  retry_saga, start_saga)


def start(saga_type: str, payload: dict[str, Any], *, scope: str, key: str | None = None,
          generated: Iterable[str] = ()) -> tuple[dict[str, Any], int]:
    """Start ``saga_type``: 202 and its ids; a replay of ``key`` is 200 with the first answer.

    Keys are scoped per caller (``scope``) so two users' keys never meet; ``generated`` names the
    payload fields the gateway made up itself, left out when comparing a replay with its original.
    """
    try:
        started = start_saga(saga_type, payload, idempotency_key=f"{scope}:{key}" if key else None)
    except SagaInProgress as exc:
        # The order's lock: one unfinished saga of a type per order (README, "Sagas").
        raise Conflict(f"a {saga_type} saga is already {(exc.status or 'running').lower()} for this order",
                       code="saga_in_progress", details={"saga_id": exc.saga_id, "status": exc.status,
                                                         "status_url": f"/api/sagas/{exc.saga_id}"}) from exc
    if not started.created and _canonical(started.payload, generated) != _canonical(payload, generated):
        raise ApiError("Idempotency-Key was already used with a different request", status=422,
                       code="idempotency_key_reused")
    order_id = started.payload.get("order_id", payload.get("order_id"))
    body = {"saga_id": started.saga_id, "order_id": order_id, "status_url": f"/api/sagas/{started.saga_id}"}
    return body, 202 if started.created else 200


def retry(saga_id: str) -> dict[str, Any]:
    """Resume a FAILED saga from where it stopped (404 unknown, 409 not FAILED)."""
    with _operator_errors(saga_id):
        return retry_saga(saga_id)


def cancel(saga_id: str) -> dict[str, Any]:
    """Stop a running saga and compensate what took effect (404 unknown, 409 past its pivot or finished)."""
    with _operator_errors(saga_id):
        return cancel_saga(saga_id)


@contextmanager
def _operator_errors(saga_id: str) -> Iterator[None]:
    """An operator's retry or cancel refused by the engine, as the gateway answers it."""
    try:
        yield
    except SagaNotFound as exc:
        raise NotFound(f"no saga {saga_id}") from exc
    except SagaNotRetryable as exc:
        raise Conflict(str(exc) or "only a FAILED saga can be retried", code="saga_not_retryable") from exc
    except SagaNotCancellable as exc:
        raise Conflict(str(exc), code="saga_not_cancellable") from exc


def _canonical(payload: Mapping[str, Any], generated: Iterable[str]) -> Any:
    """The payload as JSON would carry it (Decimals as strings), without gateway-made fields."""
    skipped = set(generated)
    return jsonutil.loads(jsonutil.dumps({k: v for k, v in payload.items() if k not in skipped}))
