"""Invariants about money: one live payment per open order, none for a cancelled one, one capture to the
runner per completed order, and every ledger movement applied by exactly one idempotency key."""
from __future__ import annotations

from tests.chaos.invariant import Invariant

OPEN = "('CREATED', 'ACCEPTED', 'PLACED', 'ON_THE_WAY', 'DELIVERED', 'COMPLETED')"
LIVE = "('AUTHORIZED', 'CAPTURED')"


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



MONEY_INVARIANTS: tuple[Invariant, ...] = (
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
)
