"""`make bench-peers`: this engine beside the peers (raw chain, durable chain, DBOS, sync loop), one run.

    .venv/bin/python bench/peers.py [--rounds 3] [--plan "A B C D P"] [--label NAME]

Uses the harness in PEERS_DIR (default ../shared/peers from the repository or its parents; it may
be read-only): its own Postgres (127.0.0.1:55432, Postgres defaults: fsync and synchronous_commit
on) and Redis (6390), its participant (gunicorn, 4 gthreads, port 18080) and its variant scripts.
Results, logs, the stores' data and the peers' virtualenv (celery, dbos, gunicorn, ...; created on
first use) go to PEERS_OUT (default .run/peers). Variants run interleaved, round by round; the
report gives medians over the rounds and paired ratios. N_SAGAS (1000) and N_SERIAL (30) set sizes.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEER_PACKAGES = ["celery[redis]==5.7.0", "dbos==3.4.0", "gunicorn", "flask", "sqlalchemy", "psycopg2-binary",
                 "requests", "redis", "psutil"]
NAMES = {"A": "raw Celery chain", "B": "Celery chain + durable state", "C": "DBOS (2 executors x 8)",
         "D": "sync loop, 8 threads (not durable)", "P": "this engine"}


def peers_dir() -> Path:
    """The harness: PEERS_DIR, or shared/peers beside the repository (or a parent of it)."""
    if os.environ.get("PEERS_DIR"):
        return Path(os.environ["PEERS_DIR"]).resolve()
    for parent in REPO.parents:
        if (parent / "shared" / "peers" / "bench.py").exists():
            return parent / "shared" / "peers"
    raise SystemExit("the peers harness was not found: set PEERS_DIR to its folder")


def peers_venv(out: Path) -> Path:
    """The peers' virtualenv (their pinned tools), created once under PEERS_OUT."""
    venv = out / "venv"
    stamp = venv / ".installed"
    if not stamp.exists():
        print(f"creating the peers' virtualenv in {venv} (pip log: {out / 'pip.log'})", flush=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        with open(out / "pip.log", "w") as log:
            subprocess.run([str(venv / "bin" / "pip"), "install", *PEER_PACKAGES], stdout=log,
                           stderr=subprocess.STDOUT, check=True)
        stamp.touch()
    return venv


def variant_command(variant: str, label: str, here: Path, venv: Path) -> tuple[list[str], Path]:
    """(argv, cwd) of one variant run."""
    py = str(venv / "bin" / "python")
    if variant in ("A", "B"):
        return [py, "run_celery.py", variant, label], here
    if variant == "C":
        return [py, "run_dbos.py", label, "8", "0.05", "2"], here
    if variant == "D":
        return [py, "run_sync.py", label, "8"], here
    if variant == "P" or variant.startswith("P."):
        return [sys.executable, str(REPO / "bench" / "peers_engine.py"), label], REPO
    raise SystemExit(f"unknown variant {variant}")


def variant_env(variant: str) -> dict[str, str]:
    """A lever run of this engine, recorded as its own variant: ``P.c4`` its worker on prefork at
    concurrency 4, ``P.t8`` on the threads pool with 8 threads, ``P.c2e0`` / ``P.t8e0`` with task events off,
    ``P.t4x2`` two such worker processes on the queue."""
    flavor = variant.partition(".")[2]
    if not flavor:
        return {}
    shape, _, processes = flavor.partition("x")
    kind, number, events = shape[:1], shape[1:].removesuffix("e0"), shape.endswith("e0")
    if kind not in ("c", "t") or not number.isdigit() or not (processes or "1").isdigit():
        raise SystemExit(f"unknown flavor {variant}: P.c<concurrency> or P.t<threads>, then e0 (events off) "
                         "and x<worker processes>, e.g. P.t8e0, P.t4x2")
    env = {"P_FLAVOR": flavor, "P_CONCURRENCY": number, "P_POOL": "threads" if kind == "t" else "prefork",
           "P_PROCESSES": processes or "1"}
    return {**env, "CELERY_TASK_EVENTS": "0"} if events else env


def flavor_name(flavor: str) -> str:
    """``c4`` -> "worker -c 4", ``t8e0x2`` -> "2 workers --pool threads -c 8, task events off"."""
    shape, _, processes = flavor.partition("x")
    number = shape[1:].removesuffix("e0")
    name = f"worker --pool prefork -c {number}" if shape.startswith("c") else f"worker --pool threads -c {number}"
    name = f"{processes} x {name}" if processes else name
    return name + (", task events off" if shape.endswith("e0") else "")


def run(plan: list[str], rounds: int, label: str, here: Path, venv: Path, env: dict[str, str]) -> None:
    """Every variant of ``plan``, ``rounds`` times, interleaved; the participant started once."""
    sys.path.insert(0, str(here))
    harness = importlib.import_module("bench")  # the harness's bench.py (not this package): setup, participant

    harness.setup()
    participant = harness.start_participant("gthread")
    try:
        for number in range(1, rounds + 1):
            for variant in plan:
                argv, cwd = variant_command(variant, f"{label}|gthread", here, venv)
                print(f"--- round {number}/{rounds}: {variant} ({NAMES.get(variant, variant)})", flush=True)
                started = time.time()
                done = subprocess.run(argv, cwd=cwd, env={**env, **variant_env(variant)}, timeout=600,
                                      capture_output=True, text=True)
                result = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
                if done.returncode != 0 or not result:
                    print(done.stdout[-2000:], done.stderr[-3000:], sep="\n", flush=True)
                    raise SystemExit(f"variant {variant} failed (exit {done.returncode})")
                row = json.loads(result[0][len("RESULT "):])
                print(f"    {row['sagas_per_s']:.1f} sagas/s, p50 {row['lat_p50_ms']:.0f} ms, alone "
                      f"{row['serial_p50_ms']} ms ({time.time() - started:.0f} s)", flush=True)
                time.sleep(2)
    finally:
        harness.C.stop_group(participant)


def table(results: Path, label: str) -> str:
    """This run's medians per variant, and this engine's ratios to each peer."""
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    by: dict[str, list[dict]] = {}
    for row in rows:
        if row["label"].split("|")[0] == label:
            by.setdefault(row["variant"], []).append(row)
    med = lambda rs, key: statistics.median(r[key] for r in rs) if all(r.get(key) is not None for r in rs) else None  # noqa: E731
    lines = ["| variant | runs | sagas/s median (min-max) | batch p50 / p99 ms | one saga alone p50 ms "
             "| worker CPU per step ms |", "|---|---|---|---|---|---|"]
    for variant in sorted(by, key=lambda v: ("ABCDP".find(v[0]), v)):
        rs = by[variant]
        tp = [r["sagas_per_s"] for r in rs]
        cpu = med(rs, "worker_cpu_ms_per_step")
        name = NAMES.get(variant) or f"this engine, {flavor_name(variant.partition('.')[2])}"
        lines.append(f"| {variant} {name} | {len(rs)} | {statistics.median(tp):.1f} "
                     f"({min(tp):.1f}-{max(tp):.1f}) | {med(rs, 'lat_p50_ms'):,.0f} / {med(rs, 'lat_p99_ms'):,.0f} "
                     f"| {med(rs, 'serial_p50_ms'):.1f} | {'n/a' if cpu is None else f'{cpu:.2f}'} |")
    if "P" in by:
        p = [r["sagas_per_s"] for r in by["P"]]
        lines.append("")
        for peer in ("A", "B", "C", "D"):
            if peer in by:
                x = [r["sagas_per_s"] for r in by[peer]]
                paired = [a / b for a, b in zip(p, x)]
                lines.append(f"P/{peer}: {statistics.median(p) / statistics.median(x):.2f} of medians, "
                             f"{statistics.median(paired):.2f} median of paired rounds ({NAMES[peer]})")
        batch_p50, batch_s = (statistics.median(r[key] for r in by["P"]) for key in ("lat_p50_ms", "total_s"))
        lines.append(f"P batch p50 / batch time: {batch_p50 / 1000 / batch_s:.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("PEERS_ROUNDS", "3")))
    parser.add_argument("--plan", default=os.environ.get("PEERS_PLAN", "A B C D P"))
    parser.add_argument("--label", default=os.environ.get("PEERS_LABEL", f"bench-{time.strftime('%m%d-%H%M%S')}"))
    parser.add_argument("--report-only", action="store_true", help="print the table of --label from earlier runs")
    args = parser.parse_args()
    here = peers_dir()
    out = Path(os.environ.get("PEERS_OUT", REPO / ".run" / "peers")).resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PEERS_DIR": str(here), "PEERS_OUT": str(out), "PEERS_STATE_DIR": str(out / ".state")}
    os.environ.update(env)
    if not args.report_only:
        venv = peers_venv(out)
        env.update(VENV=str(venv), VENV_BIN=str(venv / "bin"))
        os.environ.update(env)
        subprocess.run([str(here / "stores.sh"), "start"], env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            run(args.plan.split(), args.rounds, args.label, here, venv, env)
        finally:
            if not os.environ.get("PEERS_KEEP_STORES"):
                subprocess.run([str(here / "stores.sh"), "stop"], env=env, stdout=subprocess.DEVNULL)
    print(f"\nlabel {args.label} ({out / 'results.jsonl'}):\n")
    print(table(out / "results.jsonl", args.label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
