"""Invariants over the real databases, each one SQL query for what it checks and one for what breaks it.

Schemas: user_service, order_service, payment_service (payments, ledger_entries), notification_service,
every saga type's ``*_saga`` schema and saga_timers. Every participant stores the answer to each
Idempotency-Key with the change it made; "applied once" is checked by tying every effect row to
exactly one stored answer, and every stored answer to its effect.
"""
from __future__ import annotations

from typing import Any

from saga_workers.registry import idempotency_key
from tests.chaos.invariant import ALL_SAGAS, Invariant, InvariantResult
from tests.chaos.money_invariants import MONEY_INVARIANTS
from tests.chaos.stack import ChaosStack

__all__ = ["ALL_SAGAS", "INVARIANTS", "InvariantResult", "check_invariants"]

# The literal text before and after the saga id in the key of create_order's first action.
CREATE_KEY = idempotency_key("\0", "create_order", "action").split("\0")

NOTIFICATION_CLAIMS = """
    SELECT (e->>'notification_id')::uuid AS notification_id, k.key
    FROM notification_service.idempotency_keys k
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN k.response::jsonb ? 'notifications'
                                                 THEN k.response::jsonb->'notifications'
                                                 ELSE jsonb_build_array(k.response::jsonb) END) e
    WHERE k.status_code = 201"""

INVARIANTS: tuple[Invariant, ...] = (
    *MONEY_INVARIANTS,
    Invariant(
        "order_service: every order created by exactly one key, of its own saga",
        "SELECT count(*) FROM order_service.orders",
        f"""WITH claims AS (SELECT (k.response::jsonb->>'order_id')::uuid AS order_id, k.key
                           FROM order_service.idempotency_keys k
                           WHERE k.status_code = 201 AND k.key LIKE '{CREATE_KEY[0]}%{CREATE_KEY[1]}'),
                per_order AS (SELECT order_id, count(*) AS keys, string_agg(key, ' ') AS key_list
                              FROM claims GROUP BY order_id)
           SELECT coalesce(o.order_id, c.order_id) AS order_id, o.saga_id, coalesce(c.keys, 0) AS claiming_keys,
                  c.key_list
           FROM order_service.orders o FULL JOIN per_order c ON c.order_id = o.order_id
           WHERE coalesce(c.keys, 0) <> 1 OR o.order_id IS NULL
              OR c.key_list <> '{CREATE_KEY[0]}' || o.saga_id || '{CREATE_KEY[1]}'"""),
    Invariant(
        "notification_service: every notification sent by exactly one key",
        "SELECT count(*) FROM notification_service.notifications",
        f"""WITH claims AS ({NOTIFICATION_CLAIMS}),
                 per_note AS (SELECT notification_id, count(*) AS keys, string_agg(key, ' ') AS key_list
                              FROM claims GROUP BY notification_id)
            SELECT coalesce(n.notification_id, c.notification_id) AS notification_id, n.type, n.order_id,
                   coalesce(c.keys, 0) AS claiming_keys, c.key_list
            FROM notification_service.notifications n FULL JOIN per_note c ON c.notification_id = n.notification_id
            WHERE coalesce(c.keys, 0) <> 1 OR n.notification_id IS NULL"""),
    Invariant(
        "each order event was notified once (per order, type and user)",
        "SELECT count(DISTINCT (order_id, type, user_id)) FROM notification_service.notifications",
        """SELECT order_id, type, user_id, payload->>'status' AS status, count(*) AS sent
           FROM notification_service.notifications
           GROUP BY order_id, type, user_id, payload->>'status' HAVING count(*) > 1"""),
    Invariant(
        "every saga is COMPLETED or COMPENSATED (after `saga retry` of the FAILED ones)",
        f"SELECT count(*) FROM ({ALL_SAGAS}) s",
        f"SELECT saga_id, saga_type, status, order_id, error FROM ({ALL_SAGAS}) s "
        "WHERE status NOT IN ('COMPLETED', 'COMPENSATED')"),
    Invariant(
        "a saga's outcome agrees with its order",
        f"SELECT count(*) FROM ({ALL_SAGAS}) s",
        f"""SELECT s.saga_id, s.saga_type, s.status AS saga_status, o.status AS order_status,
                   s.runner_id AS saga_runner, o.runner_id AS order_runner
            FROM ({ALL_SAGAS}) s LEFT JOIN order_service.orders o ON o.order_id = s.order_id
            WHERE (s.saga_type = 'create_order' AND s.status = 'COMPLETED' AND o.status IS NULL)
               OR (s.saga_type = 'create_order' AND s.status = 'COMPENSATED' AND o.status IS DISTINCT FROM 'CANCELLED'
                   AND o.status IS NOT NULL)
               OR (s.saga_type = 'accept_order' AND s.status = 'COMPLETED'
                   AND (o.runner_id IS DISTINCT FROM s.runner_id OR o.status IN ('PENDING', 'CREATED', 'CANCELLED')))
               OR (s.saga_type = 'accept_order' AND s.status = 'COMPENSATED' AND o.runner_id = s.runner_id
                   AND NOT EXISTS (SELECT 1 FROM accept_order_saga.saga_instances won
                                   WHERE won.order_id = s.order_id AND won.runner_id = s.runner_id
                                     AND won.status = 'COMPLETED'))
               OR (s.saga_type = 'cancel_order' AND s.status = 'COMPLETED' AND o.status <> 'CANCELLED')
               OR (s.saga_type = 'complete_order' AND s.status = 'COMPLETED' AND o.status <> 'COMPLETED')"""),
    Invariant(
        "at most one cancel, accept and complete saga took effect per order",
        "SELECT count(DISTINCT order_id) FROM order_service.orders",
        f"""SELECT order_id, saga_type, count(*) AS completed, string_agg(saga_id::text, ' ') AS sagas
            FROM ({ALL_SAGAS}) s WHERE status = 'COMPLETED' AND saga_type <> 'create_order'
            GROUP BY order_id, saga_type HAVING count(*) > 1"""),
    Invariant(
        "no order is left PENDING, or open (CREATED) with no accept-timeout armed",
        "SELECT count(*) FROM order_service.orders",
        """SELECT o.order_id, o.status, t.status AS timer, t.deadline, t.fired_saga_id,
                  c.status AS fired_saga_status, c.error AS fired_saga_error
           FROM order_service.orders o
           LEFT JOIN saga_timers.accept_timeouts t ON t.order_id = o.order_id
           LEFT JOIN cancel_order_saga.saga_instances c ON c.saga_id = t.fired_saga_id
           WHERE o.status = 'PENDING' OR (o.status = 'CREATED' AND t.status IS DISTINCT FROM 'ARMED')"""),
)


def check_invariants(stack: ChaosStack, extra: list[InvariantResult] | None = None) -> list[InvariantResult]:
    """Run every invariant against the stack's database; ``extra`` holds ones checked by the driver."""
    results = []
    for invariant in INVARIANTS:
        checked = stack.query(invariant.checked)[0][0]
        rows = [_with_sagas(stack, dict(row._mapping)) for row in stack.query(invariant.violations)]
        results.append(InvariantResult(invariant.name, int(checked), rows))
    return results + list(extra or [])


def _with_sagas(stack: ChaosStack, row: dict[str, Any]) -> dict[str, Any]:
    """A violating row about an order, with every saga of that order (type, status, id, error): where to look."""
    if not row.get("order_id"):
        return row
    sagas = stack.query(f"SELECT saga_type, status, saga_id, left(error, 160) FROM ({ALL_SAGAS}) s "
                        "WHERE order_id = :o ORDER BY saga_type", {"o": row["order_id"]})
    return {**row, "sagas": [f"{t} {st} {sid}" + (f" ({err})" if err else "") for t, st, sid, err in sagas]}
