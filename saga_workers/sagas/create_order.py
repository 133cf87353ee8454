"""A customer places an order: hold the money, then open the order to runners."""
from saga_workers.engine.definition import SagaDefinition, Step
from saga_workers.steps import notifications, orders, payments, timeouts, users

CREATE_ORDER = SagaDefinition("create_order", version="1", steps=[
    Step("create_order", orders.create_pending, compensate=orders.cancel_pending),
    Step("get_payment_info", users.card_on_file),
    Step("authorize_payment", payments.authorize, compensate=payments.release,
         needs=("create_order", "get_payment_info")),
    Step("mark_created", orders.mark_created, pivot=True),
    Step("arm_accept_timeout", timeouts.arm),
    Step("notify", notifications.order_created, needs=("mark_created",)),
])
