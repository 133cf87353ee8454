"""Saga definitions, declared as data; ``REGISTRY`` maps each saga type to its newest definition.

``VERSIONS`` also holds the older versions that sagas in flight or FAILED still need (see the
README's deploy procedure); `celery -A saga_workers saga versions` says which ones are in use.
Modules named in ``SAGA_DEFINITION_MODULES`` add their own sagas (see ``external``).
"""
from __future__ import annotations

from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.versions import DefinitionVersions
from saga_workers.sagas import external
from saga_workers.sagas.accept_order import ACCEPT_ORDER
from saga_workers.sagas.cancel_order import CANCEL_ORDER
from saga_workers.sagas.complete_order import COMPLETE_ORDER
from saga_workers.sagas.create_order import CREATE_ORDER

REGISTRY: dict[str, SagaDefinition] = {
    definition.saga_type: definition for definition in (CREATE_ORDER, ACCEPT_ORDER, CANCEL_ORDER, COMPLETE_ORDER)
}
# Older versions still runnable: keep one here until `saga versions` shows no saga needs it.
OLDER_VERSIONS: tuple[SagaDefinition, ...] = ()
_external, _external_older = external.load(external.module_names(), REGISTRY)
REGISTRY.update({definition.saga_type: definition for definition in _external})
VERSIONS = DefinitionVersions(REGISTRY.values(), (*OLDER_VERSIONS, *_external_older))
