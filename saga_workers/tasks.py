"""Celery entry points: thin tasks that pass ids to the engine and act on its verdict."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from celery import Celery, Task
from sqlalchemy.exc import InterfaceError, OperationalError

from saga_workers import accept_timeouts, dispatch, maintenance, retention, telemetry
from saga_workers.engine.definition import SagaDefinition
from saga_workers.engine.runner import Next, Verdict
from saga_workers.runtime import runner_for

# Our own database being unreachable is retried by Celery; participant faults by the engine.
DB_RETRY = dict(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_backoff_max=60,
                max_retries=30)


class SagaFailed(Exception):
    """The saga stopped FAILED for an operator: the task that stopped it ends in FAILURE, as Flower shows."""


# acks_late: redelivered after a crash (steps are idempotent). SagaFailed is an expected end,
# logged by Celery at INFO without a traceback; the engine's own ERROR line says why.
SAGA_TASK = dict(bind=True, acks_late=True, throws=(SagaFailed,), **DB_RETRY)


class Work(Enum):
    """What a saga task asks of the engine."""

    STEP = "step"              # run one step forward
    COMPENSATE = "compensate"  # run the pending compensations
    RECOVER = "recover"        # after a step task crashed: decide from Postgres


@dataclass
class EngineCall:
    """One call into the engine by a saga task, as data: repeated as is when an eager retry runs it again."""

    work: Work
    saga_id: str
    index: int = 0
    claim: dict | None = None      # the attempt recorded ahead for this step (``_usable_claim``)
    following: dict | None = None  # the chain's next link when it is this saga's next step (``_next_link``)


def register_saga_tasks(app: Celery, definition: SagaDefinition) -> None:
    """Register ``saga.<type>.run_step``, ``.compensate`` and ``.on_step_error`` for one saga type."""
    saga_type = definition.saga_type

    @app.task(name=dispatch.task_name(saga_type, "run_step"), **SAGA_TASK)
    def run_step(self: Task, saga_id: str, index: int, claimed: dict | None = None) -> str:
        """Run one step; the chain goes on only when the step is done."""
        call = EngineCall(Work.STEP, saga_id, index, _usable_claim(self, claimed), _next_link(self, saga_id, index))
        return _run_engine_call(self, definition, call)

    @app.task(name=dispatch.task_name(saga_type, "compensate"), **SAGA_TASK)
    def compensate(self: Task, saga_id: str) -> str:
        """Run the pending compensations of a COMPENSATING saga, from its state in Postgres."""
        return _run_engine_call(self, definition, EngineCall(Work.COMPENSATE, saga_id))

    @app.task(name=dispatch.task_name(saga_type, "on_step_error"), **SAGA_TASK)
    def on_step_error(self: Task, saga_id: str) -> str:
        """Error callback of the chain: a step task crashed; recover the saga from Postgres."""
        return _run_engine_call(self, definition, EngineCall(Work.RECOVER, saga_id))


def _run_engine_call(task: Task, definition: SagaDefinition, call: EngineCall) -> str:
    """Call the engine, then act on its verdict; the task's return value (what Flower shows) names it."""
    verdict = _call_engine(task, definition, call)
    # Eager mode (tests, task_always_eager) retries at once, in the call: a Retry would propagate
    # to the caller under task_eager_propagates instead of being re-applied.
    while verdict.next is Next.RETRY and task.request.is_eager:
        verdict = _call_engine(task, definition, call)
    return _act_on_verdict(task, definition, call.saga_id, verdict)


def _call_engine(task: Task, definition: SagaDefinition, call: EngineCall) -> Verdict:
    """The engine's verdict on one attempt of ``call``."""
    if call.work is Work.COMPENSATE:
        return runner_for(definition.saga_type, call.saga_id).compensate(call.saga_id)
    if call.work is Work.RECOVER:
        return runner_for(definition.saga_type, call.saga_id).recover(call.saga_id)
    return _run_step(task, definition, call)


def _run_step(task: Task, definition: SagaDefinition, call: EngineCall) -> Verdict:
    """Run the step; when the engine claimed the next one, publish the next link carrying that claim."""
    claim, following = call.claim, call.following
    runner = runner_for(definition.saga_type, call.saga_id, **({"version": claim["version"]} if claim else {}))
    options: dict = {"claimed": claim["log"]} if claim else {}
    if following is not None:
        options["claim_next"] = True
    verdict = runner.run_step(call.saga_id, call.index, **options)
    if verdict.claimed is not None and following is not None:
        following["kwargs"] = {"claimed": {"log": verdict.claimed, "version": runner.definition.version}}
        _send_next_link(task, definition, call.saga_id)
    return verdict


def _act_on_verdict(task: Task, definition: SagaDefinition, saga_id: str, verdict: Verdict) -> str:
    """Retry, compensate, end the chain or fail the task, as the verdict says; returns its name."""
    if verdict.next is Next.RETRY:
        raise task.retry(countdown=verdict.countdown, max_retries=None)
    if verdict.next is Next.COMPENSATE:
        dispatch.send_compensation(task.app, definition, saga_id)
    if verdict.next is not Next.CONTINUE:
        _end_chain(task)  # the saga finished, stopped, or compensates elsewhere
    error = None
    if verdict.next in telemetry.ENDINGS:  # built only then: the hot path of a step stays as it is
        error = telemetry.saga_ended(runner_for(definition.saga_type).store, saga_id, verdict.next)
    if verdict.next is Next.FAILED and not task.request.is_eager:
        # Eager callers (tests, task_always_eager) get the saga FAILED in Postgres, not an exception.
        raise SagaFailed(f"{definition.saga_type} saga {saga_id} is FAILED: {error}")
    return verdict.next.value


def _usable_claim(task: Task, claimed: dict | None) -> dict | None:
    """The next-step attempt recorded ahead by the previous step, unless this delivery may follow a crash.

    A redelivered message (its worker died, maybe mid-call) or a retry records a new attempt, as
    without a claim, so every attempt that may have reached the participant stays in the log.
    """
    if not isinstance(claimed, dict) or not isinstance(claimed.get("log"), int) or \
            not isinstance(claimed.get("version"), str):
        return None  # none, or not one this engine wrote: record the attempt as without a claim
    if task.request.retries or (task.request.delivery_info or {}).get("redelivered"):
        return None
    return claimed


def _next_link(task: Task, saga_id: str, index: int) -> dict | None:
    """The chain's next link when it is this saga's next step (a worker publishes it after this task)."""
    chain = task.request.chain
    if not chain:
        return None
    following = chain[-1]
    if following.get("task") != task.name or list(following.get("args") or ()) != [saga_id, index + 1]:
        return None
    return following


def _send_next_link(task: Task, definition: SagaDefinition, saga_id: str) -> None:
    """Publish the chain's next link (carrying its claim) here, as Celery would after the task returns.

    Here, because a failed publish (a broker outage) must not run the error callback: the next
    step's attempt is already recorded RUNNING, so recovery would take it for a step that may have
    run. Its state is in Postgres: the sweeper resumes the saga once Redis is back.
    """
    chain = task.request.chain
    following = task.app.signature(chain[-1])
    dispatch.publish(lambda: following.apply_async(
        chain=chain[:-1], parent_id=task.request.id, root_id=task.request.root_id or task.request.id),
        definition, saga_id)
    _end_chain(task)  # sent, or left for the sweeper: Celery must not publish it again


def _end_chain(task: Task) -> None:
    """Stop here: no further link of this chain is published, and no error callback runs.

    Celery publishes the next link from ``request.chain`` once the task returns (celery/app/trace.py);
    clearing it ends the chain while the task still finishes SUCCESS (or FAILURE), so Flower shows a
    final state, where raising ``Ignore`` left the task STARTED there forever.
    """
    task.request.chain = None
    task.request.callbacks = None
    task.request.errbacks = None


def register_maintenance_tasks(app: Celery) -> None:
    """Beat-driven scans: due accept-timeouts, stalled sagas."""

    @app.task(name="saga.maintenance.fire_due_timeouts", acks_late=True, **DB_RETRY)
    def fire_due_timeouts() -> int:
        """Start cancel_order for every accept deadline that passed (once per order)."""
        return accept_timeouts.fire_due()

    @app.task(name="saga.maintenance.resume_stalled", acks_late=True, **DB_RETRY)
    def resume_stalled() -> int:
        """Re-publish work for sagas that made no progress for SAGA_STALL_SECONDS."""
        return maintenance.resume_stalled()

    @app.task(name="saga.maintenance.purge_finished", acks_late=True, **DB_RETRY)
    def purge_finished() -> dict[str, int]:
        """Delete finished sagas older than SAGA_RETENTION_DAYS, in bounded batches (never FAILED ones)."""
        return retention.purge_finished()
