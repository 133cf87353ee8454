"""JSON with money as Decimal: parsed numbers never become floats; Decimals leave as strings."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


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
