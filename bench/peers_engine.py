"""Variant P of the peers benchmark: this engine on the peers' workload, its row beside theirs.

    python bench/peers_engine.py LABEL        (run by bench/peers.py, with the peers' stores up)

The saga type ``calib`` (bench/peers_calib.py, loaded through SAGA_DEFINITION_MODULES) is started
with ``saga_workers.service.start_saga`` and run by one worker started exactly as devstack starts a
saga worker (``devstack.stack.worker_argv``: the threads pool, 8 threads), ``-c $P_CONCURRENCY`` and
``--pool $P_POOL`` when set, ``$P_PROCESSES`` workers, task events off with CELERY_TASK_EVENTS=0 (lever runs). Measured like the
harness's run_p.py: a saga's finish time is its row's ``updated_at`` when it is COMPLETED. The
result line goes to the harness's results.jsonl (variant ``P``, or ``P.<P_FLAVOR>`` for a lever run).
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, os.environ["PEERS_DIR"])  # bench/peers.py sets it
import common as C  # noqa: E402  the harness's settings, stats and CPU accounting

PROJECT = Path(os.environ.get("CALIB_PROJECT", Path(__file__).resolve().parents[1]))
P_DB = "calib_project"
QUEUE = "calib_saga"
label = sys.argv[1] if len(sys.argv) > 1 else "x"
flavor = os.environ.get("P_FLAVOR", "")
concurrency = int(os.environ.get("P_CONCURRENCY", "0"))  # 0: devstack's (CELERY_THREADS)
pool = os.environ.get("P_POOL", "")  # a lever run: "threads" (one process) instead of the shipped pool
processes = int(os.environ.get("P_PROCESSES", "1"))  # a scaling run: this many workers on the queue

os.environ.update(
    DATABASE_URL=f"postgresql+psycopg2://{C.PG_USER}@{C.PG_HOST}:{C.PG_PORT}/{P_DB}",
    REDIS_URL="redis://127.0.0.1:6390/7", CALIB_PARTICIPANT_URL=C.PARTICIPANT_URL,
    SAGA_DEFINITION_MODULES="peers_calib", LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
    PYTHONPATH=os.pathsep.join([str(PROJECT), str(PROJECT / "bench"), C.HERE]))  # the measured checkout's saga
sys.path[:0] = [str(PROJECT)]
if C.psql(f"SELECT 1 FROM pg_database WHERE datname='{P_DB}'") != "1":
    C.psql(f"CREATE DATABASE {P_DB}")
subprocess.run([sys.executable, "-m", "devstack.migrate"], cwd=PROJECT, check=True, capture_output=True)

import psycopg2  # noqa: E402
import redis  # noqa: E402

from devstack.config import CELERY_THREADS  # noqa: E402
from devstack.stack import worker_argv  # noqa: E402
from saga_workers.service import start_saga  # noqa: E402


def wait_done(cur, saga_ids: list[str], timeout: float) -> dict[str, tuple[str, float]]:
    """{saga_id: (status, finish epoch)} of the sagas that left STARTED, once all have or at timeout."""
    deadline = time.time() + timeout
    while True:
        cur.execute("SELECT saga_id::text, status, extract(epoch from updated_at) FROM calib_saga.saga_instances "
                    "WHERE saga_id = ANY(%s::uuid[]) AND status <> 'STARTED'", (saga_ids,))
        rows = {r[0]: (r[1], float(r[2])) for r in cur.fetchall()}
        if len(rows) == len(saga_ids) or time.time() > deadline:
            return rows
        time.sleep(0.05)


def one_alone(cur, n: int) -> float:
    """Start one saga on an idle worker and return its latency (start -> COMPLETED row), seconds."""
    t1 = time.time()
    saga_id = start_saga("calib", {"calib_id": f"P-s{n:03d}"}, idempotency_key=f"calib-{label}-s{n}").saga_id
    while True:
        cur.execute("SELECT status, extract(epoch from updated_at) FROM calib_saga.saga_instances WHERE saga_id=%s",
                    (saga_id,))
        status, finished = cur.fetchone()
        if status != "STARTED" or time.time() - t1 > 30:
            return float(finished) - t1
        time.sleep(0.002)


def tree_cpu(workers: list[subprocess.Popen]) -> dict:
    """CPU seconds per pid of every worker process and its pool."""
    return {pid: cpu for each in workers for pid, cpu in C.tree_cpu(each.pid).items()}


def main() -> None:
    try:
        service_auth: ModuleType | None = importlib.import_module("campus_common.service_auth")
    except ImportError:  # a checkout from before service tokens (a lever-by-lever run)
        service_auth = None
    if service_auth is not None:  # the worker signs a token per call, as in production (ignored by the participant)
        os.environ.setdefault(service_auth.private_key_variable(service_auth.SAGA_WORKERS),
                              service_auth.generate_private_key())
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    broker.flushdb()
    C.reset_app_tables()
    C.psql("TRUNCATE calib_saga.saga_step_log, calib_saga.saga_instances", db=P_DB)
    mon = psycopg2.connect(f"postgresql://{C.PG_USER}@{C.PG_HOST}:{C.PG_PORT}/{P_DB}")
    mon.autocommit = True
    cur = mon.cursor()
    argv = list(worker_argv(QUEUE, concurrency or CELERY_THREADS))
    if pool:  # a lever run on another pool than the shipped one
        argv[argv.index("--pool") + 1] = pool
    log = open(os.path.join(C.OUT, f"logs/p_{flavor or 'shipped'}_{label.replace('|', '_')}.log"), "w")
    workers = [subprocess.Popen([arg.replace(f"{QUEUE}@", f"{QUEUE}{n}@") if processes > 1 else arg for arg in argv],
                                cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
               for n in range(processes)]
    worker = workers[0]
    try:
        warm = [start_saga("calib", {"calib_id": f"warm-{w}"}, idempotency_key=f"calib-{label}-warm-{w}").saga_id
                for w in range(2)]
        if len(wait_done(cur, warm, 90)) < 2:
            raise SystemExit("the worker did not complete the warm-up sagas; see logs/")
        time.sleep(1.0)
        probe, load1 = C.cpu_probe(), C.loadavg()
        spy = C.start_pyspy(worker.pid)  # only when PYSPY_OUT is set (profile runs)
        xact0 = C.psql(f"SELECT xact_commit FROM pg_stat_database WHERE datname='{P_DB}'")
        enq: dict[str, float] = {}
        cpu0, wcpu0, dcpu0 = C.cpu_snapshot(), tree_cpu(workers), C.self_cpu()
        t0 = time.time()
        for n in range(C.N_SAGAS):
            t = time.time()
            enq[start_saga("calib", {"calib_id": f"P-{n:05d}"}, idempotency_key=f"calib-{label}-{n}").saga_id] = t
        t_enq, dcpu_enq = time.time() - t0, C.self_cpu() - dcpu0
        while time.time() < t0 + 300:
            cur.execute("SELECT count(*) FROM calib_saga.saga_instances WHERE status IN ('STARTED', 'COMPENSATING')")
            if cur.fetchone() == (0,):
                break
            time.sleep(0.05)
        cpu, wcpu = C.cpu_delta(cpu0), C.tree_cpu_delta(wcpu0, tree_cpu(workers))
        wall = time.time() - t0
        C.stop_pyspy(spy)
        xact1 = C.psql(f"SELECT xact_commit FROM pg_stat_database WHERE datname='{P_DB}'")
        rows = wait_done(cur, list(enq), 1)
        fin = {sid: ts for sid, (status, ts) in rows.items() if status == "COMPLETED"}
        statuses: dict[str, int] = {}
        for status, _ in rows.values():
            statuses[status] = statuses.get(status, 0) + 1
        t_end = max(fin.values()) if fin else time.time()
        serial = [one_alone(cur, n) for n in range(C.N_SERIAL)]
        extra = {"enqueue_s": round(t_enq, 3), "statuses": statuses, "completed_rows": len(fin),
                 "cpu_probe_s": round(probe, 3), "load1": round(load1, 2), **cpu,
                 "cpu_worker_cores": round(wcpu / wall, 2), "worker_cpu_s": round(wcpu, 2),
                 "worker_cpu_ms_per_step": round(wcpu * 1000 / (C.N_SAGAS * C.N_STEPS), 3),
                 "driver_cpu_ms_per_saga": round(dcpu_enq * 1000 / C.N_SAGAS, 3),
                 "pg_xact_commit_batch": int(xact1) - int(xact0), "flavor": flavor or "shipped",
                 "config": f"{processes} x {' '.join(argv[1:])}; project {PROJECT}"}
        C.emit(C.summarize(f"P.{flavor}" if flavor else "P", label, t0, t_end, enq, fin, serial, extra))
    finally:
        for each in workers:
            C.stop_group(each)
        log.close()
        broker.flushdb()
        mon.close()


if __name__ == "__main__":
    main()
