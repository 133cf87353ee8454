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


def send_steps(app: Celery, definition: SagaDefinition, saga_id: str, from_index: int = 0) -> bool:
    """Enqueue the chain of remaining steps, with an error callback that starts compensation."""
    name = task_name(definition.saga_type, "run_step")
    steps = [app.signature(name, args=(saga_id, index), immutable=True)
             for index in range(from_index, len(definition.steps))]
    on_error = app.signature(task_name(definition.saga_type, "on_step_error"), args=(saga_id,), immutable=True)
    return _publish(lambda: chain(*steps).apply_async(link_error=on_error), definition, saga_id)


def send_compensation(app: Celery, definition: SagaDefinition, saga_id: str) -> bool:
    """Enqueue the compensation of a saga that is COMPENSATING."""
    name = task_name(definition.saga_type, "compensate")
    return _publish(lambda: app.signature(name, args=(saga_id,), immutable=True).apply_async(),
                    definition, saga_id)


def _publish(send, definition: SagaDefinition, saga_id: str) -> bool:
    try:
        send()
    except BrokerError:
        # The state is committed in Postgres: the sweeper resumes this saga once Redis is back.
        log.warning("could not publish %s saga %s; the sweeper will resume it", definition.saga_type, saga_id,
                    exc_info=True)
        return False
    return True
