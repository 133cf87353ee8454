"""Every saga queue is declared up front, so Flower, ``inspect`` and new workers see it regardless of start order."""
from __future__ import annotations

from campus_common.config import Settings
from saga_workers.celery_app import MAINTENANCE_QUEUE, celery_config
from saga_workers.sagas import REGISTRY


def test_task_queues_declare_every_saga_queue_and_maintenance():
    config = celery_config(Settings(), list(REGISTRY))
    declared = {queue.name for queue in config["task_queues"]}
    assert declared == {f"{saga_type}_saga" for saga_type in REGISTRY} | {MAINTENANCE_QUEUE}
    routed = {route["queue"] for route in config["task_routes"].values()}
    assert routed <= declared, "a route to an undeclared queue would be created on first use only"
