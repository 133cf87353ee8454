"""``celery -A saga_workers saga ...``: operators list, inspect and retry sagas from the shell."""
from __future__ import annotations

from typing import Any

import click

from saga_workers.sagas import REGISTRY

STATUSES = ("STARTED", "COMPLETED", "COMPENSATING", "COMPENSATED", "FAILED")


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def format_timeline(saga: dict[str, Any]) -> str:
    """The saga and its steps as an aligned text table."""
    lines = [f"saga {saga['saga_id']}  {saga['saga_type']}  {saga['status']}",
             f"order {saga['order_id']}  current step {saga['current_step'] or '-'}  "
             f"updated {_when(saga['updated_at'])}"]
    if saga.get("error"):
        lines.append(f"error: {saga['error']}")
    lines.append(f"  {'step':<22} {'phase':<13} {'status':<9} {'tries':>5}  {'started':<19}  {'finished':<19}  error")
    for step in saga["steps"]:
        lines.append(f"  {step['name']:<22} {step['phase']:<13} {step['status']:<9} {step['attempts']:>5}  "
                     f"{_when(step['started_at']):<19}  {_when(step['finished_at']):<19}  {step['error'] or ''}")
    return "\n".join(lines)


@click.group(name="saga", help="Inspect and retry sagas (state is read from Postgres).")
@click.pass_context
def saga(ctx: click.Context) -> None:
    """Saga operations on the app given with -A."""


@saga.command(name="list")
@click.option("--status", type=click.Choice(STATUSES), help="Only sagas in this status.")
@click.option("--type", "saga_type", type=click.Choice(sorted(REGISTRY)), help="Only this saga type.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def list_command(status: str | None, saga_type: str | None, limit: int) -> None:
    """List sagas, newest first."""
    from saga_workers.queries import list_sagas

    items, _ = list_sagas(saga_type=saga_type, status=status, limit=limit)
    click.echo(f"{'saga_id':<36}  {'type':<15} {'status':<12} {'current step':<22} {'updated':<19}  error")
    for item in items:
        click.echo(f"{item['saga_id']:<36}  {item['saga_type']:<15} {item['status']:<12} "
                   f"{item['current_step'] or '-':<22} {_when(item['updated_at']):<19}  {item['error'] or ''}")
    click.echo(f"({len(items)} saga{'s' if len(items) != 1 else ''})")


@saga.command(name="show")
@click.argument("saga_id")
def show_command(saga_id: str) -> None:
    """Show one saga with its step timeline."""
    from saga_workers.queries import get_saga

    found = get_saga(saga_id)
    if found is None:
        raise click.ClickException(f"no saga with id {saga_id}")
    click.echo(format_timeline(found))


@saga.command(name="retry")
@click.argument("saga_id")
def retry_command(saga_id: str) -> None:
    """Resume a FAILED saga where it stopped (unfinished compensation goes on)."""
    from saga_workers.service import SagaNotFound, SagaNotRetryable, retry_saga

    try:
        result = retry_saga(saga_id)
    except SagaNotFound:
        raise click.ClickException(f"no saga with id {saga_id}") from None
    except SagaNotRetryable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"saga {saga_id} resumed: {result['status']} from step {result['resumed_from_step']}")
