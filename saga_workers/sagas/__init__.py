"""Saga definitions, declared as data; ``REGISTRY`` maps each saga type to its definition."""
from __future__ import annotations

from saga_workers.engine.definition import SagaDefinition
from saga_workers.sagas.accept_order import ACCEPT_ORDER
from saga_workers.sagas.cancel_order import CANCEL_ORDER
from saga_workers.sagas.complete_order import COMPLETE_ORDER
from saga_workers.sagas.create_order import CREATE_ORDER

REGISTRY: dict[str, SagaDefinition] = {
    definition.saga_type: definition for definition in (CREATE_ORDER, ACCEPT_ORDER, CANCEL_ORDER, COMPLETE_ORDER)
}
