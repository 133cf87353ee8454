"""``GET /metrics``: the platform's Prometheus text, for a scraper.

Two sources: the engine's counters and histograms, recorded in the processes that do the work
and summed here (``saga_workers.metrics``, prometheus_client multiprocess files), and gauges
computed at scrape time from the source of truth: FAILED and stalled sagas from Postgres (one
round trip over partial indexes), queue depth from Redis (LLEN of each saga queue and of its
priority sub-queues). A source that cannot be reached is reported, not hidden:
``campus_saga_scrape_error{source}`` is 1 and its gauges are left out.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import redis
from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from campus_common.db import Database
from campus_common.web import settings_of_app
from saga_workers import metrics as engine_metrics
from saga_workers import producer
from saga_workers.engine.store_views import failed_and_stalled_sql
from saga_workers.registry import REGISTRY, WORKER_QUEUES

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 2.0
# kombu's Redis transport keeps priority levels other than 0 in lists named "<queue><sep><level>".
KOMBU_PRIORITY_STEPS, KOMBU_PRIORITY_SEP = (0, 3, 6, 9), "\x06\x16"


class SagaGauges(Collector):
    """FAILED and stalled sagas per type (Postgres), messages waiting per queue (Redis), at scrape time."""

    def __init__(self, db: Database, redis_url: str, stall_seconds: int, transport_options: dict[str, Any]) -> None:
        self.db, self.stall_seconds = db, stall_seconds
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=TIMEOUT_SECONDS,
                                          socket_connect_timeout=TIMEOUT_SECONDS)
        steps = transport_options.get("priority_steps", KOMBU_PRIORITY_STEPS)
        sep = transport_options.get("sep", KOMBU_PRIORITY_SEP)
        queues = list(WORKER_QUEUES)
        self.lists = {queue: [queue] + [f"{queue}{sep}{step}" for step in steps if step] for queue in queues}

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily("campus_saga_scrape_error", "1 when a source of the gauges could not be read.",
                                   labels=["source"])
        for source, gauges in (("postgres", self._saga_gauges), ("redis", self._queue_gauges)):
            try:
                families = list(gauges())
            except Exception as exc:  # noqa: BLE001 - a scrape reports an unreachable source, never fails
                log.warning("metrics: %s unavailable: %s", source, exc)
                errors.add_metric([source], 1)
                continue
            errors.add_metric([source], 0)
            yield from families
        yield errors

    def _saga_gauges(self) -> Iterator[Metric]:
        failed = GaugeMetricFamily("campus_saga_failed", "Sagas FAILED now, waiting for an operator.",
                                   labels=["saga_type"])
        stalled = GaugeMetricFamily("campus_saga_stalled",
                                    "Sagas STARTED or COMPENSATING with no progress for SAGA_STALL_SECONDS.",
                                    labels=["saga_type"])
        for saga_type, failed_count, stalled_count in self._counts():
            failed.add_metric([saga_type], failed_count)
            stalled.add_metric([saga_type], stalled_count)
        yield failed
        yield stalled

    def _counts(self) -> list[tuple[str, int, int]]:
        parts = [failed_and_stalled_sql(d.schema, d.saga_type) for d in REGISTRY.values()]
        with self.db.engine.connect() as conn:
            conn.execute(text(f"SET statement_timeout = {int(TIMEOUT_SECONDS * 1000)}"))
            try:
                rows = conn.execute(text(" UNION ALL ".join(parts)), {"stall": self.stall_seconds}).all()
            finally:
                conn.execute(text("RESET statement_timeout"))
        return [(saga_type, int(failed), int(stalled)) for saga_type, failed, stalled in rows]

    def _queue_gauges(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("campus_saga_queue_depth",
                                  "Messages waiting in a saga queue, over all its priority levels "
                                  "(not those a worker holds: prefetched or waiting for a retry countdown).",
                                  labels=["queue"])
        with self.redis.pipeline(transaction=False) as pipe:
            for names in self.lists.values():
                for name in names:
                    pipe.llen(name)
            lengths = iter(pipe.execute())
        for queue, names in self.lists.items():
            depth.add_metric([queue], sum(next(lengths) for _ in names))
        yield depth


def registry_for(db: Database, redis_url: str, stall_seconds: int) -> CollectorRegistry:
    """A registry with the engine's metrics and the scrape-time gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(engine_metrics.EngineMetrics())
    registry.register(SagaGauges(db, redis_url, stall_seconds,
                                 dict(producer.app().conf.broker_transport_options or {})))
    return registry


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of sagas, steps, retries, FAILED and stalled sagas, queue depth."""
    registry = current_app.extensions.get("metrics_registry")
    if registry is None:
        settings = settings_of_app()
        registry = current_app.extensions["metrics_registry"] = registry_for(
            current_app.extensions["db"], settings.redis_url, settings.saga_stall_seconds)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
