"""Saga definitions from modules outside this package, named in ``SAGA_DEFINITION_MODULES``.

A team adds its own saga without editing the product: a module on the Python path declares
``SAGAS`` (a list of ``SagaDefinition``) and, optionally, ``OLDER_VERSIONS``; the variable lists
such modules, comma-separated. Every process of a deployment (workers, beat, gateway, the
migration run, the CLI) must see the same value, or they would disagree about which sagas exist.
"""
from __future__ import annotations

import importlib
import os

from saga_workers.engine.definition import SagaDefinition

MODULES_VARIABLE = "SAGA_DEFINITION_MODULES"


def module_names(value: str | None = None) -> list[str]:
    """The module names in ``value`` (default: the environment variable), blanks dropped."""
    raw = os.environ.get(MODULES_VARIABLE, "") if value is None else value
    return [name.strip() for name in raw.split(",") if name.strip()]


def load(names: list[str], built_in: dict[str, SagaDefinition]) -> tuple[list[SagaDefinition], list[SagaDefinition]]:
    """(newest, older) definitions declared by ``names``; a module without ``SAGAS`` or a clash fails loudly."""
    newest: list[SagaDefinition] = []
    older: list[SagaDefinition] = []
    seen = set(built_in)
    for name in names:
        module = importlib.import_module(name)  # an ImportError names the module: a typo stops the start-up
        declared = getattr(module, "SAGAS", None)
        if not declared or not all(isinstance(d, SagaDefinition) for d in declared):
            raise ValueError(f"{MODULES_VARIABLE}: module {name} must declare SAGAS, a list of SagaDefinition")
        for definition in declared:
            if definition.saga_type in seen:
                raise ValueError(f"{MODULES_VARIABLE}: module {name} declares saga type "
                                 f"{definition.saga_type!r}, which is already declared")
            seen.add(definition.saga_type)
            newest.append(definition)
        older += list(getattr(module, "OLDER_VERSIONS", ()))
    return newest, older
