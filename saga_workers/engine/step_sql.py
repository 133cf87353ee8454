"""A step's SQL, built once per saga schema: the hot path of every step task.

Building and cache-keying SQLAlchemy Core statements on every call cost more worker CPU than
running them (issue 12's profile), so these are built once, with bound parameters. The two that
end a step are single statements (data-modifying CTEs) run on an autocommit connection: one round
trip that is its own transaction, instead of BEGIN, two or three statements and COMMIT.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import TextClause, and_, bindparam, func, insert, select, text, update

from saga_workers.engine.status import SagaStatus
from saga_workers.engine.tables import instances, step_log, translate


class _HotStatements:
    """A step's statements for one schema."""

    def __init__(self, schema: str) -> None:
        options = {"schema_translate_map": translate(schema)}
        saga = bindparam("b_saga_id", type_=instances.c.saga_id.type)
        index = bindparam("b_index", type_=instances.c.current_step.type)
        waiting = and_(instances.c.saga_id == saga, instances.c.status == SagaStatus.STARTED,
                       instances.c.current_step == index)
        self.claim = update(instances).where(waiting).values(
            updated_at=func.now()).returning(
            instances.c.round, instances.c.payload, instances.c.step_outputs,
            instances.c.request_id).execution_options(**options)
        phase, round_ = bindparam("b_phase", type_=step_log.c.phase.type), bindparam("b_round", type_=step_log.c.round.type)
        same = and_(step_log.c.saga_id == saga, step_log.c.step_index == index, step_log.c.phase == phase,
                    step_log.c.round == round_)
        number = select(func.coalesce(func.max(step_log.c.attempt), 0) + 1).where(same).scalar_subquery()
        self.insert_attempt = insert(step_log).values(
            saga_id=saga, step_index=index, step_name=bindparam("b_name", type_=step_log.c.step_name.type),
            phase=phase, round=round_, attempt=number, status="RUNNING", outcome_unknown=False,
            started_at=func.now()).returning(step_log.c.id, step_log.c.attempt).execution_options(**options)
        self.finish_log = update(step_log).where(step_log.c.id == bindparam("b_log_id", type_=step_log.c.id.type)).values(
            status=bindparam("b_status", type_=step_log.c.status.type),
            error=bindparam("b_error", type_=step_log.c.error.type),
            outcome_unknown=bindparam("b_unknown", type_=step_log.c.outcome_unknown.type),
            finished_at=func.now()).execution_options(**options)
        log_id = bindparam("b_log_id", type_=step_log.c.id.type)
        self.adopt = select(instances.c.round, instances.c.payload, instances.c.step_outputs, instances.c.request_id,
                            instances.c.definition_version, instances.c.current_step_name,
                            step_log.c.attempt, step_log.c.step_name).join_from(
            instances, step_log, and_(step_log.c.id == log_id, step_log.c.saga_id == instances.c.saga_id)).where(
            waiting, step_log.c.status == "RUNNING", step_log.c.phase == "action", step_log.c.step_index == index,
            step_log.c.round == instances.c.round).execution_options(**options)
        self.finish_last: TextClause = text(_FINISH_LAST.format(s=_quoted(schema)))
        self.finish_and_claim: TextClause = text(_FINISH_AND_CLAIM.format(s=_quoted(schema)))


# Step k done and the saga advanced (a conditional update: two copies never both advance it); with
# "claim", also step k+1's RUNNING attempt, numbered after any earlier one in this round. The row
# lock taken by "advanced" serializes this with every other writer of the saga.
_FINISH = """
WITH done AS (
    UPDATE {s}.saga_step_log SET status = 'DONE', error = NULL, outcome_unknown = false, finished_at = now()
    WHERE id = :log_id),
advanced AS (
    UPDATE {s}.saga_instances SET current_step = :index + 1, current_step_name = :next_name,
        step_outputs = step_outputs || CAST(:recorded AS jsonb), status = :status, error = NULL,
        updated_at = now()
    WHERE saga_id = :saga_id AND status = 'STARTED' AND current_step = :index
    RETURNING round)
"""
_FINISH_LAST = _FINISH + "SELECT round FROM advanced"
_FINISH_AND_CLAIM = _FINISH + """
INSERT INTO {s}.saga_step_log (saga_id, step_index, step_name, phase, round, attempt, status, outcome_unknown,
                               started_at)
SELECT :saga_id, :index + 1, :claimed_name, 'action', advanced.round,
       (SELECT coalesce(max(attempt), 0) + 1 FROM {s}.saga_step_log
        WHERE saga_id = :saga_id AND step_index = :index + 1 AND phase = 'action' AND round = advanced.round),
       'RUNNING', false, now()
FROM advanced
RETURNING id, attempt
"""


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


@cache
def statements_for(schema: str) -> _HotStatements:
    """The statements of one saga schema (built on first use)."""
    return _HotStatements(schema)


