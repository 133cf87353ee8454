"""The customer cancels an order nobody accepted, or its accept-timeout fires."""
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.steps import notifications, orders, payments, timeouts

CANCEL_ORDER = SagaDefinition("cancel_order", version="1", steps=[
    Step("cancel_order", orders.cancel_created, pivot=True),
    Step("release_payment", payments.release),
    Step("disarm_accept_timeout", timeouts.disarm),
    Step("notify", notifications.order_cancelled),
])
