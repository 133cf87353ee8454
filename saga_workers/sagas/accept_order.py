"""A runner accepts an open order."""
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.steps import notifications, orders, timeouts

ACCEPT_ORDER = SagaDefinition("accept_order", version="1", steps=[
    Step("accept_order", orders.accept, compensate=orders.undo_accept),
    Step("disarm_accept_timeout", timeouts.disarm, pivot=True),
    Step("notify", notifications.order_accepted),
])
