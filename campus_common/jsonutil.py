"""JSON with money as Decimal: parsed numbers never become floats; Decimals leave as strings."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

CENTS = Decimal("0.01")


def to_money(value: Any) -> Decimal:
    """Return ``value`` as a Decimal with two places; raise ValueError when it is not a number."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, float):
        value = repr(value)  # only reached from foreign input; keep its decimal spelling
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def default(obj: Any) -> Any:
    """Serialize the types our payloads carry."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, UUID):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that knows Decimal, datetime and UUID."""
    return json.dumps(obj, default=default, **kwargs)


def loads(raw: str | bytes) -> Any:
    """``json.loads`` that reads every non-integer number as Decimal."""
    return json.loads(raw, parse_float=Decimal)
