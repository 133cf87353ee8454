"""Fixtures shared by the unit tests."""
from __future__ import annotations

import pytest

from saga_workers.engine.runner import SagaRunner
from tests.unit.fake_store import FakeStore
from tests.unit.scripted_saga import SETTINGS, Participants, demo_saga


@pytest.fixture()
def world() -> tuple[Participants, FakeStore, SagaRunner]:
    """A five-step saga "demo" (pivot "confirm") started as "s1", its scripted participants and its runner."""
    participants = Participants()
    definition = demo_saga(participants)
    store = FakeStore(definition)
    store.create("s1", {"order_id": "o1"}, None)
    return participants, store, SagaRunner(definition, store, SETTINGS)
