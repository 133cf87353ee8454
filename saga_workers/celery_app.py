"""The Celery configuration: one queue per saga type, at-least-once delivery, no result backend.

The worker app itself (every saga type's tasks) is built by ``saga_workers.bootstrap``.
"""
from __future__ import annotations

from celery import Celery
from celery.signals import worker_init, worker_process_init
from kombu import Queue

from campus_common.config import Settings
from campus_common.db import dispose_engines
from campus_common.logs import configure_logging
from campus_common.service_auth import SAGA_WORKERS, ServiceAuthNotConfigured, require_signing_key
from saga_workers import broker_clients, broker_outage, metrics_server, worker_logging  # noqa: F401 - connect Celery's signals
from saga_workers.dispatch import PRIORITY_STEPS
from saga_workers.registry import MAINTENANCE_QUEUE, REGISTRY

__all__ = ["MAINTENANCE_QUEUE", "celery_config", "configure"]


def celery_config(settings: Settings, saga_types: list[str]) -> dict:
    """Celery settings derived from ours; producers and workers share the same routes."""
    routes = {f"saga.{saga_type}.*": {"queue": f"{saga_type}_saga"} for saga_type in saga_types}
    routes["saga.maintenance.*"] = {"queue": MAINTENANCE_QUEUE}
    return dict(
        broker_url=settings.redis_url,
        broker_connection_retry_on_startup=True,
        # A task held by a dead worker comes back after this; it must exceed every retry countdown
        # (SAGA_RETRY_BACKOFF_MAX_SECONDS) or ETA retries would be delivered twice.
        # Priority levels (a Redis list per level and queue: "<queue>" for 0, "<queue>\x06\x169" for
        # 9); the consumer pops level 0 first, which gives depth-first progress (dispatch.PRIORITY_STEPS).
        # Whatever measures a queue's depth must add its levels up.
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout_seconds,
                                  "priority_steps": PRIORITY_STEPS},
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,  # steps are idempotent, so redelivery after a crash is safe
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_routes=routes,
        # Declared, not created on first use: Flower, `inspect` and any worker see every queue at once.
        task_queues=[Queue(queue) for queue in sorted({route["queue"] for route in routes.values()})],
        task_default_queue=MAINTENANCE_QUEUE,
        task_send_sent_event=settings.celery_task_events and settings.celery_task_sent_events,
        worker_send_task_events=settings.celery_task_events,
        timezone="UTC",
        beat_scheduler="saga_workers.beat_health:HeartbeatScheduler",  # beat's liveness: a heartbeat file
        beat_schedule={
            "fire-due-accept-timeouts": {"task": "saga.maintenance.fire_due_timeouts",
                                         "schedule": settings.accept_timeout_scan_seconds},
            "resume-stalled-sagas": {"task": "saga.maintenance.resume_stalled",
                                     "schedule": settings.saga_sweep_seconds},
            "purge-finished-sagas": {"task": "saga.maintenance.purge_finished",
                                     "schedule": settings.saga_retention_scan_seconds},
        },
    )


def configure(celery: Celery, settings: Settings) -> None:
    """Apply ``settings`` (the bootstrap's) to ``celery``.

    A test's bootstrap does it again with its own Redis: it must happen before the app first
    publishes, since Celery's producer pool keeps the broker it was built with.
    """
    broker_outage.install()  # a Redis outage must not stop a worker (celery/kombu 5.7.0; see the module)
    broker_clients.install()  # one Redis client per channel, not one per publish and ack (see the module)
    celery.conf.update(celery_config(settings, list(REGISTRY)))
    configure_logging("saga_workers", settings.log_level)


@worker_init.connect
def _refuse_to_start_without_a_service_key(**_: object) -> None:
    # A worker that cannot authenticate to the participants would fail every step: stop it at once.
    try:
        require_signing_key(SAGA_WORKERS)
    except ServiceAuthNotConfigured as exc:
        raise SystemExit(f"saga worker refuses to start: {exc}") from exc  # Celery's signal logs other errors


@worker_process_init.connect
def _fresh_pools_after_fork(**_: object) -> None:
    # Connections inherited from the parent process must not be shared with the child.
    dispose_engines()
