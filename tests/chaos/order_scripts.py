"""The chaos workload's order scripts, one per way an order's life can go (each a ``_script_<kind>``).

A script never fails the test on a business outcome (a declined card, a lost race, a timeout firing
first): it returns what happened, and only the invariants over the databases decide.
"""
from __future__ import annotations

from dataclasses import dataclass

from tests.chaos.order_steps import OrderSteps

SLOW_PAYMENT_SECONDS = 3.0  # > the stack's PARTICIPANT_TIMEOUT_SECONDS (2): every capture call times out


@dataclass
class OrderScripts(OrderSteps):
    """Every script: what it returns is counted as its outcome."""

    def _script_complete(self) -> str:
        order = self._placed(self._customer())
        if order is None:
            return "not placed"
        runner = self.rng.choice(self.runners)
        return self._deliver_and_complete(order, [self._accept(order, runner)])

    def _script_cancel(self) -> str:
        customer = self._customer()
        order = self._placed(customer)
        if order is None:
            return "not placed"
        started = self._start(f"/api/orders/{order['order_id']}/cancel", customer, {"reason": "changed my mind"})
        if started is None:
            return "cancel not started"
        return f"cancel {self._wait_saga('cancel_order', started, expect=None)}"

    def _script_accept_timeout(self) -> str:
        order = self._placed(self._customer())
        if order is None:
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
        order = self._placed(self._customer())
        if order is None:
            return "not placed"
        first, second = self.rng.sample(self.runners, 2)
        sagas = self._concurrently(lambda: self._accept(order, first), lambda: self._accept(order, second))
        return self._deliver_and_complete(order, sagas)

    def _script_race_cancel_accept(self) -> str:
        customer = self._customer()
        order = self._placed(customer)
        if order is None:
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
        order = self._placed(self._customer())
        if order is None:
            return "not placed"
        runner = self.rng.choice(self.runners)
        sagas = self._concurrently(lambda: self._accept(order, runner), lambda: self._accept(order, runner))
        return self._deliver_and_complete(order, sagas)

    def _script_double_complete_slow(self) -> str:
        """The runner taps "complete" twice while the payment service is slower than its callers' timeout
        (the issue's COMPLETED-and-REFUNDED order): one complete may run, and the money must follow it."""
        order = self._placed(self._customer())
        if order is None:
            return "not placed"
        accepted = self._accept(order, self.rng.choice(self.runners))
        proxy = self.stack.proxies["payment_service"]
        proxy.slow(order["order_id"], SLOW_PAYMENT_SECONDS)  # its captures (and refunds) from now on
        try:
            return self._deliver_and_complete(order, [accepted], taps=2)
        finally:
            proxy.unslow(order["order_id"])  # a FAILED capture is retried after the run, at full speed
