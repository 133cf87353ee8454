"""What the chaos workload's order scripts are made of: placing an order, starting a saga, accepting,
delivering and completing over the gateway, and waiting on the truth in Postgres."""
from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from saga_workers.registry import SagaStatus
from tests.chaos.client import Actor, Api
from tests.chaos.stack import ChaosStack, Rows

TERMINAL = (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.FAILED)
RUNNER_STEPS = ("PLACED", "ON_THE_WAY", "DELIVERED")


@dataclass
class Replay:
    """A create-order request sent twice with one Idempotency-Key, and the sagas it was answered with."""

    key: str
    first: str
    second: str | None
    status: int | None


@dataclass
class OrderSteps:
    """The calls an order script makes, counted in ``stats``; ``replays`` keeps each replayed create."""

    stack: ChaosStack
    rng: random.Random
    stats: Counter = field(default_factory=Counter)
    replays: list[Replay] = field(default_factory=list)
    customers: dict[str, list[Actor]] = field(default_factory=dict)
    runners: list[Actor] = field(default_factory=list)
    _aborted: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.api = Api(self.stack.gateway_url, self.stats, self._aborted)

    def _customer(self) -> Actor:
        approving = self.customers["tok_visa"] * 4 + self.customers["tok_mastercard"]
        return self.rng.choice(approving)

    def _items(self, large: bool) -> list[dict[str, Any]]:
        """A few items; ``large`` ones total above 20.00 (declined by tok_insufficient_funds)."""
        low, count, quantity = (600, 3, 2) if large else (250, self.rng.randint(1, 2), self.rng.randint(1, 2))
        return [{"name": self.rng.choice(("Burrito", "Falafel wrap", "Pho", "Iced tea", "Bagel")),
                 "price": str(Decimal(self.rng.randint(low, 900)) / 100), "quantity": quantity}
                for _ in range(count)]

    def _place(self, customer: Actor, large: bool = False) -> dict[str, Any] | None:
        """POST /api/orders with an Idempotency-Key (retried with the same key); sometimes replayed on purpose."""
        key = f"chaos-{uuid.uuid4().hex}"
        body = {"items": self._items(large), "store_location": "Union Food Court",
                "delivery_location": "Library, 2nd floor"}
        response = self.api.call("POST", "/api/orders", customer, body, key=key)
        if response is None or response.status_code not in (200, 202):
            self._count(f"place answered {response.status_code if response is not None else 'nothing'}")
            return None
        order = response.json()
        self._count("sagas started by the driver")
        if self.rng.random() < 0.25:
            again = self.api.call("POST", "/api/orders", customer, body, key=key)
            with self._lock:
                self.replays.append(Replay(key, order["saga_id"], again.json().get("saga_id") if again else None,
                                           again.status_code if again is not None else None))
        return order

    def _placed(self, customer: Actor) -> dict[str, Any] | None:
        """An order placed by ``customer`` whose create_order saga COMPLETED; None when it did not."""
        order = self._place(customer)
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return None
        return order

    def _start(self, path: str, actor: Actor, body: Any = None) -> str | None:
        """POST a saga-starting request; the saga id, or None when the gateway refused (4xx) or never answered."""
        response = self.api.call("POST", path, actor, body)
        if response is None or response.status_code != 202:
            answer = response.status_code if response is not None else "nothing"
            self._count(f"{path.rsplit('/', 1)[-1]} answered {answer}")
            return None
        self._count("sagas started by the driver")
        return response.json()["saga_id"]

    def _accept(self, order: dict[str, Any], runner: Actor) -> tuple[str | None, Actor]:
        saga_id = self._start(f"/api/orders/{order['order_id']}/accept", runner)
        if saga_id is not None:
            self._wait_saga("accept_order", saga_id, expect=None)
        return saga_id, runner

    def _deliver_and_complete(self, order: dict[str, Any], accepts: list[tuple[str | None, Actor]],
                              taps: int = 1) -> str:
        """The runner whose accept won moves the order to DELIVERED and completes it (``taps`` times at once)."""
        holder = self._order_row(order["order_id"])
        winner = next((runner for _, runner in accepts if holder and holder[1] == runner.user_id), None)
        if holder is None or holder[0] != "ACCEPTED" or winner is None:
            return f"not accepted (order {holder[0] if holder else '?'})"
        for status in RUNNER_STEPS:
            response = self.api.call("PUT", f"/api/orders/{order['order_id']}/status", winner, {"status": status})
            if response is None or response.status_code != 200:
                return f"stuck before {status} ({response.status_code if response is not None else 'no answer'})"
        path = f"/api/orders/{order['order_id']}/complete"
        started = [s for s in self._concurrently(*[lambda: self._start(path, winner)] * taps) if s]
        if not started:
            return "complete not started"
        outcome = "complete " + "/".join(self._wait_saga("complete_order", s, expect=None) for s in started)
        return outcome + (f", {taps - len(started)} refused at the start" if len(started) < taps else "")

    def _concurrently(self, *calls: Any) -> list[Any]:
        results: list[Any] = [None] * len(calls)

        def run(index: int) -> None:
            results[index] = calls[index]()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    # Reading state straight from Postgres: cheaper than the gateway, and it is the truth.

    def _wait_saga(self, saga_type: str, saga_id: str, expect: str | None, budget: float = 60.0) -> Any:
        """Poll the saga's row until it is terminal: True/False against ``expect``, else its status."""
        deadline, status = time.monotonic() + budget, None
        while time.monotonic() < deadline and not self._aborted.is_set():
            rows = self._read(f"SELECT status FROM {saga_type}_saga.saga_instances WHERE saga_id = :s", {"s": saga_id})
            status = rows[0][0] if rows else None
            if status in TERMINAL:
                break
            time.sleep(0.3)
        return status == expect if expect else (status or "missing")

    def _wait_order(self, order_id: str, statuses: set[str], budget: float) -> str | None:
        deadline, status = time.monotonic() + budget, None
        while time.monotonic() < deadline and not self._aborted.is_set():
            row = self._order_row(order_id)
            status = row[0] if row else None
            if status in statuses:
                break
            time.sleep(0.5)
        return status

    def _order_row(self, order_id: str) -> tuple[str, str | None] | None:
        rows = self._read("SELECT status, runner_id::text FROM order_service.orders WHERE order_id = :o",
                          {"o": order_id})
        return (rows[0][0], rows[0][1]) if rows else None

    def _read(self, sql: str, params: dict[str, Any]) -> Rows:
        try:
            return self.stack.query(sql, params, retry_for=20)
        except Exception:  # noqa: BLE001 - Postgres down longer than that: "not known yet"
            return []

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1
