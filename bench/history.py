"""Benchmark: does a large finished history slow the platform down? Empty tables vs. a big history.

    .venv/bin/python bench/history.py [--sagas 1000000]

Starts a stack of its own (devstack on free ports, a temporary RUN_DIR, Postgres with its durable
defaults: fsync and synchronous_commit on), measures on empty tables, fills the saga schemas in
bulk with SQL (bench/history_fill.py: ``--sagas`` create_order sagas plus a quarter as many of the
other types, one step-log row per step), measures again and prints both side by side with the
EXPLAIN of every scan. Figures only (median of several runs, in ms); nothing passes or fails.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from history_fill import counts, fill  # noqa: E402
from saga_throughput import ITEMS, own_stack  # noqa: E402

from devstack.gateway_client import Gateway, mint_token  # noqa: E402

REPEAT = 9


def timed(action, repeat: int = REPEAT) -> float:
    """Median wall time of ``action`` in ms, after one untimed call (warm caches and pools)."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def explain(engine, sql: str, params: dict) -> str:
    """EXPLAIN ANALYZE of ``sql`` in a transaction that is rolled back (the sweeper's is an UPDATE)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF) " + sql), params).scalars()
        lines = list(plan)
        conn.rollback()
    return "\n".join("    " + line for line in lines)


def explain_page(engine, **page) -> str:
    """EXPLAIN of the saga list's page statement, exactly as the gateway builds it."""
    from saga_workers.queries import page_query

    return explain_statement(engine, page_query(**page))


def explain_statement(engine, statement) -> str:
    """EXPLAIN ANALYZE of a SQLAlchemy statement, compiled as the application sends it."""
    from sqlalchemy.dialects import postgresql

    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True})
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF) " + str(compiled),
                                    compiled.params).scalars()
        return "\n".join("    " + line for line in rows)


def deep_cursor(engine, depth: int) -> str:
    """The list cursor of the saga ``depth`` rows down the newest-first create_order list."""
    from sqlalchemy import text

    from saga_workers.queries import _encode_cursor

    with engine.connect() as conn:
        row = conn.execute(text("SELECT created_at, saga_id FROM create_order_saga.saga_instances "
                                "ORDER BY created_at DESC, saga_id DESC OFFSET :d LIMIT 1"), {"d": depth}).first()
    return _encode_cursor({"created_at": row.created_at, "saga_id": row.saga_id}) if row else ""


def measure(gateway_url: str, env: dict[str, str], engine, depth: int) -> tuple[dict[str, float], dict[str, str]]:
    """Every figure once: (label -> ms, label -> EXPLAIN)."""
    from saga_workers import accept_timeouts, maintenance, retention
    from saga_workers.engine.store_upkeep import PURGE_FINISHED, STALLED
    from saga_workers.engine.store_views import versions_select as versions_query
    from saga_workers.queries import get_saga, versions_in_use
    from saga_workers.sagas import REGISTRY

    admin = Gateway(gateway_url, mint_token(str(uuid.uuid4()), "admin", env))
    customer = admin.create_user(f"Bench {uuid.uuid4().hex[:6]}", "customer", card_token="tok_visa")
    shopper = admin.as_user(mint_token(customer["user_id"], "customer", env))
    figures: dict[str, float] = {}
    placed = []
    figures["start a saga (POST /api/orders -> 202)"] = timed(lambda: placed.append(shopper.create_order(ITEMS)))
    for each in placed:
        shopper.wait_for_saga(each["saga_id"], timeout=120)

    def one_saga() -> None:
        shopper.wait_for_saga(shopper.create_order(ITEMS)["saga_id"], timeout=120)

    figures["one saga end to end (POST -> COMPLETED seen)"] = timed(one_saga, repeat=5)
    figures["sweeper scan (resume_stalled, 4 schemas)"] = timed(maintenance.resume_stalled)
    figures["accept-timeout scan (fire_due_timeouts)"] = timed(accept_timeouts.fire_due)
    cursor = deep_cursor(engine, depth)
    # Pages of 10: full pages on the "empty" side too (it holds the ~15 sagas this run started).
    figures["GET /api/sagas first page"] = timed(lambda: admin.expect("GET", "/api/sagas?limit=10", 200))
    figures[f"GET /api/sagas deep page (~{depth:,} down)"] = timed(
        lambda: admin.expect("GET", f"/api/sagas?limit=10&cursor={cursor}", 200))
    figures["GET /api/sagas?status=STARTED first page"] = timed(
        lambda: admin.expect("GET", "/api/sagas?limit=10&status=STARTED", 200))
    figures["GET /api/sagas as a customer"] = timed(lambda: shopper.expect("GET", "/api/sagas?limit=10", 200))
    saga_id = placed[0]["saga_id"]
    figures["saga show (read model, in process)"] = timed(lambda: get_saga(saga_id, detail=True))
    figures["GET /api/sagas/<id>"] = timed(lambda: admin.expect("GET", f"/api/sagas/{saga_id}", 200))
    figures["saga show (CLI process)"] = timed(lambda: subprocess.run(
        [sys.executable, "-m", "celery", "-A", "saga_workers", "saga", "show", saga_id], env=env, check=True,
        capture_output=True), repeat=3)
    figures["saga versions"] = timed(versions_in_use, repeat=5)
    figures["retention scan, nothing due"] = timed(lambda: retention.purge_finished(retention_settings(3650)))
    figures["retention: one batch (up to 1000 per type)"] = timed(lambda: retention.purge_finished(
        retention_settings(30)), repeat=1)
    plans = {
        "sweeper (create_order_saga)": explain(engine, STALLED.format(schema="create_order_saga"),
                                               {"s": 120, "n": maintenance.BATCH}),
        "accept-timeout scan": explain(engine, accept_timeouts.DUE.format(cancel_schema="cancel_order_saga"),
                                       {"n": accept_timeouts.BATCH, "gap": 120}),
        "saga list, deep page": explain_page(engine, saga_type=None, status=None, customer_id=None, limit=50,
                                             cursor=cursor or None, order_id=None, created=(None, None)),
        "saga list, status=STARTED": explain_page(engine, saga_type=None, status="STARTED", customer_id=None,
                                                 limit=50, cursor=None, order_id=None, created=(None, None)),
        "saga versions (create_order_saga)": explain_statement(engine, versions_query("create_order_saga")),
        "retention batch (create_order_saga)": explain(
            engine, PURGE_FINISHED.format(schema="create_order_saga"), {"age": 30 * 86400, "n": 1000}),
    }
    assert REGISTRY  # the schemas measured are the registry's
    return figures, plans


def retention_settings(days: float):
    """One batch of the default size, sagas older than ``days``."""
    from campus_common.config import Settings

    return Settings(saga_retention_batch=1000, saga_retention_max_batches=1, saga_retention_days=days)


def report(empty: dict[str, float], full: dict[str, float], plans: dict[str, str], filled: tuple, took) -> None:
    """The figures side by side, then the plans."""
    sagas, log_rows = filled
    print(f"history: {sagas:,} sagas, {log_rows:,} step-log rows (load {took['insert']:.0f} s, indexes "
          f"{took['indexes']:.0f} s, vacuum analyze {took['vacuum']:.0f} s)")
    print(f"{'operation (median ms)':<48}{'empty':>10}{'history':>10}{'ratio':>8}")
    for label, before in empty.items():
        after = full[label]
        ratio = "n/a" if label.startswith("retention: one batch") else f"{after / before:.2f}"
        print(f"{label:<48}{before:>10.1f}{after:>10.1f}{ratio:>8}")
    print("(retention's batch deletes nothing on empty tables: only the history side does work there)")
    for label, plan in plans.items():
        print(f"\nEXPLAIN ANALYZE {label} (with the history):\n{plan}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagas", type=int, default=1_000_000, help="create_order sagas (others: a quarter more)")
    args = parser.parse_args()
    # Durable Postgres; beat's own retention stays out of the way (the bench runs one batch itself).
    with own_stack(PG_DURABLE="1", SAGA_RETENTION_SCAN_SECONDS="86400") as (url, env, run_dir):
        from campus_common.stackenv import load_stack_env

        os.environ.update(RUN_DIR=str(run_dir))
        load_stack_env()
        from campus_common.db import Database
        from saga_workers.bootstrap import bootstrap

        bootstrap()  # wired from this stack's environment: its Postgres, its Redis
        engine = Database(os.environ["DATABASE_URL"]).engine
        depth = args.sagas // 2
        empty, _ = measure(url, env, engine, depth)
        print("measured on empty tables; filling ...", flush=True)
        took = fill(engine, args.sagas)
        full, plans = measure(url, env, engine, depth)
        report(empty, full, plans, counts(engine), took)
    return 0


if __name__ == "__main__":
    sys.exit(main())
