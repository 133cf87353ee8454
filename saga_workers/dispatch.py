"""Publishing saga work to Celery: always after the state it depends on is committed."""
from __future__ import annotations

import logging

from celery import Celery, chain
from kombu.exceptions import OperationalError as BrokerError

from saga_workers.engine.definition import SagaDefinition

log = logging.getLogger(__name__)


def task_name(saga_type: str, task: str) -> str:
    """Each saga type has its own tasks (``saga.create_order.run_step``), routed to its queue."""
    return f"saga.{saga_type}.{task}"


# Redis transport priorities: 0 is served first, 9 last (broker_transport_options priority_steps).
HIGHEST_PRIORITY, LOWEST_PRIORITY = 0, 9


def step_priority(index: int) -> int:
    """Depth-first progress: a saga's later step goes ahead of earlier steps and of new sagas' first.

    On one FIFO queue each next step would queue behind every saga started since, so under a burst
    every saga finished at about the end; this way sagas started first finish first.
    """
    return max(HIGHEST_PRIORITY + 1, LOWEST_PRIORITY - index)


def send_steps(app: Celery, definition: SagaDefinition, saga_id: str, from_index: int = 0) -> bool:
    """Enqueue the chain of remaining steps, with an error callback that starts compensation."""
    name = task_name(definition.saga_type, "run_step")
    steps = [app.signature(name, args=(saga_id, index), immutable=True, priority=step_priority(index))
             for index in range(from_index, len(definition.steps))]
    on_error = app.signature(task_name(definition.saga_type, "on_step_error"), args=(saga_id,), immutable=True,
                             priority=HIGHEST_PRIORITY)
    return _publish(lambda: chain(*steps).apply_async(link_error=on_error), definition, saga_id)


def send_compensation(app: Celery, definition: SagaDefinition, saga_id: str) -> bool:
    """Enqueue the compensation of a saga that is COMPENSATING (ahead of forward steps: it undoes work)."""
    name = task_name(definition.saga_type, "compensate")
    return _publish(lambda: app.signature(name, args=(saga_id,), immutable=True,
                                          priority=HIGHEST_PRIORITY).apply_async(), definition, saga_id)


def _publish(send, definition: SagaDefinition, saga_id: str) -> bool:
    try:
        send()
    except BrokerError:
        # The state is committed in Postgres: the sweeper resumes this saga once Redis is back.
        log.warning("could not publish %s saga %s; the sweeper will resume it", definition.saga_type, saga_id,
                    exc_info=True)
        return False
    return True
