"""Benchmark: create_order sagas through the gateway, end to end, on the real stack.

    .venv/bin/python bench/saga_throughput.py [--orders 200] [--concurrency 8]

Starts its own stack (devstack, temporary RUN_DIR, free loopback ports) unless GATEWAY_URL is
set (then GATEWAY_JWT_SECRET must match that stack). Prints throughput, saga latency percentiles
(saga row created -> COMPLETED, as recorded in Postgres) and the resident memory and CPU time
of the stack's processes (Postgres and Redis not included). Figures only: nothing here passes or fails.
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
def own_stack(**extra_env: str):
    """A fresh stack on free ports (``extra_env`` on top); yields (gateway url, env, run dir)."""
    run_dir = Path(tempfile.mkdtemp(prefix="campus-bench-"))
    run_dir.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    env.update({name: str(free_port()) for name in PORTS})
    # One customer places every order: a load test, not abuse, so its writes are not rate limited.
    env.update(RUN_DIR=str(run_dir), FLOWER_PORT="0", GATEWAY_JWT_SECRET=f"bench-{uuid.uuid4().hex}",
               RATE_LIMIT_USER_WRITES="100000 per minute", **extra_env)
    devstack = [sys.executable, "-m", "devstack"]
    try:
        subprocess.run([*devstack, "up"], env=env, check=True, stdout=subprocess.DEVNULL)
        yield f"http://127.0.0.1:{env['GATEWAY_PORT']}", env, run_dir
    finally:
        subprocess.run([*devstack, "down"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(run_dir, ignore_errors=True)


def process_figures(run_dir: Path | None) -> dict[str, tuple[float, float]]:
    """(resident MiB, CPU seconds so far) of each supervised process with its children."""
    if run_dir is None:
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    figures = {}
    from devstack.supervisord import rpc

    supervised = {info["name"]: str(info["pid"]) for info in rpc(run_dir).getAllProcessInfo()
                  if info["pid"] and info["name"] not in ("postgres", "redis")}
    for name, pid in sorted(supervised.items()):
        pids = [pid] + subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()
        rss_kib, cpu = 0, 0.0
        for each in pids:
            try:
                status = Path(f"/proc/{each}/status").read_text()
                stat = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            rss_kib += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
            cpu += (int(stat[11]) + int(stat[12])) / ticks  # utime + stime
        figures[name] = (rss_kib / 1024, cpu)
    return figures


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


def report(result: dict, before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]) -> None:
    """Print the figures."""
    lat = result["latencies"]
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    print(f"create_order sagas         {result['orders']}  {result['statuses']}")
    print(f"gateway accepted all in    {result['accept_s']:.2f} s  ({result['orders'] / result['accept_s']:.1f} req/s)")
    print(f"all sagas finished in      {result['total_s']:.2f} s  ({result['orders'] / result['total_s']:.1f} sagas/s)")
    print(f"saga latency ms            p50 {pct(0.5):.0f}  p95 {pct(0.95):.0f}  p99 {pct(0.99):.0f}  "
          f"max {lat[-1]:.0f}  mean {statistics.mean(lat):.0f}")
    if after:
        print(f"{'process':<28}{'RSS MiB':>8}{'CPU s in run':>14}")
        for name, (rss, cpu) in after.items():
            print(f"{name:<28}{rss:>8.0f}{cpu - before.get(name, (0, 0))[1]:>14.1f}")
        print(f"{'total':<28}{sum(r for r, _ in after.values()):>8.0f}"
              f"{sum(c - before.get(n, (0, 0))[1] for n, (_, c) in after.items()):>14.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if os.environ.get("GATEWAY_URL"):
        report(run(os.environ["GATEWAY_URL"], dict(os.environ), args.orders, args.concurrency), {}, {})
        return 0
    with own_stack() as (url, env, run_dir):
        before = process_figures(run_dir)
        result = run(url, env, args.orders, args.concurrency)
        report(result, before, process_figures(run_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
