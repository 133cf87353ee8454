"""Saga definitions, declared as data; ``REGISTRY`` maps each saga type to its newest definition.

``VERSIONS`` also holds the older versions that sagas in flight or FAILED still need (see the
README's deploy procedure); `celery -A saga_workers saga versions` says which ones are in use.
"""
from __future__ import annotations

from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.versions import DefinitionVersions
from saga_workers.sagas.accept_order import ACCEPT_ORDER
from saga_workers.sagas.cancel_order import CANCEL_ORDER
from saga_workers.sagas.complete_order import COMPLETE_ORDER
from saga_workers.sagas.create_order import CREATE_ORDER

REGISTRY: dict[str, SagaDefinition] = {
    definition.saga_type: definition for definition in (CREATE_ORDER, ACCEPT_ORDER, CANCEL_ORDER, COMPLETE_ORDER)
}
# Older versions still runnable: keep one here until `saga versions` shows no saga needs it.
OLDER_VERSIONS: tuple[SagaDefinition, ...] = ()
VERSIONS = DefinitionVersions(REGISTRY.values(), OLDER_VERSIONS)
