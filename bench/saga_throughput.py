"""Benchmark: create_order sagas through the gateway, end to end, on the real stack.

    .venv/bin/python bench/saga_throughput.py [--orders 200] [--concurrency 8]

Starts its own stack (devstack, temporary RUN_DIR, free loopback ports) unless GATEWAY_URL is
set (then GATEWAY_JWT_SECRET must match that stack). Prints throughput, saga latency percentiles
(saga row created -> COMPLETED, as recorded in Postgres) and the resident memory of the stack's
processes. Figures only: nothing here passes or fails.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.gateway_client import Gateway, mint_token  # noqa: E402
from devstack.procs import free_port  # noqa: E402

PORTS = ("PG_PORT", "REDIS_PORT", "USER_SERVICE_PORT", "ORDER_SERVICE_PORT", "PAYMENT_SERVICE_PORT",
         "NOTIFICATION_SERVICE_PORT", "GATEWAY_PORT")
ITEMS = [{"name": "Burrito", "price": "6.50", "quantity": 2}]


@contextmanager
def own_stack():
    """A fresh stack on free ports; yields (gateway url, env, run dir)."""
    run_dir = Path(tempfile.mkdtemp(prefix="campus-bench-"))
    run_dir.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    env.update({name: str(free_port()) for name in PORTS})
    env.update(RUN_DIR=str(run_dir), FLOWER_PORT="0", GATEWAY_JWT_SECRET=f"bench-{uuid.uuid4().hex}")
    devstack = [sys.executable, "-m", "devstack"]
    try:
        subprocess.run([*devstack, "up"], env=env, check=True, stdout=subprocess.DEVNULL)
        yield f"http://127.0.0.1:{env['GATEWAY_PORT']}", env, run_dir
    finally:
        subprocess.run([*devstack, "down"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(run_dir, ignore_errors=True)


def rss_mib(run_dir: Path | None) -> dict[str, float]:
    """Resident memory (MiB) of each supervised process and its children."""
    if run_dir is None:
        return {}
    sizes = {}
    for pid_file in sorted((run_dir / "pids").glob("*.pid")):
        pid = pid_file.read_text().strip()
        pids = [pid] + subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()
        total = 0
        for each in pids:
            try:
                status = Path(f"/proc/{each}/status").read_text()
            except OSError:
                continue
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        sizes[pid_file.stem] = total / 1024
    return sizes


def run(gateway_url: str, env: dict[str, str], orders: int, concurrency: int) -> dict:
    """Place ``orders`` orders with ``concurrency`` clients; wait for every saga to end."""
    admin = Gateway(gateway_url, mint_token(str(uuid.uuid4()), "admin", env))
    customer = admin.create_user("Bench customer", "customer", card_token="tok_visa")
    customer_gw = admin.as_user(mint_token(customer["user_id"], "customer", env))
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        placed = list(pool.map(lambda _: customer_gw.create_order(ITEMS), range(orders)))
    published = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        sagas = list(pool.map(lambda p: customer_gw.wait_for_saga(p["saga_id"], timeout=600), placed))
    finished = time.monotonic()
    latencies = sorted((datetime.fromisoformat(s["updated_at"]) - datetime.fromisoformat(s["created_at"]))
                       .total_seconds() * 1000 for s in sagas)
    return {"orders": orders, "accept_s": published - started, "total_s": finished - started,
            "statuses": {st: sum(s["status"] == st for s in sagas) for st in {s["status"] for s in sagas}},
            "latencies": latencies}


def report(result: dict, memory: dict[str, float]) -> None:
    """Print the figures."""
    lat = result["latencies"]
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    print(f"create_order sagas         {result['orders']}  {result['statuses']}")
    print(f"gateway accepted all in    {result['accept_s']:.2f} s  ({result['orders'] / result['accept_s']:.1f} req/s)")
    print(f"all sagas finished in      {result['total_s']:.2f} s  ({result['orders'] / result['total_s']:.1f} sagas/s)")
    print(f"saga latency ms            p50 {pct(0.5):.0f}  p95 {pct(0.95):.0f}  p99 {pct(0.99):.0f}  "
          f"max {lat[-1]:.0f}  mean {statistics.mean(lat):.0f}")
    if memory:
        print("resident memory (MiB)      " + "  ".join(f"{k} {v:.0f}" for k, v in memory.items()))
        print(f"resident memory total      {sum(memory.values()):.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if os.environ.get("GATEWAY_URL"):
        report(run(os.environ["GATEWAY_URL"], dict(os.environ), args.orders, args.concurrency), {})
        return 0
    with own_stack() as (url, env, run_dir):
        result = run(url, env, args.orders, args.concurrency)
        report(result, rss_mib(run_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
