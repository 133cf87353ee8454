"""A deploy never breaks a saga in flight: each saga runs with the definition version it started on."""
from __future__ import annotations

import pytest

from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.engine.runner import Next, SagaRunner
from saga_workers.engine.versions import DefinitionUnavailable, DefinitionVersions, definition_for
from saga_workers.sagas import REGISTRY
from tests.unit.fake_store import FakeStore
from tests.unit.scripted_saga import SETTINGS, Participants, drive


def v1(p: Participants) -> SagaDefinition:
    return SagaDefinition("demo", steps=[
        Step("reserve", p, compensate=p), Step("charge", p, compensate=p), Step("confirm", p, pivot=True),
        Step("notify", p)])


def inserted(p: Participants) -> SagaDefinition:
    return SagaDefinition("demo", steps=[
        Step("reserve", p, compensate=p), Step("hold", p, compensate=p), Step("charge", p, compensate=p),
        Step("confirm", p, pivot=True), Step("notify", p)])


def removed(p: Participants) -> SagaDefinition:
    return SagaDefinition("demo", steps=[Step("charge", p, compensate=p), Step("confirm", p, pivot=True),
                                         Step("notify", p)])


def renamed(p: Participants) -> SagaDefinition:
    return SagaDefinition("demo", steps=[
        Step("reserve", p, compensate=p), Step("charge_card", p, compensate=p), Step("confirm", p, pivot=True),
        Step("notify", p)])


CHANGES = [inserted, removed, renamed]


def started_on_v1(participants: Participants, steps_done: int) -> FakeStore:
    """A saga started on v1 that ran ``steps_done`` steps before the deploy."""
    store = FakeStore(v1(participants))
    store.create("s1", {}, None)
    runner = SagaRunner(store.definition, store, SETTINGS)
    for index in range(steps_done):
        assert runner.run_step("s1", index).next in (Next.CONTINUE, Next.COMPLETED)
    return store


def after_deploy(versions: DefinitionVersions, store: FakeStore) -> SagaRunner:
    """What a new worker does for each task: pick the saga's own version, then run it."""
    definition = definition_for(versions, store, "s1")
    return SagaRunner(definition, store.of_version(definition), SETTINGS)


@pytest.mark.parametrize("change", CHANGES)
def test_inserting_removing_or_renaming_a_step_is_a_new_version(change):
    p = Participants()
    assert change(p).version != v1(p).version
    assert v1(p).version == v1(Participants()).version, "the digest depends on the steps, not on objects"
    assert SagaDefinition("demo", steps=v1(p).steps, version="7").version == "7"


@pytest.mark.parametrize("change", CHANGES)
def test_a_saga_started_on_v1_finishes_on_v1_after_v2_is_deployed(change):
    participants = Participants()
    store = started_on_v1(participants, steps_done=2)
    deployed = DefinitionVersions([change(participants)], older=[v1(participants)])

    assert drive(after_deploy(deployed, store)) is Next.COMPLETED
    assert participants.calls == [(s, "action") for s in ("reserve", "charge", "confirm", "notify")]
    assert store.sagas["s1"].definition_version == v1(participants).version


@pytest.mark.parametrize("change", CHANGES)
def test_new_sagas_start_on_the_newest_version(change):
    participants = Participants()
    deployed = DefinitionVersions([change(participants)], older=[v1(participants)])
    store = FakeStore(deployed.newest["demo"])
    store.create("s1", {}, None)

    assert drive(after_deploy(deployed, store)) is Next.COMPLETED
    assert [s for s, _ in participants.calls] == [s.name for s in change(participants).steps]


@pytest.mark.parametrize("status_before", ["STARTED", "COMPENSATING"])
def test_a_saga_whose_version_is_gone_stops_failed_naming_the_version(status_before):
    participants = Participants()
    store = started_on_v1(participants, steps_done=1)
    store.sagas["s1"].status = status_before
    participants.calls.clear()
    only_v2 = DefinitionVersions([inserted(participants)])

    with pytest.raises(DefinitionUnavailable, match=v1(participants).version):
        after_deploy(only_v2, store)
    saga = store.sagas["s1"]
    assert saga.status == "FAILED"
    assert saga.failed_phase == ("compensation" if status_before == "COMPENSATING" else "action")
    assert f"version {v1(participants).version!r} is not deployed" in saga.error
    assert participants.calls == [], "nothing ran blindly"


def test_a_finished_saga_whose_version_is_gone_stays_finished():
    participants = Participants()
    store = started_on_v1(participants, steps_done=4)
    with pytest.raises(DefinitionUnavailable):
        after_deploy(DefinitionVersions([inserted(participants)]), store)
    assert store.sagas["s1"].status == "COMPLETED"


@pytest.mark.parametrize("change", CHANGES)
def test_compensation_after_a_deploy_undoes_exactly_v1s_steps(change):
    participants = Participants()
    store = started_on_v1(participants, steps_done=2)  # reserve and charge took effect on v1
    participants.answer("confirm", "refuse")
    deployed = DefinitionVersions([change(participants)], older=[v1(participants)])

    assert drive(after_deploy(deployed, store)) is Next.COMPENSATED
    assert [s for s, phase in participants.calls if phase == "compensation"] == ["charge", "reserve"]


def test_a_version_label_reused_for_other_steps_is_caught_not_run():
    participants = Participants()
    store = started_on_v1(participants, steps_done=2)
    relabelled = SagaDefinition("demo", steps=inserted(participants).steps, version=v1(participants).version)
    participants.calls.clear()

    with pytest.raises(DefinitionUnavailable, match="step 1 is 'hold' there, the saga has 'charge'"):
        after_deploy(DefinitionVersions([relabelled]), store)
    assert store.sagas["s1"].status == "FAILED"
    assert participants.calls == []


def test_a_version_cannot_be_declared_twice():
    p = Participants()
    with pytest.raises(ValueError, match="declared twice"):
        DefinitionVersions([v1(p)], older=[v1(Participants())])


# Sagas in flight on "1" depend on these exact steps. Changing a definition without a new version
# label would run in-flight sagas with steps they did not start with: give it a new version (or
# drop the label for a digest) and keep the old definition in OLDER_VERSIONS until unused.
PINNED_VERSION_DIGESTS = {
    ("create_order", "1"): "sha-ea1185b7b0cb",
    ("accept_order", "1"): "sha-e16854fa2c11",
    ("cancel_order", "1"): "sha-e837752540c1",
    ("complete_order", "1"): "sha-7b4cce4a948e",
}


@pytest.mark.parametrize("saga_type", sorted(REGISTRY))
def test_an_explicit_version_label_keeps_the_steps_it_was_given(saga_type):
    definition = REGISTRY[saga_type]
    if definition.version == definition.digest:
        pytest.skip(f"{saga_type} has no version label: its version is the digest of its steps")
    assert PINNED_VERSION_DIGESTS[(saga_type, definition.version)] == definition.digest
