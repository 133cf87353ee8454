"""Everything the saga registry implies, derived in one place: saga types, queues, schemas, statuses.

Deployment (devstack, ``docker-compose.yml``, ``k8s/``), the gateway, the CLI and the tests read
these names from here instead of restating them; ``python -m devstack.manifests`` writes the
compose and k8s workers from ``WORKER_QUEUES``. Importing it loads the saga definitions and their
step functions only: no Celery app, no tasks, no participant code.
"""
from __future__ import annotations

from collections.abc import Mapping

from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.status import IDEMPOTENCY_KEY_FORMAT, SagaStatus, idempotency_key
from saga_workers.sagas import REGISTRY, VERSIONS

__all__ = ["IDEMPOTENCY_KEY_FORMAT", "MAINTENANCE_QUEUE", "REGISTRY", "SAGA_QUEUES", "SAGA_SCHEMAS", "SAGA_STATUSES",
           "SAGA_TYPES", "SCHEMAS", "TIMERS_SCHEMA", "VERSIONS", "WORKER_QUEUES", "SagaStatus", "idempotency_key",
           "node_name", "worker_name", "worker_queues"]

# Beat's periodic scans (accept timeouts, stalled sagas, retention) run on their own queue, never a saga's.
MAINTENANCE_QUEUE = "saga_maintenance"
TIMERS_SCHEMA = "saga_timers"  # the accept-timeouts' schema, next to the saga types' own


def worker_queues(registry: Mapping[str, SagaDefinition]) -> tuple[str, ...]:
    """The queues that need a worker wherever the stack is deployed: each saga type's, then maintenance."""
    return (*(definition.queue for definition in registry.values()), MAINTENANCE_QUEUE)


SAGA_TYPES: tuple[str, ...] = tuple(REGISTRY)
SAGA_QUEUES: tuple[str, ...] = tuple(definition.queue for definition in REGISTRY.values())
WORKER_QUEUES: tuple[str, ...] = worker_queues(REGISTRY)
SAGA_SCHEMAS: tuple[str, ...] = tuple(definition.schema for definition in REGISTRY.values())
SCHEMAS: tuple[str, ...] = (*SAGA_SCHEMAS, TIMERS_SCHEMA)  # every schema the saga workers migrate
SAGA_STATUSES: tuple[str, ...] = tuple(status.value for status in SagaStatus)  # plain str, for Literal[...]


def node_name(queue: str) -> str:
    """The Celery node name of ``queue``'s container worker (``create_order`` for ``create_order_saga``)."""
    return queue.removesuffix("_saga")


def worker_name(queue: str) -> str:
    """The compose service and k8s Deployment of ``queue``'s worker (``worker-create-order``)."""
    return "worker-" + node_name(queue).replace("_", "-")
