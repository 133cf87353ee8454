"""SQLAlchemy Core tables of a saga schema; ``schema_translate_map`` points them at one saga type."""
from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, MetaData, Table, Text,
                        Uuid)
from sqlalchemy.dialects.postgresql import JSONB

# "saga" is a placeholder schema: every statement runs with {"saga": "<type>_saga"}.
PLACEHOLDER = "saga"
metadata = MetaData(schema=PLACEHOLDER)

instances = Table(
    "saga_instances", metadata,
    Column("saga_id", Uuid(as_uuid=False), primary_key=True),
    Column("saga_type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("current_step", Integer, nullable=False),
    Column("current_step_name", Text),  # checked against the definition: steps match by name too
    Column("definition_version", Text, nullable=False),
    Column("failed_phase", Text),
    Column("payload", JSONB, nullable=False),
    Column("step_outputs", JSONB, nullable=False),
    Column("idempotency_key", Text, unique=True),
    Column("order_id", Uuid(as_uuid=False)),
    Column("customer_id", Uuid(as_uuid=False)),
    Column("runner_id", Uuid(as_uuid=False)),
    Column("error", Text),
    Column("request_id", Text),  # the request that started it; its participant calls carry it
    Column("round", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

step_log = Table(
    "saga_step_log", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("saga_id", Uuid(as_uuid=False), ForeignKey(instances.c.saga_id), nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("step_name", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("round", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("outcome_unknown", Boolean, nullable=False),
    Column("error", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)


def translate(schema: str) -> dict[str, str]:
    """Execution option mapping the placeholder schema to ``schema``."""
    return {PLACEHOLDER: schema}
