-- The semantic lock: at most one unfinished saga of a type per order. A second complete_order (or
-- accept_order, cancel_order) of an order is refused at its start while one is STARTED,
-- COMPENSATING, or FAILED waiting for an operator (a FAILED complete_order may have paid the runner).
CREATE UNIQUE INDEX IF NOT EXISTS saga_instances_one_unfinished_per_order ON "{schema}".saga_instances (order_id)
    WHERE status IN ('STARTED', 'COMPENSATING', 'FAILED') AND order_id IS NOT NULL;
