"""Under a burst, sagas already running go ahead of new ones: the first finishes before the last starts.

On one FIFO queue every saga's next step waited behind the first steps of all sagas started after
it, so every saga of a burst finished at about the end. With the in-flight priority (dispatch.py)
a real worker finishes the first saga before it even begins the burst's last one.
"""
from __future__ import annotations

from sqlalchemy import text

from campus_common.db import get_engine
from saga_workers.service import start_saga
from tests.integration.saga_helpers import create_user, order_payload, wait_for_saga

BURST = 24  # several times what the test worker holds at once (4 threads, prefetch 1)


def test_the_first_saga_of_a_burst_completes_before_the_last_one_begins(worker, database_url: str) -> None:
    customer = create_user("customer")
    sagas = [start_saga("create_order", order_payload(customer)).saga_id for _ in range(BURST)]
    first, last = sagas[0], sagas[-1]
    for saga_id in (first, last):
        assert wait_for_saga(saga_id, timeout=120)["status"] == "COMPLETED"
    with get_engine(database_url).connect() as conn:
        first_done = conn.execute(text("SELECT max(finished_at) FROM create_order_saga.saga_step_log "
                                       "WHERE saga_id = :id"), {"id": first}).scalar()
        last_begun = conn.execute(text("SELECT min(started_at) FROM create_order_saga.saga_step_log "
                                       "WHERE saga_id = :id"), {"id": last}).scalar()
    assert first_done is not None and last_begun is not None
    assert first_done < last_begun, "the first saga waited behind the burst's new sagas"
