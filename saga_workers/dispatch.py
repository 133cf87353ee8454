"""Publishing saga work to Celery: always after the state it depends on is committed."""
from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Celery, chain
from kombu.exceptions import OperationalError as BrokerError

from saga_workers.engine.definition import SagaDefinition

log = logging.getLogger(__name__)


def task_name(saga_type: str, task: str) -> str:
    """Each saga type has its own tasks (``saga.create_order.run_step``), routed to its queue."""
    return f"saga.{saga_type}.{task}"


# Redis transport priorities (broker_transport_options priority_steps): the consumer pops level 0
# before level 9. A saga's first step waits at 9; everything of a saga already under way is at 0:
# the next links a worker publishes from a chain carry no priority (Celery passes priority=None,
# task_inherit_parent_priority being off), which the transport files at 0, and so does everything
# published here for a saga in flight (a resumed chain, compensation, the error callback).
# Depth-first progress: on one FIFO queue each next step would wait behind every saga started
# since, so under a burst every saga finished at about the end; this way sagas finish in order.
IN_FLIGHT_PRIORITY, NEW_SAGA_PRIORITY = 0, 9
PRIORITY_STEPS = [IN_FLIGHT_PRIORITY, NEW_SAGA_PRIORITY]


def step_priority(index: int) -> int:
    """A saga's first step goes behind the work of sagas already running; any later step ahead."""
    return NEW_SAGA_PRIORITY if index == 0 else IN_FLIGHT_PRIORITY


def send_steps(app: Celery, definition: SagaDefinition, saga_id: str, from_index: int = 0) -> bool:
    """Enqueue the chain of remaining steps, with an error callback that starts compensation."""
    name = task_name(definition.saga_type, "run_step")
    steps = [app.signature(name, args=(saga_id, index), immutable=True, priority=step_priority(index))
             for index in range(from_index, len(definition.steps))]
    on_error = app.signature(task_name(definition.saga_type, "on_step_error"), args=(saga_id,), immutable=True,
                             priority=IN_FLIGHT_PRIORITY)
    return publish(lambda: chain(*steps).apply_async(link_error=on_error), definition, saga_id)


def send_compensation(app: Celery, definition: SagaDefinition, saga_id: str) -> bool:
    """Enqueue the compensation of a saga that is COMPENSATING (a saga in flight: ahead of new sagas)."""
    name = task_name(definition.saga_type, "compensate")
    return publish(lambda: app.signature(name, args=(saga_id,), immutable=True,
                                          priority=IN_FLIGHT_PRIORITY).apply_async(), definition, saga_id)


def publish(send: Callable[[], object], definition: SagaDefinition, saga_id: str) -> bool:
    """Run ``send``; a broker error is logged (the sweeper resumes the saga from Postgres): False."""
    try:
        send()
    except BrokerError:
        # The state is committed in Postgres: the sweeper resumes this saga once Redis is back.
        log.warning("could not publish %s saga %s; the sweeper will resume it", definition.saga_type, saga_id,
                    exc_info=True)
        return False
    return True
