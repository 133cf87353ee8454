"""The assigned runner completes a delivered order and is paid."""
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.steps import notifications, orders, payments, users

COMPLETE_ORDER = SagaDefinition("complete_order", version="1", steps=[
    Step("check_delivered", orders.check_delivered),
    Step("get_payout_account", users.payout_account),
    # Refunded only when the order then refuses to complete; an outage stops here for a retry,
    # so a payout that may have gone through is never refunded on a guess.
    Step("capture_payment", payments.capture, compensate=payments.refund, stop_on_fault=True,
         needs=("get_payout_account",)),
    Step("mark_completed", orders.mark_completed, pivot=True),
    Step("notify", notifications.order_completed, needs=("capture_payment", "get_payout_account")),
])
