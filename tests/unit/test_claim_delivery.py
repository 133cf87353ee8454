"""Which deliveries of a step task may use the attempt its previous step recorded ahead."""
from __future__ import annotations

from types import SimpleNamespace

from saga_workers.tasks import _next_link, _usable_claim

CLAIM = {"log": 41, "version": "1"}


def task(retries: int = 0, redelivered: bool | None = None, chain: list | None = None) -> SimpleNamespace:
    delivery = {} if redelivered is None else {"redelivered": redelivered}
    return SimpleNamespace(name="saga.calib.run_step",
                           request=SimpleNamespace(retries=retries, delivery_info=delivery, chain=chain))


def test_a_first_delivery_uses_the_claim() -> None:
    assert _usable_claim(task(), CLAIM) == CLAIM
    assert _usable_claim(task(redelivered=False), CLAIM) == CLAIM


def test_a_redelivery_or_a_retry_records_a_new_attempt() -> None:
    assert _usable_claim(task(redelivered=True), CLAIM) is None  # its worker may have died mid-call
    assert _usable_claim(task(retries=1), CLAIM) is None  # the claimed attempt failed


def test_a_claim_this_engine_did_not_write_is_ignored() -> None:
    assert _usable_claim(task(), None) is None
    assert _usable_claim(task(), {"log": "41", "version": "1"}) is None
    assert _usable_claim(task(), {"log": 41}) is None


def test_only_the_same_sagas_next_step_is_claimed_for() -> None:
    following = {"task": "saga.calib.run_step", "args": ["s1", 3], "kwargs": {}}
    assert _next_link(task(chain=[following]), "s1", 2) is following
    assert _next_link(task(chain=[following]), "s1", 3) is None
    assert _next_link(task(chain=[{**following, "task": "saga.other.run_step"}]), "s1", 2) is None
    assert _next_link(task(chain=None), "s1", 2) is None
