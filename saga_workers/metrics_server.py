"""A worker's own ``/metrics`` port, for clusters where processes share no volume with the gateway.

With ``METRICS_PORT`` set (k8s), the worker's main process serves the saga metrics that its step
threads (on prefork: its pool processes) record into the pod-local PROMETHEUS_MULTIPROC_DIR;
Prometheus scrapes every worker pod and sums across them. devstack and compose leave it unset: the gateway serves them all.
"""
from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init
from prometheus_client import CollectorRegistry, start_http_server

from saga_workers import metrics, runtime

log = logging.getLogger(__name__)


@worker_init.connect
def serve_metrics(**_: Any) -> Any:
    """In the worker's main process: serve /metrics on METRICS_PORT (all interfaces: Prometheus scrapes the pod)."""
    port = runtime.current().settings.metrics_port
    if not port:
        return None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics.EngineMetrics())
    served = start_http_server(port, registry=registry)
    log.info("serving saga metrics on :%d/metrics", port)
    return served
