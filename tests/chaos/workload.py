"""The workload: customers and runners made through the gateway, then orders walked through every saga
type over HTTP, the way clients do it (retrying on 5xx and dropped connections), while faults hit.

Each order follows one script; a script never fails the test on a business outcome (a declined card,
a lost race, a timeout firing first): only the invariants over the databases decide.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from api_gateway.auth import issue_token
from saga_workers.registry import SagaStatus
from tests.chaos.client import Actor, Api
from tests.chaos.stack import JWT_SECRET, ChaosStack, Rows

TERMINAL = (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.FAILED)
SLOW_PAYMENT_SECONDS = 3.0  # > the stack's PARTICIPANT_TIMEOUT_SECONDS (2): every capture call times out
RUNNER_STEPS = ("PLACED", "ON_THE_WAY", "DELIVERED")


@dataclass
class Replay:
    """A create-order request sent twice with one Idempotency-Key, and the sagas it was answered with."""

    key: str
    first: str
    second: str | None
    status: int | None


@dataclass
class Workload:
    """Creates the actors, then launches order scripts at a steady pace on a thread pool."""

    stack: ChaosStack
    rng: random.Random
    concurrency: int = 10
    stats: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    replays: list[Replay] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    customers: dict[str, list[Actor]] = field(default_factory=dict)
    runners: list[Actor] = field(default_factory=list)
    _futures: list[Future] = field(default_factory=list)
    _launcher: threading.Thread | None = None
    _aborted: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.api = Api(self.stack.gateway_url, self.stats, self._aborted)
        self.admin = Actor(str(uuid.uuid4()), "admin", issue_token(str(uuid.uuid4()), "admin", JWT_SECRET, 7200))
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="order-script")

    # -- actors ---------------------------------------------------------------------------------

    def create_actors(self, customers: int, runners: int) -> None:
        """Customers with approving cards, a few declining or limited ones, and runners with payout accounts."""
        cards = {"tok_visa": max(1, customers - 4), "tok_mastercard": 2, "tok_chargeDeclined": 1,
                 "tok_insufficient_funds": 1}
        for card, count in cards.items():
            self.customers[card] = [self._create_user("customer", card_token=card) for _ in range(count)]
        self.runners = [self._create_user("runner", payout_account=f"acct_runner_{uuid.uuid4().hex[:10]}")
                        for _ in range(runners)]

    def _create_user(self, role: str, **fields: str) -> Actor:
        body = {"name": f"Chaos {role}", "email": f"{role}.{uuid.uuid4().hex[:12]}@campus.test", "role": role,
                **fields}
        response = self.api.call("POST", "/api/users", self.admin, body, key=uuid.uuid4().hex, budget=60)
        if response is None or response.status_code != 201:
            raise RuntimeError(f"could not create a {role}: {response and response.text}")
        user_id = response.json()["user_id"]
        return Actor(user_id, role, issue_token(user_id, role, JWT_SECRET, 7200), fields.get("card_token", ""))

    # -- launching ------------------------------------------------------------------------------

    def start(self, scripts: list[str], over_seconds: float) -> None:
        """Launch ``scripts`` (shuffled) evenly over ``over_seconds`` in the background."""
        order = list(scripts)
        self.rng.shuffle(order)
        interval = over_seconds / max(1, len(order))
        self._launcher = threading.Thread(target=self._launch, args=(order, interval), name="launcher", daemon=True)
        self._launcher.start()

    def _launch(self, scripts: list[str], interval: float) -> None:
        for kind in scripts:
            if self._aborted.wait(0):
                return
            self._futures.append(self._pool.submit(self._run_script, kind))
            self._aborted.wait(interval)

    def abort(self) -> None:
        """Launch nothing more and drop the scripts not started yet (the run broke off)."""
        self._aborted.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def finish(self, timeout: float) -> int:
        """Wait for every script to end; the number still running when ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        if self._launcher is not None:
            self._launcher.join(max(0.0, deadline - time.monotonic()))
        for future in list(self._futures):
            try:
                future.result(max(0.1, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - counted below; scripts record their own errors
                pass
        unfinished = sum(not f.done() for f in self._futures)
        self._pool.shutdown(wait=False, cancel_futures=True)
        return unfinished

    def _run_script(self, kind: str) -> None:
        try:
            outcome = getattr(self, f"_script_{kind}")()
        except Exception as exc:  # noqa: BLE001 - a driver bug must be visible, not fail silently
            with self._lock:
                self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            outcome = "driver error"
        with self._lock:
            self.outcomes[f"{kind}: {outcome}"] += 1

    # -- scripts --------------------------------------------------------------------------------

    def _script_complete(self) -> str:
        order = self._place(self._customer())
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return "not placed"
        runner = self.rng.choice(self.runners)
        return self._deliver_and_complete(order, [self._accept(order, runner)])

    def _script_cancel(self) -> str:
        customer = self._customer()
        order = self._place(customer)
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return "not placed"
        started = self._start(f"/api/orders/{order['order_id']}/cancel", customer, {"reason": "changed my mind"})
        if started is None:
            return "cancel not started"
        return f"cancel {self._wait_saga('cancel_order', started, expect=None)}"

    def _script_accept_timeout(self) -> str:
        order = self._place(self._customer())
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return "not placed"
        status = self._wait_order(order["order_id"], {"CANCELLED"}, budget=90)
        return "cancelled by its accept-timeout" if status == "CANCELLED" else f"still {status}"

    def _script_declined(self) -> str:
        card = self.rng.choice(("tok_chargeDeclined", "tok_insufficient_funds"))
        order = self._place(self.rng.choice(self.customers[card]), large=True)
        if order is None:
            return "not placed"
        return f"create {self._wait_saga('create_order', order['saga_id'], expect=None)}"

    def _script_race_accept(self) -> str:
        order = self._place(self._customer())
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return "not placed"
        first, second = self.rng.sample(self.runners, 2)
        sagas = self._concurrently(lambda: self._accept(order, first), lambda: self._accept(order, second))
        return self._deliver_and_complete(order, sagas)

    def _script_race_cancel_accept(self) -> str:
        customer = self._customer()
        order = self._place(customer)
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return "not placed"
        runner = self.rng.choice(self.runners)
        path = f"/api/orders/{order['order_id']}/cancel"
        accepted, cancel = self._concurrently(lambda: self._accept(order, runner),
                                              lambda: (self._start(path, customer, {"reason": "race"}), None))
        if cancel[0] is not None:
            self._wait_saga("cancel_order", cancel[0], expect=None)
        return self._deliver_and_complete(order, [accepted])

    def _script_double_accept(self) -> str:
        """One runner taps "accept" twice (a client retry): the same runner starts two accept sagas."""
        order = self._place(self._customer())
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect=SagaStatus.COMPLETED):
            return "not placed"
        runner = self.rng.choice(self.runners)
        sagas = self._concurrently(lambda: self._accept(order, runner), lambda: self._accept(order, runner))
        return self._deliver_and_complete(order, sagas)

    def _script_double_complete_slow(self) -> str:
        """The runner taps "complete" twice while the payment service is slower than its callers' timeout
        (the issue's COMPLETED-and-REFUNDED order): one complete may run, and the money must follow it."""
        order = self._place(self._customer())
        if order is None or not self._wait_saga("create_order", order["saga_id"], expect="COMPLETED"):
            return "not placed"
        accepted = self._accept(order, self.rng.choice(self.runners))
        proxy = self.stack.proxies["payment_service"]
        proxy.slow(order["order_id"], SLOW_PAYMENT_SECONDS)  # its captures (and refunds) from now on
        try:
            return self._deliver_and_complete(order, [accepted], taps=2)
        finally:
            proxy.unslow(order["order_id"])  # a FAILED capture is retried after the run, at full speed

    # -- steps of the scripts -------------------------------------------------------------------

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

    # -- reading state (straight from Postgres: cheaper than the gateway, and it is the truth) ----

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
