"""Prometheus counters and histograms of the saga engine, recorded where the work happens.

Sagas are started in the gateway (and by the maintenance worker) and run in the workers, so a
scrape of one process would see only part of them. With ``PROMETHEUS_MULTIPROC_DIR`` set
(devstack: ``<RUN_DIR>/metrics``; compose: a volume every container mounts) each process writes
its values to files there and the gateway's ``GET /metrics`` sums them
(``api_gateway.metrics``). Without it (tests, a single process) they live in this process.
"""
from __future__ import annotations

import glob
import logging
import os
import socket
from collections.abc import Iterator

from prometheus_client import Counter, Histogram, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

PREFIX = "campus_saga_"
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def _process_identity() -> str:
    # Files are named per process; containers sharing one volume all have small pids (1, 7, ...),
    # so the host name (the container's) keeps them apart.
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


def _use_multiprocess_files(folder: str) -> bool:
    """Record into ``folder`` when it is usable; else keep values in this process, loudly."""
    try:
        os.makedirs(folder, exist_ok=True)
        usable = os.access(folder, os.W_OK)
    except OSError:
        usable = False
    if not usable:
        # A folder that cannot be written would make every step that records a metric fail.
        logging.getLogger(__name__).error("PROMETHEUS_MULTIPROC_DIR %s is not writable: saga metrics stay in "
                                          "this process", folder)
        values.ValueClass = values.MutexValue
        return False
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identity)
    return True


if MULTIPROC_DIR and not _use_multiprocess_files(MULTIPROC_DIR):
    MULTIPROC_DIR = ""

STEP_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

STARTED = Counter(f"{PREFIX}started_total", "Sagas started (a replayed idempotency key starts none).",
                  ["saga_type"])
ENDED = Counter(f"{PREFIX}ended_total",
                "Sagas that reached an end: completed, compensated, or failed (stopped for an operator).",
                ["saga_type", "outcome"])
STEP_SECONDS = Histogram(f"{PREFIX}step_duration_seconds",
                         "One attempt of a step's action or compensation, by how it ended (done, refused, fault).",
                         ["saga_type", "step", "phase", "outcome"], buckets=STEP_SECONDS_BUCKETS)
STEP_RETRIES = Counter(f"{PREFIX}step_retries_total", "Attempts of a step that will be retried after a fault.",
                       ["saga_type", "step", "phase"])


def saga_started(saga_type: str) -> None:
    """Count a saga that was created (not a replay)."""
    STARTED.labels(saga_type).inc()


def saga_ended(saga_type: str, outcome: str) -> None:
    """Count a saga reaching ``outcome``: completed, compensated or failed."""
    ENDED.labels(saga_type, outcome).inc()


def step_finished(saga_type: str, step: str, phase: str, outcome: str, seconds: float) -> None:
    """Record how long one attempt of a step took and how it ended."""
    STEP_SECONDS.labels(saga_type, step, phase, outcome).observe(seconds)


def step_retrying(saga_type: str, step: str, phase: str) -> None:
    """Count an attempt that failed with a fault and will be retried."""
    STEP_RETRIES.labels(saga_type, step, phase).inc()


def collected() -> Iterator[Metric]:
    """The engine's metric families: summed over every process's files, or this process's own."""
    if MULTIPROC_DIR:
        files = glob.glob(os.path.join(MULTIPROC_DIR, "*.db"))
        families = MultiProcessCollector.merge(files, accumulate=True)
    else:
        families = [family for metric in (STARTED, ENDED, STEP_SECONDS, STEP_RETRIES) for family in metric.collect()]
    # Only ours: other libraries in these processes (Flower) write to the same folder.
    return (family for family in families if family.name.startswith(PREFIX))


class EngineMetrics(Collector):
    """A collector of the engine's metrics, for a registry that serves them (gateway, worker port)."""

    def collect(self) -> Iterator[Metric]:
        return collected()
