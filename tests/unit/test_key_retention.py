"""How long a participant must remember an idempotency key, from the engine's own bounds."""
from __future__ import annotations

import pytest

from campus_common.config import Settings
from campus_common.key_retention import DAY, check_window, longest_redelivery_seconds, retry_horizon_seconds


def test_the_longest_redelivery_counts_the_retry_bound_the_visibility_timeout_and_the_sweeper():
    settings = Settings(participant_timeout_seconds=5, saga_retry_backoff_max_seconds=30, saga_step_retry_limit=5,
                        saga_retriable_step_retry_limit=20, saga_compensation_retry_limit=10,
                        broker_visibility_timeout_seconds=300, saga_stall_seconds=120)
    assert longest_redelivery_seconds(settings) == 20 * 35 + 300 + 120


def test_a_window_shorter_than_a_day_plus_any_redelivery_is_refused():
    check_window(Settings(idempotency_key_retention_days=90))
    with pytest.raises(ValueError, match="IDEMPOTENCY_KEY_RETENTION_DAYS"):
        check_window(Settings(idempotency_key_retention_days=1.0))


def test_operators_may_retry_a_failed_saga_until_a_day_before_its_keys_can_go():
    assert retry_horizon_seconds(Settings(idempotency_key_retention_days=90)) == 89 * DAY
