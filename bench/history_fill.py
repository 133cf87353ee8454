"""Bulk-fill the saga schemas with a finished history, in SQL (generate_series), indexes built after.

Every saga type gets ``n`` sagas spread over ``days`` days (one in 1000 FAILED at its last step,
one in 25 COMPENSATED, the rest COMPLETED), one step-log row per step, and create_order one
accept-timeout row per order (1 in 10000 left FIRED by a cancel that failed, the rest
DISARMED, as a finished cancel or accept leaves it). Constraints and indexes are
dropped first and rebuilt after the load, as a restore would, then the tables are analyzed.
"""
from __future__ import annotations

import time

from sqlalchemy import Engine, text

from saga_workers.sagas import REGISTRY

ITEMS = '[{"name": "Burrito", "price": "6.50", "quantity": 2}]'
SERIES = """(SELECT i, now() - make_interval(secs => (:n - i) * :spread / :n) AS t FROM generate_series(1, :n) i) g"""
STATUS = "CASE WHEN i % 1000 = 7 THEN 'FAILED' WHEN i % 25 = 3 THEN 'COMPENSATED' ELSE 'COMPLETED' END"

INSTANCES = f"""
INSERT INTO {{schema}}.saga_instances (saga_id, saga_type, status, current_step, current_step_name,
    definition_version, failed_phase, payload, step_outputs, idempotency_key, order_id, customer_id, runner_id,
    error, round, created_at, updated_at)
SELECT md5(:tag || i)::uuid, :type, {STATUS},
    CASE WHEN i % 1000 = 7 THEN :k - 1 ELSE :k END, CASE WHEN i % 1000 = 7 THEN :last END, '1',
    CASE WHEN i % 1000 = 7 THEN 'action' END,
    jsonb_build_object('order_id', md5('order' || i)::uuid, 'customer_id', md5('customer' || (i % 5000))::uuid,
                       'items', '{ITEMS}'::jsonb, 'store_location', 'Union Food Court',
                       'delivery_location', 'Library, 2nd floor'),
    jsonb_build_object(:first, jsonb_build_object('status', 'PENDING', 'order_id', md5('order' || i)::uuid)),
    CASE WHEN i % 4 = 0 THEN 'key-' || :tag || i END,
    md5('order' || i)::uuid, md5('customer' || (i % 5000))::uuid, md5('runner' || (i % 500))::uuid,
    CASE WHEN i % 1000 = 7 THEN :last || ': InfrastructureFault: connection refused'
         WHEN i % 25 = 3 THEN 'BusinessRefusal: 402 card_declined' END,
    1, t, t + interval '300 milliseconds'
FROM {SERIES}
"""

STEP_LOG = f"""
INSERT INTO {{schema}}.saga_step_log (id, saga_id, step_index, step_name, phase, round, attempt, status,
    outcome_unknown, error, started_at, finished_at)
SELECT :id0 + (i - 1) * :k + s + 1, md5(:tag || i)::uuid, s, (CAST(:names AS text[]))[s + 1], 'action', 1, 1,
    CASE WHEN i % 1000 = 7 AND s = :k - 1 THEN 'FAILED' ELSE 'DONE' END, false,
    CASE WHEN i % 1000 = 7 AND s = :k - 1 THEN 'connection refused' END,
    t + s * interval '50 milliseconds', t + s * interval '50 milliseconds' + interval '30 milliseconds'
FROM {SERIES}, generate_series(0, :k - 1) s
"""

TIMERS = f"""
INSERT INTO saga_timers.accept_timeouts (order_id, saga_id, deadline, status, fired_saga_id, fire_count, fired_at,
    created_at, updated_at)
SELECT md5('order' || i)::uuid, md5(:tag || i)::uuid, t + interval '30 minutes',
    CASE WHEN i % 10000 = 0 THEN 'FIRED' ELSE 'DISARMED' END, CASE WHEN i % 10000 = 0 THEN md5('cancel' || i)::uuid END,
    CASE WHEN i % 10000 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 10000 = 0 THEN t + interval '30 minutes' END,
    t, t + interval '2 minutes'
FROM {SERIES}
"""

SIZES = {"create_order": 1.0, "accept_order": 0.1, "cancel_order": 0.05, "complete_order": 0.1}
TABLES = ("saga_step_log", "saga_instances")  # foreign keys from the first to the second


def _ddl(conn, schema: str, table: str) -> tuple[list[str], list[str], list[str]]:
    """(constraints, foreign keys, other indexes) of one table, as statements that recreate them."""
    rel = f"{schema}.{table}"
    rows = conn.execute(text("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conrelid = CAST(:r AS regclass) AND contype IN ('p', 'u', 'f')"), {"r": rel}).all()
    constraints = [f"ALTER TABLE {rel} ADD CONSTRAINT {n} {d}" for n, t, d in rows if t != "f"]
    fks = [f"ALTER TABLE {rel} ADD CONSTRAINT {n} {d}" for n, t, d in rows if t == "f"]
    indexes = [r[0] for r in conn.execute(text(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = CAST(:r AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"), {"r": rel})]
    return constraints, fks, indexes


def fill(engine: Engine, sagas: int, days: float = 40.0) -> dict[str, float]:
    """Load the history; return the seconds each phase took."""
    took, started = {}, time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        # Every table at once: the stack's beat scans run meanwhile and must not deadlock with the load.
        tables = [f"{d.schema}.{t}" for d in REGISTRY.values() for t in TABLES] + ["saga_timers.accept_timeouts"]
        conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        rebuild = []
        for definition in REGISTRY.values():
            schema = definition.schema
            for table in TABLES:
                constraints, fks, indexes = _ddl(conn, schema, table)
                rebuild.append((constraints, indexes, fks))
                for fk in fks:
                    conn.execute(text(f"ALTER TABLE {schema}.{table} DROP CONSTRAINT {fk.split()[5]}"))
            for table in TABLES:
                for name in conn.execute(text(
                        "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:r AS regclass) AND contype IN "
                        "('p', 'u')"), {"r": f"{schema}.{table}"}).scalars():
                    conn.execute(text(f"ALTER TABLE {schema}.{table} DROP CONSTRAINT {name}"))
                for name in conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = :s AND "
                                              "tablename = :t"), {"s": schema, "t": table}).scalars():
                    conn.execute(text(f"DROP INDEX {schema}.{name}"))
        for saga_type, share in SIZES.items():
            definition = REGISTRY[saga_type]
            names = [step.name for step in definition.steps]
            n, k = int(sagas * share), len(names)
            id0 = conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {definition.schema}.saga_step_log"))\
                .scalar_one()  # after the sagas the empty-table round ran
            params = {"n": n, "spread": days * 86400, "tag": saga_type, "type": saga_type,
                      "k": k, "last": names[-1], "first": names[0], "names": names, "id0": id0}
            conn.execute(text(INSTANCES.replace("{schema}", definition.schema)), params)
            conn.execute(text(STEP_LOG.replace("{schema}", definition.schema)), params)
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{definition.schema}.saga_step_log', 'id'), "
                              ":m)"), {"m": id0 + n * k})
            if saga_type == "create_order":
                conn.execute(text(TIMERS), params)
        took["insert"] = time.monotonic() - started
        for constraints, indexes, _ in rebuild:
            for statement in constraints + indexes:
                conn.execute(text(statement))
        for _, _, fks in rebuild:
            for statement in fks:
                conn.execute(text(statement))
        took["indexes"] = time.monotonic() - started - took["insert"]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for definition in REGISTRY.values():
            for table in TABLES:
                conn.execute(text(f"VACUUM ANALYZE {definition.schema}.{table}"))
        conn.execute(text("VACUUM ANALYZE saga_timers.accept_timeouts"))
    took["vacuum"] = time.monotonic() - started - took["insert"] - took["indexes"]
    return took


def counts(engine: Engine) -> tuple[int, int]:
    """(sagas, step-log rows) across the saga schemas."""
    with engine.connect() as conn:
        sagas = sum(conn.execute(text(f"SELECT count(*) FROM {d.schema}.saga_instances")).scalar_one()
                    for d in REGISTRY.values())
        log_rows = sum(conn.execute(text(f"SELECT count(*) FROM {d.schema}.saga_step_log")).scalar_one()
                       for d in REGISTRY.values())
    return sagas, log_rows
