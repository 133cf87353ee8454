"""The workload: customers and runners made through the gateway, then orders walked through every saga
type over HTTP, the way clients do it (retrying on 5xx and dropped connections), while faults hit.

Each order follows one script; a script never fails the test on a business outcome (a declined card,
a lost race, a timeout firing first): only the invariants over the databases decide.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from api_gateway.auth import issue_token
from tests.chaos.client import Actor
from tests.chaos.order_scripts import OrderScripts
from tests.chaos.order_steps import Replay
from tests.chaos.stack import JWT_SECRET

__all__ = ["Replay", "Workload"]


@dataclass
class Workload(OrderScripts):
    """Creates the actors, then launches order scripts at a steady pace on a thread pool."""

    concurrency: int = 10
    outcomes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    _futures: list[Future] = field(default_factory=list)
    _launcher: threading.Thread | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
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
