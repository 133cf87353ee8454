"""Invariants over the real databases, each one SQL query for what it checks and one for what breaks it.

Schemas: user_service, order_service, payment_service (payments, ledger_entries), notification_service,
every saga type's ``*_saga`` schema and saga_timers. Every participant stores the answer to each
Idempotency-Key with the change it made; "applied once" is checked by tying every effect row to
exactly one stored answer, and every stored answer to its effect.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saga_workers.registry import SAGA_SCHEMAS, idempotency_key
from tests.chaos.stack import ChaosStack

OPEN = "('CREATED', 'ACCEPTED', 'PLACED', 'ON_THE_WAY', 'DELIVERED', 'COMPLETED')"
LIVE = "('AUTHORIZED', 'CAPTURED')"
# The literal text before and after the saga id in the key of create_order's first action.
CREATE_KEY = idempotency_key("\0", "create_order", "action").split("\0")
ALL_SAGAS = " UNION ALL ".join(
    f"SELECT saga_id, saga_type, status, order_id, runner_id, error FROM {s}.saga_instances" for s in SAGA_SCHEMAS)


@dataclass(frozen=True)
class Invariant:
    """A named rule: ``checked`` counts the rows it covers, ``violations`` lists the rows that break it."""

    name: str
    checked: str
    violations: str


@dataclass
class InvariantResult:
    name: str
    checked: int
    violations: list[dict[str, Any]] = field(default_factory=list)


def _payment_claims(kind: str) -> str:
    """Payment ids that stored idempotent answers claim as moved by ``kind`` (one row per claiming key)."""
    keys = "FROM payment_service.idempotency_keys k"
    if kind in ("HOLD", "CAPTURE"):  # authorize answers the payment (201), capture too (200)
        status, code = ("AUTHORIZED", 201) if kind == "HOLD" else ("CAPTURED", 200)
        return (f"SELECT (k.response::jsonb->>'payment_id')::uuid AS payment_id, k.key {keys} "
                f"WHERE k.status_code = {code} AND k.response::jsonb->>'status' = '{status}'")
    status = {"RELEASE": "RELEASED", "REFUND": "REFUNDED"}[kind]  # release/refund answer {order_id, payment}
    return (f"SELECT (k.response::jsonb->'payment'->>'payment_id')::uuid AS payment_id, k.key {keys} "
            "WHERE k.status_code = 200 AND jsonb_typeof(k.response::jsonb->'payment') = 'object' "
            f"AND k.response::jsonb->'payment'->>'status' = '{status}'")


def _movement_applied_once(kind: str) -> Invariant:
    claims = _payment_claims(kind)
    return Invariant(
        f"payment_service: every {kind} applied by exactly one key",
        f"SELECT count(*) FROM payment_service.ledger_entries WHERE entry_type = '{kind}'",
        f"""WITH claims AS ({claims}),
                 per_payment AS (SELECT payment_id, count(*) AS keys, string_agg(key, ' ') AS key_list
                                 FROM claims GROUP BY payment_id),
                 entries AS (SELECT payment_id, count(*) AS entries FROM payment_service.ledger_entries
                             WHERE entry_type = '{kind}' GROUP BY payment_id)
            SELECT coalesce(e.payment_id, c.payment_id) AS payment_id, coalesce(e.entries, 0) AS ledger_entries,
                   coalesce(c.keys, 0) AS claiming_keys, c.key_list
            FROM entries e FULL JOIN per_payment c ON c.payment_id = e.payment_id
            WHERE coalesce(e.entries, 0) <> 1 OR coalesce(c.keys, 0) <> 1""")


NOTIFICATION_CLAIMS = """
    SELECT (e->>'notification_id')::uuid AS notification_id, k.key
    FROM notification_service.idempotency_keys k
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN k.response::jsonb ? 'notifications'
                                                 THEN k.response::jsonb->'notifications'
                                                 ELSE jsonb_build_array(k.response::jsonb) END) e
    WHERE k.status_code = 201"""

INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "every order past PENDING, not CANCELLED, has exactly one live payment",
        f"SELECT count(*) FROM order_service.orders WHERE status IN {OPEN}",
        f"""SELECT o.order_id, o.status, count(p.payment_id) AS live_payments,
                   (SELECT string_agg(p2.status, ',') FROM payment_service.payments p2
                    WHERE p2.order_id = o.order_id) AS all_payments
            FROM order_service.orders o
            LEFT JOIN payment_service.payments p ON p.order_id = o.order_id AND p.status IN {LIVE}
            WHERE o.status IN {OPEN} GROUP BY o.order_id, o.status HAVING count(p.payment_id) <> 1"""),
    Invariant(
        "every CANCELLED order has no live payment",
        "SELECT count(*) FROM order_service.orders WHERE status = 'CANCELLED'",
        f"""SELECT o.order_id, p.payment_id, p.status FROM order_service.orders o
            JOIN payment_service.payments p ON p.order_id = o.order_id AND p.status IN {LIVE}
            WHERE o.status = 'CANCELLED'"""),
    Invariant(
        "every COMPLETED order has exactly one CAPTURED payment, paid out to its runner's account",
        "SELECT count(*) FROM order_service.orders WHERE status = 'COMPLETED'",
        """SELECT o.order_id, o.runner_id, u.payout_account AS runner_account, o.total,
                  count(p.payment_id) AS captured, string_agg(p.payout_account, ',') AS captured_to,
                  (SELECT string_agg(l.account || '=' || l.amount, ',') FROM payment_service.ledger_entries l
                   JOIN payment_service.payments p2 ON p2.payment_id = l.payment_id
                   WHERE p2.order_id = o.order_id AND l.entry_type = 'PAYOUT') AS payouts
           FROM order_service.orders o
           LEFT JOIN user_service.users u ON u.user_id = o.runner_id
           LEFT JOIN payment_service.payments p ON p.order_id = o.order_id AND p.status = 'CAPTURED'
           WHERE o.status = 'COMPLETED'
           GROUP BY o.order_id, o.runner_id, u.payout_account, o.total
           HAVING count(p.payment_id) <> 1
               OR bool_or(p.payout_account IS DISTINCT FROM u.payout_account OR p.amount <> o.total)
               OR (SELECT count(*) FROM payment_service.ledger_entries l
                   JOIN payment_service.payments p2 ON p2.payment_id = l.payment_id
                   WHERE p2.order_id = o.order_id AND l.entry_type = 'PAYOUT'
                     AND l.account = u.payout_account AND l.amount = o.total) <> 1"""),
    Invariant(
        "no payment was captured or released twice (ledger agrees with each payment's status)",
        "SELECT count(*) FROM payment_service.payments",
        """SELECT p.payment_id, p.order_id, p.status, string_agg(l.entry_type, ',' ORDER BY l.entry_type) AS ledger
           FROM payment_service.payments p LEFT JOIN payment_service.ledger_entries l ON l.payment_id = p.payment_id
           GROUP BY p.payment_id, p.order_id, p.status
           HAVING coalesce(string_agg(l.entry_type, ',' ORDER BY l.entry_type), '') <> CASE p.status
               WHEN 'AUTHORIZED' THEN 'HOLD'
               WHEN 'RELEASED' THEN 'HOLD,RELEASE'
               WHEN 'CAPTURED' THEN 'CAPTURE,HOLD,PAYOUT'
               WHEN 'REFUNDED' THEN 'CAPTURE,HOLD,PAYOUT,REFUND' END"""),
    Invariant(
        "money is held only while the order is open, and captured only once it is COMPLETED",
        f"SELECT count(*) FROM payment_service.payments WHERE status IN {LIVE}",
        f"""SELECT p.payment_id, p.order_id, p.status AS payment_status, o.status AS order_status
            FROM payment_service.payments p LEFT JOIN order_service.orders o ON o.order_id = p.order_id
            WHERE p.status IN {LIVE} AND (o.status IS NULL
               OR (p.status = 'AUTHORIZED' AND (o.status NOT IN {OPEN} OR o.status = 'COMPLETED'))
               OR (p.status = 'CAPTURED' AND o.status <> 'COMPLETED'))"""),
    Invariant(
        "every payment holds its order's total, and an order was authorized at most once",
        "SELECT count(DISTINCT order_id) FROM payment_service.payments",
        """SELECT p.order_id, count(*) AS payments, string_agg(p.amount || ' ' || p.status, ',') AS amounts,
                  max(o.total) AS order_total
           FROM payment_service.payments p LEFT JOIN order_service.orders o ON o.order_id = p.order_id
           GROUP BY p.order_id HAVING count(*) <> 1 OR bool_or(o.total IS DISTINCT FROM p.amount)"""),
    Invariant(
        "a refund or compensating release undid its own saga's capture or hold, never another's",
        "SELECT count(*) FROM payment_service.payments WHERE status IN ('REFUNDED', 'RELEASED')",
        f"""WITH undone AS ({_payment_claims("REFUND")} UNION ALL {_payment_claims("RELEASE")})
            SELECT p.payment_id, p.order_id, p.status, u.key AS undone_by,
                   CASE p.status WHEN 'REFUNDED' THEN p.capture_key ELSE p.authorize_key END AS made_by
            FROM undone u JOIN payment_service.payments p ON p.payment_id = u.payment_id
            WHERE u.key LIKE '%\\:compensation' AND split_part(u.key, ':', 1) IS DISTINCT FROM
                  split_part(CASE p.status WHEN 'REFUNDED' THEN p.capture_key ELSE p.authorize_key END, ':', 1)"""),
    _movement_applied_once("HOLD"),
    _movement_applied_once("RELEASE"),
    _movement_applied_once("CAPTURE"),
    _movement_applied_once("REFUND"),
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
