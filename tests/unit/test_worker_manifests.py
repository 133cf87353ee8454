"""Every queue of the saga registry has exactly one worker in devstack, compose and k8s, and no other.

The compose and k8s workers are generated (``python -m devstack.manifests``); devstack reads the
registry when it starts. A saga added to (or removed from) the registry without regenerating fails
here, not in production with its runs sitting STARTED and nobody consuming their queue.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence

import pytest

from devstack import manifests
from devstack.config import load_stack_config
from devstack.stack import components, running_worker_queues
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.registry import REGISTRY, WORKER_QUEUES, worker_queues
from tests.unit.deploy_files import app_services, flag, worker_deployments


def compose_worker_queues() -> list[str | None]:
    """The queue of every compose service that runs a saga worker (a list, so duplicates show)."""
    return [flag(svc["command"], "-Q") for svc in app_services().values()
            if svc["command"][:4] == ["celery", "-A", "saga_workers", "worker"]]


def k8s_worker_queues() -> list[str | None]:
    return [queue for queue, names in worker_deployments().items() for _ in names]


def devstack_worker_queues() -> list[str]:
    return running_worker_queues(c.name for c in components(load_stack_config()))


def mismatches(registered: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Per deployment, the registered queues it has no worker for, and the workers it has beyond them."""
    found: dict[str, list[str | None]] = {"devstack": list(devstack_worker_queues()),
                                          "compose": compose_worker_queues(), "k8s": k8s_worker_queues()}
    report = {}
    for where, queues in found.items():
        missing = sorted(set(registered) - set(queues))
        extra = sorted(str(q) for q in set(queues) if q not in registered or queues.count(q) > 1)
        if missing or extra:
            report[where] = {"missing": missing, "extra": extra}
    return report


def unplanned() -> SagaDefinition:
    """A saga that the checked-in manifests know nothing about."""
    return SagaDefinition("unplanned", steps=[Step("probe", lambda ctx: None)])


def test_every_deployment_runs_one_worker_per_registered_queue_and_no_other() -> None:
    assert mismatches(WORKER_QUEUES) == {}


def test_generated_worker_manifests_are_current() -> None:
    stale = [str(path.relative_to(manifests.REPO_ROOT)) for path, text in manifests.expected().items()
             if path.read_text() != text]

    assert stale == [], "run `python -m devstack.manifests` and commit the result"


def test_a_saga_added_without_regenerating_the_manifests_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    with_one_more = worker_queues({**REGISTRY, "unplanned": unplanned()})
    monkeypatch.setattr("saga_workers.registry.WORKER_QUEUES", with_one_more)  # what devstack reads at start

    assert mismatches(with_one_more) == {"compose": {"missing": ["unplanned_saga"], "extra": []},
                                      "k8s": {"missing": ["unplanned_saga"], "extra": []}}
    regenerated = manifests.expected(with_one_more)
    assert all(path.read_text() != text for path, text in regenerated.items())
    assert "-Q\", \"unplanned_saga\"" in regenerated[manifests.K8S_WORKERS]


def test_a_worker_for_a_queue_no_saga_declares_is_caught() -> None:
    without_cancel = worker_queues({t: d for t, d in REGISTRY.items() if t != "cancel_order"})

    report = mismatches(without_cancel)

    assert {where: found["extra"] for where, found in report.items()} == {
        "devstack": ["cancel_order_saga"], "compose": ["cancel_order_saga"], "k8s": ["cancel_order_saga"]}


def test_a_saga_loaded_through_saga_definition_modules_is_caught_too() -> None:
    """A team's own saga counts like a built-in one: devstack starts its worker, and compose and k8s lack
    one until ``python -m devstack.manifests`` runs with the same SAGA_DEFINITION_MODULES."""
    probe = ("import json; from saga_workers.registry import WORKER_QUEUES; "
             "from tests.unit.test_worker_manifests import mismatches; print(json.dumps(mismatches(WORKER_QUEUES)))")
    env = {**os.environ, "SAGA_DEFINITION_MODULES": "tests.integration.external_saga"}
    answer = subprocess.run([sys.executable, "-c", probe], cwd=manifests.REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=120)

    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout.splitlines()[-1]) == {"compose": {"missing": ["greeting_saga"], "extra": []},
                                                          "k8s": {"missing": ["greeting_saga"], "extra": []}}
