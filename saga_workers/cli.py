"""``celery -A saga_workers saga ...``: operators and scripts list, inspect, retry and cancel sagas."""
from __future__ import annotations

from typing import Any

import click

from campus_common import jsonutil
from campus_common.config import load_settings
from saga_workers import runtime
from saga_workers.celery_app import configure
from saga_workers.cli_env import point_at_stack
from saga_workers.cli_output import format_attempts, format_list, format_timeline
from saga_workers.queries import LIVE, get_saga, list_sagas, versions_in_use
from saga_workers.registry import SAGA_STATUSES, SAGA_TYPES, SagaStatus
from saga_workers.service import SagaNotCancellable, SagaNotFound, SagaNotRetryable, cancel_saga, retry_saga

PAGE = 200


def _echo_json(data: Any) -> None:
    click.echo(jsonutil.dumps(data, indent=2))


@click.group(name="saga", help="Inspect, retry and cancel sagas (state is read from Postgres). Settings come "
                                "from the environment, then from the stack's RUN_DIR/stack.env.")
@click.pass_context
def saga(ctx: click.Context) -> None:
    """The CLI's wiring point: point it at one stack, then wire its settings before anything touches Postgres or Redis."""
    try:
        point_at_stack()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    settings = load_settings()
    # Bound for this command only: a test invoking it in-process keeps its own process wiring.
    token = runtime.bind(runtime.SagaRuntime.from_settings(settings))
    ctx.call_on_close(lambda: runtime.unbind(token))
    app = getattr(ctx.obj, "app", None)
    if app is not None:  # under `celery -A`: the app was configured at import, before stack.env was read
        configure(app, settings)


@saga.command(name="list")
@click.option("--status", type=click.Choice(SAGA_STATUSES), help="Only sagas in this status.")
@click.option("--type", "saga_type", type=click.Choice(sorted(SAGA_TYPES)), help="Only this saga type.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON ({sagas: [...]}) for scripts.")
def list_command(status: str | None, saga_type: str | None, limit: int, as_json: bool) -> None:
    """List sagas, newest first."""
    items, _ = list_sagas(saga_type=saga_type, status=status, limit=limit)
    if as_json:
        _echo_json({"sagas": items})
    else:
        click.echo(format_list(items))


@saga.command(name="show")
@click.argument("saga_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with every attempt, the input and the outputs.")
@click.option("--attempts", is_flag=True, help="Also list every attempt with its idempotency key and error.")
def show_command(saga_id: str, as_json: bool, attempts: bool) -> None:
    """Show one saga with its step timeline."""
    found = get_saga(saga_id, detail=as_json or attempts)
    if found is None:
        raise click.ClickException(f"no saga with id {saga_id}")
    if as_json:
        _echo_json(found)
        return
    click.echo(format_timeline(found))
    if attempts:
        click.echo(format_attempts(found))


@saga.command(name="retry")
@click.argument("saga_id", required=False)
@click.option("--status", type=click.Choice([SagaStatus.FAILED]), help="Retry every saga in this status (only FAILED).")
@click.option("--type", "saga_type", type=click.Choice(sorted(SAGA_TYPES)), help="With --status: only this type.")
def retry_command(saga_id: str | None, status: str | None, saga_type: str | None) -> None:
    """Resume a FAILED saga where it stopped (unfinished compensation goes on), or all with --status FAILED."""
    if (saga_id is None) == (status is None):
        raise click.UsageError("give a SAGA_ID or --status FAILED, not both")
    if saga_type and saga_id:
        raise click.UsageError("--type goes with --status")
    failures = 0
    for one in [saga_id] if saga_id else _all_ids(status, saga_type):
        try:
            result = retry_saga(one)
        except SagaNotFound:
            click.echo(f"no saga with id {one}", err=True)
            failures += 1
        except SagaNotRetryable as exc:  # a bulk retry may race with another operator's
            click.echo(str(exc), err=True)
            failures += 1
        else:
            click.echo(f"saga {one} resumed: {result['status']} from step {result['resumed_from_step']}")
    if failures:
        raise click.ClickException(f"{failures} saga{'s' if failures > 1 else ''} not retried")


def _all_ids(status: str | None, saga_type: str | None) -> list[str]:
    """Every saga id matching, read in full before any retry changes what matches."""
    ids, cursor = [], None
    while True:
        items, cursor = list_sagas(saga_type=saga_type, status=status, limit=PAGE, cursor=cursor)
        ids += [str(item["saga_id"]) for item in items]
        if not cursor:
            return ids


@saga.command(name="cancel")
@click.argument("saga_id")
def cancel_command(saga_id: str) -> None:
    """Stop a running saga before its pivot and compensate what took effect (refused past the pivot)."""
    try:
        result = cancel_saga(saga_id)
    except SagaNotFound:
        raise click.ClickException(f"no saga with id {saga_id}") from None
    except SagaNotCancellable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"saga {saga_id} cancelled: {result['status']}")


@saga.command(name="versions")
def versions_command() -> None:
    """Definition versions per saga type, and how many unfinished or FAILED sagas still need each."""
    click.echo(f"{'type':<15} {'version':<18} {'newest':<7} {'declared':<9} "
               + " ".join(f"{s:>12}" for s in LIVE) + "  verdict")
    for row in versions_in_use():
        needed = sum(row["sagas"].values())
        verdict = ("starts new sagas" if row["newest"] else "still needed" if needed and row["declared"]
                   else "NOT DEPLOYED: these sagas cannot run" if needed else "unused: can be removed")
        click.echo(f"{row['saga_type']:<15} {row['version']:<18} {'yes' if row['newest'] else 'no':<7} "
                   f"{'yes' if row['declared'] else 'no':<9} "
                   + " ".join(f"{row['sagas'][s]:>12}" for s in LIVE) + f"  {verdict}")
