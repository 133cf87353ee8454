"""A saga's step log and an order's state as short, readable text."""
from __future__ import annotations

from datetime import datetime
from typing import Any

COLUMNS = ("#", "step", "phase", "status", "attempts", "took", "error")


def saga_table(view: dict[str, Any]) -> str:
    """The saga's header line and one row per step (action or compensation), in the order they ran."""
    rows = [COLUMNS]
    for number, step in enumerate(view.get("steps") or [], 1):
        rows.append((str(number), str(step.get("name", "")), str(step.get("phase", "")),
                     str(step.get("status", "")), str(step.get("attempts", "")),
                     _took(step.get("started_at"), step.get("finished_at")), _short(step.get("error"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  " + "  ".join("-" * width for width in widths))
    took = _took(view.get("created_at"), view.get("updated_at"))
    header = f"  saga {view.get('saga_type', '?')} {view.get('saga_id', '')}: {view.get('status')}"
    header += (f" in {took}" if took else "") + (f" (error: {_short(view.get('error'))})" if view.get("error") else "")
    return "\n".join([header, *lines])


def order_line(order: dict[str, Any]) -> str:
    """``order <id>: STATUS, total 20.24, payment AUTHORIZED``."""
    payment = order.get("payment_status") or (order.get("payment") or {}).get("status") or "-"
    total = order.get("total") or order.get("food_fee") or "?"
    reason = f", reason: {order['cancel_reason']}" if order.get("cancel_reason") else ""
    return f"  order {order.get('order_id')}: {order.get('status')}, total {total}, payment {payment}{reason}"


def _took(started: Any, finished: Any) -> str:
    try:
        seconds = (datetime.fromisoformat(str(finished)) - datetime.fromisoformat(str(started))).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def _short(error: Any, limit: int = 60) -> str:
    text = "" if error is None else str(error.get("message", error) if isinstance(error, dict) else error)
    return text if len(text) <= limit else text[: limit - 3] + "..."
